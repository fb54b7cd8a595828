"""The member analysis as it was computed before one statement per customer read its stretches:
one DISTINCT statement per stretch between the months' edges, each customer's first purchase as
a time. Kept as the reference the report is checked against (tests/unit/test_member_report_same.py);
not used by the seat. Only `analyse` and what it needs are kept."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, CursorResult, Dialect, and_, case, func, select
from sqlmodel import Session

from seat import labels, members
from seat.config import Settings
from seat.i18n import N_
from seat.models import (
    Callback,
    CallbackKind,
    CallbackStatus,
    Customer,
    Purchase,
)

MONTH_HEADERS = [
    N_("Month"), N_("New members"), N_("Active at start"), N_("Active members"),
    N_("Churned members"), N_("Churn rate %"), N_("Buyers"), N_("Spend"),
]  # fmt: skip
UNKNOWN = N_("unknown")
RAW_BATCH = 20_000  # rows read from the driver at a time


@dataclass(frozen=True)
class MonthRow:
    month: date  # the first day of the month
    new: int
    active_start: int
    active: int
    churned: int
    buyers: int
    spend: float

    @property
    def churn_rate(self) -> float | None:
        """Churned of those active at the month's start, in percent (None: nobody was)."""
        if not self.active_start:
            return None
        return round(100 * self.churned / self.active_start, 1)


@dataclass(frozen=True)
class Band:
    label: str  # English, stable (json/csv); N_-marked words ("unknown") are translated
    customers: int
    spend: float = 0.0


@dataclass(frozen=True)
class Spender:
    customer_id: int
    name: str
    tier: str
    orders: int
    spend: float


@dataclass(frozen=True)
class MemberAnalysis:
    date_from: date
    date_to: date
    churn_after_days: int
    months: tuple[MonthRow, ...]
    spend_bands: tuple[Band, ...]
    genders: tuple[Band, ...]
    ages: tuple[Band, ...]
    top: tuple[Spender, ...]
    buyers: int
    spend: float
    reasons: tuple[Band, ...] = ()
    """Why churned members stopped buying: the churned-member callbacks done in the range,
    per reason recorded on the call (every ChurnReason, and "not recorded" when any)."""


def _month_starts(date_from: date, date_to: date) -> list[date]:
    first = date_from.replace(day=1)
    out = []
    while first <= date_to:
        out.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return out


def _money(value: float) -> str:
    return f"{value:,.0f}"


def band_labels(bounds: tuple[float, ...]) -> list[str]:
    """'0-500', '500-2,000', ..., '50,000+' for bounds (0, 500, 2000, ..., 50000)."""
    out = [f"{_money(lo)}-{_money(hi)}" for lo, hi in zip(bounds, bounds[1:], strict=False)]
    return [*out, f"{_money(bounds[-1])}+"]


def age_labels(bounds: tuple[float, ...]) -> list[str]:
    """'0-24', '25-34', ..., '65+' for bounds (0, 25, 35, ..., 65)."""
    out = [f"{int(lo)}-{int(hi) - 1}" for lo, hi in zip(bounds, bounds[1:], strict=False)]
    return [*out, f"{int(bounds[-1])}+"]


def _band(bounds: tuple[float, ...], value: float) -> int:
    """The band a value falls in (below the first bound: the first band)."""
    return max(0, bisect_left(bounds, value + 1e-9) - 1)


def analyse(
    *, session: Session, date_from: date, date_to: date, settings: Settings, now: datetime,
    policy: members.MemberPolicy,
) -> MemberAnalysis:  # fmt: skip
    zone = ZoneInfo(settings.local_timezone)
    today = now.astimezone(zone).date()
    period = policy.churn_after_days
    starts = _month_starts(date_from, date_to)
    # Each month clipped to the range, as local day numbers [s, e), never past today.
    last_day = min(date_to, today).toordinal() + 1
    bounds = []
    for first in starts:
        nxt = (first + timedelta(days=32)).replace(day=1)
        s = max(first, date_from).toordinal()
        e = min(nxt.toordinal(), date_to.toordinal() + 1, last_day)
        bounds.append((s, max(e, s)))
    range_start, range_end = date_from.toordinal(), max(bounds[-1][1], date_from.toordinal())

    def utc(day: int) -> datetime:
        return datetime.combine(date.fromordinal(day), time.min, tzinfo=zone).astimezone(UTC)

    at, cid = Purchase.purchased_at, Purchase.customer_id

    # Who bought when, to the day: between consecutive days any count compares a purchase
    # with (each month's start and end, and those less the churn period), the customers who
    # bought, one indexed statement per stretch; each customer's stretches as the bits of a
    # number; customers counted per pattern of stretches. A count is then a sum over the
    # patterns, never a statement over the purchases again (a year: 25 such statements took
    # most of the report's time).
    edges = sorted({d for s, e in bounds for d in (s - period, s, e - period, e)})
    seen: dict[int, int] = {}
    run = session.connection().execute  # Core, read raw: a million plain ids
    for i, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False)):
        bit = 1 << i
        # Read from the driver's cursor: SQLAlchemy's rows cost more than the statement
        # (4.5 s -> 3.0 s of CPU for a year on the bench desk). Plain ids told apart in
        # Python instead of DISTINCT: 10 % slower.
        stretch = select(cid).where(at >= utc(lo), at < utc(hi)).distinct()
        for customer in chain.from_iterable(_raw_rows(run(stretch))):
            seen[customer] = seen.get(customer, 0) | bit
    patterns = Counter(seen.values())

    def stretches(lo: int, hi: int) -> int:
        """The bits of the stretches from day `lo` to `hi` (exclusive; both are edges)."""
        return (1 << edges.index(hi)) - (1 << edges.index(lo))

    def buyers_between(lo: int, hi: int) -> int:
        if hi <= lo:
            return 0
        bits = stretches(lo, hi)
        return sum(n for mask, n in patterns.items() if mask & bits)

    def churned_in(s: int, e: int) -> int:
        """Bought in [s - period, e - period) and not in [e - period, e)."""
        if e <= s:
            return 0
        before, after = stretches(s - period, e - period), stretches(e - period, e)
        return sum(n for mask, n in patterns.items() if mask & before and not mask & after)

    # Per customer, in one statement grouped in the order of ix_purchase_customer_at (it
    # holds the amount, migration 0032): the first purchase ever (when in the range), the
    # spend in the range, and from the customer's row gender and birthday. Three statements
    # (the spend grouped by a sort, the buyers' people by a lookup per customer) took twice
    # as long.
    start, end = utc(range_start), utc(range_end)
    in_range = and_(at >= start, at < end)
    earliest = func.min(at)
    per = (
        select(
            cid.label("customer_id"),
            case((and_(earliest >= start, earliest < end), earliest)).label("first"),
            func.sum(case((in_range, Purchase.amount))).label("spent"),
        )
        .group_by(cid)
        .subquery()
    )
    dialect = session.get_bind().dialect
    as_time = _reader(Purchase.__table__.c.purchased_at, dialect)  # type: ignore[attr-defined]
    first_times: list[datetime] = []
    spent: dict[int, float] = {}
    people: Counter[tuple[Any, Any]] = Counter()
    for customer, began, total, gender, born in _raw_rows(run(
        select(per.c.customer_id, per.c.first, per.c.spent, Customer.gender, Customer.birthday)
        .join(Customer, Customer.id == per.c.customer_id)
    )):  # fmt: skip
        if began is not None:
            first_times.append(_aware(as_time(began)))
        if total is not None:
            spent[customer] = float(total)
            people[gender, born] += 1
    active_at: dict[int, int] = {}  # a day -> those who bought within the period before it

    def active_on(day: int) -> int:
        if day not in active_at:
            active_at[day] = buyers_between(day - period, day)
        return active_at[day]

    months = []
    for first, (s, e) in zip(starts, bounds, strict=True):
        lo, hi = utc(s), utc(e)
        spend = session.execute(
            select(func.coalesce(func.sum(Purchase.amount), 0.0)).where(at >= lo, at < hi)
        ).scalar_one()
        months.append(MonthRow(
            first,
            new=sum(1 for t in first_times if lo <= t < hi),
            active_start=active_on(s),
            active=active_on(e),
            churned=churned_in(s, e),
            buyers=buyers_between(s, e),
            spend=round(float(spend), 2) if e > s else 0.0,
        ))  # fmt: skip

    spend_labels = band_labels(policy.spend_bands)
    band_count: Counter[int] = Counter()
    band_spend: Counter[int] = Counter()
    for value in spent.values():
        b = _band(policy.spend_bands, value)
        band_count[b] += 1
        band_spend[b] += value
    spend_bands = tuple(
        Band(label, band_count[i], round(float(band_spend[i]), 2))
        for i, label in enumerate(spend_labels)
    )
    as_day = _reader(Customer.__table__.c.birthday, dialect)  # type: ignore[attr-defined]
    genders, ages = _people(
        Counter({(g, as_day(b)): n for (g, b), n in people.items()}), date_to, policy
    )
    top = _top(session, spent, policy.top, utc(range_start), utc(range_end))
    reasons = _churn_reasons(session, utc(range_start), utc(range_end))
    return MemberAnalysis(
        date_from=date_from, date_to=date_to, churn_after_days=period, months=tuple(months),
        spend_bands=spend_bands, genders=genders, ages=ages, top=top, buyers=len(spent),
        spend=round(sum(spent.values()), 2), reasons=reasons,
    )  # fmt: skip


NOT_RECORDED = N_("not recorded")


def _churn_reasons(session: Session, start: datetime, end: datetime) -> tuple[Band, ...]:
    """The churned-member callbacks done in [start, end), counted per reason (one grouped
    statement)."""
    found: Counter[str] = Counter()
    for reason, n in session.execute(
        select(Callback.churn_reason, func.count())
        .where(
            Callback.kind == CallbackKind.CHURNED,
            Callback.status == CallbackStatus.DONE,
            Callback.done_at >= start,
            Callback.done_at < end,
        )
        .group_by(Callback.churn_reason)
    ):
        found[reason if reason in labels.CHURN_REASONS else NOT_RECORDED] += n
    rows = tuple(Band(code, found[code]) for code in labels.CHURN_REASONS)
    if found[NOT_RECORDED]:
        rows += (Band(NOT_RECORDED, found[NOT_RECORDED]),)
    return rows


def _reader(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """What SQLAlchemy does to a raw value of `column` read from the driver (SQLite: text
    to a date or time; PostgreSQL: nothing)."""
    process = column.type.dialect_impl(dialect).result_processor(dialect, None)
    if process is None:
        return lambda value: value
    return lambda value: None if value is None else process(value)


def _raw_rows(result: CursorResult[Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of a result as the driver gives them (its DBAPI cursor), a batch at a time:
    SQLAlchemy's rows cost more than the statement at hundreds of thousands."""
    try:
        while batch := result.cursor.fetchmany(RAW_BATCH):
            yield from batch
    finally:
        result.close()


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _people(
    counted: Counter[tuple[str | None, date | None]], day: date, policy: members.MemberPolicy
) -> tuple[tuple[Band, ...], tuple[Band, ...]]:
    """The genders and ages (at `day`) of the buyers counted per (gender, birthday)."""
    genders: Counter[str] = Counter()
    ages: Counter[int] = Counter()
    age_names = age_labels(policy.age_bands)
    for (gender, born), n in counted.items():
        genders[gender if gender in labels.GENDERS else UNKNOWN] += n
        if born is None:
            ages[-1] += n
        else:
            ages[_band(policy.age_bands, members.age_on(born, day))] += n
    gender_rows = tuple(
        Band(code, genders[code]) for code in (*labels.GENDERS, UNKNOWN) if genders[code]
    )
    age_rows = tuple(Band(name, ages[i]) for i, name in enumerate(age_names))
    if ages[-1]:
        age_rows += (Band(UNKNOWN, ages[-1]),)
    return gender_rows, age_rows


def _top(
    session: Session, spent: dict[int, float], n: int, start: datetime, end: datetime
) -> tuple[Spender, ...]:
    best = sorted(spent.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    if not best:
        return ()
    ids = [cid for cid, __ in best]
    people = {
        row.id: row
        for row in session.execute(
            select(Customer.id, Customer.name, Customer.tier).where(Customer.id.in_(ids))
        )
    }
    orders = dict(
        session.execute(  # type: ignore[arg-type]
            select(Purchase.customer_id, func.count(func.distinct(Purchase.order_no)))
            .where(Purchase.customer_id.in_(ids), Purchase.purchased_at >= start,
                   Purchase.purchased_at < end)
            .group_by(Purchase.customer_id)
        ).all()
    )  # fmt: skip
    return tuple(
        Spender(cid, people[cid].name, people[cid].tier, orders.get(cid, 0), round(spend, 2))
        for cid, spend in best
        if cid in people
    )
