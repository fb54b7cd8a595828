"""Demo and benchmark data: a realistic desk, seeded fast.

`seed` writes agents, customers (with one or two mobile numbers each), a year of
calls, callbacks, work orders and a few complaints in one transaction: INSERTs compiled
by SQLAlchemy Core, executemany in batches (on SQLite with the values as it stores them,
and the indexes of empty tables built after the rows), so 200,000 customers and 1,000,000
calls take about twice what plain sqlite3 takes to write the same rows (`seat bench`).
Everything is drawn from `random.Random(seed)`: the same seed and the same `now` on the
same database give the same rows.

Re-seeding a database that already has customers appends: agents are added
only if their login is missing, new customers get ids after the highest one on
file and fresh phone numbers that are not yet on file, and the calls, callbacks,
work orders and complaints of the run belong to the new customers. (The random
stream is then keyed on the seed and the highest existing customer id, so the
second batch is not a copy of the first.)

Every agent of the demo desk (li.na ... zhao.lei) is guaranteed, whatever the
randomness, at least 2 overdue open callbacks, 2 open callbacks due within the
next four hours, 1 urgent open work order and 2 non-urgent open work orders,
as long as the run has customers and the callback and work-order counts leave
room for them (4 callbacks and 3 work orders per agent; the defaults always do).
"""

from __future__ import annotations

import gc
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from operator import itemgetter, methodcaller
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Date, DateTime, Index, Table, TypeDecorator, column, func, insert, select
from sqlalchemy import table as table_clause
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import DropIndex
from sqlalchemy.types import TypeEngine

from seat import audit, phone, repeats
from seat.config import DEMO_CALLERS as DEMO_CALLERS
from seat.db import has_rows, refresh_statistics
from seat.models import (
    Agent,
    Call,
    Callback,
    CallbackKind,
    CallbackStatus,
    Complaint,
    ComplaintEvent,
    Customer,
    NeedCategory,
    Outcome,
    PhoneNumber,
    Purchase,
    Role,
    SQLModel,
    Tier,
    WorkOrder,
    WorkOrderKind,
)

T = TypeVar("T")
BATCH = 20_000
# SQLite while seeding: no fsync, a 256 MiB page cache, and no foreign key lookups (a few
# per row: every reference the seed writes is to a row it has just written or read;
# tests/unit/test_demo.py checks them with PRAGMA foreign_key_check). Set back after.
SEEDING_PRAGMAS = ("synchronous=OFF", "cache_size=-262144", "foreign_keys=OFF")
FREQUENT_STRIDE = 20  # one customer in 20 calls far more often than the rest
CHINA = timedelta(hours=8)  # Asia/Shanghai has no daylight saving time.

AGENTS: tuple[tuple[str, str, str], ...] = (
    ("li.na", "Li Na", Role.AGENT.value),
    ("wang.wei", "Wang Wei", Role.AGENT.value),
    ("zhang.min", "Zhang Min", Role.AGENT.value),
    ("chen.jie", "Chen Jie", Role.AGENT.value),
    ("liu.yang", "Liu Yang", Role.AGENT.value),
    ("zhao.lei", "Zhao Lei", Role.SUPERVISOR.value),
)

DEMO_CUSTOMERS = 300
DEMO_CALLS = 3_000

# Guarantees per agent (see the module docstring).
OVERDUE_PER_AGENT = 2
DUE_SOON_PER_AGENT = 2
URGENT_PER_AGENT = 1
NORMAL_WO_PER_AGENT = 2


# Mobile prefixes that libphonenumber accepts as valid CN mobiles.
MOBILE_PREFIXES: tuple[int, ...] = (
    *range(130, 140),
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    177,
    *range(180, 190),
)

SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"),
    ("杨", "Yang"), ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"),
    ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"),
    ("郭", "Guo"), ("何", "He"), ("林", "Lin"), ("高", "Gao"), ("罗", "Luo"),
    ("郑", "Zheng"), ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"), ("唐", "Tang"),
    ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao"), ("彭", "Peng"),
)  # fmt: skip
FEMALE_GIVEN: tuple[tuple[str, str], ...] = (
    ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"),
    ("艳", "Yan"), ("婷", "Ting"), ("雪", "Xue"), ("慧", "Hui"), ("玲", "Ling"),
    ("秀英", "Xiuying"), ("桂英", "Guiying"), ("晓红", "Xiaohong"), ("佳怡", "Jiayi"),
    ("欣怡", "Xinyi"), ("梓涵", "Zihan"), ("美玲", "Meiling"), ("丹", "Dan"),
)  # fmt: skip
MALE_GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "Wei"), ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"),
    ("勇", "Yong"), ("杰", "Jie"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"),
    ("建国", "Jianguo"), ("志强", "Zhiqiang"), ("浩然", "Haoran"), ("宇轩", "Yuxuan"),
    ("子豪", "Zihao"), ("俊杰", "Junjie"), ("国华", "Guohua"), ("鹏", "Peng"),
)  # fmt: skip

# (city en, city zh, districts [(en, zh)], streets [(en, zh)])
CITIES: tuple[tuple[str, str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]], ...] = (
    (
        "Shanghai",
        "上海市",
        (
            ("Pudong New Area", "浦东新区"),
            ("Xuhui District", "徐汇区"),
            ("Jing'an District", "静安区"),
        ),
        (
            ("Zhangyang Rd", "张杨路"),
            ("Huaihai Middle Rd", "淮海中路"),
            ("Nanjing West Rd", "南京西路"),
            ("Century Ave", "世纪大道"),
        ),
    ),
    (
        "Beijing",
        "北京市",
        (
            ("Chaoyang District", "朝阳区"),
            ("Haidian District", "海淀区"),
            ("Dongcheng District", "东城区"),
        ),
        (
            ("Jianguo Rd", "建国路"),
            ("Zhongguancun St", "中关村大街"),
            ("Wangfujing St", "王府井大街"),
            ("Xueyuan Rd", "学院路"),
        ),
    ),
    (
        "Guangzhou",
        "广州市",
        (
            ("Tianhe District", "天河区"),
            ("Yuexiu District", "越秀区"),
            ("Haizhu District", "海珠区"),
        ),
        (
            ("Tianhe Rd", "天河路"),
            ("Zhongshan 5th Rd", "中山五路"),
            ("Jiangnan West Rd", "江南西路"),
            ("Huacheng Ave", "花城大道"),
        ),
    ),
    (
        "Shenzhen",
        "深圳市",
        (
            ("Nanshan District", "南山区"),
            ("Futian District", "福田区"),
            ("Luohu District", "罗湖区"),
        ),
        (
            ("Shennan Blvd", "深南大道"),
            ("Keyuan Rd", "科苑路"),
            ("Huaqiang North Rd", "华强北路"),
            ("Nanhai Ave", "南海大道"),
        ),
    ),
    (
        "Hangzhou",
        "杭州市",
        (
            ("Xihu District", "西湖区"),
            ("Shangcheng District", "上城区"),
            ("Binjiang District", "滨江区"),
        ),
        (
            ("Wensan Rd", "文三路"),
            ("Yan'an Rd", "延安路"),
            ("Jianghan Rd", "江汉路"),
            ("Tianmushan Rd", "天目山路"),
        ),
    ),
    (
        "Chengdu",
        "成都市",
        (
            ("Jinjiang District", "锦江区"),
            ("Wuhou District", "武侯区"),
            ("Qingyang District", "青羊区"),
        ),
        (
            ("Chunxi Rd", "春熙路"),
            ("Renmin South Rd", "人民南路"),
            ("Tianfu Ave", "天府大道"),
            ("Shuncheng St", "顺城大街"),
        ),
    ),
    (
        "Wuhan",
        "武汉市",
        (
            ("Wuchang District", "武昌区"),
            ("Jianghan District", "江汉区"),
            ("Hongshan District", "洪山区"),
        ),
        (
            ("Zhongbei Rd", "中北路"),
            ("Jiefang Ave", "解放大道"),
            ("Luoyu Rd", "珞喻路"),
            ("Zhongshan Ave", "中山大道"),
        ),
    ),
    (
        "Nanjing",
        "南京市",
        (
            ("Gulou District", "鼓楼区"),
            ("Qinhuai District", "秦淮区"),
            ("Jianye District", "建邺区"),
        ),
        (
            ("Zhongshan Rd", "中山路"),
            ("Hanzhong Rd", "汉中路"),
            ("Jiangdong Middle Rd", "江东中路"),
            ("Taiping South Rd", "太平南路"),
        ),
    ),
)

OCCUPATIONS: tuple[tuple[str, str], ...] = (
    ("Teacher", "教师"), ("Engineer", "工程师"), ("Nurse", "护士"), ("Shop owner", "个体户"),
    ("Accountant", "会计"), ("Driver", "司机"), ("Civil servant", "公务员"), ("Retired", "退休"),
    ("Student", "学生"), ("Doctor", "医生"), ("Sales manager", "销售经理"),
    ("Programmer", "程序员"), ("Chef", "厨师"), ("Lawyer", "律师"), ("Designer", "设计师"),
)  # fmt: skip

PRODUCTS: tuple[tuple[str, str], ...] = (
    ("washing machine", "洗衣机"), ("refrigerator", "冰箱"), ("air conditioner", "空调"),
    ("sofa", "沙发"), ("mattress", "床垫"), ("wardrobe", "衣柜"), ("dining table", "餐桌"),
    ("water heater", "热水器"), ("range hood", "油烟机"), ("TV", "电视"),
    ("dishwasher", "洗碗机"), ("bed frame", "床架"),
)  # fmt: skip

TIER_WEIGHTS: tuple[tuple[str, int], ...] = (
    (Tier.VIP.value, 1),
    (Tier.DIAMOND.value, 2),
    (Tier.PLATINUM.value, 7),
    (Tier.GOLD.value, 15),
    (Tier.ORDINARY.value, 75),
)

NEED_WEIGHTS: tuple[tuple[str, int], ...] = (
    (NeedCategory.INQUIRY.value, 35),
    (NeedCategory.REPAIR.value, 30),
    (NeedCategory.COMPLAINT.value, 8),
    (NeedCategory.SUGGESTION.value, 4),
    (NeedCategory.BUSINESS.value, 15),
    (NeedCategory.NOTICE.value, 8),
)

_O = Outcome
OUTCOMES_BY_NEED: dict[str, tuple[tuple[str, int], ...]] = {
    NeedCategory.INQUIRY: ((_O.RESOLVED, 88), (_O.CALLBACK_PROMISED, 12)),
    NeedCategory.REPAIR: (
        (_O.WORK_ORDER_CREATED, 70),
        (_O.CALLBACK_PROMISED, 15),
        (_O.RESOLVED, 15),
    ),
    NeedCategory.COMPLAINT: (
        (_O.COMPLAINT_OPENED, 70),
        (_O.ESCALATED, 20),
        (_O.CALLBACK_PROMISED, 10),
    ),
    NeedCategory.SUGGESTION: ((_O.RESOLVED, 100),),
    NeedCategory.BUSINESS: (
        (_O.RESOLVED, 70),
        (_O.WORK_ORDER_CREATED, 20),
        (_O.CALLBACK_PROMISED, 10),
    ),
    NeedCategory.NOTICE: ((_O.RESOLVED, 95), (_O.CALLBACK_PROMISED, 5)),
    "callback": ((_O.RESOLVED, 70), (_O.NO_ANSWER, 25), (_O.COMPLAINT_OPENED, 5)),
}

NOTES_EN: dict[str, tuple[str, ...]] = {
    NeedCategory.INQUIRY: (
        "Asked about the warranty on the {p}; explained the 3-year cover.",
        "Asked when the {p} will be delivered; confirmed the date from the order.",
        "Wanted to know how to clean the {p} filter; walked through the steps.",
        "Asked for the nearest service point for the {p}; gave the address.",
    ),
    NeedCategory.REPAIR: (
        "{P} stopped working yesterday; booked a technician visit.",
        "{P} makes a loud noise when running; on-site check arranged.",
        "{P} leaks water; customer sent photos, repair order opened.",
        "Door of the {p} does not close; technician to bring new hinge.",
    ),
    NeedCategory.COMPLAINT: (
        "Technician missed the appointment for the {p}; customer upset.",
        "{P} delivered damaged; customer wants a replacement.",
        "Third repair on the same {p} in two months; wants a refund.",
    ),
    NeedCategory.SUGGESTION: (
        "Suggests an SMS reminder the day before a technician visit.",
        "Would like evening delivery slots for large items like the {p}.",
    ),
    NeedCategory.BUSINESS: (
        "Changed the delivery address for the {p} order.",
        "Requested a VAT invoice for the {p} purchase.",
        "Asked to extend the warranty on the {p}; quote sent.",
    ),
    NeedCategory.NOTICE: (
        "Told about the service-centre closure on the public holiday.",
        "Called about the recall notice; this {p} model is not affected.",
    ),
    "callback": (
        "Satisfaction callback after the {p} repair; customer satisfied.",
        "Follow-up on the {p} delivery; everything fine.",
        "Callback about the {p}; customer asked for a second visit.",
    ),
}
NOTES_ZH: dict[str, tuple[str, ...]] = {
    NeedCategory.INQUIRY: (
        "咨询{p}保修期，已说明三年保修。",
        "询问{p}送货时间，已按订单确认。",
        "咨询{p}的清洁方法，已逐步讲解。",
    ),
    NeedCategory.REPAIR: (
        "{p}昨天起无法使用，已预约师傅上门。",
        "{p}运行噪音大，已安排上门检查。",
        "{p}漏水，客户已发照片，已建维修单。",
    ),
    NeedCategory.COMPLAINT: (
        "师傅未按约定时间上门维修{p}，客户不满。",
        "{p}送货时损坏，客户要求换货。",
    ),
    NeedCategory.SUGGESTION: ("建议上门前一天短信提醒。", "希望{p}等大件可晚间配送。"),
    NeedCategory.BUSINESS: ("修改{p}订单送货地址。", "申请{p}购买发票。"),
    NeedCategory.NOTICE: ("告知节假日服务中心休息安排。", "咨询召回通知，该{p}型号不在范围内。"),
    "callback": (
        "{p}维修后回访，客户满意。",
        "{p}送货回访，一切正常。",
        "{p}回访，客户要求再次上门。",
    ),
}
NO_ANSWER_NOTES = (
    "No answer; will try again tomorrow.",
    "Line busy; try again later.",
    "无人接听，明天再拨。",
)

CALLBACK_KIND_WEIGHTS: tuple[tuple[str, int], ...] = (
    (CallbackKind.SATISFACTION.value, 40),
    (CallbackKind.MANUAL.value, 25),
    (CallbackKind.COMPLAINT_FOLLOW_UP.value, 10),
    (CallbackKind.BIRTHDAY.value, 15),
    (CallbackKind.CHURNED.value, 10),
)
CALLBACK_REASONS: dict[str, tuple[str, ...]] = {
    CallbackKind.SATISFACTION: (
        "Satisfaction check after the {p} repair.",
        "Ask how the new {p} is working a week after delivery.",
        "{p}维修后满意度回访。",
    ),
    CallbackKind.MANUAL: (
        "Customer asked to be called back about the {p} order.",
        "Confirm the technician's visit time for the {p}.",
        "Call back with the spare-part price for the {p}.",
        "回电确认{p}送货时间。",
    ),
    CallbackKind.COMPLAINT_FOLLOW_UP: (
        "Follow up the complaint about the {p}; tell the customer the solution.",
        "Check the customer accepts the replacement {p}.",
    ),
    CallbackKind.BIRTHDAY: ("Birthday greetings and member voucher.", "生日祝福，告知会员礼券。"),
    CallbackKind.CHURNED: (
        "No purchase for 3 months: ask why and mention the member offer.",
        "会员三个月未消费，回访了解原因。",
    ),
}

WORK_ORDER_TEXTS: dict[str, tuple[str, ...]] = {
    WorkOrderKind.SERVICE_REQUEST: (
        "Washing machine leaks",
        "Refrigerator not cooling",
        "Air conditioner drips water indoors",
        "Water heater shows error E4",
        "Range hood fan very noisy",
        "TV has no picture, sound only",
        "Dishwasher does not drain",
        "Wardrobe door hinge broken",
        "Mattress sagging after 6 months",
        "冰箱不制冷",
        "洗衣机脱水时剧烈晃动",
    ),
    WorkOrderKind.DELIVERY_EXCEPTION: (
        "Sofa delivered with torn cover",
        "Dining table delivered with scratched top",
        "Wrong colour wardrobe delivered",
        "Bed frame missing two slats",
        "Delivery of refrigerator two days late",
        "沙发送货时外包装破损",
    ),
}

COMPLAINTS: tuple[tuple[str, str], ...] = (
    ("Technician did not come at the agreed time, twice.", "A fixed appointment and an apology."),
    ("Sofa delivered with a torn cover; delivery crew left without noting it.", "A new sofa."),
    ("Refrigerator repaired three times in two months and still not cooling.", "A refund."),
    ("Agent on the phone promised a callback that never came.", "A call from a supervisor."),
    ("Charged for a repair that should be under warranty.", "The money back."),
    ("洗衣机维修后仍然漏水，师傅态度差。", "更换新机并道歉。"),
)


@dataclass(frozen=True)
class SeedReport:
    """Rows written by one `seed` run (agents: only the ones that were missing)."""

    agents: int
    customers: int
    phones: int
    calls: int
    callbacks: int
    work_orders: int
    complaints: int
    seconds: float
    events: int = 0
    """History rows written (work-order and complaint events, sealed)."""
    purchases: int = 0


class _Cust(NamedTuple):  # a tuple: 200,000 of them are made in a bench seed
    name: str
    address: str | None
    phones: tuple[str, ...]
    zh: bool


def _default_callbacks(customers: int) -> int:
    return 0 if customers <= 0 else min(max(40, customers // 20), 5_000)


def _default_work_orders(customers: int) -> int:
    return 0 if customers <= 0 else min(max(30, customers // 25), 4_000)


def _default_purchases(customers: int) -> int:
    return 0 if customers <= 0 else 3 * customers


def _complaint_count(customers: int) -> int:
    return 0 if customers <= 0 else min(max(6, customers // 40), 5_000)


def seed(
    engine: Engine,
    *,
    customers: int,
    calls: int,
    seed: int = 7,
    now: datetime,
    callbacks: int | None = None,
    work_orders: int | None = None,
    purchases: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Seed a realistic desk; appends to a database that already has customers.

    Runs in one transaction: either all of it is written or nothing.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    if customers < 0 or calls < 0:
        raise ValueError("counts cannot be negative")
    n_callbacks = _default_callbacks(customers) if callbacks is None else callbacks
    n_work_orders = _default_work_orders(customers) if work_orders is None else work_orders
    if n_callbacks < 0 or n_work_orders < 0:
        raise ValueError("counts cannot be negative")
    if customers == 0 and (calls or n_callbacks or n_work_orders):
        raise ValueError("calls, callbacks and work orders need customers to belong to")
    n_complaints = _complaint_count(customers)
    n_purchases = _default_purchases(customers) if purchases is None else purchases
    if n_purchases < 0:
        raise ValueError("counts cannot be negative")
    now = now.astimezone(UTC)
    say = progress or (lambda _msg: None)
    started = time.perf_counter()

    with engine.connect() as conn, _no_cycle_collection():
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _raw_pragmas(conn, *SEEDING_PRAGMAS)
        try:
            rebuild = _set_aside_indexes(conn) if sqlite else []
            base = conn.execute(select(func.max(Customer.id))).scalar() or 0
            rng = random.Random(seed if base == 0 else f"{seed}:{base}")
            agent_ids, n_agents = _ensure_agents(conn)
            say(f"agents: {n_agents} added")
            people, upcoming, n_phones = _seed_customers(
                conn, rng, base=base, count=customers, now=now, say=say
            )
            n_calls = _seed_calls(conn, rng, base, people, agent_ids, calls, now, say)
            _seed_callbacks(conn, rng, base, people, upcoming, agent_ids, n_callbacks, now)
            say(f"callbacks: {n_callbacks}")
            n_events = _seed_work_orders(conn, rng, base, people, agent_ids, n_work_orders, now)
            say(f"work orders: {n_work_orders}")
            n_events += _seed_complaints(conn, rng, base, people, agent_ids, n_complaints, now)
            say(f"complaints: {n_complaints}")
            # Their own random stream: the rest of the desk is drawn as it was before.
            buyer_rng = random.Random(f"purchases:{seed}:{base}")
            _seed_purchases(conn, buyer_rng, base, len(people), n_purchases, now)
            say(f"purchases: {n_purchases}")
            # First-contact resolution judged before the indexes that carry it are built.
            later = [st for st in rebuild if "repeated" in st]
            for statement in [st for st in rebuild if st not in later]:
                conn.exec_driver_sql(statement)
            if n_calls:
                repeats.backfill(conn)
            for statement in later:
                conn.exec_driver_sql(statement)
            if rebuild:
                say(f"indexes: {len(rebuild)} built")
            if conn.dialect.name == "postgresql":  # the ids were given: the sequence follows
                sequence = func.pg_get_serial_sequence("customer", "id")
                highest = select(func.coalesce(func.max(Customer.id), 0)).scalar_subquery()
                conn.execute(select(func.setval(sequence, highest + 1, False)))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if sqlite:
                _raw_pragmas(conn, "synchronous=NORMAL", "cache_size=-2000", "foreign_keys=ON")
    if sqlite:
        with engine.connect() as conn:
            _raw_pragmas(conn, "wal_checkpoint(TRUNCATE)")
    refresh_statistics(engine)  # the planner must know a million calls are there
    return SeedReport(
        agents=n_agents,
        customers=customers,
        phones=n_phones,
        calls=n_calls,
        callbacks=n_callbacks,
        work_orders=n_work_orders,
        complaints=n_complaints,
        seconds=time.perf_counter() - started,
        events=n_events,
        purchases=n_purchases,
    )


_MASTER = table_clause(
    "sqlite_master", column("type"), column("name"), column("tbl_name"), column("sql")
)
SEEDED_TABLES = (
    "customer", "phone_number", "call", "callback", "work_order", "work_order_event",
    "complaint", "complaint_event", "purchase",
)  # fmt: skip


def _set_aside_indexes(conn: Connection) -> list[str]:
    """Drop the indexes of the seeded tables that are still empty, to build each once the
    rows are in: one sort instead of a B-tree insert per row (a million calls write a fifth
    faster; the sorts take back most of it: about 2 s of a 35 s bench seed are left).
    Returns the statements that build them again: the ones SQLite stored when the migrations
    made them, so they come back exactly as they were. (A table's own UNIQUE constraints
    stay: SQLite cannot drop those.) The same transaction: a failed seed rolls the drops back
    too."""
    rebuild: list[str] = []
    for table in SEEDED_TABLES:
        target = SQLModel.metadata.tables[table]
        if conn.execute(select(target.c.id).limit(1)).first() is not None:
            continue
        indexes = conn.execute(
            select(_MASTER.c.name, _MASTER.c.sql).where(
                _MASTER.c.type == "index", _MASTER.c.tbl_name == table, _MASTER.c.sql.is_not(None)
            )
        ).all()
        for name, statement in indexes:
            conn.execute(DropIndex(Index(name)))
            rebuild.append(statement)
    return rebuild


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Seeding makes millions of objects and no reference cycles: the cycle collector would
    only walk the growing heap again and again (7% of the time making a call's row)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _raw_pragmas(conn: Connection, *pragmas: str) -> None:
    """PRAGMAs that SQLite refuses inside a transaction go straight to the driver."""
    raw = conn.connection.dbapi_connection
    for pragma in pragmas:
        raw.execute(f"PRAGMA {pragma}")  # type: ignore[union-attr]


def ensure_demo(engine: Engine, *, now: datetime) -> bool:
    """Seed the small demo desk if the database has no customers; True if it seeded."""
    if has_rows(engine, "customer"):
        return False
    seed(engine, customers=DEMO_CUSTOMERS, calls=DEMO_CALLS, now=now)
    return True


# -- helpers ----------------------------------------------------------------------------------


def _batches(rows: Iterator[T], size: int = BATCH) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """executemany of `rows` (dicts with the same keys) into `table`, BATCH rows at a time.

    SQLAlchemy Core compiles the INSERT. On SQLite the values then go to the driver as SQLite
    stores them (_Stored) instead of through SQLAlchemy's per-value type processing: that
    processing (a time to its stored text: 1.7 µs a value) cost more than writing the row.
    Columns the rows leave out get their constant defaults; any other default, and other
    databases, go through Core as usual.
    """
    if not rows:
        return
    keys = [c.key for c in table.c if c.key in rows[0]]
    left = [c.default for c in table.c if c.key not in rows[0] and c.default is not None]
    if conn.dialect.name != "sqlite" or not all(d.is_scalar for d in left):
        for lo in range(0, len(rows), BATCH):
            conn.execute(insert(table), rows[lo : lo + BATCH])
        return
    constants = {
        c.key: c.default.arg  # type: ignore[union-attr]
        for c in table.c
        if c.key not in rows[0] and c.default is not None
    }
    stored = _Stored(table, [*keys, *constants])
    extra = tuple(constants.values())
    _insert_stored(
        conn,
        table,
        [*keys, *constants],
        [stored.values((*[row[key] for key in keys], *extra)) for row in rows],
    )


def _insert_stored(
    conn: Connection, table: Table, keys: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """executemany of `rows`, tuples of values in `keys` order as the database stores them
    (_Stored), BATCH rows at a time; the INSERT compiled by SQLAlchemy Core."""
    if conn.dialect.name != "sqlite":
        for lo in range(0, len(rows), BATCH):
            batch = [dict(zip(keys, row, strict=True)) for row in rows[lo : lo + BATCH]]
            conn.execute(insert(table), batch)
        return
    statement = insert(table).compile(dialect=conn.dialect, column_keys=list(keys))
    order = statement.positiontup or []  # the keys in the order of the ? placeholders
    if order != list(keys):
        reorder = itemgetter(*[list(keys).index(key) for key in order])
        rows = [reorder(row) for row in rows]
    for lo in range(0, len(rows), BATCH):
        conn.exec_driver_sql(statement.string, rows[lo : lo + BATCH])


class _Stored:
    """Values as the SQLite driver takes them for what SQLAlchemy's types store there: a time
    as its UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (sqlite_time), a date as 'YYYY-MM-DD'; text,
    numbers, booleans and NULL as they are (tests/unit/test_demo.py checks every seeded
    column against SQLAlchemy's own)."""

    def __init__(self, table: Table, keys: Sequence[str]) -> None:
        types = [_impl(table.c[key].type) for key in keys]
        self.times = [i for i, t in enumerate(types) if isinstance(t, DateTime)]
        self.dates = [i for i, t in enumerate(types) if isinstance(t, Date)]

    def values(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        if not self.times and not self.dates:
            return row
        out = list(row)
        for i in self.times:
            if out[i] is not None:
                out[i] = sqlite_time(out[i])
        for i in self.dates:
            if out[i] is not None:
                out[i] = out[i].isoformat()
        return tuple(out)


def _impl(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type a column stores as (a TypeDecorator's underlying type)."""
    return type_.impl_instance if isinstance(type_, TypeDecorator) else type_


def sqlite_time(at: datetime) -> str:
    """An aware time as SQLAlchemy stores it in SQLite (as UTC, seat.models): the same text.
    (The UTC time's ISO form without its "+00:00".)"""
    return at.astimezone(UTC).isoformat(" ", "microseconds")[:-6]


def _utc_stamp(sqlite: bool) -> Callable[[datetime], Any]:
    """A naive UTC time as the database takes it: SQLite the stored text (as sqlite_time; a
    naive time formats twice as fast as an aware one), others the aware time."""
    if sqlite:
        return methodcaller("isoformat", " ", "microseconds")
    return methodcaller("replace", tzinfo=UTC)


class _Weighted:
    """A weighted draw: one rng.random() and a bisect. It picks the first value whose running
    total of weights is above random() * total: what walking the table and subtracting each
    weight picks, exactly (the weights are whole numbers)."""

    __slots__ = ("bounds", "total", "values")

    def __init__(self, table: Sequence[tuple[Any, int]]) -> None:
        self.values = [value for value, __ in table]
        self.bounds = list(accumulate(weight for __, weight in table))
        self.total = self.bounds[-1]

    def __call__(self, rng: random.Random) -> Any:
        i = bisect_right(self.bounds, rng.random() * self.total)
        return self.values[i] if i < len(self.values) else self.values[-1]


def _weighted(rng: random.Random, table: Sequence[tuple[Any, int]]) -> Any:
    return _Weighted(table)(rng)


def _ensure_agents(conn: Connection) -> tuple[list[int], int]:
    """Ids of the demo agents in AGENTS order, inserting the missing ones."""
    have = dict(conn.execute(select(Agent.name, Agent.id)).all())
    missing = [
        {"name": name, "display_name": shown, "role": role, "active": True}
        for name, shown, role in AGENTS
        if name not in have
    ]
    if missing:
        _insert(conn, Agent.__table__, missing)  # type: ignore[arg-type]
        have = dict(conn.execute(select(Agent.name, Agent.id)).all())
    return [have[name] for name, __, __ in AGENTS], len(missing)


_AGES, _SOON, _PAST = range(18, 81), range(1, 15), range(15, 351)  # choice(range): randint


def _birthday(rng: random.Random, today: date, upcoming: bool) -> date:
    age = rng.choice(_AGES)
    if upcoming:
        target = today + timedelta(days=rng.choice(_SOON))
    else:
        target = today - timedelta(days=rng.choice(_PAST))
    try:
        return target.replace(year=target.year - age)
    except ValueError:  # 29 February in a common year
        return target.replace(year=target.year - age, day=28)


_NUMBERS, _BUILDINGS, _FLOORS, _ROOMS = range(1, 3000), range(1, 31), range(1, 33), range(1, 9)


def _address(rng: random.Random, zh: bool) -> str:
    choice = rng.choice
    city_en, city_zh, districts, streets = choice(CITIES)
    dist_en, dist_zh = choice(districts)
    street_en, street_zh = choice(streets)
    number = choice(_NUMBERS)
    building = choice(_BUILDINGS)
    room = choice(_FLOORS) * 100 + choice(_ROOMS)
    if zh:
        return f"{city_zh}{dist_zh}{street_zh}{number}号{building}栋{room}室"
    return f"Room {room}, Bldg {building}, {number} {street_en}, {dist_en}, {city_en}"


CUSTOMER_KEYS = (
    "id", "name", "tier", "gender", "birthday", "occupation", "address", "language",
    "created_at", "updated_at", "tier_pinned", "member_until", "version",
)  # fmt: skip
PHONE_KEYS = ("customer_id", "e164", "label", "wrong_number")
_TIER = _Weighted(TIER_WEIGHTS)
_LOCAL_NUMBERS = range(100_000_000)


def _seed_customers(
    conn: Connection,
    rng: random.Random,
    *,
    base: int,
    count: int,
    now: datetime,
    say: Callable[[str], None],
) -> tuple[list[_Cust], list[tuple[int, date]], int]:
    """Insert customers base+1..base+count and their phones."""
    taken: set[str] = set(DEMO_CALLERS)
    if base:
        taken.update(conn.execute(select(PhoneNumber.e164)).scalars())
    fixed = DEMO_CALLERS if base == 0 else ()
    today = (now + CHINA).date()
    people: list[_Cust] = []
    upcoming: list[tuple[int, date]] = []
    n_phones = 0
    random_, choice = rng.random, rng.choice
    sqlite = conn.dialect.name == "sqlite"
    stamp = _utc_stamp(sqlite)
    naive_now = now.replace(tzinfo=None)  # UTC

    def new_number() -> str:
        while True:
            e164 = f"+86{choice(MOBILE_PREFIXES)}{choice(_LOCAL_NUMBERS):08d}"
            if e164 not in taken:
                taken.add(e164)
                return e164

    customer_table: Table = Customer.__table__  # type: ignore[assignment]
    phone_table: Table = PhoneNumber.__table__  # type: ignore[assignment]
    span = range(int(timedelta(days=5 * 365).total_seconds()))
    for start in range(0, count, BATCH):
        crows: list[tuple[Any, ...]] = []
        prows: list[tuple[Any, ...]] = []
        for i in range(start, min(count, start + BATCH)):
            cid = base + i + 1
            female = random_() < 0.52
            sur_zh, sur_en = choice(SURNAMES)
            giv_zh, giv_en = choice(FEMALE_GIVEN if female else MALE_GIVEN)
            hanzi = random_() < 0.55
            name = f"{sur_zh}{giv_zh}" if hanzi else f"{sur_en} {giv_en}"
            zh = random_() < (0.8 if hanzi else 0.25)
            roll = random_()
            gender = None if roll < 0.05 else ("female" if female else "male")
            roll = random_()
            if roll < 0.06:
                bday: date | None = _birthday(rng, today, upcoming=True)
            elif roll < 0.92:
                bday = _birthday(rng, today, upcoming=False)
            else:
                bday = None
            if bday is not None and len(upcoming) < 5_000:
                nxt = _next_anniversary(bday, today)
                if 0 < (nxt - today).days <= 14:
                    upcoming.append((cid, nxt))
            address = _address(rng, zh) if random_() < 0.9 else None
            occupation = None
            if random_() < 0.85:
                occ_en, occ_zh = choice(OCCUPATIONS)
                occupation = occ_zh if zh else occ_en
            created = naive_now - timedelta(days=370, seconds=choice(span))
            lived = range(int((naive_now - created).total_seconds()))
            updated = created + timedelta(seconds=choice(lived))
            phones = [new_number()]
            if i < len(fixed):  # drawn all the same: the rest of the stream stays as it was
                phones[0] = fixed[i]
            if random_() < 0.12:
                phones.append(new_number())
            born = bday.isoformat() if sqlite and bday is not None else bday  # as _Stored
            tier = _TIER(rng)
            until = _member_until(cid, tier, (created + CHINA).date(), today)
            crows.append(
                (cid, name, tier, gender, born, occupation, address,
                 "zh_CN" if zh else "en", stamp(created), stamp(updated), False,
                 until.isoformat() if sqlite and until is not None else until, 1)
            )  # fmt: skip
            for n, e164 in enumerate(phones):
                label = "mobile" if n == 0 else choice(("work", "mobile", "home"))
                prows.append((cid, e164, label, False))
            people.append(_Cust(name=name, address=address, phones=tuple(phones), zh=zh))
        _insert_stored(conn, customer_table, CUSTOMER_KEYS, crows)
        _insert_stored(conn, phone_table, PHONE_KEYS, prows)
        n_phones += len(prows)
        say(f"customers: {min(count, start + BATCH)}/{count}")
    return people, upcoming, n_phones


def _member_until(cid: int, tier: str, joined: date, today: date) -> date | None:
    """A member's yearly membership: it runs to the day before their joining day's next
    anniversary; one in nine let it lapse last year. Ordinary customers hold none. (No
    random draw: the rest of the demo's stream stays as it was.)"""
    if tier == "ordinary":
        return None
    ends = _next_anniversary(joined, today + timedelta(days=1)) - timedelta(days=1)
    if cid % 9 == 0:
        ends = _on_year(ends, ends.year - 1)
    return ends


def _on_year(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return date(year, 2, 28)


def _next_anniversary(bday: date, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            nxt = bday.replace(year=year)
        except ValueError:
            nxt = date(year, 2, 28)
        if nxt >= today:
            return nxt
    return today  # unreachable


def _call_days(now: datetime, calls: int) -> list[tuple[datetime, float, int]]:
    """(window start, window seconds, number of calls) per working day of the past year."""
    local_now = now + CHINA
    latest_end = now - timedelta(minutes=30)  # every call is over before `now`
    windows: list[tuple[datetime, float, float]] = []
    for back in range(365, -1, -1):
        day = local_now.date() - timedelta(days=back)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - CHINA
        open_at = midnight + timedelta(hours=8, minutes=30)
        close_at = min(midnight + timedelta(hours=21), latest_end)
        seconds = (close_at - open_at).total_seconds()
        if seconds < 600:
            continue
        weight = (1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.6)[day.weekday()] * seconds / 45_000
        windows.append((open_at, seconds, weight))
    total = sum(w for __, __, w in windows) or 1.0
    out: list[tuple[datetime, float, int]] = []
    done = 0
    acc = 0.0
    for open_at, seconds, weight in windows:
        acc += weight
        target = round(calls * acc / total)
        out.append((open_at, seconds, target - done))
        done = target
    if out and done != calls:  # rounding safety
        open_at, seconds, k = out[-1]
        out[-1] = (open_at, seconds, k + calls - done)
    return out


def _seed_calls(
    conn: Connection,
    rng: random.Random,
    base: int,
    people: list[_Cust],
    agent_ids: list[int],
    calls: int,
    now: datetime,
    say: Callable[[str], None],
) -> int:
    """A year of calls in time order.

    The run's first customer gets min(10000, calls // 20) of them (for benchmarks); every
    20th customer is a frequent caller; the rest call now and then, some never.
    """
    if calls <= 0:
        return 0
    n = len(people)
    heavy = min(10_000, calls // 20) if n > 1 else 0
    heavy_idx = set(rng.sample(range(calls), heavy)) if heavy else set()
    frequent = max(1, (n - 2) // FREQUENT_STRIDE + 1)
    # choice(range) draws what randrange draws: 1 + STRIDE * randrange(frequent), 1 +
    # randrange(n - 1)
    frequent_idx = range(1, 1 + FREQUENT_STRIDE * frequent, FREQUENT_STRIDE)
    others = range(1, n)
    agent_of = _Weighted([(a, 10) for a in agent_ids[:-1]] + [(agent_ids[-1], 3)])
    make = _call_maker(rng, _utc_stamp(conn.dialect.name == "sqlite"))
    random_, choice = rng.random, rng.choice
    table: Table = Call.__table__  # type: ignore[assignment]
    written = 0

    def rows() -> Iterator[tuple[Any, ...]]:
        i = 0
        for open_at, seconds, k in _call_days(now, calls):
            opens = open_at.replace(tzinfo=None)  # naive UTC: see _utc_stamp
            offsets = sorted(random_() * seconds for __ in range(k))
            for off in offsets:
                if i in heavy_idx or n == 1:
                    idx = 0
                elif random_() < 0.35:  # a frequent caller: every 20th customer
                    idx = choice(frequent_idx)
                else:
                    idx = choice(others)
                i += 1
                yield make(base + idx + 1, people[idx], agent_of(rng), opens + timedelta(0, off))

    for batch in _batches(rows()):
        _insert_stored(conn, table, CALL_KEYS, batch)
        written += len(batch)
        say(f"calls: {written}/{calls}")
    return written


def _gaps(lo: int, hi: int) -> tuple[timedelta, ...]:
    """rng.choice(_gaps(lo, hi)) draws what timedelta(seconds=rng.randint(lo, hi)) does (the
    same number from the stream), without building the timedelta."""
    return tuple(timedelta(seconds=s) for s in range(lo, hi + 1))


_SATISFACTION = ((5, 50), (4, 30), (3, 12), (2, 5), (1, 3))
CALL_KEYS = (
    "uid", "agent_id", "customer_id", "from_number", "direction", "script", "callback_id",
    "started_at", "greeting_at", "discovery_at", "resolution_at", "closing_at", "wrapup_at",
    "ended_at", "need_category", "outcome", "satisfaction", "notes",
)  # fmt: skip
"""The columns of a seeded call, in the order _call_maker gives them."""


def _call_maker(
    rng: random.Random, stamp: Callable[[datetime], Any]
) -> Callable[[int, _Cust, int, datetime], tuple[Any, ...]]:
    """make(customer_id, person, agent_id, start): one call drawn from rng, its values in
    CALL_KEYS order as the database takes them (`stamp`: a naive UTC time to its value).

    A million of them are made for a bench desk: what does not depend on the draw is built
    once here (the weighted tables, the gaps, every note with every product in it)."""
    random_, choice, bits = rng.random, rng.choice, rng.getrandbits
    need_of = _Weighted(NEED_WEIGHTS)
    outcome_of = {
        need: _Weighted([(outcome.value, weight) for outcome, weight in table])
        for need, table in OUTCOMES_BY_NEED.items()
    }  # plain text: the driver binds a str subclass (an enum) by a slower path
    satisfaction_of = _Weighted(_SATISFACTION)
    products = range(len(PRODUCTS))
    notes_en = {
        need: [tuple(t.format(p=en, P=en.capitalize()) for t in templates) for en, __ in PRODUCTS]
        for need, templates in NOTES_EN.items()
    }
    notes_zh = {
        need: [tuple(t.format(p=zh) for t in templates) for __, zh in PRODUCTS]
        for need, templates in NOTES_ZH.items()
    }
    no_answer_end, no_answer_hangup = _gaps(20, 45), _gaps(5, 30)
    to_discovery, to_resolution, to_closing = _gaps(12, 40), _gaps(60, 180), _gaps(30, 300)
    to_wrapup, to_end = _gaps(15, 60), _gaps(10, 120)
    no_answer = Outcome.NO_ANSWER.value

    def make(
        customer_id: int, person: _Cust, agent_id: int, start: datetime
    ) -> tuple[Any, ...]:
        inbound = random_() < 0.85
        need = need_of(rng) if inbound else "callback"
        outcome = outcome_of[need](rng)
        product = choice(products)
        uid = f"{bits(128):032x}"  # drawn, not uuid4: the same seed, the same rows
        phones = person.phones
        from_number = phones[0] if len(phones) == 1 or random_() < 0.7 else phones[1]
        direction, script = ("inbound", "inbound") if inbound else ("outbound", "callback")
        started = stamp(start)
        if outcome == no_answer:
            end = start + choice(no_answer_end)
            ended = end + choice(no_answer_hangup)
            note = choice(NO_ANSWER_NOTES)
            return (
                uid, agent_id, customer_id, from_number, direction, script, None, started,
                started, None, None, None, stamp(end), stamp(ended), need, outcome, None, note,
            )  # fmt: skip
        discovery = start + choice(to_discovery)
        resolution = discovery + choice(to_resolution)
        closing = resolution + choice(to_closing)
        wrapup = closing + choice(to_wrapup)
        ended = wrapup + choice(to_end)
        if person.zh and random_() < 0.6:
            note = choice(notes_zh[need][product])
        else:
            note = choice(notes_en[need][product])
        satisfaction = satisfaction_of(rng) if not inbound or random_() < 0.1 else None
        return (
            uid, agent_id, customer_id, from_number, direction, script, None, started, started,
            stamp(discovery), stamp(resolution), stamp(closing), stamp(wrapup), stamp(ended),
            need, outcome, satisfaction, note,
        )  # fmt: skip

    return make


def _seed_callbacks(
    conn: Connection,
    rng: random.Random,
    base: int,
    people: list[_Cust],
    upcoming: list[tuple[int, date]],
    agent_ids: list[int],
    count: int,
    now: datetime,
) -> None:
    if count <= 0:
        return
    n = len(people)
    guaranteed: list[tuple[int, str]] = []
    for agent in agent_ids:
        guaranteed += [(agent, "overdue")] * OVERDUE_PER_AGENT
        guaranteed += [(agent, "soon")] * DUE_SOON_PER_AGENT
    rows: list[dict[str, Any]] = []
    greeted: set[str] = set()  # one birthday callback a customer a year, as the rules make
    for i in range(count):
        if i < len(guaranteed):
            owner, when = guaranteed[i]
            status = CallbackStatus.OPEN.value
        else:
            # The first agent (li.na, the bench's) is the heaviest: a fifth of all callbacks.
            owner = agent_ids[0] if rng.random() < 0.2 else rng.choice(agent_ids)
            roll = rng.random()
            if roll < 0.72:
                status = CallbackStatus.OPEN.value
                when = _weighted(rng, (("overdue", 25), ("soon", 25), ("future", 50)))
            elif roll < 0.95:
                status, when = CallbackStatus.DONE.value, "done"
            else:
                status, when = CallbackStatus.CANCELLED.value, "done"
        kind = _weighted(rng, CALLBACK_KIND_WEIGHTS)
        customer_id = base + 1 + rng.randrange(n)
        product_en, product_zh = rng.choice(PRODUCTS)
        source_key = None
        if kind == CallbackKind.BIRTHDAY and upcoming:
            customer_id, bday = rng.choice(upcoming)
            # The key the callback rules give this greeting, so they never make it twice.
            year = _next_anniversary(bday, now.date()).year
            source_key = f"birthday:{customer_id}:{year}"
            if source_key in greeted:
                kind, source_key = CallbackKind.MANUAL.value, None
            greeted.add(source_key or "")
        if kind == CallbackKind.BIRTHDAY and source_key:
            reason = f"Birthday on {bday:%m-%d}: greetings and member voucher."
        else:
            template = rng.choice(CALLBACK_REASONS[kind])
            product = product_zh if "{p}" in template and not template.isascii() else product_en
            reason = template.format(p=product)
        if when == "overdue":
            due = now - timedelta(minutes=rng.randint(30, 5 * 24 * 60))
        elif when == "soon":
            due = now + timedelta(minutes=rng.randint(15, 4 * 60))
        elif when == "future":
            due = now + timedelta(minutes=rng.randint(4 * 60 + 1, 14 * 24 * 60))
        else:
            due = now - timedelta(minutes=rng.randint(60, 30 * 24 * 60))
        created = min(due, now) - timedelta(minutes=rng.randint(60, 7 * 24 * 60))
        done_at = None
        if status != CallbackStatus.OPEN:
            done_at = min(now, due + timedelta(minutes=rng.randint(0, 24 * 60)))
        attempts = rng.randint(0, 2) if when in ("overdue", "done") else 0
        rows.append(
            {
                "customer_id": customer_id,
                "owner_id": owner,
                "call_id": None,
                "kind": kind,
                "source_key": source_key,
                "reason": reason,
                "due_at": due,
                "status": status,
                "attempts": attempts,
                "created_at": created,
                "done_at": done_at,
                # The zones of the customer's first number (seat.customers.zones_key).
                "zones": phone.zones_key(people[customer_id - base - 1].phones[0]),
            }
        )
    # With the customer's tier, as the purchases (_seed_purchases): no second write a row.
    tiers = dict(
        conn.execute(
            select(Customer.id, Customer.tier).where(
                Customer.id > base, Customer.id <= base + len(people)
            )
        ).all()
    )
    for row in rows:
        row["customer_tier"] = tiers.get(row["customer_id"])
    _insert(conn, Callback.__table__, rows)  # type: ignore[arg-type]


# The status paths of the two work-order kinds (seat.workorders.STEPS), with the branch
# taken one time in five; a service request involves head office one time in five (a
# supervisor's approval and the department's reply), otherwise it is a local job.
_WO_PATHS = {
    WorkOrderKind.SERVICE_REQUEST.value: (
        ("survey", "survey_done"), ("approve", "approved"), ("reply", "replied"),
        ("service", "serviced"), ("complete", "completed"), ("close", "closed"),
    ),
    WorkOrderKind.DELIVERY_EXCEPTION.value: (
        ("reply_sales", "replied_sales"), ("deliver", "delivered"), ("close", "closed"),
    ),
}  # fmt: skip
_WO_HQ_ONLY = ("approve", "reply")
_WO_BRANCH = {"approve": ("reject", "not_approved"), "deliver": ("return", "returned")}
_WO_SUPERVISOR_STEPS = ("approve", "reject")
_WO_ZONES = (("inner", timedelta(hours=2)), ("city", timedelta(hours=24)),
             ("province", timedelta(hours=48)))  # the shipped policy's zones
_WO_DONE = ("service", "deliver", "return")
_WO_REPLY = {"service_request": "complete", "delivery_exception": "close"}


def _steps_until(
    rng: random.Random, start: datetime, end: datetime, gaps: Sequence[tuple[int, int]]
) -> list[datetime]:
    """One time per gap (minutes, drawn from each range) after `start`, squeezed to end
    before `end` when the drawn gaps would run past it; strictly increasing."""
    drawn = [rng.randint(lo, hi) for lo, hi in gaps]
    room = max((end - start).total_seconds() / 60 - 1, len(drawn))
    scale = min(1.0, room / max(sum(drawn), 1))
    out, at = [], start
    for minutes in drawn:
        at += timedelta(minutes=max(minutes * scale, 0.01))
        out.append(at)
    return out


def _seed_work_orders(
    conn: Connection,
    rng: random.Random,
    base: int,
    people: list[_Cust],
    agent_ids: list[int],
    count: int,
    now: datetime,
) -> int:
    """Work orders in every status of their kind's path, each with its history (create and
    every step, sealed); the closed ones span the year. Returns the events written."""
    if count <= 0:
        return 0
    n = len(people)
    supervisor = agent_ids[-1]
    guaranteed: list[tuple[int, bool]] = []
    for agent in agent_ids:
        guaranteed += [(agent, True)] * URGENT_PER_AGENT
        guaranteed += [(agent, False)] * NORMAL_WO_PER_AGENT
    rows: list[dict[str, Any]] = []
    steps_of: list[list[tuple[str, str, str, datetime, int]]] = []
    for i in range(count):
        kind = _weighted(
            rng,
            (
                (WorkOrderKind.SERVICE_REQUEST.value, 75),
                (WorkOrderKind.DELIVERY_EXCEPTION.value, 25),
            ),
        )
        hq = kind == WorkOrderKind.SERVICE_REQUEST.value and rng.random() < 0.2
        path = [
            _WO_BRANCH[action] if action in _WO_BRANCH and rng.random() < 0.2 else (action, to)
            for action, to in _WO_PATHS[kind]
            if hq or action not in _WO_HQ_ONLY
        ]
        if i < len(guaranteed):
            assignee, urgent = guaranteed[i]
            depth = 0
        else:
            assignee = rng.choice(agent_ids)
            roll = rng.random()
            # a third closed, a third just created, the rest somewhere on the way
            depth = len(path) if roll < 0.34 else 0 if roll < 0.67 else rng.randrange(1, len(path))
            urgent = depth < len(path) and rng.random() < 0.1
        closed = depth == len(path)
        idx = rng.randrange(n)
        person = people[idx]
        short = rng.choice(WORK_ORDER_TEXTS[kind])
        if closed:  # the year's history
            created = now - timedelta(minutes=rng.randint(3 * 24 * 60, 365 * 24 * 60))
        else:
            created = now - timedelta(minutes=rng.randint(30, 20 * 24 * 60))
        times = _steps_until(rng, created, now, [(60, 2 * 24 * 60)] * depth)
        creator = rng.choice(agent_ids)
        steps = [("create", "", "created", created, creator)]
        status = "created"
        for (action, to), at in zip(path[:depth], times, strict=True):
            actor = supervisor if action in _WO_SUPERVISOR_STEPS else assignee
            steps.append((action, status, to, at, actor))
            status = to
        closed_at = times[-1] if closed else None
        at_step = {action: at for action, __, __, at, __ in steps[1:]}
        clocks: dict[str, Any] = {
            "hq_involved": hq, "service_zone": None, "on_site_due_at": None,
            "on_site_at": at_step.get("survey"), "done_at": None, "reply_due_at": None,
            "replied_at": None, "follow_up_due_at": None, "follow_ups": 0,
        }  # fmt: skip
        if kind == WorkOrderKind.SERVICE_REQUEST.value:
            zone, promise = rng.choice(_WO_ZONES)
            clocks["service_zone"] = zone
            clocks["on_site_due_at"] = created + promise
        done = next((at_step[a] for a in _WO_DONE if a in at_step), None)
        if done is not None:
            clocks["done_at"] = done
            clocks["reply_due_at"] = done + timedelta(minutes=30)
            clocks["replied_at"] = at_step.get(_WO_REPLY[kind])
        elif not closed:
            clocks["follow_up_due_at"] = created + timedelta(days=7)
        if closed:
            due = created + timedelta(days=rng.randint(1, 5))
        elif urgent:
            due = now + timedelta(minutes=rng.randint(-120, 24 * 60))
        else:
            due = now + timedelta(minutes=rng.randint(-3 * 24 * 60, 10 * 24 * 60))
        rows.append(
            {
                "kind": kind,
                "short_text": short,
                "long_text": f"{short}. Reported by phone; customer available weekdays after 18:00."
                if short.isascii()
                else f"{short}。电话报修，客户工作日18点后在家。",
                "customer_id": base + 1 + idx,
                "call_id": None,
                "reporter": person.name,
                "service_address": person.address,
                "assignee_id": assignee,
                "created_by_id": creator,
                "status": status,
                "urgent": urgent,
                "due_at": due,
                "created_at": created,
                "closed_at": closed_at,
                **clocks,
            }
        )
        steps_of.append(steps)
    before = conn.execute(select(func.coalesce(func.max(WorkOrder.id), 0))).scalar_one()
    _insert(conn, WorkOrder.__table__, rows)  # type: ignore[arg-type]
    ids = conn.execute(
        select(WorkOrder.id).where(WorkOrder.id > before).order_by(WorkOrder.id)
    ).scalars()
    events = [
        {"work_order_id": wid, "agent_id": actor, "at": at, "action": action,
         "from_status": source or None, "to_status": to,
         "comment": WO_STEP_NOTES.get(action, "")}
        for wid, steps in zip(ids, steps_of, strict=True)
        for action, source, to, at, actor in steps
    ]  # fmt: skip
    _insert_sealed(conn, "work_order_event", events)
    return len(events)


WO_STEP_NOTES = {
    "create": "Opened from the customer's call.",
    "survey": "Engineer surveyed on site; part to be replaced.",
    "approve": "Approved under warranty.",
    "reject": "Not approved: outside warranty, offered a paid repair.",
    "reply": "Service department replied with a visit date.",
    "service": "Part replaced on site.",
    "complete": "Repaired; the customer confirmed it works.",
    "reply_sales": "Sales told; replacement being arranged.",
    "deliver": "Delivered to the customer.",
    "return": "Returned to the vendor.",
    "close": "Closed after the customer's confirmation.",
}


def _insert_sealed(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """History rows bulk-inserted sealed (seat.audit), in batches, in their id order."""
    audit.chain_rows(conn, table, rows)
    target = SQLModel.metadata.tables[table]
    _insert(conn, target, rows)


# The complaint lifecycle (seat.complaints.MOVES) as the seed walks it: the move, the status
# it leads to, and the minutes it takes after the step before.
_K_PATH = (
    ("accept", "investigating", (5, 4 * 60)),
    ("investigate", "investigating", (2 * 60, 2 * 24 * 60)),
    ("propose", "proposed", (4 * 60, 3 * 24 * 60)),
    ("approve", "approved", (60, 24 * 60)),
    ("implement", "implemented", (60, 3 * 24 * 60)),
    ("close", "closed", (60, 2 * 24 * 60)),
)
# How far along the path an open complaint of the last month is (index into _K_PATH, -1:
# intake), by weight; the older ones are closed or judged invalid.
_K_RECENT = ((-1, 15), (0, 12), (1, 13), (2, 15), (3, 10), (4, 10), (5, 20))
_K_DEPARTMENTS = (
    ("repair_installation", "After-sales service"),
    ("delivery", "Logistics"),
    ("service_attitude", "Service supervisor"),
)
_K_PAUSABLE = ("investigating", "proposed", "approved")


def _complaint_history(
    rng: random.Random, row: dict[str, Any], i: int, now: datetime, supervisor: int
) -> list[tuple[str, str | None, str, datetime, int, str]]:
    """Walk one complaint to its drawn state; fill its columns, return its events
    (action, from, to, at, actor, comment)."""
    created, owner = row["created_at"], row["owner_id"]
    age_days = (now - created).days
    if age_days > 30:  # a year's history: settled, but a few stuck and long late
        roll = rng.random()
        depth = len(_K_PATH) - 1 if roll < 0.88 else -2 if roll < 0.97 else rng.randrange(-1, 4)
    else:
        depth = _weighted(rng, _K_RECENT)
    category, department = _K_DEPARTMENTS[i % len(_K_DEPARTMENTS)]
    wants = f"Registered ({row['channel']}); the customer wants: {row['customer_wants']}"
    events = [("intake", None, "intake", created, owner, wants)]
    row.update(category=None, department=None, first_reply_at=None, reply_text=None,
               cause=None, responsible_person=None, invalid_reason=None, solution_options=None,
               chosen_solution=None, customer_accepted=None, root_cause=None, summary=None,
               solution_at=None, implemented_at=None, escalated_to_id=None,
               waiting_since=None, status="intake", closed_at=None)  # fmt: skip
    reply = "We are sorry; our team is looking into it and will call you back."
    if depth == -2:  # judged invalid at intake
        at = _steps_until(rng, created, now, [(5, 24 * 60)])[0]
        row.update(status="invalid", invalid_reason="Not a complaint: a question about use.",
                   reply_text="Explained how to use it; nothing was wrong.", first_reply_at=at,
                   closed_at=at)  # fmt: skip
        events.append(("invalid", "intake", "invalid", at, owner, row["invalid_reason"]))
        return events
    path = _K_PATH[: depth + 1]
    pause_at = rng.randrange(1, len(path)) if len(path) > 1 and rng.random() < 0.2 else None
    times = _steps_until(rng, created, now, [gap for __, __, gap in path])
    status = "intake"
    for n, ((action, to, __), at) in enumerate(zip(path, times, strict=True)):
        waited = n == pause_at and status in _K_PAUSABLE
        if waited and at - events[-1][3] > timedelta(hours=1):  # paused, then went on
            pause, resume = _steps_until(rng, events[-1][3], at, [(30, 600), (30, 600)])
            events.append(("pause", status, status, pause, owner, "Waiting for the customer."))
            events.append(("resume", status, status, resume, owner, "The customer replied."))
        actor = supervisor if action == "approve" else owner
        comment = ""
        if action == "accept":
            row.update(category=category, department=department, first_reply_at=at,
                       reply_text=reply)  # fmt: skip
            comment = f"Valid; department: {department} · told the customer: {reply}"
        elif action == "investigate":
            row.update(cause="A part failed early.", responsible_person="Engineer Wu")
            comment = "Cause: a part failed early."
        elif action == "propose":
            row["solution_options"] = "Replace the part\nRefund 200 yuan"
            comment = "Options: 1) Replace the part; 2) Refund 200 yuan"
        elif action == "approve":
            row.update(chosen_solution="Replace the part", solution_at=at)
            comment = "Approved: Replace the part"
        elif action == "implement":
            row.update(customer_accepted=True, implemented_at=at)
            comment = "The customer accepted."
        elif action == "close":
            row.update(root_cause="Supplier batch defect.", summary="Part replaced.",
                       closed_at=at)  # fmt: skip
            comment = "Closed: part replaced."
        events.append((action, status, to, at, actor, comment))
        status = to
    row["status"] = status
    last = events[-1][3]
    if status not in ("closed", "invalid"):
        if rng.random() < 0.08:  # handed to the supervisor
            at = _steps_until(rng, last, now, [(10, 24 * 60)])[0]
            row["escalated_to_id"] = supervisor
            events.append(("escalate", status, status, at, owner, "Customer asks for a manager."))
            last = at
        if status in _K_PAUSABLE and rng.random() < 0.3:  # waiting on the customer now
            at = _steps_until(rng, last, now, [(10, 24 * 60)])[0]
            row["waiting_since"] = at
            events.append(("pause", status, status, at, owner, "Waiting for the customer."))
    return events


def _seed_complaints(
    conn: Connection,
    rng: random.Random,
    base: int,
    people: list[_Cust],
    agent_ids: list[int],
    count: int,
    now: datetime,
) -> int:
    """A year of complaints in every state, with their sealed history; returns the events."""
    if count <= 0:
        return 0
    supervisor = agent_ids[-1]
    rows = []
    histories = []
    for i in range(count):
        what, wants = rng.choice(COMPLAINTS)
        # most of a year's complaints are old; one in five is from the last month
        days = rng.uniform(0, 30) if rng.random() < 0.2 else rng.uniform(30, 365)
        row: dict[str, Any] = {
            "customer_id": base + 1 + rng.randrange(len(people)),
            "call_id": None,
            "owner_id": agent_ids[i % len(agent_ids)],
            "channel": _weighted(rng, (("phone", 80), ("email", 10), ("store", 10))),
            "what_happened": what,
            "customer_wants": wants,
            "created_at": now - timedelta(days=days, minutes=30),
        }
        histories.append(_complaint_history(rng, row, i, now, supervisor))
        rows.append(row)
    before = conn.execute(select(func.coalesce(func.max(Complaint.id), 0))).scalar_one()
    _insert(conn, Complaint.__table__, rows)  # type: ignore[arg-type]
    ids = conn.execute(
        select(Complaint.id).where(Complaint.id > before).order_by(Complaint.id)
    ).scalars()
    events = [
        {"complaint_id": cid, "agent_id": actor, "at": at, "action": action,
         "from_status": source, "to_status": to, "comment": comment}
        for cid, history in zip(ids, histories, strict=True)
        for action, source, to, at, actor, comment in history
    ]  # fmt: skip
    _insert_sealed(conn, ComplaintEvent.__tablename__, events)
    return len(events)


# What the desk's customers buy: (product, category, unit price, delivered to the door).
CATALOGUE: tuple[tuple[str, str, float, bool], ...] = (
    ("Front-loading washer 8 kg", "appliance", 2999.0, True),
    ("Heat-pump dryer", "appliance", 3599.0, True),
    ("Fridge 450 L", "appliance", 4299.0, True),
    ("Air conditioner 1.5 HP", "appliance", 2699.0, True),
    ("Water heater 60 L", "appliance", 1299.0, True),
    ("Three-seat sofa", "furniture", 5800.0, True),
    ("Dining table", "furniture", 2400.0, True),
    ("Wardrobe", "furniture", 3900.0, True),
    ("Mattress 1.8 m", "furniture", 2600.0, True),
    ("Rice cooker", "small appliance", 399.0, False),
    ("Air purifier", "small appliance", 1199.0, False),
    ("Hair dryer", "small appliance", 299.0, False),
    ("Face cream 50 ml", "cosmetics", 268.0, False),
    ("Serum 30 ml", "cosmetics", 458.0, False),
    ("Cleanser", "cosmetics", 128.0, False),
    ("Sunscreen", "cosmetics", 168.0, False),
    ("Extended warranty, 2 years", "service", 199.0, False),
    ("Filter cartridge", "consumables", 89.0, False),
)
CATALOGUE_WEIGHTS = (5, 3, 3, 4, 3, 2, 2, 1, 2, 6, 3, 5, 9, 7, 9, 7, 4, 8)
STORES = (
    "Shanghai Xuhui", "Shanghai Pudong", "Beijing Chaoyang", "Guangzhou Tianhe",
    "Shenzhen Futian", "Hangzhou Xihu", "Chengdu Jinjiang", "Online store",
)  # fmt: skip
PURCHASE_KEYS = (
    "customer_id", "order_no", "line_no", "item", "category", "quantity", "amount", "store",
    "purchased_at", "delivered_at", "customer_tier",
)  # fmt: skip
_PRODUCT = _Weighted(tuple(zip(range(len(CATALOGUE)), CATALOGUE_WEIGHTS, strict=True)))
FREQUENT_BUYER_STRIDE = 10  # one customer in 10 buys far more often than the rest


def _seed_purchases(
    conn: Connection, rng: random.Random, base: int, people: int, count: int, now: datetime
) -> None:
    """About `count` order lines over the two years before `now`, a few a day more recently
    (one order in three within the last half year), orders of one to three lines; goods
    delivered to the door carry a delivery day 1-5 days after the order (the new-buyer
    callbacks: seat.callbacks). The demo callers (the first customers) bought recently."""
    if count <= 0 or people <= 0:
        return
    sqlite = conn.dialect.name == "sqlite"
    stamp = _utc_stamp(sqlite)
    naive_now = now.replace(tzinfo=None)
    random_, randrange = rng.random, rng.randrange
    frequent = max(1, people // FREQUENT_BUYER_STRIDE)
    orders: dict[int, int] = {}
    rows: list[tuple[Any, ...]] = []
    table: Table = Purchase.__table__  # type: ignore[assignment]
    fixed = [(base + i + 1, d) for i, d in enumerate((8, 40, 75)) if i < min(people, 3)]
    # Each line written with its customer's tier: the triggers that keep it (migration
    # 0035) then find it right and write nothing more (a second write of every line else).
    tiers: dict[int, str] = dict(
        conn.execute(  # type: ignore[arg-type]
            select(Customer.id, Customer.tier).where(
                Customer.id > base, Customer.id <= base + people
            )
        ).all()
    )
    made = 0
    while made < count:
        first_item = None
        if fixed:  # a demo caller: a washer, fridge or sofa delivered days ago
            cid, days = fixed.pop(0)
            days_ago = float(days)
            first_item = (0, 2, 5)[len(fixed) % 3]
        else:
            if random_() < 0.4:  # the frequent buyers: every tenth customer
                cid = base + 1 + randrange(frequent) * FREQUENT_BUYER_STRIDE % people
            else:
                cid = base + 1 + randrange(people)
            days_ago = random_() * 180 if random_() < 0.35 else 180 + random_() * 550
        n = orders[cid] = orders.get(cid, 0) + 1
        order_no = f"SO{cid:07d}{n:03d}"
        bought = naive_now - timedelta(days=days_ago, seconds=randrange(36_000))
        store = STORES[randrange(len(STORES))]
        lines = 1 if random_() < 0.7 else 2 + (random_() < 0.3)
        for line_no in range(1, lines + 1):
            pick = _PRODUCT(rng)
            if line_no == 1 and first_item is not None:
                pick = first_item
            item, category, price, delivered = CATALOGUE[pick]
            quantity = 1 if category not in ("cosmetics", "consumables") else 1 + randrange(3)
            when_delivered = None
            if delivered and (store != "Online store" or random_() < 0.9):
                after = bought + timedelta(days=1 + randrange(5), hours=randrange(8))
                if after < naive_now:
                    when_delivered = stamp(after)
            rows.append(
                (cid, order_no, line_no, item, category, float(quantity),
                 round(price * quantity * (0.85 + 0.15 * random_()), 2), store, stamp(bought),
                 when_delivered, tiers.get(cid))
            )  # fmt: skip
            made += 1
        if len(rows) >= BATCH:
            _insert_stored(conn, table, PURCHASE_KEYS, rows)
            rows = []
    _insert_stored(conn, table, PURCHASE_KEYS, rows)
