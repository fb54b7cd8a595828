"""Demo seeding: counts, determinism, valid data, the per-agent guarantees."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Date, DateTime, func, select, text
from sqlmodel import Session

from seat import audit, queues, workorders
from seat import complaints as complaints_rules
from seat.callbacks import CallbackPolicy, sidebar_callbacks
from seat.db import make_engine
from seat.models import (
    Agent,
    Call,
    Callback,
    CallbackKind,
    Complaint,
    ComplaintEvent,
    Customer,
    NeedCategory,
    Outcome,
    PhoneNumber,
    SQLModel,
    Tier,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderKind,
)
from seat.phone import parse
from seat.tools import demo

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Monday
TABLES = ("agent", "customer", "phone_number", "call", "callback", "work_order", "complaint")
# Planner statistics of the seeded tables (ANALYZE writes them).
STATISTICS = {
    "sqlite": "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'call'",
    "postgresql": "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() "
    "AND tablename = 'call'",
}


@pytest.fixture
def eng(engine):
    return engine  # a migrated database of the backend under test (SQLite or PostgreSQL)


def _count(engine, model) -> int:
    with Session(engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _dump(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
            for t in TABLES
        }


def test_small_seed_gives_exact_counts(eng):
    messages: list[str] = []
    report = demo.seed(
        eng,
        customers=50,
        calls=400,
        callbacks=30,
        work_orders=20,
        now=NOW,
        progress=messages.append,
    )
    assert (report.agents, report.customers, report.calls) == (6, 50, 400)
    assert (report.callbacks, report.work_orders) == (30, 20)
    assert report.seconds >= 0
    assert _count(eng, Agent) == 6
    assert _count(eng, Customer) == 50
    assert _count(eng, PhoneNumber) == report.phones
    assert 50 <= report.phones <= 100
    assert _count(eng, Call) == 400
    assert _count(eng, Callback) == 30
    assert _count(eng, WorkOrder) == 20
    assert _count(eng, Complaint) == report.complaints > 0
    assert messages, "progress was never called"


def test_default_counts_scale_with_customers(eng):
    report = demo.seed(eng, customers=300, calls=0, now=NOW)
    assert report.calls == 0 and _count(eng, Call) == 0
    assert report.callbacks == _count(eng, Callback) >= 24
    assert report.work_orders == _count(eng, WorkOrder) >= 18


def test_same_seed_same_rows_other_seed_other_rows(tmp_path):
    dumps = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        engine = make_engine(f"sqlite:///{tmp_path}/{name}.db")
        demo.seed(engine, customers=120, calls=900, seed=seed, now=NOW)
        dumps.append(_dump(engine))
        engine.dispose()
    assert dumps[0] == dumps[1]
    assert dumps[0]["customer"] != dumps[2]["customer"]
    assert dumps[0]["phone_number"] != dumps[2]["phone_number"]


def test_phones_are_valid_unique_cn_mobiles(eng):
    demo.seed(eng, customers=400, calls=0, now=NOW)
    with Session(eng) as s:
        numbers = list(s.execute(select(PhoneNumber.e164)).scalars())
        per_customer = dict(
            s.execute(
                select(PhoneNumber.customer_id, func.count()).group_by(PhoneNumber.customer_id)
            ).all()
        )
    assert len(numbers) == len(set(numbers))
    assert len(per_customer) == 400
    assert set(per_customer.values()) == {1, 2}  # some customers have two numbers
    for e164 in numbers[::7]:
        phone = parse(e164)
        assert phone.e164 == e164
        assert phone.region == "CN"


def test_customers_look_real(eng):
    demo.seed(eng, customers=600, calls=0, now=NOW)
    with Session(eng) as s:
        rows = s.execute(
            select(
                Customer.name,
                Customer.tier,
                Customer.gender,
                Customer.birthday,
                Customer.language,
                Customer.address,
                Customer.created_at,
            )
        ).all()
    names = [r.name for r in rows]
    assert any(not n.isascii() for n in names), "no CJK names"
    assert any(n.isascii() and " " in n for n in names), "no pinyin names"
    tiers = [r.tier for r in rows]
    assert set(tiers) <= {t.value for t in Tier}
    assert tiers.count("ordinary") > len(tiers) / 2
    assert tiers.count("gold") + tiers.count("platinum") > tiers.count("vip") + tiers.count(
        "diamond"
    )
    assert {r.gender for r in rows} >= {"female", "male"}
    assert {r.language for r in rows} == {"en", "zh_CN"}
    assert any(r.address and "市" in r.address for r in rows)
    assert all(r.created_at < NOW for r in rows)
    today = (NOW + timedelta(hours=8)).date()

    def days_to_birthday(b: date) -> int:
        for year in (today.year, today.year + 1):
            try:
                nxt = b.replace(year=year)
            except ValueError:
                nxt = date(year, 2, 28)
            if nxt >= today:
                return (nxt - today).days
        raise AssertionError

    soon = [r for r in rows if r.birthday and 0 < days_to_birthday(r.birthday) <= 14]
    assert len(soon) >= 5
    assert all(r.birthday < today for r in rows if r.birthday)


def test_calls_are_consistent(eng):
    demo.seed(eng, customers=200, calls=4000, now=NOW)
    with Session(eng) as s:
        calls = s.execute(select(Call)).scalars().all()
        phones = {
            (r.customer_id, r.e164)
            for r in s.execute(select(PhoneNumber.customer_id, PhoneNumber.e164))
        }
        agent_ids = set(s.execute(select(Agent.id)).scalars())
    needs = {n.value for n in NeedCategory} | {"callback"}
    outcomes = {o.value for o in Outcome}
    for c in calls:
        assert NOW - timedelta(days=367) < c.started_at < NOW
        assert (c.customer_id, c.from_number) in phones
        assert c.agent_id in agent_ids
        assert c.greeting_at == c.started_at
        stages = [c.discovery_at, c.resolution_at, c.closing_at]
        if c.outcome == Outcome.NO_ANSWER:
            assert stages == [None, None, None]
        else:
            times = [c.started_at, *stages, c.wrapup_at, c.ended_at]
            assert times == sorted(times) and len(set(times)) == len(times)
        assert c.ended_at < NOW
        assert c.need_category in needs and c.outcome in outcomes
        assert c.notes
    assert sum(c.direction == "inbound" for c in calls) > len(calls) / 2
    per_customer: dict[int, int] = {}
    for c in calls:
        per_customer[c.customer_id] = per_customer.get(c.customer_id, 0) + 1
    assert per_customer[1] == 4000 // 20
    assert max(v for k, v in per_customer.items() if k != 1) < per_customer[1]
    # ids follow time
    ordered = sorted(calls, key=lambda c: c.id)
    starts = [c.started_at for c in ordered]
    assert starts == sorted(starts)


@pytest.mark.parametrize("seed", [1, 7, 42, 2024])
@pytest.mark.parametrize("customers", [10, 57])
def test_every_agent_has_work_waiting(eng, seed, customers):
    demo.seed(eng, customers=customers, calls=50, seed=seed, now=NOW)
    soon = NOW + timedelta(hours=4)
    with Session(eng) as s:
        agents = s.execute(select(Agent)).scalars().all()
        assert {a.name for a in agents} == {
            "li.na",
            "wang.wei",
            "zhang.min",
            "chen.jie",
            "liu.yang",
            "zhao.lei",
        }
        assert {a.name: a.role for a in agents}["zhao.lei"] == "supervisor"
        assert {a.name: a.display_name for a in agents}["li.na"] == "Li Na"
        for a in agents:
            open_cbs = (
                s.execute(
                    select(Callback.due_at).where(
                        Callback.owner_id == a.id, Callback.status == "open"
                    )
                )
                .scalars()
                .all()
            )
            assert sum(d < NOW for d in open_cbs) >= 2, a.name
            assert sum(NOW <= d <= soon for d in open_cbs) >= 2, a.name
            open_wos = (
                s.execute(
                    select(WorkOrder.urgent).where(
                        WorkOrder.assignee_id == a.id, WorkOrder.status != "closed"
                    )
                )
                .scalars()
                .all()
            )
            assert sum(open_wos) >= 1, a.name
            assert sum(not u for u in open_wos) >= 2, a.name
            ready, waiting = sidebar_callbacks(
                session=s, agent_id=a.id, now=NOW, policy=CallbackPolicy()
            )
            assert len(ready) + len(waiting) >= 4
            assert len(queues.sidebar(session=s, agent_id=a.id).work_orders) >= 3


def test_work_items_look_real(eng):
    demo.seed(eng, customers=400, calls=0, now=NOW)
    with Session(eng) as s:
        cbs = s.execute(select(Callback)).scalars().all()
        wos = s.execute(select(WorkOrder)).scalars().all()
        complaints = s.execute(select(Complaint)).scalars().all()
        names = dict(s.execute(select(Customer.id, Customer.name)).all())
    assert {c.kind for c in cbs} <= {k.value for k in CallbackKind}
    assert {c.status for c in cbs} >= {"open", "done"}
    assert any(c.due_at > NOW + timedelta(hours=24) for c in cbs if c.status == "open")
    assert all(c.reason for c in cbs)
    assert all(c.done_at is not None for c in cbs if c.status == "done")
    assert all(c.created_at <= NOW for c in cbs)
    assert {w.kind for w in wos} == {k.value for k in WorkOrderKind}
    assert {w.status for w in wos} <= set(workorders.STATUS_LABELS)
    assert {"created", "closed"} < {w.status for w in wos}
    assert sum(w.status != "closed" for w in wos) > len(wos) / 2
    assert all(w.reporter == names[w.customer_id] for w in wos)
    assert all(w.short_text and w.assignee_id for w in wos)
    assert all((w.closed_at is not None) == (w.status == "closed") for w in wos)
    assert complaints and {c.status for c in complaints} <= set(complaints_rules.STATUSES)


def test_history_is_realistic_and_sealed(eng):
    """A year of complaints in every state (paused, escalated, late), work orders in every
    status, each with the events that led there, every history row sealed; li.na carries
    the most callbacks; the planner has statistics."""
    demo.seed(eng, customers=4000, calls=2000, now=NOW)
    with Session(eng) as s:
        ks = s.execute(select(Complaint)).scalars().all()
        wos = s.execute(select(WorkOrder)).scalars().all()
        k_events = s.execute(select(ComplaintEvent)).scalars().all()
        w_events = s.execute(select(WorkOrderEvent)).scalars().all()
        owners = dict(
            s.execute(
                select(Agent.name, func.count(Callback.id))
                .join(Callback, Callback.owner_id == Agent.id)
                .group_by(Agent.name)
            ).all()
        )
    assert {k.status for k in ks} == set(complaints_rules.STATUSES)
    assert min(k.created_at for k in ks) < NOW - timedelta(days=300)
    assert any(k.waiting_since is not None for k in ks)  # paused now
    assert any(k.escalated_to_id is not None for k in ks)
    assert all(k.closed_at is not None for k in ks if k.status in ("closed", "invalid"))
    assert all(k.first_reply_at is not None for k in ks if k.status != "intake")
    assert all(k.waiting_since is None for k in ks if k.status in ("intake", "closed"))
    assert {"pause", "resume", "escalate", "close", "invalid"} <= {e.action for e in k_events}
    last = {}
    for e in sorted(k_events, key=lambda e: e.id):
        assert e.at <= NOW
        assert e.complaint_id not in last or e.at >= last[e.complaint_id], e
        last[e.complaint_id] = e.at
    assert {k.id: k.status for k in ks} == {
        cid: to for cid, to in ((e.complaint_id, e.to_status) for e in k_events)
    }  # the last event of each complaint names its status
    assert len({w.status for w in wos}) >= 8
    w_last = {e.work_order_id: e for e in sorted(w_events, key=lambda e: e.id)}
    assert {w.id: w.status for w in wos} == {i: e.to_status for i, e in w_last.items()}
    steps = {(st.action, st.to_status) for st in workorders.STEPS} | {("create", "created")}
    assert {(e.action, e.to_status) for e in w_events} <= steps
    assert max(owners, key=owners.get) == "li.na"
    with eng.connect() as conn:
        assert all(check.broken is None for check in audit.verify(conn))
        stats = conn.execute(text(STATISTICS[conn.dialect.name])).scalar_one()
    assert stats > 0


def test_reseeding_appends_without_duplicating_agents(eng):
    first = demo.seed(eng, customers=40, calls=100, now=NOW)
    second = demo.seed(eng, customers=30, calls=60, now=NOW)
    assert (first.agents, second.agents) == (6, 0)
    assert _count(eng, Agent) == 6
    assert _count(eng, Customer) == 70
    assert _count(eng, PhoneNumber) == first.phones + second.phones
    assert _count(eng, Call) == 160
    with Session(eng) as s:
        new_calls = s.execute(select(func.min(Call.customer_id)).where(Call.id > 100)).scalar()
        assert new_calls > 40  # the second run's calls belong to its own customers


def test_ensure_demo_is_idempotent(eng):
    assert demo.ensure_demo(eng, now=NOW) is True
    before = _dump(eng)
    assert _count(eng, Customer) == demo.DEMO_CUSTOMERS
    assert _count(eng, Call) == demo.DEMO_CALLS
    assert demo.ensure_demo(eng, now=NOW) is False
    assert _dump(eng) == before


def test_a_fresh_demo_desk_has_the_callers_a_newcomer_is_told_to_try(eng):
    demo.seed(eng, customers=50, calls=0, now=NOW)
    with Session(eng) as s:
        owners = dict(
            s.execute(
                select(PhoneNumber.e164, PhoneNumber.customer_id).where(
                    PhoneNumber.e164.in_(demo.DEMO_CALLERS)
                )
            ).all()
        )
    assert owners == {e164: n for n, e164 in enumerate(demo.DEMO_CALLERS, start=1)}
    assert all(parse(e164).region == "CN" for e164 in demo.DEMO_CALLERS)
    demo.seed(eng, customers=50, calls=0, now=NOW)  # appending draws no number twice
    with Session(eng) as s:
        numbers = list(s.execute(select(PhoneNumber.e164)).scalars())
    assert len(numbers) == len(set(numbers))


def test_ensure_demo_leaves_a_desk_with_customers_alone(eng):
    demo.seed(eng, customers=5, calls=0, now=NOW)
    assert demo.ensure_demo(eng, now=NOW) is False
    assert _count(eng, Customer) == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"customers": 0, "calls": 5},
        {"customers": 0, "calls": 0, "callbacks": 3},
        {"customers": -1, "calls": 0},
        {"customers": 5, "calls": 0, "work_orders": -1},
    ],
)
def test_bad_arguments_are_refused(eng, kwargs):
    with pytest.raises(ValueError):
        demo.seed(eng, now=NOW, **kwargs)
    assert _count(eng, Customer) == 0


def test_naive_now_is_refused(eng):
    with pytest.raises(ValueError):
        demo.seed(eng, customers=5, calls=0, now=datetime(2026, 11, 23, 10, 0))


def test_agents_only(eng):
    report = demo.seed(eng, customers=0, calls=0, now=NOW)
    assert report.agents == 6 and report.customers == 0
    assert _count(eng, Agent) == 6


def test_the_rules_add_no_second_birthday_greeting_to_a_demo_desk(engine):
    """The seeded greetings carry the key the callback rules give them: running the rules on
    a fresh demo desk never greets a customer twice for the same birthday."""
    from seat import callbacks
    from seat.config import Settings
    from seat.models import Callback

    now = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    demo.seed(engine, customers=400, calls=500, seed=11, now=now)
    with Session(engine) as s:
        callbacks.schedule(session=s, now=now, policy=callbacks.load_policy(Settings()))
        s.commit()
        doubles = s.execute(
            select(Callback.customer_id, func.count())
            .where(Callback.kind == "birthday", Callback.status == "open")
            .group_by(Callback.customer_id)
            .having(func.count() > 1)
        ).all()
    assert doubles == []


# -- SQLite: values handed over ready, indexes set aside and back, references checked -------


def _indexes(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        ).all()


def test_every_seeded_time_and_date_is_stored_as_sqlalchemy_stores_it(eng):
    """SQLite gets the seed's values ready, not through SQLAlchemy's type processing: each
    stored time and date is the very text SQLAlchemy's type makes of the value read back."""
    if eng.dialect.name != "sqlite":
        pytest.skip("SQLite stores times and dates as text")
    demo.seed(eng, customers=60, calls=300, now=NOW)
    checked = 0
    with eng.connect() as conn:
        for name in demo.SEEDED_TABLES:
            table = SQLModel.metadata.tables[name]
            columns = [c for c in table.c if isinstance(demo._impl(c.type), DateTime | Date)]
            if not columns:
                continue
            typed = conn.execute(select(*columns).order_by(table.c.id)).all()
            names = ", ".join(c.name for c in columns)
            stored = conn.exec_driver_sql(f"SELECT {names} FROM {name} ORDER BY id").all()
            processors = [c.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
                          for c in columns]  # fmt: skip
            for values, texts in zip(typed, stored, strict=True):
                for process, value, text_ in zip(processors, values, texts, strict=True):
                    assert (process(value) if value is not None else None) == text_, name
                    checked += value is not None
    assert checked > 2000


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: still written out
        datetime(2026, 7, 1, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=8))),
        datetime(987, 6, 5, 4, 3, 2, 1, tzinfo=UTC),
    ],
)
def test_sqlite_time_is_the_text_sqlalchemy_stores(at):
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    process = Call.__table__.c.started_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert demo.sqlite_time(at) == process(at)


def test_seeding_sqlite_puts_the_indexes_back_and_leaves_no_broken_reference(eng):
    if eng.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL keeps its indexes and checks references")
    before = _indexes(eng)
    demo.seed(eng, customers=80, calls=400, now=NOW)  # fresh tables: indexes built after
    demo.seed(eng, customers=20, calls=50, now=NOW)  # appending: indexes kept
    assert _indexes(eng) == before
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_failed_seed_leaves_nothing_and_the_indexes_in_place(eng, monkeypatch):
    before = _indexes(eng) if eng.dialect.name == "sqlite" else None

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "_seed_callbacks", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        demo.seed(eng, customers=30, calls=100, now=NOW)
    assert _count(eng, Customer) == _count(eng, Call) == _count(eng, Agent) == 0
    if before is not None:
        assert _indexes(eng) == before
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_members_hold_yearly_memberships(eng):
    """Members' memberships run a year from their joining day (some lapsed); ordinary
    customers hold none; a month's renewals are there to call."""
    demo.seed(eng, customers=900, calls=0, now=NOW)
    today = (NOW + timedelta(hours=8)).date()
    with Session(eng) as s:
        rows = s.execute(select(Customer.tier, Customer.member_until, Customer.created_at)).all()
    members = [(until, joined) for tier, until, joined in rows if tier != "ordinary"]
    assert members and all(until is not None for until, __ in members)
    assert all(until is None for tier, until, __ in rows if tier == "ordinary")
    ahead = [until for until, __ in members if until >= today]
    assert today + timedelta(days=366) > max(ahead)
    assert len(ahead) < len(members)  # some lapsed
    for until, joined in members:  # the day before an anniversary of joining
        nxt = until + timedelta(days=1)
        local = (joined.replace(tzinfo=None) + timedelta(hours=8)).date()
        assert (nxt.month, nxt.day) == (local.month, local.day) or (local.month, local.day) == (
            2, 29)  # fmt: skip
    next_month = [u for u, __ in members if (u.year, u.month) == (2026, 12)]
    assert next_month  # renewal calls for December, made by the 5th of November
