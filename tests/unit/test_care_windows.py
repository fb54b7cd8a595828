"""The day's rules read only what can fall due (seat.care.maintenance by ranges of start days,
the new-buyer rule by the lookback's deliveries): they make exactly what the former
whole-table statements made. Each case is checked against those statements (kept here as
the reference) on a small desk: window edges, delivered or not, an order with two lines of a
category on different days, a purchase imported late with an old delivery day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from seat import care, customers
from seat.callbacks import CallbackPolicy, schedule
from seat.members import MemberPolicy
from seat.models import Callback, Customer, Purchase
from tests.conftest import NOW

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = MemberPolicy()
TODAY = NOW.astimezone(SHANGHAI).date()
DAY = timedelta(days=1)
LAST = TODAY + 7 * DAY


def _reference_maintenance(
    session: Session, *, today: date, last: date, now: datetime, policy: MemberPolicy,
    zone: ZoneInfo,
) -> list[care.CareCall]:  # fmt: skip
    """The rule as one GROUP BY over every purchase of the interval categories (before the
    ranges), to compare with."""
    every = dict(policy.service_intervals)
    before = timedelta(days=policy.service_days_before)
    oldest = now - timedelta(days=365 * policy.service_years + 1)
    start = func.min(func.coalesce(Purchase.delivered_at, Purchase.purchased_at))
    rows = session.execute(
        select(func.min(Purchase.id), Purchase.customer_id, Purchase.category, start,
               func.min(Purchase.item), Purchase.order_no)
        .where(Purchase.category.in_(list(every)), Purchase.purchased_at >= oldest)
        .group_by(Purchase.customer_id, Purchase.order_no, Purchase.category)
    ).all()  # fmt: skip
    out = []
    for pid, cid, category, at, item, order_no in rows:
        begun = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(zone).date()
        for due in care.service_days(begun, every[category], policy.service_years):
            if due - before > last:
                break
            if due < today:
                continue
            out.append(care.CareCall(
                key=f"maintenance:{pid}:{due:%Y-%m-%d}", kind="maintenance", customer_id=cid,
                day=max(due - before, today),
                reason=(f"{item} (order {order_no}, since {begun:%Y-%m-%d}) is due for "
                        f"service or renewal on {due:%Y-%m-%d}"),
            ))  # fmt: skip
    out.sort(key=lambda c: (c.day, c.key))
    return out


def _customer(session: Session, n: int = 1) -> int:
    c = customers.create_customer(
        session=session, now=NOW - timedelta(days=400), name=f"Buyer {n}",
        phone_text=f"139 5555 03{n:02d}", tier="gold",
    )  # fmt: skip
    session.flush()
    return c.id  # type: ignore[return-value]


def _local(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A UTC instant on `day` in Shanghai (the care rules' days are local)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def _line(session: Session, cid: int, order: str, *, bought: datetime,
          delivered: datetime | None, category: str = "appliance", item: str = "item",
          line: int | None = None) -> None:  # fmt: skip
    session.add(Purchase(
        customer_id=cid, order_no=order, line_no=line, item=item, category=category,
        amount=10.0, purchased_at=bought, delivered_at=delivered,
    ))  # fmt: skip
    session.flush()


def _both(session: Session) -> tuple[list[care.CareCall], list[care.CareCall]]:
    kw = {"today": TODAY, "last": LAST, "now": NOW, "policy": POLICY, "zone": SHANGHAI}
    return care.maintenance(session, **kw), _reference_maintenance(session, **kw)


YEAR = 365 * DAY


@pytest.mark.parametrize(
    ("started", "expected"),
    [
        (_local(TODAY - YEAR, 0, 0), [TODAY]),  # due today, at local midnight: called
        (_local(TODAY - YEAR - DAY, 23, 59), []),  # due yesterday, a minute before: not
        (_local(LAST + 7 * DAY - YEAR, 0, 0), [LAST + 7 * DAY]),  # reminded on the last day
        (_local(LAST + 8 * DAY - YEAR, 0, 0), []),  # a day beyond the window
        (_local(TODAY - 2 * YEAR + 3 * DAY), [TODAY + 3 * DAY]),  # the second year's
        (_local(TODAY - 5 * YEAR + 3 * DAY), [TODAY + 3 * DAY]),  # the fifth and last
        (_local(TODAY - 6 * YEAR + 3 * DAY), []),  # beyond the policy's years
    ],
)
@pytest.mark.parametrize("delivered", [True, False])
def test_a_service_day_at_the_window_edges(session, world, started, expected, delivered):
    cid = _customer(session)
    # Delivered: the delivery is the start (bought the day before); not: the purchase is.
    bought = started - DAY if delivered else started
    _line(session, cid, "E-1", bought=bought, delivered=started if delivered else None)
    found, reference = _both(session)
    assert found == reference
    assert [c.key.rsplit(":", 1)[1] for c in found] == [f"{d:%Y-%m-%d}" for d in expected]


@pytest.mark.parametrize("earlier_first", [True, False])
def test_an_order_with_two_lines_of_a_category_on_different_days(session, world,
                                                                 earlier_first):  # fmt: skip
    """The order's start is its earliest line's, the key its first line's: a later line
    whose own day would fall in the window makes nothing; the earlier one's does."""
    cid = _customer(session)
    in_window = _local(TODAY - YEAR + 2 * DAY)  # its own service day: in 2 days
    earlier = in_window - 40 * DAY  # the order's start: due 40 days ago
    days = [earlier, in_window] if earlier_first else [in_window, earlier]
    for n, at in enumerate(days, 1):
        _line(session, cid, "TWO", bought=at - DAY, delivered=at, item=f"z{n}", line=n)
    found, reference = _both(session)
    assert found == reference == []
    # The other way round: the earlier line's day is in the window, the later one's not.
    cid2 = _customer(session, 2)
    for n, at in enumerate([in_window, in_window + 40 * DAY], 1):
        _line(session, cid2, "TWO-B", bought=at - DAY, delivered=at, item=f"y{n}", line=n)
    found, reference = _both(session)
    assert found == reference
    assert [(c.customer_id, c.day) for c in found] == [(cid2, TODAY)]
    assert "y1 (order TWO-B" in found[0].reason


def test_a_purchase_imported_late_with_an_old_delivery_is_reminded(session, world):
    cid = _customer(session)
    for n in range(5):  # newer purchases first: the late one gets the highest id
        _line(session, cid, f"NEW-{n}", bought=NOW - n * DAY, delivered=None)
    old = _local(TODAY - 90 * DAY * 3 + 4 * DAY)  # the third cartridge: due in 4 days
    _line(session, cid, "LATE", bought=old - 2 * DAY, delivered=old, category="consumables",
          item="filter")  # fmt: skip
    found, reference = _both(session)
    assert found == reference
    assert [(c.day, c.reason.split(" (")[0]) for c in found] == [(TODAY, "filter")]


def test_many_purchases_make_what_the_whole_table_statement_made(session, world):
    """A spread of starts over six years, every category, delivered or not, orders of one
    to three lines: the same calls, keys, days and reasons, in the same order."""
    cids = [_customer(session, n) for n in range(1, 4)]
    categories = ["appliance", "consumables", "service", "cosmetics", None]
    for i in range(600):
        at = NOW - timedelta(days=(i * 3.7) % (6 * 365), hours=i % 24)
        for line in range(1 + i % 3):
            _line(
                session, cids[i % 3], f"M-{i}", line=line,
                bought=at + line * 5 * DAY - 2 * DAY,
                delivered=None if (i + line) % 4 == 0 else at + line * 5 * DAY,
                category=categories[(i + line) % len(categories)], item=f"i{(i * 7) % 11}",
            )  # fmt: skip
    found, reference = _both(session)
    assert found == reference and len(found) > 10


# -- new buyers -----------------------------------------------------------------------------


def _reference_new_buyers(session: Session, since: datetime) -> list[tuple]:
    return [tuple(r) for r in session.execute(
        select(Purchase.customer_id, Purchase.order_no, func.min(Purchase.delivered_at),
               func.min(Purchase.item))
        .where(Purchase.delivered_at.is_not(None), Purchase.delivered_at >= since)
        .group_by(Purchase.customer_id, Purchase.order_no)
        .order_by(Purchase.customer_id, Purchase.order_no)
    ).all()]  # fmt: skip


def test_new_buyer_callbacks_are_the_lookbacks_orders_first_delivery(session, world):
    """Per order: the first delivery in the lookback, the least item; lines not delivered
    or delivered before the lookback count for nothing; made in (customer, order) order."""
    policy = CallbackPolicy()
    since = NOW - timedelta(days=policy.lookback_days)
    a, b = _customer(session, 1), _customer(session, 2)
    _line(session, b, "B-2", bought=NOW - 9 * DAY, delivered=NOW - 3 * DAY, item="kettle")
    _line(session, a, "A-9", bought=NOW - 9 * DAY, delivered=NOW - 2 * DAY, item="zz",
          line=1)  # fmt: skip
    _line(session, a, "A-9", bought=NOW - 9 * DAY, delivered=NOW - 5 * DAY, item="mm",
          line=2)  # fmt: skip
    _line(session, a, "A-9", bought=NOW - 9 * DAY, delivered=None, item="aa", line=3)
    _line(session, a, "A-1", bought=NOW - 50 * DAY, delivered=since - DAY, item="old")
    _line(session, a, "A-1", bought=NOW - 50 * DAY, delivered=since + DAY, item="late",
          line=2)  # fmt: skip
    _line(session, b, "B-1", bought=NOW - 60 * DAY, delivered=since - DAY, item="gone")
    session.commit()
    expected = _reference_new_buyers(session, since)
    report = schedule(session=session, now=NOW, policy=policy)
    made = [(s.customer_id, s.source_key, s.reason) for s in report.created
            if s.source_key.startswith("new_buyer:")]  # fmt: skip
    assert [(cid, f"new_buyer:{cid}:order:{order}") for cid, order, __, __i in expected] == [
        (cid, key) for cid, key, __ in made
    ]
    reasons = {key: reason for __, key, reason in made}
    first = (NOW - 5 * DAY).astimezone(SHANGHAI)
    assert reasons[f"new_buyer:{a}:order:A-9"] == (
        f"how the new mm is working (order A-9, delivered {first:%Y-%m-%d})"
    )
    assert "new late is working (order A-1" in reasons[f"new_buyer:{a}:order:A-1"]
    assert f"new_buyer:{b}:order:B-1" not in reasons
    assert session.scalar(select(func.count()).select_from(Callback).where(
        Callback.source_key.like("new_buyer:%"))) >= len(expected)  # fmt: skip


# -- routine --------------------------------------------------------------------------------


def _reference_routine(session: Session, *, today: date, last: date) -> list[care.CareCall]:
    """Every routine month of every candidate customer tried in turn (before the window's
    months were computed)."""
    from_db = care.routine(session, today=today, last=today - DAY, policy=POLICY,
                           zone=SHANGHAI)  # fmt: skip
    assert from_db == []  # an empty window makes nothing
    out = []
    for cid, created in session.execute(
        select(Customer.id, Customer.created_at).where(Customer.tier.in_(POLICY.routine_tiers))
    ).all():
        joined = (created if created.tzinfo else created.replace(tzinfo=UTC)).astimezone(
            SHANGHAI
        ).date()
        span = (last.year - joined.year) * 12 + last.month - joined.month
        for n in care.routine_months(POLICY, span):
            due = care.months_after(joined, n)
            if today <= due <= last:
                out.append(care.CareCall(
                    key=f"routine:{cid}:{due:%Y-%m-%d}", kind="routine", customer_id=cid,
                    day=due, reason=(f"routine care call, month {n} since joining on "
                                     f"{joined:%Y-%m-%d}"),
                ))  # fmt: skip
    out.sort(key=lambda c: (c.day, c.key))
    return out


@pytest.mark.parametrize(
    "today",
    [date(2026, 11, 23), date(2026, 11, 28), date(2027, 2, 25), date(2028, 2, 26),
     date(2026, 12, 29)],  # fmt: skip
)
def test_routine_calls_are_those_of_every_month_tried(session, world, today):
    """Joining days across three years, month ends included (a 31st is called on a shorter
    month's last): the window's months alone make the same calls."""
    last = today + 7 * DAY
    for n in range(120):
        joined = _local(date(2024, 1, 1) + timedelta(days=n * 9 + n % 7), n % 24, 0)
        c = customers.create_customer(
            session=session, now=joined, name=f"Joined {n}", phone_text=f"139 5556 {n:04d}",
            tier=["gold", "vip", "ordinary"][n % 3],
        )  # fmt: skip
        session.flush()
        assert c.id
    expected = _reference_routine(session, today=today, last=last)
    found = care.routine(session, today=today, last=last, policy=POLICY, zone=SHANGHAI)
    assert found == expected and expected


def test_an_order_called_already_is_not_called_again_for_a_later_line(session, world):
    """The order's key is made: a line delivered later (in the lookback) makes nothing; an
    order not called yet still is."""
    policy = CallbackPolicy()
    a = _customer(session, 1)
    _line(session, a, "C-1", bought=NOW - 20 * DAY, delivered=NOW - 15 * DAY, item="first",
          line=1)  # fmt: skip
    first = schedule(session=session, now=NOW - 14 * DAY, policy=policy)
    assert [s.source_key for s in first.created if s.source_key.startswith("new_buyer:")] == [
        f"new_buyer:{a}:order:C-1"
    ]
    session.commit()
    _line(session, a, "C-1", bought=NOW - 20 * DAY, delivered=NOW - 2 * DAY, item="second",
          line=2)  # fmt: skip
    _line(session, a, "C-2", bought=NOW - 9 * DAY, delivered=NOW - 2 * DAY, item="third")
    again = schedule(session=session, now=NOW, policy=policy)
    assert [s.source_key for s in again.created if s.source_key.startswith("new_buyer:")] == [
        f"new_buyer:{a}:order:C-2"
    ]
