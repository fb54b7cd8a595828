"""A desk for the member report's tests: the demo seeding plus the edge cases of the month
and churn edges, genders and birthdays, ties, merges, re-tiering and imported purchases
(shared by test_member_report_same and test_member_report_split)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlmodel import Session

from seat import agents, members, merge, purchases
from seat.config import Settings
from seat.db import make_engine
from seat.models import Customer, Purchase
from seat.tools import demo
from tests.conftest import NOW

ZONE = "Asia/Shanghai"


def local(day: date, *, us: int = 0) -> datetime:
    """Local midnight of `day` (a month's or a stretch's edge), moved by `us` microseconds."""
    at = datetime.combine(day, time.min, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
    return at + timedelta(microseconds=us)


def edge_cases(s: Session, tmp_path_factory) -> None:
    ids = s.execute(select(Customer.id).order_by(Customer.id)).scalars().all()
    # Purchases on the months' first local midnights, a microsecond either side, and on the
    # days 90 days before them (the churn period's edges); a customer whose first purchase
    # ever is on an edge; one who buys only after now.
    for n, cid in enumerate(ids[:24]):
        first = date(2025 + (n % 2), 1 + n % 12, 1)
        for k, us in enumerate((-1, 0, 1)):
            for day in (first, first - timedelta(days=90)):
                s.add(Purchase(customer_id=cid, order_no=f"EDGE-{cid}-{day}-{k}", line_no=1,
                               item="x", amount=100.0 + n + k / 100,
                               purchased_at=local(day, us=us)))  # fmt: skip
    fresh = Customer(name="Only on an edge", created_at=NOW, updated_at=NOW)
    later = Customer(name="Only after now", gender="f", created_at=NOW, updated_at=NOW)
    s.add_all([fresh, later])
    s.flush()
    s.add(Purchase(customer_id=fresh.id, order_no="EDGE-FRESH", line_no=1, item="x",
                   amount=12.34, purchased_at=local(date(2026, 3, 1))))  # fmt: skip
    s.add(Purchase(customer_id=later.id, order_no="EDGE-LATER", line_no=1, item="x",
                   amount=56.78, purchased_at=NOW + timedelta(days=3)))  # fmt: skip
    # Genders and birthdays: unknown, an odd code, none, on 29 February.
    for cid, gender, born in zip(ids[30:36], ["m", "f", None, "x", "", "f"],
                                 [date(1988, 2, 29), None, date(2000, 1, 1), None,
                                  date(1960, 12, 31), date(2010, 6, 15)], strict=True):  # fmt: skip
        s.execute(update(Customer).where(Customer.id == cid).values(gender=gender,
                                                                   birthday=born))  # fmt: skip
    # Equal spends (the top spenders' ties in customer order).
    for cid in ids[40:45]:
        s.add(Purchase(customer_id=cid, order_no=f"TIE-{cid}", line_no=1, item="x",
                       amount=987654.5, purchased_at=NOW - timedelta(days=40)))  # fmt: skip
    s.flush()
    # Merged customers (purchases move), re-tiered ones, imported purchases.
    boss = agents.ensure_agent(session=s, name="zhao.lei", role="supervisor")
    for survivor, other in ((ids[50], ids[51]), (ids[52], ids[53]), (ids[1], ids[54])):
        merge.merge(s, survivor_id=survivor, other_id=other, agent_id=boss.id, now=NOW)
    members.retier(s, now=NOW, policy=members.MemberPolicy())
    path = tmp_path_factory.mktemp("import") / "late.csv"
    path.write_text(
        "customer,date,order,product,amount\n"
        + "".join(f"#{cid},2025-{1 + k % 12:02d}-{1 + k % 28:02d},IMP-{k},x,{10 + k}.25\n"
                  for k, cid in enumerate(ids[60:90])),
        encoding="utf-8",
    )  # fmt: skip
    assert purchases.import_csv(session=s, path=path, now=NOW, zone=ZONE).imported == 30


def seeded_desk(request, url, tmp_path_factory, **sizes):
    """(engine, settings) of a desk seeded with `sizes` and the edge cases, for a module."""
    engine = make_engine(url)
    request.addfinalizer(engine.dispose)
    demo.seed(engine, **sizes, now=NOW - timedelta(days=1))
    with Session(engine) as s:
        edge_cases(s, tmp_path_factory)
        s.commit()
    return engine, replace(Settings(), database_url=url, local_timezone=ZONE)
