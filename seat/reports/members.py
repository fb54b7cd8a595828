"""The member analysis (会员数据分析) for the screen and `seat report members`.

Over local dates from..to (both included), month by month:

- new members: customers whose first purchase ever falls in the month;
- active members: customers who bought within the churn period (policy/members.toml
  `[churn] after_days`) before the month's end, i.e. members in good standing then;
- churned members: customers who were active during the month and whose last purchase before
  the month's end is more than the churn period old by then (they crossed the line in the
  month: "no purchase for 3 months");
- the churn rate: churned / active at the month's start.

And over the whole range, for the customers who bought in it: spend bands (the policy's
`[report] spend_bands`), gender and age (at the range's last day, `age_bands`) distributions
and the top spenders. Months, days and ages are the desk's local ones.

The purchases are read once (customer, day) from the range's start less the churn period;
each customer's days are walked once against the months (a pointer, not a search).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from seat import labels, members
from seat.config import Settings
from seat.export import Table
from seat.i18n import N_
from seat.models import Customer, Purchase

MONTH_HEADERS = [
    N_("Month"), N_("New members"), N_("Active at start"), N_("Active members"),
    N_("Churned members"), N_("Churn rate %"), N_("Buyers"), N_("Spend"),
]  # fmt: skip
UNKNOWN = N_("unknown")


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

    new = [0] * len(starts)
    active_start = [0] * len(starts)
    active = [0] * len(starts)
    churned = [0] * len(starts)
    buyers = [0] * len(starts)
    spend_month = [0.0] * len(starts)

    # New members: the first purchase ever, in the range.
    firsts = (
        select(func.min(Purchase.purchased_at).label("first"))
        .group_by(Purchase.customer_id)
        .subquery()
    )
    for (first,) in session.execute(
        select(firsts.c.first).where(
            firsts.c.first >= utc(range_start), firsts.c.first < utc(range_end)
        )
    ):
        day = _aware(first).astimezone(zone).date().toordinal()
        for i, (s, e) in enumerate(bounds):
            if s <= day < e:
                new[i] += 1
                break

    # Each customer's purchase days from the range's start less the churn period.
    rows = session.execute(
        select(Purchase.customer_id, Purchase.purchased_at, Purchase.amount)
        .where(
            Purchase.purchased_at >= utc(range_start - period),
            Purchase.purchased_at < utc(range_end),
        )
        .order_by(Purchase.customer_id, Purchase.purchased_at)
        .execution_options(yield_per=20_000)
    )
    spent: dict[int, float] = {}
    current: int | None = None
    days: list[int] = []
    amounts: list[float] = []

    def walk(days: list[int], amounts: list[float]) -> None:
        j = 0  # days[j] is the first purchase on or after the month's start
        n = len(days)
        for i, (s, e) in enumerate(bounds):
            while j < n and days[j] < s:
                j += 1
            last_before_start = days[j - 1] if j else None
            k = j
            month_spend = 0.0
            while k < n and days[k] < e:
                month_spend += amounts[k]
                k += 1
            last_before_end = days[k - 1] if k else None
            was_active = last_before_start is not None and last_before_start >= s - period
            now_active = last_before_end is not None and last_before_end >= e - period
            if was_active:
                active_start[i] += 1
            if now_active:
                active[i] += 1
            elif last_before_end is not None and last_before_end + period >= s:
                churned[i] += 1  # active at some day of the month, not at its end
            if k > j:
                buyers[i] += 1
                spend_month[i] += month_spend

    zone_day = _day_of(zone)
    for cid, at, amount in rows:
        if cid != current:
            if days:
                walk(days, amounts)
            current, days, amounts = cid, [], []
        day = zone_day(at)
        days.append(day)
        amounts.append(amount or 0.0)
        if range_start <= day < range_end:
            spent[cid] = spent.get(cid, 0.0) + (amount or 0.0)
    if days:
        walk(days, amounts)

    months = tuple(
        MonthRow(first, new[i], active_start[i], active[i], churned[i], buyers[i],
                 round(spend_month[i], 2))
        for i, first in enumerate(starts)
    )  # fmt: skip
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
    genders, ages = _people(session, spent, date_to, policy)
    top = _top(session, spent, policy.top, utc(range_start), utc(range_end))
    return MemberAnalysis(
        date_from=date_from, date_to=date_to, churn_after_days=period, months=months,
        spend_bands=spend_bands, genders=genders, ages=ages, top=top, buyers=len(spent),
        spend=round(sum(spent.values()), 2),
    )  # fmt: skip


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _day_of(zone: ZoneInfo) -> Callable[[datetime], int]:
    """A stored time's local day number; a fixed offset is taken once when the zone has no
    daylight saving time in sight (Asia/Shanghai), else per time."""
    offsets = {zone.utcoffset(datetime(y, m, 1)) for y in (2000, 2026) for m in (1, 7)}
    if len(offsets) == 1:
        shift = offsets.pop() or timedelta(0)

        def fixed(at: datetime) -> int:
            return (at + shift).toordinal()

        return fixed

    def each(at: datetime) -> int:
        return _aware(at).astimezone(zone).toordinal()

    return each


def _people(
    session: Session, spent: dict[int, float], day: date, policy: members.MemberPolicy
) -> tuple[tuple[Band, ...], tuple[Band, ...]]:
    """The buyers' genders and ages (at `day`)."""
    genders: Counter[str] = Counter()
    ages: Counter[int] = Counter()
    age_names = age_labels(policy.age_bands)
    ids = sorted(spent)
    for i in range(0, len(ids), 5_000):
        chunk = ids[i : i + 5_000]
        for gender, born in session.execute(
            select(Customer.gender, Customer.birthday).where(Customer.id.in_(chunk))
        ):
            genders[gender if gender in labels.GENDERS else UNKNOWN] += 1
            if born is None:
                ages[-1] += 1
            else:
                ages[_band(policy.age_bands, members.age_on(born, day))] += 1
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


# -- tables ---------------------------------------------------------------------------------


def month_table(data: MemberAnalysis) -> Table:
    rows = [
        [f"{m.month:%Y-%m}", m.new, m.active_start, m.active, m.churned,
         m.churn_rate if m.churn_rate is not None else "", m.buyers, m.spend]
        for m in data.months
    ]  # fmt: skip
    return Table(
        N_("Members per month"), list(MONTH_HEADERS), rows,
        meta={"churn after days": data.churn_after_days},
    )  # fmt: skip


def spend_table(data: MemberAnalysis) -> Table:
    return Table(
        N_("Spend bands"), [N_("Spend band"), N_("Customers"), N_("Spend")],
        [[b.label, b.customers, b.spend] for b in data.spend_bands],
    )  # fmt: skip


def gender_table(data: MemberAnalysis) -> Table:
    return Table(
        N_("Gender"), [N_("Gender"), N_("Customers")],
        [[labels.GENDERS.get(b.label, b.label), b.customers] for b in data.genders],
        label_columns=(0,),
    )  # fmt: skip


def age_table(data: MemberAnalysis) -> Table:
    return Table(
        N_("Age"), [N_("Age"), N_("Customers")],
        [[b.label, b.customers] for b in data.ages], label_columns=(0,),
    )  # fmt: skip


def top_table(data: MemberAnalysis) -> Table:
    return Table(
        N_("Top spenders"),
        [N_("Customer #"), N_("Name"), N_("Tier"), N_("Orders"), N_("Spend")],
        [[s.customer_id, s.name, labels.TIERS.get(s.tier, s.tier), s.orders, s.spend]
         for s in data.top],
        label_columns=(2,),
    )  # fmt: skip


def tables_of(data: MemberAnalysis, *, now: datetime, zone: str) -> list[Table]:
    out = [month_table(data), spend_table(data), gender_table(data), age_table(data),
           top_table(data)]  # fmt: skip
    for table in out:
        table.meta = {**table.meta, "from": data.date_from, "to": data.date_to, "as of": now,
                      "zone": zone}  # fmt: skip
    return out


def tables(
    *, session: Session, date_from: date, date_to: date, settings: Settings, now: datetime
) -> list[Table]:
    """`seat report members`: the five tables of the analysis."""
    policy = members.load_policy(settings)
    data = analyse(session=session, date_from=date_from, date_to=date_to, settings=settings,
                   now=now, policy=policy)  # fmt: skip
    return tables_of(data, now=now, zone=settings.local_timezone)
