"""Member care cadences (DOMAIN.md sections 2 and 5): what the callback rules call for.

Four kinds, each with its own callback kind and script, all under policy/members.toml:

- **renewal**: a membership ending next month (`customer.member_until`) is listed and called
  by the policy's day of this month (`[expiry] list_by_day`, the 5th), with the renewal
  rule's verdict (the fee is waived after `waive_orders` orders or `waive_spend` over the
  policy's period);
- **holiday**: greetings `days_before` each holiday of the business calendar (a run of
  consecutive holidays is one) that the policy greets;
- **maintenance**: a week (`[service] days_before`) before a purchased product of a category
  with a service interval falls due (every `intervals` days from its delivery);
- **routine**: monthly in a customer's first year from the day they joined, quarterly after.

Each function reads what is due between `today` and `last` (the customer's local days: the
callback rules' horizon) in one or a few set-based statements and returns `CareCall`s keyed
like every rule's (`kind:customer-or-purchase:day`): the caller (seat.callbacks) drops the
keys already made, so a run twice, or an incremental run, creates exactly what a full one
would. No rule reads anything per customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, cast, exists, false, func, literal, or_, select
from sqlmodel import Session

from seat.db import Prepared, PreparedIds, stored_at
from seat.members import MemberPolicy, months_before, period_stats
from seat.models import Callback, CallbackKind, Customer, Purchase

CHUNK = 500


@dataclass(frozen=True)
class CareCall:
    """One callback a care cadence calls for."""

    key: str
    kind: str
    customer_id: int
    day: date
    """The customer's local day it falls due (the callback rules add the hour)."""
    reason: str


def months_after(day: date, months: int) -> date:
    """The same day `months` calendar months later (the month's last day when it has none)."""
    at = datetime(day.year, day.month, day.day)
    return months_before(at, -months).date()


def _next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _local(at: datetime, zone: ZoneInfo) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(zone).date()


def ymd(day: date) -> str:
    """`f"{day:%Y-%m-%d}"` of a date without strftime's cost (about 5 microseconds each:
    the keys and reasons of thousands of a day's calls, 3,700 renewals on the first of a
    month): its ISO text, the same from the year 1000 on."""
    if type(day) is date and day.year >= 1000:
        return day.isoformat()
    return f"{day:%Y-%m-%d}"


# -- renewals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expiring:
    """A membership that ends soon, with the renewal rule's verdict."""

    customer_id: int
    member_until: date
    orders: int
    spend: float
    waived: bool

    def rule(self, policy: MemberPolicy) -> str:
        """The renewal rule as it applies (English, like every rule's callback reason)."""
        counted = (
            f"orders {self.orders}, spend {self.spend:,.2f} in {policy.period_months} months"
        )
        if self.waived:
            return f"renewal fee waived ({counted})"
        return (
            f"renewal fee due ({counted}; waived from {policy.waive_orders} orders or "
            f"{policy.waive_spend:,.2f})"
        )


def expiring(
    session: Session, *, first: date, last: date, now: datetime, policy: MemberPolicy,
    where: Sequence[Any] = (),
) -> list[Expiring]:  # fmt: skip
    """Memberships ending from `first` to `last` (both included), by end day and customer,
    each with the renewal rule's verdict over the policy's period to `now`; `where`: more
    conditions on the customer."""
    rows = session.execute(
        select(Customer.id, Customer.member_until)
        .where(Customer.member_until >= first, Customer.member_until <= last, *where)
        .order_by(Customer.member_until, Customer.id)
    ).all()
    stats: dict[int, Any] = {}
    ids = [cid for cid, __ in rows]
    for i in range(0, len(ids), CHUNK):
        stats.update(
            period_stats(session, now=now, policy=policy, customer_ids=ids[i : i + CHUNK],
                         months=False)  # fmt: skip
        )
    out = []
    for cid, until in rows:
        mine = stats.get(cid)
        orders, spend = (mine.orders, mine.spend) if mine is not None else (0, 0.0)
        waived = orders >= policy.waive_orders or spend >= policy.waive_spend
        out.append(Expiring(cid, until, orders, spend, waived))
    return out


def renewal_day(member_until: date, policy: MemberPolicy) -> date:
    """The day a membership's renewal call is due: the policy's day of the month before the
    month it ends in (memberships ending next month are called by the 5th)."""
    before = member_until.replace(day=1) - timedelta(days=1)
    return before.replace(day=policy.expiry_list_by_day)


def renewals(
    session: Session, *, today: date, now: datetime, policy: MemberPolicy,
    where: Sequence[Any] = (),
) -> list[CareCall]:  # fmt: skip
    """Renewal calls for the memberships ending from today to the end of next month (a
    membership entered late still gets its call, due today); `where`: more conditions on
    the customer (the callback rules leave out those whose call is made)."""
    last = _next_month(_next_month(today)) - timedelta(days=1)
    out = []
    for e in expiring(session, first=today, last=last, now=now, policy=policy, where=where):
        until = ymd(e.member_until)
        out.append(CareCall(
            key=f"renewal:{e.customer_id}:{until}",
            kind=CallbackKind.RENEWAL,
            customer_id=e.customer_id,
            day=max(today, renewal_day(e.member_until, policy)),
            reason=f"membership ends {until}: {e.rule(policy)}",
        ))  # fmt: skip
    return out


# -- holidays -------------------------------------------------------------------------------


def holiday_periods(holidays: Iterable[date]) -> list[tuple[date, int]]:
    """Runs of consecutive holidays: (first day, number of days), in date order."""
    out: list[tuple[date, int]] = []
    for day in sorted(set(holidays)):
        if out and out[-1][0] + timedelta(days=out[-1][1]) == day:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((day, 1))
    return out


def greeted_holidays(holidays: Iterable[date], policy: MemberPolicy) -> list[date]:
    """The first days of the holidays the policy greets: those `[holidays] greet` lists, or
    (none listed) every one of at least `min_days` days."""
    periods = holiday_periods(holidays)
    if policy.holiday_greet:
        wanted = set(policy.holiday_greet)
        return [first for first, __ in periods if first in wanted]
    return [first for first, n in periods if n >= policy.holiday_min_days]


def holiday_greetings(
    session: Session, *, today: date, last: date, policy: MemberPolicy,
    holidays: Sequence[date], tiers: Sequence[str],
) -> list[CareCall]:  # fmt: skip
    """Greetings to the members of `tiers` before each greeted holiday whose greeting day
    falls by `last` and which has not begun yet; those already greeted are left out by the
    database (their key exists)."""
    out: list[CareCall] = []
    if not tiers:
        return out
    for first in greeted_holidays(holidays, policy):
        day = first - timedelta(days=policy.holiday_days_before)
        if first < today or day > last:
            continue
        shown = ymd(first)
        key = literal("holiday:") + cast(Customer.id, String) + literal(f":{shown}")
        for (cid,) in session.execute(
            select(Customer.id)
            .where(Customer.tier.in_(list(tiers)), ~exists().where(Callback.source_key == key))
            .order_by(Customer.id)
        ):
            out.append(CareCall(
                key=f"holiday:{cid}:{shown}", kind=CallbackKind.HOLIDAY,
                customer_id=cid, day=max(day, today),
                reason=f"holiday greetings for the holiday from {shown}",
            ))  # fmt: skip
    return out


# -- maintenance ----------------------------------------------------------------------------


def service_days(start: date, every: int, years: int, *, skip: int = 0) -> Iterable[date]:
    """The days a product bought (delivered) on `start` falls due: every `every` days, for
    `years` years (leaving out the first `skip`)."""
    end = start + timedelta(days=365 * years)
    n = 1 + skip
    while (day := start + timedelta(days=n * every)) <= end:
        yield day
        n += 1


_SLACK = timedelta(hours=2)


def _start_ranges(
    every: int, years: int, first: date, final: date, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The UTC instants a product of a category serviced every `every` days may have
    started (been delivered, or bought) at for one of its service days to fall from `first`
    to `final`: a range of start days per service number (their local midnights, an hour
    or two wider each side for a clock change; the exact rule is applied to what they
    find), so a run for one new day reads about one day of starts per service number."""
    out: list[tuple[datetime, datetime]] = []
    n = 1
    while n * every <= 365 * years:
        lo = first - timedelta(days=n * every)
        hi = final - timedelta(days=n * every - 1)
        out.append((
            datetime.combine(lo, datetime.min.time(), tzinfo=zone).astimezone(UTC) - _SLACK,
            datetime.combine(hi, datetime.min.time(), tzinfo=zone).astimezone(UTC) + _SLACK,
        ))  # fmt: skip
        n += 1
    return out


def _started_in(delivered: bool) -> Prepared:
    at = Purchase.delivered_at if delivered else Purchase.purchased_at
    known = Purchase.delivered_at.is_not(None) if delivered else Purchase.delivered_at.is_(None)
    return Prepared(
        select(Purchase.customer_id, Purchase.order_no).where(
            Purchase.category == bindparam("category"), known,
            at >= bindparam("lo"), at < bindparam("hi"),
            Purchase.purchased_at >= bindparam("oldest"),
        )
    )  # fmt: skip


_STARTED = (_started_in(True), _started_in(False))
"""The (customer, order) of the lines of a category started in a range: delivered ones by
their delivery, the others by their purchase (at the driver level: dozens a run, each
built by SQLAlchemy cost more than its read)."""
_ORDER_LINES: dict[tuple[str, ...], PreparedIds] = {}


def _order_lines(categories: tuple[str, ...]) -> PreparedIds:
    """The lines of these orders in `categories` (bought since `oldest`), the start (the
    delivery, else the purchase) as stored: at the driver level (an IN of 500 orders
    compiled again at every chunk, and each time converted, cost more than the read)."""
    found = _ORDER_LINES.get(categories)
    if found is None:
        start = func.coalesce(Purchase.delivered_at, Purchase.purchased_at)
        found = _ORDER_LINES[categories] = PreparedIds(
            lambda orders: select(
                Purchase.id, Purchase.customer_id, Purchase.category, start, Purchase.item,
                Purchase.order_no,
            ).where(
                Purchase.order_no.in_(orders), Purchase.category.in_(list(categories)),
                Purchase.purchased_at >= bindparam("oldest"),
            )
        )  # fmt: skip
    return found


def _maintenance_groups(
    session: Session, every: dict[str, int], *, today: date, last: date, oldest: datetime,
    before: timedelta, years: int, zone: ZoneInfo, first_due: date | None = None,
    above: int | None = None,
) -> list[tuple[int, int, str, datetime, str, str, bool]]:  # fmt: skip
    """The (first line, customer, category, start, least item, order) of each order's
    lines of one interval category, within `years`, for the orders one of whose lines
    started in a range that can make a service day due from `today` to `last` + `before`.

    The start of an order's category is its lines' earliest: that line is in a range, so
    the orders found by line, then read whole, hold every one a service day can fall due
    for. Lines by the (category, delivery, purchase) index: delivered ones by their
    delivery, the others by their purchase.

    `first_due` (an incremental run): only the service days from it on are looked for by
    range, and the orders with a line above the purchase id `above` (new since the last
    run) are read whatever their days; the last item of each group says it is one of
    those (its every service day in the window counts)."""
    found: set[tuple[int, str, str]] = set()
    fresh: set[tuple[int, str, str]] = set()
    conn = session.connection()  # driver rows: thousands a run, nothing converted but times
    if above is not None:
        fresh.update(
            (cid, order_no, category)
            for cid, order_no, category in conn.execute(
                select(Purchase.customer_id, Purchase.order_no, Purchase.category).where(
                    Purchase.id > above, Purchase.category.in_(list(every)),
                    Purchase.purchased_at >= oldest,
                )
            )
        )  # fmt: skip
        found.update(fresh)
    lowest = today if first_due is None else max(today, first_due)
    for category, interval in every.items():
        if lowest > last + before:
            break
        for lo, hi in _start_ranges(interval, years, lowest, last + before, zone):
            if hi <= oldest:
                continue
            for started in _STARTED:
                found.update(
                    (cid, order_no, category)
                    for cid, order_no in started.execute(
                        conn, {"category": category, "lo": lo, "hi": hi, "oldest": oldest}
                    )
                )
    orders = sorted({order_no for __, order_no, __c in found})
    groups: dict[tuple[int, str, str], list[Any]] = {}
    lines = _order_lines(tuple(every))
    for i in range(0, len(orders), CHUNK):
        for pid, cid, category, stored, item, order_no in lines.execute(
            conn, orders[i : i + CHUNK], {"oldest": oldest}
        ):
            group = (cid, order_no, category)
            if group not in found:
                continue
            at = stored_at(stored)
            seen = groups.get(group)
            if seen is None:
                groups[group] = [pid, at, item]
            else:
                seen[0], seen[1], seen[2] = min(seen[0], pid), min(seen[1], at), min(seen[2], item)
    return [
        (pid, cid, category, at, item, order_no, (cid, order_no, category) in fresh)
        for (cid, order_no, category), (pid, at, item) in groups.items()
    ]


def maintenance(
    session: Session, *, today: date, last: date, now: datetime, policy: MemberPolicy,
    zone: ZoneInfo, covered: date | None = None, above: int | None = None,
) -> list[CareCall]:  # fmt: skip
    """Reminders `days_before` a purchased product's service day, for the categories with
    an interval, over the purchases within `years`: only those whose start can make a
    service day due in the window are read (`_maintenance_groups`).

    An incremental run (the last run's window reached `covered` and it saw the purchases up
    to the id `above`; both or neither): the reminders of the days up to `covered` were
    made then, so only the days after it are read, and the orders with a newer line over
    the whole window. The caller drops the keys already made: what is left is what a full
    run would make."""
    every = dict(policy.service_intervals)
    if not every:
        return []
    before = timedelta(days=policy.service_days_before)
    oldest = now - timedelta(days=365 * policy.service_years + 1)
    first_due = None
    if covered is not None and above is not None:
        first_due = covered + before + timedelta(days=1)
    rows = _maintenance_groups(
        session, every, today=today, last=last, oldest=oldest, before=before,
        years=policy.service_years, zone=zone, first_due=first_due,
        above=above if first_due is not None else None,
    )  # fmt: skip
    out: list[CareCall] = []
    # Thousands of a day's orders share a few start days (the ranges read about a day of
    # starts per service number): each start day's due days are worked out once.
    dues: dict[tuple[date, int, date], list[tuple[date, str, str]]] = {}
    for pid, cid, category, at, item, order_no, fresh in rows:
        lowest = today if first_due is None or fresh else max(today, first_due)
        begun = _local(at, zone)
        interval = every[category]
        made = dues.get((begun, interval, lowest))
        if made is None:
            made = dues[begun, interval, lowest] = _due_days(
                begun, interval, policy.service_years, today=today, last=last,
                lowest=lowest, before=before,
            )  # fmt: skip
        for day, shown, since in made:
            out.append(CareCall(
                key=f"maintenance:{pid}:{shown}", kind=CallbackKind.MAINTENANCE,
                customer_id=cid, day=day,
                reason=(f"{item} (order {order_no}, since {since}) is due for "
                        f"service or renewal on {shown}"),
            ))  # fmt: skip
    out.sort(key=lambda c: (c.day, c.key))
    return out


def _due_days(
    begun: date, interval: int, years: int, *, today: date, last: date, lowest: date,
    before: timedelta,
) -> list[tuple[date, str, str]]:  # fmt: skip
    """A product's reminders from a start day: (the day it is called, the service day as
    text, the start day as text) of each service day from `lowest` whose reminder falls by
    `last` (called `today` at the earliest)."""
    made = []
    # service_days from the first that is not before today (the earlier are passed).
    skip = max(0, (today - begun).days // interval - 1)
    for due in service_days(begun, interval, years, skip=skip):
        day = due - before
        if day > last:
            break
        if due < lowest:
            continue
        # %Y-%m-%d, without strftime's cost (50,000 a day)
        made.append((max(day, today), due.isoformat(), begun.isoformat()))
    return made


# -- routine --------------------------------------------------------------------------------


def routine_months(policy: MemberPolicy, upto: int) -> Iterable[int]:
    """The months after joining a routine call falls in: every `first_year_months` in the
    first year, every `after_months` after, up to `upto`."""
    n = policy.routine_first_year_months
    while n <= min(12, upto):
        yield n
        n += policy.routine_first_year_months
    n = 12 + policy.routine_after_months
    while n <= upto:
        yield n
        n += policy.routine_after_months


def _days_of_month(today: date, last: date) -> list[int]:
    """The days of the month a joining day may have for a routine call due in
    today..last: a day wider each side (the database's day is UTC's), and every day from the
    28th when the window holds a month's end (a 31st is called on a shorter month's last)."""
    days: set[int] = set()
    day = today - timedelta(days=1)
    while day <= last + timedelta(days=1):
        days.add(day.day)
        if (day + timedelta(days=1)).day == 1:
            days.update(range(28, 32))
        day += timedelta(days=1)
    return sorted(days)


FEW_DAYS = 7
"""Up to this many days of the month (a day's run reads three, seven at a month's end),
the customers who joined on one of them are found by a range per month of the joining
index (which holds the tier: migration 0039); more (a full run's window), by reading every
customer."""


def _joined_within(
    session: Session, days: Sequence[int], today: date, last: date, zone: ZoneInfo
) -> tuple[Any, ...]:
    """A condition on the joining time that holds for every customer whose local joining
    day (in `zone`) can have a routine call due in today..last: per month since the first
    customer joined, the local days of the window (and from the window's month's last day
    to the 31st: a 31st is called on a shorter month's last), as UTC instants two hours
    wider each side (a clock change), so the joining index reads about the window's days of
    each month. None (every customer is read) for more than FEW_DAYS `days` (the UTC days
    of the month the caller tests), or no customer."""
    if not days or len(days) > FEW_DAYS:
        return ()
    oldest = session.execute(select(func.min(Customer.created_at))).scalar()
    newest = session.execute(select(func.max(Customer.created_at))).scalar()
    if oldest is None or newest is None:
        return ()
    local: set[int] = set()
    day = today
    while day <= last:
        local.add(day.day)
        if (day + timedelta(days=1)).day == 1:
            local.update(range(day.day, 32))
        day += timedelta(days=1)
    if not local:  # an empty window: no call falls in it
        return (false(),)
    runs: list[list[int]] = []
    for d in sorted(local):
        if runs and d == runs[-1][1] + 1:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    spans = []
    # A month before the first joining and after the last: a local day may be in the
    # month next to its UTC one.
    year, month = (oldest.year - 1, 12) if oldest.month == 1 else (oldest.year, oldest.month - 1)
    end = (newest.year + 1, 1) if newest.month == 12 else (newest.year, newest.month + 1)
    while (year, month) <= end:
        first = date(year, month, 1)
        for lo, hi in runs:  # local midnights (a day past the month's end spills over)
            start = datetime.combine(first + timedelta(days=lo - 1), time(), tzinfo=zone)
            stop = datetime.combine(first + timedelta(days=hi), time(), tzinfo=zone)
            spans.append(Customer.created_at.between(
                start.astimezone(UTC) - _SLACK, stop.astimezone(UTC) + _SLACK
            ))  # fmt: skip
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return (or_(*spans),)


def routine(
    session: Session, *, today: date, last: date, policy: MemberPolicy, zone: ZoneInfo,
    where: Sequence[Any] = (),
) -> list[CareCall]:  # fmt: skip
    """Routine calls due in today..last to the customers of the routine tiers: read only
    those whose joining day of the month can fall in the window (`where`: more conditions
    on the customer)."""
    if not policy.routine_tiers:
        return []
    joined_day = func.extract("day", Customer.created_at)
    days = _days_of_month(today, last)
    rows = session.connection().execute(
        select(Customer.id, Customer.created_at).where(
            Customer.tier.in_(list(policy.routine_tiers)),
            joined_day.in_(days),
            *(where or _joined_within(session, days, today, last, zone)),
        )
    ).all()
    # A call's month is the joining month's + n: only the window's months can hold one.
    months = range(today.year * 12 + today.month - 1, last.year * 12 + last.month)
    joined_days = [(cid, _local(created, zone)) for cid, created in rows]
    oldest = min((j.year * 12 + j.month - 1 for __, j in joined_days), default=months[-1])
    called = set(routine_months(policy, months[-1] - oldest))
    out: list[CareCall] = []
    for cid, joined in joined_days:
        for n in (m - joined.year * 12 - joined.month + 1 for m in months):
            if n not in called:
                continue
            due = months_after(joined, n)
            if today <= due <= last:
                out.append(CareCall(
                    key=f"routine:{cid}:{ymd(due)}", kind=CallbackKind.ROUTINE,
                    customer_id=cid, day=due,
                    reason=f"routine care call, month {n} since joining on {ymd(joined)}",
                ))  # fmt: skip
    out.sort(key=lambda c: (c.day, c.key))
    return out
