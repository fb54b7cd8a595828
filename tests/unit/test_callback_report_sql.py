"""The callback report counted by SQL gives the figures the row-by-row report gave.

A seeded demo desk (the callback rules run on it, then edge cases added: done exactly at the
limit of "on time", members born on 29 February, new buyers and completed orders nobody
called) is reported over several periods by both: every table the same, and the list cut to
`limit` lines is the first lines of the whole list while every count stays whole.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from seat.callbacks import CallbackPolicy, schedule
from seat.config import Settings
from seat.db import make_engine
from seat.models import Callback, Customer, Purchase
from seat.reports import callbacks as report
from seat.tools import demo
from tests.conftest import NOW
from tests.unit import callback_report_before as before

POLICY = CallbackPolicy()
WITHIN = timedelta(days=POLICY.done_within_days)


def _edge_cases(s: Session) -> None:
    members = s.execute(
        select(Customer.id).where(Customer.tier.in_(POLICY.member_tiers)).order_by(Customer.id)
    ).scalars().all()  # fmt: skip
    # Born on 29 February (greeted on the 28th in a common year), the 28th, 1 March.
    for cid, born in zip(members[:9], [date(1988, 2, 29), date(1992, 2, 29), date(1990, 2, 28),
                                       date(1991, 3, 1), date(2000, 2, 29), date(1985, 12, 31),
                                       date(1986, 1, 1), date(1970, 11, 20), date(1999, 2, 27)],
                         strict=True):  # fmt: skip
        s.get(Customer, cid).birthday = born
    # Done exactly at the limit of "on time", a microsecond after it, and long after.
    done = s.execute(
        select(Callback).where(Callback.due_at < NOW - 2 * WITHIN).order_by(Callback.id).limit(6)
    ).scalars().all()  # fmt: skip
    for cb, late in zip(done, [0, 1, 0, 1, 10**9, 0], strict=False):
        cb.due_at = cb.due_at.replace(microsecond=123456)
        cb.status, cb.score = "done", 1 + cb.id % 5
        cb.done_at = cb.due_at + WITHIN + timedelta(microseconds=late)
    missed = s.execute(
        select(Callback).where(
            Callback.status == "open", Callback.due_at < NOW,
            # the kinds the coverage lists (not the care cadences' routine or holiday calls)
            Callback.kind.in_(("satisfaction", "birthday")),
            Callback.customer_id.in_(members),
        ).order_by(Callback.id).limit(4)
    ).scalars().all()  # fmt: skip
    for cb, outcome in zip(missed, ["wrong_number", "no_answer", None, "busy"], strict=False):
        cb.status, cb.attempts, cb.last_outcome = "missed", 3, outcome
    # New buyers: delivered too long ago for the rules (no callback), and one that has one.
    for n, cid in enumerate(members[10:40]):
        delivered = NOW - timedelta(days=35 + 7 * n, minutes=n)
        s.add(Purchase(customer_id=cid, order_no=f"PO-{cid}-{n}", item="Washer",
                       purchased_at=delivered - timedelta(days=3), delivered_at=delivered))
        if n % 5 == 0:  # a second delivery of the same order: the first counts
            s.add(Purchase(customer_id=cid, order_no=f"PO-{cid}-{n}", item="Dryer",
                           purchased_at=delivered, delivered_at=delivered + timedelta(days=1)))
        if n % 3 == 0:
            s.add(Callback(customer_id=cid, owner_id=1, kind="satisfaction", reason="r",
                           due_at=delivered + timedelta(days=7), created_at=delivered,
                           source_key=f"new_buyer:{cid}:order:PO-{cid}-{n}"))  # fmt: skip
    s.flush()


@pytest.fixture(scope="module")
def desk(request, module_db_url):
    """(engine, settings) of a seeded desk, shared by this module's tests (read only)."""
    url = module_db_url
    engine = make_engine(url)
    request.addfinalizer(engine.dispose)
    demo.seed(engine, customers=400, calls=600, work_orders=400, now=NOW - timedelta(days=1))
    with Session(engine) as s:
        schedule(session=s, now=NOW - timedelta(days=20), policy=POLICY)
        schedule(session=s, now=NOW, policy=POLICY)
        _edge_cases(s)
        # Work orders completed with nobody calling: their callbacks made by the rules go.
        s.execute(
            update(Callback)
            .where(Callback.work_order_id.is_not(None), Callback.id % 2 == 0)
            .values(work_order_id=None)
        )
        s.commit()
    return engine, replace(Settings(), database_url=url, local_timezone="Asia/Shanghai")


PERIODS = [
    (date(2026, 11, 17), date(2026, 11, 23)),  # the last week
    (date(2026, 10, 25), date(2026, 11, 23)),  # the view's 30 days
    (date(2026, 9, 14), date(2026, 12, 12)),  # 90 days, ending after now
    (date(2025, 11, 24), date(2026, 11, 23)),  # a year
    (date(2025, 12, 20), date(2026, 1, 10)),  # across new year
    (date(2024, 2, 20), date(2024, 3, 5)),  # 29 February in a leap year
    (date(2025, 2, 20), date(2025, 3, 5)),  # ... and in a common one
    (date(2026, 11, 23), date(2026, 11, 23)),  # today
    (date(2026, 12, 1), date(2026, 12, 31)),  # all after now
]


def _both(desk, first: date, last: date, **kw):
    engine, settings = desk
    args = dict(date_from=first, date_to=last, settings=settings, now=NOW, policy=POLICY)
    with Session(engine) as s:
        return before.tables(session=s, **args), report.tables(session=s, **args, **kw)


@pytest.mark.parametrize(("first", "last"), PERIODS)
def test_the_same_tables_as_row_by_row(desk, first, last):
    old, new = _both(desk, first, last)
    assert [t.title for t in new] == [t.title for t in old]
    for was, now in zip(old, new, strict=True):
        assert (now.headers, now.meta, now.label_columns) == (
            was.headers, was.meta, was.label_columns,
        ), now.title  # fmt: skip
        assert now.rows == was.rows, now.title


def test_the_periods_hold_what_they_test(desk):
    """The edge cases are really in the periods above (else the comparison proves little)."""
    old, __ = _both(desk, date(2025, 11, 24), date(2026, 11, 23))
    by_title = {t.title: t for t in old}
    lines = by_title["Members without callback"].rows
    whys = {str(r[5]).split(" #")[0].split(" for order")[0] for r in lines}
    assert {"overdue", "missed: no working number", "no birthday greeting scheduled",
            "no new-buyer callback", "no satisfaction callback for work order"} <= whys  # fmt: skip
    total = by_title["By kind"].rows[-1]
    assert total[2] and total[2] < total[1]  # some done on time, some not
    leap, __ = _both(desk, date(2024, 2, 20), date(2024, 3, 5))
    assert len(next(t for t in leap if t.title == "Members without callback").rows) >= 3


@pytest.mark.parametrize("limit", [1, 7, 40])
@pytest.mark.parametrize(
    ("first", "last"), [PERIODS[1], PERIODS[2], PERIODS[3], PERIODS[5], PERIODS[7], PERIODS[8]]
)
def test_a_cut_list_keeps_whole_counts(desk, first, last, limit):
    old, cut = _both(desk, first, last, limit=limit)
    for was, now in zip(old, cut, strict=True):
        if now.title == "Members without callback":
            assert now.rows == was.rows[:limit]
        else:
            assert now.rows == was.rows, now.title


@pytest.mark.parametrize(
    ("late", "on_time"),
    [(timedelta(0), 1), (timedelta(microseconds=1), 0), (-timedelta(microseconds=1), 1)],
)
def test_on_time_is_exact_to_the_microsecond(session, world, settings, late, on_time):
    due = datetime(2026, 11, 10, 2, 0, 0, 654321, tzinfo=UTC)
    session.add(Callback(customer_id=world["fang"], owner_id=world["li"], kind="manual",
                         reason="r", due_at=due, created_at=due, status="done",
                         done_at=due + WITHIN + late))  # fmt: skip
    session.flush()
    found = report.tables(session=session, date_from=date(2026, 11, 1),
                          date_to=date(2026, 11, 30), settings=settings, now=NOW, policy=POLICY)
    manual = next(r for r in next(t for t in found if t.title == "By kind").rows
                  if r[0] == "manual")  # fmt: skip
    assert manual[1:4] == [1, 1, on_time]


def test_further_pages_are_the_whole_list_cut(desk):
    """The view's further pages (Desk.callback_without, callback_todo) are the same lines as
    the whole list and the whole to-do list, cut."""
    from seat.callbacks import worklist
    from seat.clock import FixedClock
    from seat.services import Desk

    engine, settings = desk
    door = Desk(engine=engine, clock=FixedClock(NOW), settings=settings)
    first, last = PERIODS[3]
    with Session(engine) as s:
        whole = report.tables(session=s, date_from=first, date_to=last, settings=settings,
                              now=NOW, policy=POLICY)[1].rows  # fmt: skip
        todo, total = worklist(session=s, now=NOW, policy=POLICY, owner_id=None, limit=10**6)
    assert len(whole) > 60 and total > 60
    assert door.callback_without(first, last, limit=60) == whole[:60]
    for offset, limit in ((0, 7), (7, 50), (total - 3, 50)):
        page, count = door.callback_todo(owner_id=None, offset=offset, limit=limit)
        assert count == total
        assert [i.id for i in page] == [i.id for i in todo[offset : offset + limit]]


def _new_buyer_lines(tables: list) -> list[list[object]]:
    rows = next(t for t in tables if t.title == "Members without callback").rows
    return [r for r in rows if "new-buyer" in str(r[5])]


# Deliveries around the period's local midnights (Asia/Shanghai, UTC+8): the callback falls
# due new_buyer_days later, so the period [start, end) in UTC holds deliveries lag earlier.
LAG = timedelta(days=POLICY.new_buyer_days)
START = datetime(2026, 11, 9, 16, tzinfo=UTC)  # 10 November 00:00 local
END = datetime(2026, 11, 16, 16, tzinfo=UTC)  # 17 November 00:00 local


@pytest.mark.parametrize("limit", [None, 1, 2, 3, 5])
@pytest.mark.parametrize(
    "offsets",
    [
        # at the period's first instant, a microsecond before it, just before its end
        [timedelta(0), -timedelta(microseconds=1), END - START - timedelta(microseconds=1)],
        # several orders in one local minute (the cut keeps the whole minute), one after
        [timedelta(days=2, seconds=s) for s in (0, 1, 59, 59)] + [timedelta(days=2, minutes=1)],
        # at the period's end (outside), two customers' orders delivered at the same instant
        [END - START, timedelta(days=1), timedelta(days=1), timedelta(days=3)],
    ],
)
def test_new_buyers_at_the_period_bounds_and_the_cut(session, settings, offsets, limit):
    zone_settings = replace(settings, local_timezone="Asia/Shanghai")
    people = []
    for n in range(3):
        c = Customer(name=f"Buyer {n}", tier=("gold", "vip", "ordinary")[n], created_at=NOW,
                     updated_at=NOW)  # fmt: skip
        session.add(c)
        people.append(c)
    session.flush()
    for n, offset in enumerate(offsets):
        delivered = START - LAG + offset
        buyer = people[n % 2].id  # members only (gold, vip); the ordinary one buys too
        session.add(Purchase(customer_id=buyer, order_no=f"SO-{n}", item="TV",
                             purchased_at=delivered, delivered_at=delivered))  # fmt: skip
        session.add(Purchase(customer_id=people[2].id, order_no=f"SO-x{n}", item="TV",
                             purchased_at=delivered, delivered_at=delivered))  # fmt: skip
    session.flush()
    now = END + timedelta(days=1)
    args = dict(date_from=date(2026, 11, 10), date_to=date(2026, 11, 16),
                settings=zone_settings, now=now, policy=POLICY)  # fmt: skip
    was = before.tables(session=session, **args)
    got = report.tables(session=session, **args, limit=limit)
    lines = _new_buyer_lines(was)
    assert lines  # the case holds what it tests
    assert _new_buyer_lines(got) == (lines if limit is None else lines[:limit])
    assert got[0].rows == was[0].rows  # coverage counts whole, cut or not


@pytest.mark.parametrize("limit", [None, 3])
def test_callbacks_due_after_now_count_by_their_status(desk, limit):
    """The view counts the required callbacks in two stretches of due time (before now: any
    not cancelled; from now on: those no longer open): members' callbacks of every status
    due just before, at and after now, and at the period's edges, count as the row-by-row
    reference counts them, cut list or not."""
    engine, settings = desk
    tick = timedelta(microseconds=1)
    first = last = date(2026, 11, 23)  # today (local): now falls inside the period
    start, end = report.period(first, last, ZoneInfo(settings.local_timezone))
    with Session(engine) as s:
        member = s.execute(
            select(Customer.id).where(Customer.tier.in_(POLICY.member_tiers)).order_by(Customer.id)
        ).scalars().first()  # fmt: skip
        for n, due in enumerate([start, NOW - tick, NOW, NOW + tick, end - tick, end]):
            for status in ("open", "done", "missed", "cancelled"):
                s.add(Callback(customer_id=member, owner_id=1, kind="manual", reason="r",
                               due_at=due, created_at=start, status=status,
                               done_at=due if status == "done" else None,
                               source_key=f"test:{n}:{status}"))  # fmt: skip
        s.flush()
        args = dict(date_from=first, date_to=last, settings=settings, now=NOW, policy=POLICY)
        old = before.tables(session=s, **args)
        new = report.tables(session=s, **args, limit=limit)
        s.rollback()
    assert new[0].rows == old[0].rows  # coverage per tier
    assert new[1].rows == (old[1].rows if limit is None else old[1].rows[:limit])
