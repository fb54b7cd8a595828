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

One statement grouped in customer order (ix_purchase_customer_at, which holds the amount)
reads the purchases once and gives, per customer, the stretches between consecutive days the
months' counts compare with in which the customer bought (as the bits of a number, and a bit
for "bought before them"), the spend in the range, gender and birthday; new, active and
churned members are counted from those bits in Python, per pattern of bits. The rows are read
from the driver's cursor (`_raw_batches`), not made into SQLAlchemy rows. On SQLite with two
cores the statement is run per run of customer ids (PARTS) by two connections at once, each in
a thread (sqlite3 lets go of the GIL while a statement steps), the second reading the same
snapshot as the session (`seat.db.snapshot_twin`); the runs are put together in customer order.
Each month's spend is its whole hours' amounts kept in `purchase_hour` (migration 0063) added
up, plus the purchases of an hour cut by its edges read live.
"""

from __future__ import annotations

import heapq
import sys
import threading
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import compress, repeat
from operator import ge, is_not, itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    CursorResult,
    Dialect,
    LargeBinary,
    case,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op
from sqlmodel import Session

from seat import care, labels, members
from seat.config import Settings
from seat.db import snapshot_twin
from seat.export import Table
from seat.i18n import N_
from seat.models import (
    Callback,
    CallbackKind,
    CallbackStatus,
    Customer,
    PhoneNumber,
    Purchase,
    PurchaseHour,
)

MONTH_HEADERS = [
    N_("Month"), N_("New members"), N_("Active at start"), N_("Active members"),
    N_("Churned members"), N_("Churn rate %"), N_("Buyers"), N_("Spend"),
]  # fmt: skip
UNKNOWN = N_("unknown")
SECONDS_INDEX = "ix_purchase_customer_second"  # SQLite (migration 0043)
SECONDS = "CAST(strftime('%s', substr(purchase.purchased_at, 1, 19)) AS INTEGER)"
"""A purchase's time in whole seconds since 1970, as that index holds it (the same text)."""
ISO_DAY = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"  # a date as SQLite keeps it
RAW_BATCH = 20_000  # rows read from the driver at a time
MASK_BITS = 60  # stretches a column of bits holds (a signed 64-bit sum)
PARTS = 8
"""Runs of customer ids the purchases are read in when two connections share the work (each
takes the next run when done with one: one slower thread does not hold the other up)."""


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
    # On SQLite with a second core, the purchases are read by two connections at once, each
    # in a thread of its own (sqlite3 lets go of the GIL while a statement steps): the
    # session's and one more that reads the same snapshot (seat.db.snapshot_twin), or one mixing
    # two states of the file could count a purchase moved by a merge in between twice.
    other = snapshot_twin(session)
    try:
        return _analysis(session, other, date_from=date_from, date_to=date_to,
                         settings=settings, now=now, policy=policy)  # fmt: skip
    finally:
        if other is not None:
            other.close()


def _analysis(
    session: Session, other: Connection | None, *, date_from: date, date_to: date,
    settings: Settings, now: datetime, policy: members.MemberPolicy,
    cuts: list[int] | None = None,
) -> MemberAnalysis:  # fmt: skip
    """The analysis, the purchases read in runs of customer ids split at `cuts` (None: at
    PARTS - 1 even cuts when `other` is given, else not split), by the session's connection
    and, when given, `other` (the same snapshot) in a second thread."""
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
    dialect = session.get_bind().dialect
    # The time as the per-purchase comparisons below read it: on SQLite without the column's
    # NUMERIC affinity (`+purchased_at`, the same text compared with the same text), else
    # each comparison first tries to make a number of its text bound (a quarter of the
    # statement's time); it reads no index, only rows already read. PostgreSQL: the column.
    bare: Any = at
    if dialect.name == "sqlite":
        bare = UnaryExpression(at.expression, operator=custom_op("+"), type_=at.type)
    # The time and the days' edges as the statement below compares them; on SQLite with the
    # index of whole seconds (migration 0043) a purchase's time is its whole seconds since
    # 1970 read from that index and the edges are whole seconds too: numbers compared, not
    # texts (a fifth of the statement's time). floor(t) < E is t < E for a whole E.
    key: Any = bare
    edge: Callable[[int], Any] = utc
    source: Any = Purchase.__table__
    amount: Any = Purchase.amount
    if dialect.name == "sqlite" and _has_index(session, SECONDS_INDEX):
        key = literal_column(SECONDS, BigInteger)
        source = sql_text(f"purchase INDEXED BY {SECONDS_INDEX}")
        cid, amount = literal_column("purchase.customer_id"), literal_column("purchase.amount")

        def edge(day: int) -> int:
            return int(utc(day).timestamp())

    # Who bought when, to the day: between consecutive days any count compares a purchase
    # with (each month's start and end, and those less the churn period), the stretches, each
    # customer's as the bits of a number (bit i: bought in [edges[i], edges[i + 1])), and one
    # more bit past them: bought before the first edge (so "the first purchase ever falls in
    # the month" is a test of the bits too). Customers are counted per pattern of bits; a
    # count is a sum over the patterns. The bits come from the one statement below that reads
    # each customer's purchases in customer order: a stretch number per purchase, their
    # distinct sum (one DISTINCT statement per stretch over the time index read the window's
    # purchases once more, and made a Python dictionary of 700,000 ids: most of the time).
    edges = sorted({d for s, e in bounds for d in (s - period, s, e - period, e)})
    count = len(edges) - 1  # stretches; bit `count`: bought before edges[0]
    marks = {day: i for i, day in enumerate(edges)}

    def stretches(lo: int, hi: int) -> int:
        """The bits of the stretches from day `lo` to `hi` (exclusive; both are edges)."""
        return (1 << marks[hi]) - (1 << marks[lo])

    def stretch_bit(lo: int, hi: int, base: int) -> Any:
        """The bit (less `base`) of the stretch a purchase in [edges[lo], edges[hi]) falls
        in, by halves: a few comparisons a purchase, not one per stretch."""
        if hi - lo == 1:
            return literal(1 << (lo - base), BigInteger)
        mid = (lo + hi) // 2
        return case(
            (key < edge(edges[mid]), stretch_bit(lo, mid, base)),
            else_=stretch_bit(mid, hi, base),
        )

    # The bits as columns of up to MASK_BITS (a 64-bit number on both databases; a range of
    # more than two years has more than one): a column is the OR of the purchases' bits (on
    # SQLite, which has no bit_or, their distinct sum: each purchase gives one bit), the bit
    # "before the first edge" given by the purchases before it in the column that holds bit
    # `count`. The statement reads no purchase from the range's end on (those count nowhere:
    # a customer who bought only then has no bit and no spend, and is no buyer), so a
    # purchase's bit is found from its lower edges alone, and the spend in the range by one
    # comparison (the first purchase as a min() over every purchase cost a step per row).
    before_bit = 1 << count
    combine: Any = func.bit_or if dialect.name == "postgresql" else (
        lambda value: func.sum(distinct(value))
    )  # fmt: skip
    masks = []
    for lo in range(0, count + 1, MASK_BITS):
        hi = min(lo + MASK_BITS, count)
        whens = []
        if lo < hi:
            bits = stretch_bit(lo, hi, lo)
            if hi < count:  # a later column holds the purchases from edges[hi] on
                bits = case((key < edge(edges[hi]), bits))
            whens.append((key >= edge(edges[lo]), bits))
        before: Any = None
        if lo <= count < lo + MASK_BITS:
            before = literal(1 << (count - lo), BigInteger)
            if lo:  # purchases from edges[0] to edges[lo] give no bit of this column
                whens.append((key < edge(edges[0]), before))
                before = None
        masks.append(cast(func.coalesce(combine(case(*whens, else_=before)), 0), BigInteger))

    # Per customer, in one statement grouped in the order of ix_purchase_customer_at (it
    # holds the amount, migration 0032): the bits, the spend in the range, and from the
    # customer's row gender and birthday (on SQLite as bytes: made text once per pair below,
    # not 400,000 times by the connection's text factory). Read in runs of customer ids when
    # two connections share the work: a statement a run, each run's customers in order.
    def per_customer(lo: int | None, hi: int | None) -> Any:
        """The customers from id `lo` to `hi` (excluded; None: no bound)."""
        where = [key < edge(range_end)]
        if lo is not None:
            where.append(cid >= lo)
        if hi is not None:
            where.append(cid < hi)
        return (
            select(
                cid.label("customer_id"),
                # FILTER, not a CASE inside the sum: the purchases before the range (half of
                # them on a year's report) skip the sum's step instead of adding a NULL.
                func.sum(amount).filter(key >= edge(range_start)).label("spent"),
                *(mask.label(f"mask{i}") for i, mask in enumerate(masks)),
            )
            .select_from(source)
            .where(*where)
            .group_by(cid)
            .subquery()
        )

    connection = session.connection()
    text = _text_of(connection.connection.dbapi_connection) if dialect.name == "sqlite" else None
    gender: Any = Customer.gender
    born: Any = Customer.birthday
    # The buyers' ages are counted per age band: the statement gives a birthday's band (the
    # days each band's birthdays run to at the range's last day, worked out here with the
    # same age and band functions), a small number, not a birthday each to make a date of
    # and count. On SQLite a gender on the list is its number on it (what a gender reads as
    # is counted); any other gender and a birthday not written as YYYY-MM-DD come as bytes,
    # made text (and a date) as before.
    steps = _age_steps(policy.age_bands, date_to)
    if text is not None:
        kept = UnaryExpression(born.expression, operator=custom_op("+"), type_=born.type)
        gender = case(
            {code: i for i, code in enumerate(labels.GENDERS)}, value=gender,
            else_=cast(gender, LargeBinary),
        )  # fmt: skip
        if steps is None:
            born = cast(born, LargeBinary)
        else:
            born = case(
                (kept.op("GLOB")(ISO_DAY), _age_band(kept, steps)),
                else_=cast(born, LargeBinary),
            )  # fmt: skip
    elif steps is not None:
        born = case((born.is_(None), None), else_=_age_band(born, steps))

    def rows_of(lo: int | None, hi: int | None) -> Any:  # Core, read raw: plain rows
        per = per_customer(lo, hi)
        return select(
            per.c.customer_id, per.c.spent, gender, born,
            *(per.c[f"mask{i}"] for i in range(len(masks))),
        ).join(Customer, Customer.id == per.c.customer_id)  # fmt: skip

    # Each customer's bits: one column (up to MASK_BITS) as 8 bytes a customer, written by
    # array in C; more columns as a pattern counted per customers who have it.
    one_column = len(masks) == 1

    def read(result: CursorResult[Any]) -> _Part:
        """A run's customers: the buyers (a spend in the range: not None) picked, their
        spends and their genders and age bands counted, by the C loops of compress, map and
        Counter: no Python statement per row. Genders and ages are counted apart."""
        part = _Part()
        for batch in _raw_batches(result):
            if one_column:
                part.bits.extend(map(itemgetter(4), batch))
            else:
                part.patterns.update(
                    sum(int(piece) << (i * MASK_BITS) for i, piece in enumerate(row[4:]))
                    for row in batch
                )
            buying = list(compress(batch, map(is_not, map(itemgetter(1), batch), repeat(None))))
            part.ids.extend(map(itemgetter(0), buying))
            part.spends.extend(map(float, map(itemgetter(1), buying)))
            part.genders.update(map(itemgetter(2), buying))
            part.births.update(map(itemgetter(3), buying))
        return part

    if cuts is None:
        cuts = [] if other is None else _cuts(connection, PARTS)
    runs = list(zip([None, *cuts], [*cuts, None], strict=True))
    parts = _read_runs(connection, other, [rows_of(lo, hi) for lo, hi in runs], read)
    # The runs put together in customer order (the spends added up as one statement's).
    spent: dict[int, float] = {}
    genders_of: Counter[Any] = Counter()
    births: Counter[Any] = Counter()
    bits_of = array("Q")
    patterns: Counter[int] = Counter()
    for part in parts:
        spent.update(zip(part.ids, part.spends, strict=True))
        genders_of.update(part.genders)
        births.update(part.births)
        bits_of.extend(part.bits)
        patterns.update(part.patterns)
    if text is not None:
        codes, as_text = list(labels.GENDERS), text

        def read(raw: Any) -> Any:  # a number as it is, bytes as the connection reads text
            return raw if raw is None or isinstance(raw, int) else as_text(raw)

        births = _counted_as(births, read)
        genders_of = _counted_as(
            genders_of, lambda raw: codes[raw] if isinstance(raw, int) else read(raw)
        )

    if one_column:
        if sys.byteorder != "little":
            bits_of.byteswap()
        who = _Who(bits_of.tobytes(), bits_of.itemsize, count + 1)
    else:
        who = _Who.of_patterns(patterns, count + 1)

    def buyers_between(lo: int, hi: int) -> int:
        if hi <= lo:
            return 0
        return who.any_of(stretches(lo, hi)).bit_count()

    def churned_in(s: int, e: int) -> int:
        """Bought in [s - period, e - period) and not in [e - period, e)."""
        if e <= s:
            return 0
        before, after = stretches(s - period, e - period), stretches(e - period, e)
        return (who.any_of(before) & ~who.any_of(after)).bit_count()

    def new_in(s: int, e: int) -> int:
        """The first purchase ever in [s, e): bought in it, never before s."""
        if e <= s:
            return 0
        inside, earlier = stretches(s, e), before_bit | stretches(edges[0], s)
        return (who.any_of(inside) & ~who.any_of(earlier)).bit_count()

    active_at: dict[int, int] = {}  # a day -> those who bought within the period before it

    def active_on(day: int) -> int:
        if day not in active_at:
            active_at[day] = buyers_between(day - period, day)
        return active_at[day]

    month_spends = _month_spends(session, [(utc(s), utc(e)) for s, e in bounds])
    months = []
    for first, (s, e), spend in zip(starts, bounds, month_spends, strict=True):
        months.append(MonthRow(
            first,
            new=new_in(s, e),
            active_start=active_on(s),
            active=active_on(e),
            churned=churned_in(s, e),
            buyers=buyers_between(s, e),
            spend=round(float(spend), 2) if e > s else 0.0,
        ))  # fmt: skip

    spend_labels = band_labels(policy.spend_bands)
    # _band inline (200,000 buyers): the same band, the spends added in the same order.
    spend_bounds = policy.spend_bands
    band_count = [0] * len(spend_labels)
    band_spend: list[float] = [0] * len(spend_labels)
    for value in spent.values():
        b = bisect_left(spend_bounds, value + 1e-9) - 1
        if b < 0:
            b = 0
        band_count[b] += 1
        band_spend[b] += value
    spend_bands = tuple(
        Band(label, band_count[i], round(float(band_spend[i]), 2))
        for i, label in enumerate(spend_labels)
    )
    as_day = _reader(Customer.__table__.c.birthday, dialect)  # type: ignore[attr-defined]
    births = _counted_as(births, lambda v: v if isinstance(v, int) else as_day(v))
    genders, ages = _people(genders_of, births, date_to, policy)
    top = _top(session, spent, policy.top, utc(range_start), utc(range_end))
    reasons = _churn_reasons(session, utc(range_start), utc(range_end))
    return MemberAnalysis(
        date_from=date_from, date_to=date_to, churn_after_days=period, months=tuple(months),
        spend_bands=spend_bands, genders=genders, ages=ages, top=top, buyers=len(spent),
        spend=round(sum(spent.values()), 2), reasons=reasons,
    )  # fmt: skip


@dataclass
class _Part:
    """What one run of customers gave (see _analysis): the buyers' ids and spends in customer
    order, their genders and age bands counted, every customer's bits."""

    ids: list[int] = field(default_factory=list)
    spends: list[float] = field(default_factory=list)
    genders: Counter[Any] = field(default_factory=Counter)
    births: Counter[Any] = field(default_factory=Counter)
    bits: array[int] = field(default_factory=lambda: array("Q"))
    patterns: Counter[int] = field(default_factory=Counter)


def _cuts(connection: Connection, parts: int) -> list[int]:
    """Customer ids cutting the purchases' customers into `parts` runs of ids about as wide
    (from the lowest and highest customer id of a purchase: two index look-ups; min and max
    in one SELECT would read the whole index)."""
    lo, hi = connection.execute(
        select(
            select(func.min(Purchase.customer_id)).scalar_subquery(),
            select(func.max(Purchase.customer_id)).scalar_subquery(),
        )
    ).one()
    if lo is None or hi is None or hi - lo < parts:
        return []
    return [lo + (hi - lo) * k // parts for k in range(1, parts)]


def _read_runs(
    connection: Connection, other: Connection | None, statements: list[Any],
    read: Callable[[CursorResult[Any]], _Part],
) -> list[_Part]:  # fmt: skip
    """Each statement's result read by `read`, in the statements' order: on `connection`,
    and with `other` given, on both at once, `other` in a second thread, each connection
    taking the next statement when done with one."""
    if other is None or len(statements) < 2:
        return [read(connection.execute(statement)) for statement in statements]
    out: list[_Part | None] = [None] * len(statements)
    left = iter(range(len(statements)))
    lock = threading.Lock()
    failed: list[BaseException] = []

    def work(on: Connection) -> None:
        while not failed:
            with lock:
                i = next(left, None)
            if i is None:
                return
            out[i] = read(on.execute(statements[i]))

    def second() -> None:
        try:
            work(other)
        except BaseException as exc:  # raised again in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=second, name="member-report", daemon=True)
    thread.start()
    try:
        work(connection)
    except BaseException as exc:
        failed.append(exc)  # the second thread stops after its statement
        raise
    finally:
        thread.join()
    if failed:
        raise failed[0]
    return [part for part in out if part is not None]


def _month_spends(session: Session, spans: list[tuple[datetime, datetime]]) -> tuple[Any, ...]:
    """The purchases' amounts added up over each [start, end), in one statement: the whole
    hours of UTC time inside it from `purchase_hour` (kept by the triggers of migration
    0063: a row an hour, not the hour's purchases), plus the purchases of the hours cut by
    its start and end (a zone not a whole number of hours from UTC) read live from the
    time index. A year's report read about a million purchases for these sums."""
    at, kept = Purchase.purchased_at, PurchaseHour.__table__.c  # type: ignore[attr-defined]

    def live(lo: datetime, hi: datetime) -> Any:
        return (
            select(func.coalesce(func.sum(Purchase.amount), 0.0))
            .where(at >= lo, at < hi).scalar_subquery()
        )  # fmt: skip

    parts: list[Any] = []
    for start, end in spans:
        first = -(-int(start.timestamp()) // 3600)  # the first whole hour from start on
        last = int(end.timestamp()) // 3600  # the hours whole before end: [first, last)
        if end <= start or first >= last:
            parts.append(live(start, end))
            continue
        whole = (
            select(func.coalesce(func.sum(kept.amount), 0.0))
            .where(kept.hour >= first, kept.hour < last).scalar_subquery()
        )  # fmt: skip
        sum_of: Any = whole
        cut_start, cut_end = _hour_at(first), _hour_at(last)
        if cut_start > start:
            sum_of = live(start, cut_start) + sum_of
        if end > cut_end:
            sum_of = sum_of + live(cut_end, end)
        parts.append(sum_of)
    return tuple(session.execute(select(*parts)).one())


def _hour_at(hour: int) -> datetime:
    """The instant an hour of `purchase_hour` starts at (UTC)."""
    return datetime.fromtimestamp(hour * 3600, UTC)


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


def _has_index(session: Session, name: str) -> bool:
    """Whether the SQLite database has the index `name` (a database made without the
    migrations has not)."""
    return session.execute(
        select(literal(1)).select_from(sql_text("sqlite_master"))
        .where(literal_column("type") == "index", literal_column("name") == name)
    ).first() is not None  # fmt: skip


def _reader(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """What SQLAlchemy does to a raw value of `column` read from the driver (SQLite: text
    to a date or time; PostgreSQL: nothing)."""
    process = column.type.dialect_impl(dialect).result_processor(dialect, None)
    if process is None:
        return lambda value: value
    return lambda value: None if value is None else process(value)


_BIT_OF = [bytes((value >> bit) & 1 for value in range(256)) for bit in range(8)]
"""Per bit of a byte, the table translating a byte to that bit (0 or 1)."""


class _Who:
    """Who has which bits: per bit a number with a byte per customer (1: has the bit), so
    "has any of these bits" is an OR of a few numbers and a count is its bit count, not a
    pass over every customer per count."""

    def __init__(self, rows: bytes, size: int, width: int) -> None:
        # `rows`: each customer's bits as `size` little-endian bytes, customer after customer;
        # a column of every customer's k-th byte is a slice with a step; a bit's byte per
        # customer is that column translated (byte -> its bit).
        columns = [rows[k::size] for k in range((width + 7) // 8)]
        self._bits = [
            int.from_bytes(columns[bit >> 3].translate(_BIT_OF[bit & 7]), "little")
            for bit in range(width)
        ]
        self._any: dict[int, int] = {}

    @classmethod
    def of_patterns(cls, patterns: Counter[int], width: int) -> _Who:
        """From the customers counted per pattern of bits (a pattern's bytes repeated for
        its customers, in C)."""
        size = (width + 7) // 8
        rows = b"".join(mask.to_bytes(size, "little") * n for mask, n in patterns.items())
        return cls(rows, size, width)

    def any_of(self, bits: int) -> int:
        """The customers (a byte each) with any of `bits`."""
        if bits not in self._any:
            found, rest = 0, bits
            while rest:
                low = rest & -rest
                found |= self._bits[low.bit_length() - 1]
                rest ^= low
            self._any[bits] = found
        return self._any[bits]


def _raw_batches(result: CursorResult[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a result as the driver gives them (its DBAPI cursor), RAW_BATCH at a
    time: SQLAlchemy's rows cost more than the statement at hundreds of thousands."""
    try:
        while batch := result.cursor.fetchmany(RAW_BATCH):
            yield batch
    finally:
        result.close()


def _text_of(connection: Any) -> Callable[[bytes], Any] | None:
    """How an SQLite connection makes text of the bytes it reads (seat.textguard cleans
    them), None when not sqlite3's."""
    factory = getattr(connection, "text_factory", None)
    if factory is None or factory is bytes:
        return None
    if factory is str:
        return lambda raw: raw.decode("utf-8")
    return factory


def _counted_as(counted: Counter[Any], convert: Callable[[Any], Any]) -> Counter[Any]:
    """The counts of `counted` per converted value (values converted alike added)."""
    out: Counter[Any] = Counter()
    for value, n in counted.items():
        out[convert(value)] += n
    return out


def _age_steps(bounds: tuple[float, ...], day: date) -> tuple[list[tuple[date, int]], int] | None:
    """The age band (at `day`) of every birthday as steps: (the last birthday of a run of
    days in one band, that band), earliest first, and the band of the birthdays after the
    last step; None when the bounds do not rise (the band would not follow the birthday)."""
    if list(bounds) != sorted(bounds):
        return None

    def band(ordinal: int) -> int:
        return _band(bounds, members.age_on(date.fromordinal(ordinal), day))

    steps: list[tuple[date, int]] = []

    def split(lo: int, hi: int) -> None:  # the band falls (never rises) from lo to hi
        if band(lo) == band(hi):
            return
        if hi - lo == 1:
            steps.append((date.fromordinal(lo), band(lo)))
            return
        mid = (lo + hi) // 2
        split(lo, mid)
        split(mid, hi)

    first, last = date.min.toordinal(), date.max.toordinal()
    split(first, last)
    return steps, band(last)


def _age_band(born: Any, steps: tuple[list[tuple[date, int]], int]) -> Any:
    """The age band of the birthday `born` in SQL (see _age_steps)."""
    runs, rest = steps
    if not runs:
        return literal(rest)
    return case(*((born <= last, band) for last, band in runs), else_=rest)


def _people(
    genders_of: Counter[str | None], births: Counter[date | int | None], day: date,
    policy: members.MemberPolicy,
) -> tuple[tuple[Band, ...], tuple[Band, ...]]:  # fmt: skip
    """The genders and ages (at `day`) of the buyers counted per gender and per birthday
    or per age band (a number)."""
    genders: Counter[str] = Counter()
    ages: Counter[int] = Counter()
    age_names = age_labels(policy.age_bands)
    for gender, n in genders_of.items():
        genders[gender if gender in labels.GENDERS else UNKNOWN] += n
    for born, n in births.items():
        if born is None:
            ages[-1] += n
        elif isinstance(born, int):
            ages[born] += n
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
    if n <= 0:
        return ()
    # The n-th highest spend (in C), then only the spends at least that sorted: the same n
    # as sorting every buyer (ties on the spend in customer order), not 200,000 keys.
    least = min(heapq.nlargest(n, spent.values()), default=0.0)
    near = compress(spent.items(), map(ge, spent.values(), repeat(least)))  # in C
    best = sorted(near, key=lambda kv: (-kv[1], kv[0]))[:n]
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


def reason_table(data: MemberAnalysis) -> Table:
    return Table(
        N_("Churn reasons"), [N_("Reason"), N_("Callbacks")],
        [[labels.CHURN_REASONS.get(b.label, b.label), b.customers] for b in data.reasons],
        label_columns=(0,),
    )  # fmt: skip


def tables_of(data: MemberAnalysis, *, now: datetime, zone: str) -> list[Table]:
    out = [month_table(data), spend_table(data), gender_table(data), age_table(data),
           top_table(data), reason_table(data)]  # fmt: skip
    for table in out:
        table.meta = {**table.meta, "from": data.date_from, "to": data.date_to, "as of": now,
                      "zone": zone}  # fmt: skip
    return out


def tables(
    *, session: Session, date_from: date, date_to: date, settings: Settings, now: datetime
) -> list[Table]:
    """`seat report members`: the six tables of the analysis (the last: churn reasons)."""
    policy = members.load_policy(settings)
    data = analyse(session=session, date_from=date_from, date_to=date_to, settings=settings,
                   now=now, policy=policy)  # fmt: skip
    return tables_of(data, now=now, zone=settings.local_timezone)


# -- memberships ending (seat members expiring) ---------------------------------------------

EXPIRING_HEADERS = [
    N_("Customer #"), N_("Name"), N_("Tier"), N_("Phone"), N_("Member until"), N_("Orders"),
    N_("Spend"), N_("Renewal fee"), N_("Call by"),
]  # fmt: skip
WAIVED, DUE = N_("fee waived"), N_("fee due")


def expiring_table(
    *, session: Session, month: date, now: datetime, policy: members.MemberPolicy
) -> Table:
    """The memberships ending in `month` (its first day), listed by the policy's day of the
    month before, each with the renewal rule's verdict (`seat members expiring`)."""
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    found = care.expiring(session, first=first, last=last, now=now, policy=policy)
    ids = [e.customer_id for e in found]
    people: dict[int, Any] = {}
    for i in range(0, len(ids), care.CHUNK):
        chunk = ids[i : i + care.CHUNK]
        phone = (
            select(PhoneNumber.e164)
            .where(PhoneNumber.customer_id == Customer.id, PhoneNumber.wrong_number.is_(False))
            .order_by(PhoneNumber.id)
            .limit(1)
            .scalar_subquery()
        )
        for row in session.execute(
            select(Customer.id, Customer.name, Customer.tier, phone).where(
                Customer.id.in_(chunk)
            )
        ):
            people[row[0]] = row
    rows = []
    for e in found:
        __, name, tier, e164 = people[e.customer_id]
        rows.append([
            e.customer_id, name, labels.TIERS.get(tier, tier), e164 or "", e.member_until,
            e.orders, round(e.spend, 2), WAIVED if e.waived else DUE,
            care.renewal_day(e.member_until, policy),
        ])  # fmt: skip
    return Table(
        N_("Memberships ending"), list(EXPIRING_HEADERS), rows, label_columns=(2, 7),
        meta={
            "month": f"{first:%Y-%m}", "as of": now,
            "renewal rule": f"fee waived from {policy.waive_orders} orders or "
                            f"{policy.waive_spend:,.2f} in {policy.period_months} months",
        },
    )  # fmt: skip
