"""The callback report (回访记录表 / 回访总结报告): due, done, overdue and missed callbacks
per kind and per agent, satisfaction scores, and coverage: members without a required callback.

A callback belongs to the period in which it fell due (desk's local dates, inclusive).
"Overdue" is open and past due; "on time" is done within `done_within_days` of its due
time; "missed" used up its tries. Coverage counts members' callbacks that are due by now:
each one done is covered; overdue, missed or never scheduled is not.

The database does the counting (GROUP BY and NOT EXISTS, a handful of statements whatever
the period), so every figure is a true count; the list of members without a callback is
read in its order and may be cut (`limit`, the callbacks view), never its count.
"""

from __future__ import annotations

import calendar
import operator
import sqlite3
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import compress, repeat
from operator import attrgetter, itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    literal_column,
    not_,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import Select
from sqlmodel import Session

from seat import labels, states
from seat.callbacks import MISSED, WRONG_NUMBER, CallbackPolicy, load_policy
from seat.config import Settings
from seat.db import Prepared, ReadAhead, few_collections, stored_at
from seat.export import Table
from seat.i18n import N_, _
from seat.models import (
    Agent,
    Callback,
    CallbackKind,
    CallbackStatus,
    Complaint,
    Customer,
    NewBuyerLine,
    WorkOrder,
    WorkOrderEvent,
)

# Titles, headers and label cells ("total", kinds, tiers) are English and stable: json/csv
# keys and values for scripts; txt, xlsx and the screen translate them (Table.shown_*).
# The "Why" sentences are for people only and come in the seat's language.
COUNT_HEADERS = [
    N_("Due"), N_("Done"), N_("On time"), N_("Overdue"), N_("Missed"), N_("Not yet due"),
    N_("Done %"),
]  # fmt: skip
KIND_NAMES = labels.CALLBACK_KINDS
TIER_NAMES = {
    "vip": N_("vip"),
    "diamond": N_("diamond"),
    "platinum": N_("platinum"),
    "gold": N_("gold"),
    "ordinary": N_("ordinary"),
}
TOTAL = N_("total")


MINUTE = timedelta(minutes=1)


@dataclass
class _Counts:
    due: int = 0
    done: int = 0
    on_time: int = 0
    overdue: int = 0
    missed: int = 0
    pending: int = 0
    scores: Counter[int] = field(default_factory=Counter)
    """How many of the done callbacks were given each score."""

    def add(self, status: str, n: int, late: int) -> None:
        """`n` callbacks of one status, `late` of them past due."""
        self.due += n
        if status == CallbackStatus.DONE:
            self.done += n
        elif status == MISSED:
            self.missed += n
        else:  # open: `late` are overdue (states.callback_overdue_sql)
            self.overdue += late
            self.pending += n - late

    def row(self) -> list[object]:
        share = round(100 * self.done / self.due, 1) if self.due else None
        return [self.due, self.done, self.on_time, self.overdue, self.missed, self.pending, share]

    @property
    def scored(self) -> int:
        return sum(self.scores.values())

    def average(self) -> float | None:
        n = self.scored
        return round(sum(s * k for s, k in self.scores.items()) / n, 2) if n else None


def period(date_from: date, date_to: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC for local dates from..to inclusive."""
    start = datetime.combine(date_from, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return start, end


def _label(kind: str) -> str:
    return KIND_NAMES.get(kind, kind.replace("_", " "))


def _minute(at: datetime, zone: ZoneInfo) -> datetime:
    """The local minute a line of the list is sorted and shown by."""
    return at.astimezone(zone).replace(second=0, microsecond=0)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def _seconds(ats: Sequence[datetime]) -> list[int]:
    """Aware times as whole seconds since 1970 (floored, exactly: timedelta arithmetic in C,
    no float)."""
    return list(map(operator.floordiv, map(operator.sub, ats, repeat(_EPOCH)), repeat(_SECOND)))


def _local_minutes(dues: Sequence[int], zone: ZoneInfo) -> list[datetime]:
    """`_minute` of each time given as whole seconds since 1970, made in C (map) for the
    year's tens of thousands of lines: the minute's first second made local is its local
    minute where the zone's offset is whole minutes (every zone's since the 1970s), without
    a replace() per line; an offset with seconds: as _minute."""
    firsts = map(operator.sub, dues, map(operator.mod, dues, repeat(60)))
    minutes = list(map(datetime.fromtimestamp, firsts, repeat(zone)))
    if any(map(attrgetter("second"), minutes)):
        minutes = [
            m if not m.second
            else datetime.fromtimestamp(d, zone).replace(second=0, microsecond=0)
            for m, d in zip(minutes, dues, strict=True)
        ]  # fmt: skip
    return minutes


def _cohort(start: datetime, end: datetime) -> list[Any]:
    """The callbacks of the period: due in it, not cancelled."""
    return [
        Callback.due_at >= start,
        Callback.due_at < end,
        Callback.status != CallbackStatus.CANCELLED,
    ]


def _not_yet(now: datetime) -> Any:
    """Open and not yet past due: not required by now."""
    return and_(Callback.status == CallbackStatus.OPEN, not_(states.callback_overdue_sql(now)))


def _on_time(dialect: str, within: timedelta) -> Any:
    """done_at <= due_at + within, exactly, in SQL (of the dialect named)."""
    seconds = int(within.total_seconds())
    if dialect == "sqlite":
        # The stored text's whole seconds (datetime() of the whole text keeps milliseconds
        # and rounds: .9995 or more went up a second) plus the fraction, which whole seconds
        # added never change, put back on: the texts compare as the times do.
        limit: Any = func.datetime(
            func.substr(Callback.due_at, 1, 19), f"+{seconds} seconds", type_=String
        ).concat(func.substr(Callback.due_at, 20))
    else:  # seconds, not days: a day of an interval follows the session's DST
        limit = Callback.due_at + literal_column(f"interval '{seconds} seconds'")
    return Callback.done_at <= limit


@dataclass
class _Figures:
    """The counts of the period's callbacks, per kind, per agent, in all; scores per kind."""

    by_kind: dict[str, _Counts] = field(default_factory=lambda: defaultdict(_Counts))
    by_agent: dict[int, _Counts] = field(default_factory=lambda: defaultdict(_Counts))
    total: _Counts = field(default_factory=_Counts)
    scored: dict[str, _Counts] = field(default_factory=lambda: defaultdict(_Counts))


def _figures_jobs(
    session: Session, start: datetime, end: datetime, now: datetime, within: timedelta
) -> list[tuple[str, Prepared, dict[str, Any]]]:
    """The two statements of `_figures` (built once, `_built`: the times are parameters,
    the seconds of `within` part of the shape), as jobs (key, statement, parameters)."""
    dialect = session.get_bind().dialect.name
    seconds = int(within.total_seconds())

    def build() -> tuple[Prepared, Prepared]:
        first, last, at = _times("start", "end", "now")
        late = func.sum(case((states.callback_overdue_sql(at), 1), else_=0))
        on_time = func.sum(case((_on_time(dialect, timedelta(seconds=seconds)), 1), else_=0))
        return (
            Prepared(
                select(Callback.kind, Callback.owner_id, Callback.status, func.count(), late)
                .where(*_cohort(first, last))
                .group_by(Callback.kind, Callback.owner_id, Callback.status)
            ),
            Prepared(
                select(Callback.kind, Callback.owner_id, Callback.score, func.count(), on_time)
                .where(*_cohort(first, last), Callback.status == CallbackStatus.DONE)
                .group_by(Callback.kind, Callback.owner_id, Callback.score)
            ),
        )

    by_status, by_score = _built(("figures", dialect, seconds), build)
    times = {"start": start, "end": end, "now": now}
    return [("figures: status", by_status, times), ("figures: score", by_score, times)]


def _figures(
    session: Session, start: datetime, end: datetime, now: datetime, within: timedelta,
    ahead: ReadAhead | None = None,
) -> _Figures:  # fmt: skip
    """The counts of the period's callbacks (two GROUP BYs; read ahead when `ahead`)."""
    out = _Figures()
    (__, by_status, times), (__, by_score, __) = _figures_jobs(session, start, end, now, within)
    status_rows = _plain(session, ahead, "figures: status", by_status, times)
    score_rows = _plain(session, ahead, "figures: score", by_score, times)
    for kind, owner, status, n, n_late in status_rows:
        for counts in (out.by_kind[kind], out.by_agent[owner], out.total):
            counts.add(status, n, int(n_late or 0))
    for kind, owner, score, n, n_on_time in score_rows:
        for counts in (out.by_kind[kind], out.by_agent[owner], out.total):
            counts.on_time += int(n_on_time or 0)
            if score is not None:
                counts.scores[score] += n
        if score is not None:
            out.scored[kind].scores[score] += n
    return out


# -- coverage: members' callbacks required by now, and the members without one ---------------

@dataclass
class _Members:
    """Every customer of a member tier, read once for the year's report (one pass over the
    customers, about 50,000 of 200,000 at the bench's size): the new-buyer lines' names and
    tiers and the birthdays come from it, not from a customer looked up per line."""

    name: dict[int, str]
    place: dict[int, int]
    """The tier's place in the policy's member tiers."""
    born_days: list[int]
    """The birthdays (month * 100 + day) of those not merged away with a birthday, in
    (birthday, customer) order: a run of days greeted is a slice of it (bisect)."""
    born_ids: list[int]
    """Their customers, in the same order."""


def _members(session: Session, cover: _Coverage, tiers: Sequence[str]) -> _Members:
    """The members (`_Members`), read on the report's first asking."""
    if cover.members is not None:
        return cover.members
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    statement = _built(("members", tuple(tiers), sqlite),
                       lambda: Prepared(_members_query(tiers, sqlite=sqlite)))  # fmt: skip
    rows = statement.rows(conn, {}) if sqlite else statement.execute(conn, {}).all()
    if not rows:
        cover.members = _Members({}, {}, [], [])
        return cover.members
    cids, names, places, days, merged = zip(*rows, strict=True)
    # Those with a birthday, not merged away: selected and sorted in C (map, compress).
    keep = list(map(operator.and_, map(operator.is_not, days, repeat(None)),
                    map(operator.is_, merged, repeat(None))))  # fmt: skip
    born = sorted(zip(map(int, compress(days, keep)), compress(cids, keep), strict=True))
    cover.members = _Members(dict(zip(cids, names, strict=True)),
                             dict(zip(cids, places, strict=True)),
                             list(map(itemgetter(0), born)),
                             list(map(itemgetter(1), born)))  # fmt: skip
    return cover.members


def _members_query(tiers: Sequence[str], *, sqlite: bool) -> Select[Any]:
    """(customer, name, the tier's place in `tiers`, birthday as month * 100 + day or NULL,
    merged into) of every customer of a member tier."""
    if sqlite:
        # The stored text is YYYY-MM-DD: its digits read straight, not through strftime.
        born_day: Any = cast(func.substr(Customer.birthday, 6, 2), Integer) * 100 + cast(
            func.substr(Customer.birthday, 9, 2), Integer
        )
    else:
        born_day = extract("month", Customer.birthday) * 100 + extract("day", Customer.birthday)
    place = case(*((Customer.tier == t, i) for i, t in enumerate(tiers)), else_=-1)
    return select(
        Customer.id, Customer.name, place, born_day, Customer.merged_into_id
    ).where(Customer.tier.in_(tiers))


_Line = tuple[Any, ...]
"""(local minute due, customer, rank, tie, line): the list sorts by local minute due, then
customer, then where the line came from (rank: the callbacks first, then each rule's
events), then within that (tie). No two lines' first four are equal (each rule's tie is
unique within its rank), so the tuples sort by them alone: one tuple a line, not a key
tuple and a pair."""


@dataclass
class _Coverage:
    zone: ZoneInfo
    limit: int | None
    counting: bool = True
    """False: the lines only (a further page of the list), no counts."""
    per_tier: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    """Per tier: callbacks required by now, and how many of them are done."""
    lines: list[_Line] = field(default_factory=list)
    minutes: dict[datetime, datetime] = field(default_factory=dict)
    """Each due time's local minute, worked out once (many lines share a due time)."""
    members: _Members | None = None
    """The report's members, read once for its rules (`_members`)."""
    ahead: ReadAhead | None = None
    """The year's report: its statements that read much and return little, read ahead on a
    second connection (`_ahead_jobs`)."""

    def cut(self, rows: list[Any], lag: timedelta = timedelta()) -> list[Any]:
        """Rows in due-time order (`at`, their first column, + `lag`) cut as `read` cuts them:
        the first `limit` and every other one due in the same local minute."""
        if self.limit is None or len(rows) <= self.limit:
            return rows
        cut = _minute(rows[self.limit - 1][0] + lag, self.zone).astimezone(UTC) - lag
        return [r for r in rows if r[0] < cut + MINUTE]

    def read(
        self, session: Session, statement: Prepared, params: dict[str, Any], *,
        lag: timedelta = timedelta(), every: bool = False,
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        """The rows of a statement of the view built once (`_built`: its due time as stored
        first, made a datetime here, then the rest as the driver gives them) in due-time
        order: every one (`every`, or no `limit`), else the first `limit` and every other
        one due in the same local minute (read as they come, so the database stops there)."""
        conn = session.connection()
        if every or self.limit is None:
            return [(stored_at(r[0]), *r[1:]) for r in statement.execute(conn, params)]
        rows: list[tuple[Any, ...]] = []
        cut = None
        result = statement.execute(conn, params, stream=True)
        try:
            for r in result:
                at = stored_at(r[0])
                if cut is not None and at >= cut + MINUTE:  # type: ignore[operator]
                    break
                rows.append((at, *r[1:]))
                if len(rows) == self.limit:
                    cut = _minute(at + lag, self.zone).astimezone(UTC) - lag  # type: ignore[operator]
        finally:
            result.close()
        return rows

    def read_missing(
        self, session: Session, statement: Prepared, params: dict[str, Any], tier_at: int,
        lag: timedelta = timedelta(),
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        """A rule's events without a callback, of a statement built once (`read`): the first
        ones by due time (`read`'s cut), every one counted per tier (the tier at
        [tier_at]): read once, counted, then cut (a second statement to count them all cost
        more than reading them: hundreds a month)."""
        if not self.counting:
            return self.read(session, statement, params, lag=lag)
        rows = self.read(session, statement, params, every=True)
        for r in rows:
            self.per_tier[str(r[tier_at])][0] += 1
        return self.cut(rows, lag)

    def minute(self, due: datetime) -> datetime:
        found = self.minutes.get(due)  # equal instants: the same local minute
        if found is None:
            found = self.minutes[due] = _minute(due, self.zone)
        return found

    def add(self, due: datetime, rank: int, tie: object, line: list[object]) -> None:
        """A line (its due time at [4]) shown at its due time's local minute."""
        minute = line[4] = self.minute(due)  # local times read better, and xlsx drops the zone
        self.lines.append((minute, line[0], rank, tie, line))

    def table_rows(self) -> list[list[object]]:
        """The lines in order (each shows its local minute at [4], as its key starts)."""
        self.lines.sort()  # by their first four (`_Line`: never two equal)
        kept = self.lines if self.limit is None else self.lines[: self.limit]
        return list(map(itemgetter(4), kept))


def _add_all(
    cover: _Coverage, dues: Sequence[datetime], rank: int, ties: Sequence[object],
    cids: Sequence[int], names: Sequence[str], tiers: Sequence[str], kind: str,
    reasons: Sequence[str],
) -> None:  # fmt: skip
    """`_Coverage.add` of many lines of a rule at once, column by column (map, zip in C):
    each line [customer, name, tier, kind, local minute due, reason, "", None] sorted by
    its local minute, customer, `rank` and tie."""
    minutes = _local_minutes(_seconds(dues), cover.zone)
    lines = map(list, zip(cids, names, tiers, repeat(kind), minutes, reasons, repeat(""),
                          repeat(None), strict=False))  # fmt: skip
    cover.lines.extend(zip(minutes, cids, repeat(rank), ties, lines, strict=False))


_BUILT: dict[tuple[Any, ...], Any] = {}


def _built(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """What `build` makes (the view's statements, with the period's times as parameters,
    run as seat.db.Prepared), made once per `key`: what their shape depends on (the
    tiers, ...). Building and compiling them was a sixth of the view's time."""
    if key in _BUILT:
        return _BUILT[key]
    if len(_BUILT) > 64:
        _BUILT.clear()
    found = _BUILT[key] = build()
    return found


def _times(*names: str) -> list[Any]:
    """Parameters of a statement built once, of the stored times' type."""
    return [bindparam(name, type_=Callback.__table__.c.due_at.type) for name in names]


def _required_from(start: datetime, end: datetime, now: datetime) -> datetime:
    """Where in [start, end) the callbacks due stop being required whatever their status:
    `now` within it (an open callback due from then on is not yet required)."""
    return max(start, min(end, now))


def _not_done_statements(
    tiers: Sequence[str], start: Any, end: Any, now: Any, cut: Any, *, view: bool
) -> tuple[Any, Any]:
    """The members' callbacks required by now: their counts per tier (done or not), and the
    ones not done: the view's, in due order; the report's, every one in two parts. `cut` is
    `now` within [start, end] (`_required_from`)."""
    required = [*_cohort(start, end), not_(_not_yet(now))]
    done = func.sum(case((Callback.status == CallbackStatus.DONE, 1), else_=0))
    # The customer's tier as the callback keeps it (migration 0035: the database keeps it
    # the customer's through re-tiering and merges): the member tiers' callbacks of the
    # period are read from ix_callback_tier_due alone, no customer looked up; the few
    # written without it (NULL, SQLite) have their customer's looked up.
    kept = Callback.customer_tier
    unknown = and_(kept.is_(None), Customer.tier.in_(tiers))
    # Counted in two stretches of due time, each with one test of the status: before `cut`
    # every callback not cancelled is required; from it on (due after now) only those no
    # longer open (the open ones due later today are most of the period's).
    not_cancelled = Callback.status != CallbackStatus.CANCELLED
    stretches = (
        (Callback.due_at >= start, Callback.due_at < cut, not_cancelled),
        (Callback.due_at >= cut, Callback.due_at < end, not_cancelled,
         Callback.status != CallbackStatus.OPEN),
    )  # fmt: skip
    counts = union_all(*(
        part
        for stretch in stretches
        for part in (
            select(kept, func.count(), done).where(kept.in_(tiers), *stretch).group_by(kept),
            select(Customer.tier, func.count(), done)
            .join(Customer, Customer.id == Callback.customer_id)
            .where(unknown, *stretch)
            .group_by(Customer.tier),
        )
    ))  # fmt: skip
    columns: tuple[Any, ...] = (
        Callback.due_at.label("at"), Callback.id, Callback.customer_id, Customer.name,
        Callback.kind, Callback.status, Callback.attempts, Callback.last_outcome,
        Callback.owner_id,
    )  # fmt: skip
    not_done = (*required, Callback.status != CallbackStatus.DONE)
    if view:
        listing = (
            select(*columns, func.coalesce(kept, Customer.tier).label("tier"))
            .join(Customer, Customer.id == Callback.customer_id)
            .where(or_(kept.in_(tiers), unknown), *not_done)
            .order_by(Callback.due_at, Callback.id)
        )
        return counts, listing
    # The report (every line, sorted by the caller): two parts, not one OR, read in no
    # order, so the members' callbacks come from ix_callback_tier_due (tier, due time,
    # status), not the customer of every callback of the year (over 100,000) for its tier.
    # Those keeping their tier have no customer looked up at all: the name is NULL (a
    # customer's never is), taken from the members read once (`_members`).
    no_name = (*columns[:3], cast(null(), String).label("name"), *columns[4:])
    parts = union_all(
        select(*no_name, kept.label("tier")).where(kept.in_(tiers), *not_done),
        select(*columns, Customer.tier.label("tier"))
        .join(Customer, Customer.id == Callback.customer_id)
        .where(unknown, *not_done),
    )
    return counts, parts


def _callbacks_not_done(
    session: Session, cover: _Coverage, start: datetime, end: datetime, now: datetime,
    tiers: Sequence[str], names: dict[int, str],
) -> None:  # fmt: skip
    """Members' callbacks of the period required by now: counted per tier, done or not;
    the ones not done are lines of the list."""
    rows: Sequence[Any]
    if cover.limit is not None:
        # The view: both statements built once (the period's times are parameters) and run
        # as the driver gives their rows (seat.db.Prepared).
        counts_p, first_p = _built(("not done", tuple(tiers)), lambda: tuple(map(
            Prepared, _not_done_statements(tiers, *_times("start", "end", "now", "cut"),
                                           view=True))))  # fmt: skip
        times = {"start": start, "end": end, "now": now, "cut": _required_from(start, end, now)}
        if cover.counting:
            for tier, n, n_done in counts_p.execute(session.connection(), times):
                cover.per_tier[str(tier)][0] += n
                cover.per_tier[str(tier)][1] += int(n_done or 0)
        rows = cover.read(session, first_p, times)
        at_of: Any = None
    else:
        # Both statements built once (`_built`, the period's times are parameters) and read
        # as the driver gives them (seat.db.Prepared: no per-value processing by SQLAlchemy,
        # ten values a row; on SQLite the driver's own tuples, Prepared.rows), the due times
        # converted by stored_at.
        (__, counts_p, times), (__, parts_p, __) = _not_done_jobs(tiers, start, end, now)
        counted = _plain(session, cover.ahead, "not done: counts", counts_p, times)
        for tier, n, n_done in counted if cover.counting else ():
            cover.per_tier[str(tier)][0] += n
            cover.per_tier[str(tier)][1] += int(n_done or 0)
        rows = _plain(session, None, "not done: lines", parts_p, times)
        at_of = stored_at
    if not rows:
        return
    # Column by column (map, zip in C); the few distinct sentences, owners and kinds made
    # once each.
    (ats, cb_ids, cids, customers, cb_kinds, statuses, attempts, last_outcomes, owner_ids,
     tiers_) = zip(*rows, strict=True)  # fmt: skip
    if at_of is not None and None in customers:  # the report's: names from the members
        customers = _names(session, cover, tiers, cids, customers)
    if at_of is not None:
        ats = tuple(map(at_of, ats))
    how = list(zip(statuses, last_outcomes, attempts, strict=True))
    whys = {key: _why(*key) for key in set(how)}
    owners = {o: str(names.get(o, o)) for o in set(owner_ids)}
    kinds = {k: _label(k) for k in set(cb_kinds)}
    minutes = _local_minutes(_seconds(ats), cover.zone)  # type: ignore[arg-type]
    lines = map(list, zip(cids, customers, tiers_, map(kinds.__getitem__, cb_kinds), minutes,
                          map(whys.__getitem__, how), map(owners.__getitem__, owner_ids),
                          cb_ids, strict=True))  # fmt: skip
    cover.lines.extend(zip(minutes, cids, repeat(0), zip(ats, cb_ids, strict=True), lines,
                           strict=False))  # fmt: skip


def _not_done_jobs(
    tiers: Sequence[str], start: datetime, end: datetime, now: datetime
) -> list[tuple[str, Prepared, dict[str, Any]]]:
    """The report's two statements of the members' callbacks not done (`_not_done_statements`,
    built once: the times are parameters): their counts per tier, and their lines."""
    counts_p, parts_p = _built(("not done: report", tuple(tiers)), lambda: tuple(map(
        Prepared, _not_done_statements(tiers, *_times("start", "end", "now", "cut"),
                                       view=False))))  # fmt: skip
    times = {"start": start, "end": end, "now": now, "cut": _required_from(start, end, now)}
    return [("not done: counts", counts_p, times), ("not done: lines", parts_p, times)]


def _names(
    session: Session, cover: _Coverage, tiers: Sequence[str], cids: Sequence[int],
    names: Sequence[str | None],
) -> tuple[str, ...]:
    """`names` with each missing one (None) its customer's: from the members read once
    (`_members`), else (a callback keeping a member tier its customer no longer has, as
    plain SQL may write on SQLite) looked up."""
    name_of = _members(session, cover, tiers).name
    others = sorted({c for c, n in zip(cids, names, strict=True) if n is None} - name_of.keys())
    found: dict[int, str] = {}
    if others:
        found = dict(session.connection().execute(  # type: ignore[arg-type]
            select(Customer.id, Customer.name).where(Customer.id.in_(others))
        ).all())  # fmt: skip
    return tuple(
        n if n is not None else name_of[c] if c in name_of else found[c]
        for c, n in zip(cids, names, strict=True)
    )


def _why(status: str, last_outcome: str | None, attempts: int) -> str:
    """Why a required callback is not done, for people."""
    if status == MISSED:
        return (
            _("missed: no working number")
            if last_outcome == WRONG_NUMBER
            else _("missed after {n} tries").format(n=attempts)
        )
    if attempts:
        return _("overdue, {n} tries").format(n=attempts)
    return _("overdue")


def _after_service(
    session: Session, cover: _Coverage, start: datetime, until: datetime,
    policy: CallbackPolicy,
) -> None:  # fmt: skip
    """Work orders completed so that their satisfaction callback fell due in the period,
    with no callback: completed when first moved to completed, else accepted or closed."""
    lag = timedelta(days=policy.after_service_days)
    kind = _label(CallbackKind.SATISFACTION)
    why = _("no satisfaction callback for work order #{id}")
    rows: Sequence[Any]
    # The statement built once (`_built`), the times its parameters.
    ((__, query, params),) = _after_service_jobs(start, until, policy)
    if cover.limit is None:
        # The report: every row, read as the driver gives them (seat.db.Prepared; on SQLite
        # the driver's own tuples, Prepared.rows; or read ahead), the times converted by
        # stored_at, counted per tier here.
        found = _plain(session, cover.ahead, "after service", query, params)
        rows = [(stored_at(at), wo, cid, name, tier) for at, wo, cid, name, tier in found]
        if cover.counting:
            for tier, n in Counter(r[4] for r in rows).items():
                cover.per_tier[str(tier)][0] += n
    else:  # the view: the first ones
        rows = cover.read_missing(session, query, params, 4, lag)
    if rows:  # every line at once (`_add_all`)
        ats, wos, cids, names, tiers_ = list(zip(*rows, strict=True))[:5]
        _add_all(cover, list(map(operator.add, ats, repeat(lag))), 1, wos, cids, names, tiers_,
                 kind, [why.format(id=wo) for wo in wos])  # fmt: skip


def _after_service_jobs(
    start: datetime, until: datetime, policy: CallbackPolicy
) -> list[tuple[str, Prepared, dict[str, Any]]]:
    """`_after_service`'s statement (built once, the times its parameters) as a job."""
    lag = timedelta(days=policy.after_service_days)
    tiers = tuple(policy.member_tiers)
    query = _built(("after service", tiers), lambda: Prepared(
        _after_service_query(tiers, *_times("lo", "hi"))))  # fmt: skip
    return [("after service", query, {"lo": start - lag, "hi": until - lag})]


def _after_service_query(tiers: Sequence[str], lo: Any, hi: Any) -> Select[Any]:
    """The work orders completed in [lo, hi) with no callback, in order: (completed at,
    order, customer, name, tier)."""
    event = WorkOrderEvent
    completed = event.to_status == "completed"
    first_at = func.min(event.at)
    firsts = (
        select(event.work_order_id.label("wo"), first_at.label("at"))
        .where(
            completed,
            event.work_order_id.in_(
                select(event.work_order_id).where(completed, event.at >= lo, event.at < hi)
            ),
        )
        .group_by(event.work_order_id)
        .having(first_at >= lo, first_at < hi)
        .cte()
    )
    finished = func.coalesce(WorkOrder.accepted_at, WorkOrder.closed_at)
    by_status = select(WorkOrder.id.label("wo"), finished.label("at")).where(
        WorkOrder.status.in_(("completed", "closed")), finished >= lo, finished < hi,
        WorkOrder.id.not_in(select(firsts.c.wo)),
    )  # fmt: skip
    done = union_all(select(firsts.c.wo, firsts.c.at), by_status).subquery()
    query = (
        select(done.c.at, done.c.wo, Customer.id.label("cid"), Customer.name, Customer.tier)
        .select_from(done)
        .join(WorkOrder, WorkOrder.id == done.c.wo)
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .where(
            Customer.tier.in_(tiers),
            ~exists().where(Callback.work_order_id == done.c.wo),
        )
        .order_by(done.c.at, done.c.wo)
    )
    return query


def _new_buyers(
    session: Session, cover: _Coverage, start: datetime, until: datetime,
    policy: CallbackPolicy,
) -> None:  # fmt: skip
    """Orders delivered so that the new-buyer callback fell due in the period, with none.

    The members' lines of orders without a callback come from `new_buyer_line` (migration
    0067, kept by triggers on purchase and callback: no callback looked up per line, no
    called order's line read), from its index only, by the tier the line keeps (triggers
    keep it the customer's, migration 0035). The view (`limit`) reads the first page in due
    order with every order's count per tier (a count over the whole result on each row),
    names joined; the report reads every line once, unsorted, groups them per order here,
    and takes names and tiers from the members read once (`_members`)."""
    lag = timedelta(days=policy.new_buyer_days)
    tiers = tuple(policy.member_tiers)
    kind = _label(CallbackKind.SATISFACTION)
    why = _("no new-buyer callback for order {order}")
    period = {"lo": start - lag, "hi": until - lag}
    if cover.limit is None:
        sqlite = session.get_bind().dialect.name == "sqlite"
        statement = _built(("every new buyer", tiers, sqlite),
                           lambda: _every_new_buyer_query(tiers, sqlite=sqlite))  # fmt: skip
        _every_new_buyer(session, cover, statement, tiers, (start - lag, until - lag), lag, kind,
                         why)  # fmt: skip
        return
    # The view: the first page read, every order counted by the database (a count over the
    # whole result on each row), the statement built once (`_built`).
    counting = cover.counting

    def build() -> Prepared:
        orders = _new_buyer_orders(tiers, *_times("lo", "hi"))
        query = select(
            orders.c.at, orders.c.cid, orders.c.order_no, Customer.name, Customer.tier
        ).join(Customer, Customer.id == orders.c.cid)
        if counting:
            query = query.add_columns(*(
                func.count(case((Customer.tier == name, 1))).over().label(f"n_{place}")
                for place, name in enumerate(tiers)
            ))  # fmt: skip
        return Prepared(query.order_by(orders.c.at, orders.c.cid, orders.c.order_no))

    rows = cover.read(session, _built(("new buyers", tiers, counting), build), period, lag=lag)
    if counting and rows:
        for place, name in enumerate(tiers):
            cover.per_tier[name][0] += int(rows[0][5 + place])
    for at, cid, order_no, name, tier, *__ in rows:
        due = at + lag
        cover.add(due, 2, order_no, [cid, name, tier, kind, due, why.format(order=order_no), "",
                                     None])  # fmt: skip


def _new_buyer_orders(tiers: Sequence[str], lo: Any, hi: Any) -> Any:
    """The members' orders delivered in [lo, hi) without a new-buyer callback: (customer,
    order, first delivery in [lo, hi) as `at`), a subquery.

    Their lines come from `new_buyer_line` (migration 0067: the delivered lines of orders
    with no callback of the scheduler's key, kept by triggers on purchase and callback), by
    the tier each keeps: no callback looked up per line, none of the called orders' lines
    read (a year at the bench's size: some 70,000 lines of 110,000)."""
    line = NewBuyerLine
    found = (line.customer_id.label("cid"), line.order_no, line.delivered_at)
    lines = _member_lines(found, tiers, lo, hi).subquery()
    return (
        select(lines.c.cid, lines.c.order_no, func.min(lines.c.delivered_at).label("at"))
        .group_by(lines.c.cid, lines.c.order_no)
        .subquery()
    )


def _every_new_buyer_query(tiers: Sequence[str], *, sqlite: bool) -> Prepared:
    """The report's statement of every member line of [lo, hi) without a new-buyer callback
    (`new_buyer_line`): (delivery, customer, order), in no order, not grouped (their orders
    are, by `_first_deliveries`); on SQLite the delivery as whole seconds since 1970 (a due
    time's local minute never depends on the fraction of a second). Built once (`_built`),
    the times its parameters."""
    line = NewBuyerLine
    # The stored text's whole seconds (YYYY-MM-DD HH:MM:SS, as the driver reads it): SQLite
    # reading the whole text would round a fraction of .9995 or more up to the next second.
    whole = func.substr(line.delivered_at, 1, 19)
    at: Any = line.delivered_at
    if sqlite and sqlite3.sqlite_version_info >= (3, 38, 0):
        at = func.unixepoch(whole, type_=Integer)  # the integer itself: no text made, cast back
    elif sqlite:
        at = cast(func.strftime("%s", whole), Integer)
    return Prepared(_member_lines((at, line.customer_id, line.order_no), tiers,
                                  *_times("lo", "hi")))  # fmt: skip


def _member_lines(found: Sequence[Any], tiers: Sequence[str], lo: Any, hi: Any) -> Any:
    """`found` of the members' lines in `new_buyer_line` delivered in [lo, hi), by the tier
    each line keeps, and the few written without it (NULL, SQLite) by their customer's."""
    line = NewBuyerLine
    delivered = [line.delivered_at >= lo, line.delivered_at < hi]
    return union_all(
        select(*found).where(line.customer_tier.in_(tiers), *delivered),
        select(*found)
        .join(Customer, Customer.id == line.customer_id)
        .where(line.customer_tier.is_(None), Customer.tier.in_(tiers), *delivered),
    )


def _first_deliveries(lines: list[tuple[Any, int, str]]) -> dict[tuple[int, str], Any]:
    """Per order (customer, order), its lines' first delivery: the orders of `lines`
    (delivery, customer, order; sorted here) as GROUP BY and min() make them, in order of
    that delivery (the lines made from them come in the list's order: less to sort)."""
    lines.sort()
    ats, cids, order_nos = zip(*lines, strict=True)
    first: dict[tuple[int, str], Any] = {}
    # Each order's first line in order of delivery is its earliest (setdefault keeps it),
    # set in C.
    deque(map(first.setdefault, zip(cids, order_nos, strict=True), ats), maxlen=0)
    return first


def _every_new_buyer(
    session: Session, cover: _Coverage, statement: Prepared, tiers: Sequence[str],
    period: tuple[datetime, datetime], lag: timedelta, kind: str, why: str,
) -> None:  # fmt: skip
    """The report's new-buyer lines: every order of the year (tens of thousands), its lines
    read by `statement` (`_every_new_buyer_query`) as the driver gives them
    (seat.db.Prepared: no per-value processing by SQLAlchemy; on SQLite the delivery as
    whole seconds since 1970), grouped per order here; the names and tiers from the
    members read once (`_members`): no customer looked up per line; counted per tier here."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    conn = session.connection()
    lo, hi = period
    params = {"lo": lo, "hi": hi}
    # On SQLite the driver's own tuples (Prepared.rows): no row object per line.
    delivered = statement.rows(conn, params) if sqlite else statement.execute(conn, params).all()
    if not delivered:
        return
    first = _first_deliveries(list(delivered))
    members = _members(session, cover, tiers)
    # Column by column: each made by C loops (map, zip), not a Python statement per line.
    cids, order_nos = zip(*first, strict=True)
    whens = tuple(first.values())
    names = list(tiers)
    name_of, place_of = members.name, members.place
    places = tuple(map(place_of.get, cids))  # None: not a member now
    if None not in places:
        customers = tuple(map(name_of.__getitem__, cids))
    else:  # a line keeping a member tier its customer no longer has (SQLite): as it is
        others = sorted({cid for cid in cids if cid not in place_of})
        found = {cid: (name, tier) for cid, name, tier in conn.execute(
            select(Customer.id, Customer.name, Customer.tier).where(Customer.id.in_(others))
        ).all()}  # fmt: skip
        names += sorted({str(t) for __, t in found.values()} - set(names))
        customers = tuple(name_of[cid] if cid in place_of else found[cid][0] for cid in cids)
        places = tuple(place_of[cid] if cid in place_of else names.index(str(found[cid][1]))
                       for cid in cids)  # fmt: skip
    if cover.counting:
        for n_place, n in Counter(places).items():
            cover.per_tier[names[n_place]][0] += n
    zone = cover.zone
    if sqlite:  # seconds since 1970: the due time's local minute straight from them (_minute)
        after = int(lag.total_seconds())
        minutes = _local_minutes(list(map(after.__add__, whens)), zone)
    else:
        minute = cover.minute
        minutes = [minute(stored_at(when) + lag) for when in whens]  # type: ignore[operator]
    # The reason's text around its one field (what format() makes of a lone {order}) by
    # a plain "{}" template mapped in C, not format() with a name per line; a translation
    # with other braces: format().
    head, field_, tail = why.partition("{order}")
    if field_ and not any(c in head + tail for c in "{}"):
        reasons: Any = map(f"{head}{{}}{tail}".format, order_nos)
    else:
        reasons = (why.format(order=order_no) for order_no in order_nos)
    tier_names = map(names.__getitem__, places)
    lines = map(list, zip(cids, customers, tier_names, repeat(kind), minutes, reasons,
                          repeat(""), repeat(None), strict=False))  # fmt: skip
    cover.lines.extend(zip(minutes, cids, repeat(2), order_nos, lines, strict=False))


def _closed_complaints(
    session: Session, cover: _Coverage, start: datetime, until: datetime,
    policy: CallbackPolicy,
) -> None:  # fmt: skip
    """Complaints closed in the period with no callback after the close."""
    # The statement built once (`_built`), the times its parameters.
    ((__, built, params),) = _closed_complaints_jobs(start, until, policy)
    rows: Sequence[Any]
    if cover.limit is None:  # the report: every row (or read ahead), counted per tier here
        rows = [(stored_at(at), *rest)
                for at, *rest in _plain(session, cover.ahead, "closed complaints", built, params)]
        if cover.counting:
            for tier, n in Counter(r[4] for r in rows).items():
                cover.per_tier[str(tier)][0] += n
    else:  # the view: the first ones
        rows = cover.read_missing(session, built, params, 4)
    kind = _label(CallbackKind.COMPLAINT_FOLLOW_UP)
    if rows:  # every line at once (`_add_all`)
        why = _("no callback after complaint #{id} closed")
        ats, ids, cids, names, tiers_ = list(zip(*rows, strict=True))[:5]
        _add_all(cover, ats, 3, ids, cids, names, tiers_, kind,
                 [why.format(id=complaint_id) for complaint_id in ids])  # fmt: skip


def _closed_complaints_jobs(
    start: datetime, until: datetime, policy: CallbackPolicy
) -> list[tuple[str, Prepared, dict[str, Any]]]:
    """`_closed_complaints`' statement (built once, the times its parameters) as a job."""
    tiers = tuple(policy.member_tiers)
    built = _built(("closed complaints", tiers), lambda: Prepared(
        _closed_complaints_query(tiers, *_times("start", "until"))
        .order_by(Complaint.closed_at, Complaint.id)))  # fmt: skip
    return [("closed complaints", built, {"start": start, "until": until})]


def _closed_complaints_query(tiers: Sequence[str], start: Any, until: Any) -> Select[Any]:
    """The members' complaints closed in [start, until) with no callback after the close:
    (closed at, complaint, customer, name, tier)."""
    after = exists().where(
        Callback.complaint_id == Complaint.id,
        Callback.status != CallbackStatus.CANCELLED,
        or_(
            Callback.source_key
            == literal("complaint:") + cast(Complaint.id, String) + literal(":after-close"),
            Callback.created_at >= Complaint.closed_at,
        ),
    )
    query = (
        select(Complaint.closed_at.label("at"), Complaint.id.label("complaint_id"),
               Customer.id.label("cid"), Customer.name, Customer.tier)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(
            Customer.tier.in_(tiers), Complaint.status == "closed",
            Complaint.closed_at >= start, Complaint.closed_at < until, ~after,
        )
    )  # fmt: skip
    return query


def _greeted_on(born: date, year: int) -> date:
    """The day a birthday is greeted for in `year` (29 February: the 28th in a common year)."""
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def _greeting_days(
    start: datetime, until: datetime, policy: CallbackPolicy
) -> dict[int, list[list[date]]]:
    """Per year, the runs of birthdays (as greeted that year) whose greeting fell due in
    [start, until): the scheduler's days, `birthday_days_before` at `call_at`, home zone."""
    before = timedelta(days=policy.birthday_days_before)
    zone = ZoneInfo(policy.home_zone)
    first = (start + before).astimezone(zone).date()
    last = (until + before).astimezone(zone).date()
    runs: dict[int, list[list[date]]] = defaultdict(list)
    if not first < last:
        return runs
    months = {(first + timedelta(days=d)).month for d in range((last - first).days + 1)}
    day = first - timedelta(days=3)  # a greeting's day is within a day or two of first..last
    while day <= last + timedelta(days=3):
        due = datetime.combine(day - before, policy.call_at, tzinfo=zone)
        if first.year <= day.year <= last.year and day.month in months and start <= due < until:
            year = runs[day.year]
            if year and year[-1][1] == day - timedelta(days=1):
                year[-1][1] = day
            else:
                year.append([day, day])
        day += timedelta(days=1)
    return runs


def _born_in(first: date, last: date, born_year: int) -> tuple[date, date] | None:
    """The birthdays in `born_year` greeted on first..last (one year's run)."""
    leap = calendar.isleap
    if (first.month, first.day) == (2, 29) and not leap(born_year):
        lo = date(born_year, 3, 1)  # nobody born that year is greeted on the 29th
    else:
        lo = first.replace(year=born_year)
    hi = _greeted_on(last, born_year)
    if not leap(first.year) and leap(born_year) and first <= date(first.year, 2, 28) <= last:
        hi = max(hi, date(born_year, 2, 29))  # greeted on the 28th in a common year
    return (lo, hi) if lo <= hi else None


SCAN_DAYS = 60
"""Greetings of more days than this are found by reading every member's birthday; fewer,
by looking up each year of birth's dates in the birthday index."""


def _birthdays(
    session: Session, cover: _Coverage, start: datetime, until: datetime,
    policy: CallbackPolicy,
) -> None:  # fmt: skip
    """Members whose birthday greeting fell due in the period, with none scheduled."""
    runs = _greeting_days(start, until, policy)
    if not runs:
        return
    # Two scalar subqueries: each is one step of the birthday index (min and max in one
    # SELECT read every customer).
    born = _built(("birthdays: born",), lambda: Prepared(select(
        select(func.min(Customer.birthday)).scalar_subquery(),
        select(func.max(Customer.birthday)).scalar_subquery(),
    )))  # fmt: skip
    oldest, youngest = (
        v if v is None or isinstance(v, date) else date.fromisoformat(v)
        for v in born.execute(session.connection(), {}).one()
    )
    if oldest is None or youngest is None:
        return
    before = timedelta(days=policy.birthday_days_before)
    zone = ZoneInfo(policy.home_zone)
    why = _("no birthday greeting scheduled")
    kind = _label(CallbackKind.BIRTHDAY)
    tiers = list(policy.member_tiers)
    dialect = session.get_bind().dialect.name
    greeted: set[str] = set()
    if cover.limit is None:
        members = _members(session, cover, tiers)
        # Every greeting scheduled (a few thousand keys; on SQLite a range of their unique
        # index, on PostgreSQL by LIKE: a collation may order ':' and ';' otherwise).
        key = Callback.source_key
        scheduled = _built(("birthdays: greeted", dialect), lambda: Prepared(
            select(key).where(key >= "birthday:", key < "birthday;") if dialect == "sqlite"
            else select(key).where(key.like("birthday:%"))))  # fmt: skip
        conn = session.connection()
        greeted = set(map(itemgetter(0), scheduled.rows(conn, {}) if dialect == "sqlite"
                          else scheduled.execute(conn, {}).all()))  # fetched at once
    for year, days in sorted(runs.items()):
        if cover.limit is None:
            # The report: the members read once (`_members`, in birthday order), those
            # whose birthday as greeted this year (29 February: the 28th in a common year)
            # is in a run of days greeted taken as slices of them (bisect), without the
            # ones whose greeting is scheduled; counted here.
            cids, mds = _born_on(members, days, common=not calendar.isleap(year))
            called = _greeted_in(greeted, year)
            if called:  # kept: not scheduled (selected in C, no Python per member)
                keep = list(map(operator.not_, map(called.__contains__, cids)))
                cids, mds = list(compress(cids, keep)), list(compress(mds, keep))
            names = list(map(members.name.__getitem__, cids))
            places = list(map(members.place.__getitem__, cids))
            if cover.counting:
                for place, n in Counter(places).items():
                    cover.per_tier[tiers[place]][0] += n
        else:
            # The view: the first `limit` by day and customer, and every one counted per
            # tier by the database (a count over the whole result on each row read); the
            # statement built once for the period (`_built`).
            key = (dialect, year, tuple(map(tuple, days)), oldest.year, youngest.year,
                   tuple(tiers), cover.limit)  # fmt: skip
            built = _built(("birthdays", *key), lambda key=key: _birthday_view(*key))
            if built is None:
                continue
            found = built.execute(session.connection(), {}).all()
            if cover.counting and found:
                for place, name in enumerate(tiers):
                    cover.per_tier[name][0] += int(found[0][4 + place])
            if not found:
                continue
            cids, names, places, mds = list(zip(*found, strict=True))[:4]
        if not cids:
            continue
        # Tens of thousands of lines over a year: made column by column in C (map, zip).
        dues: dict[int, datetime] = {}  # each day's local minute, one object for its lines
        for md in set(mds):
            greeted_on = date(year, int(md) // 100, int(md) % 100)
            due = datetime.combine(greeted_on - before, policy.call_at, tzinfo=zone)
            dues[md] = _minute(due, cover.zone)
        minutes = list(map(dues.__getitem__, mds))
        shown = map(tiers.__getitem__, places)
        lines = map(list, zip(cids, names, shown, repeat(kind), minutes, repeat(why),
                              repeat(""), repeat(None), strict=False))  # fmt: skip
        cover.lines.extend(zip(minutes, cids, repeat(4), repeat(year), lines, strict=False))


def _born_on(
    members: _Members, days: Sequence[Sequence[date]], *, common: bool
) -> tuple[list[int], list[int]]:
    """The members (customers, and their birthdays as greeted: 29 February as the 28th in
    a common year) whose birthday is greeted on one of the runs of `days` of a year: each
    run a slice of the members in birthday order (bisect), not every member looked at."""
    born, ids = members.born_days, members.born_ids
    cids: list[int] = []
    mds: list[int] = []
    leap_day = False  # a common year's 28 February greets those born on the 29th
    for first, last in days:
        lo, hi = first.month * 100 + first.day, last.month * 100 + last.day
        i, j = bisect_left(born, lo), bisect_right(born, hi)
        if common:
            leap_day = leap_day or lo <= 228 <= hi
            if lo <= 229 <= hi:  # nobody is greeted on a common year's (missing) 29th
                k, m = bisect_left(born, 229), bisect_right(born, 229)
                cids += ids[i:k] + ids[m:j]
                mds += born[i:k] + born[m:j]
                continue
        cids += ids[i:j]
        mds += born[i:j]
    if leap_day:
        k, m = bisect_left(born, 229), bisect_right(born, 229)
        cids += ids[k:m]
        mds += [228] * (m - k)
    return cids, mds


def _greeted_in(keys: set[str], year: int) -> set[int]:
    """The customers whose birthday greeting of `year` is scheduled, from the keys of the
    scheduled greetings: the customers whose f"birthday:{customer}:{year}" is one of them."""
    tail = f":{year}"
    called = set()
    for key in keys:
        if key.startswith("birthday:") and key.endswith(tail):
            cid = key[9 : -len(tail)]
            if cid.isascii() and cid.isdigit() and str(int(cid)) == cid:
                called.add(int(cid))
    return called


def _birthday_view(
    dialect: str, year: int, days: Sequence[Sequence[date]], oldest: int, youngest: int,
    tiers: Sequence[str], limit: int,
) -> Prepared | None:  # fmt: skip
    """The view's statement of a year's birthdays (`_birthday_query`): the first `limit`,
    with every one counted per tier on each row."""
    query, day = _birthday_query(dialect, year, days, oldest, youngest, tiers,
                                 texts=dialect == "sqlite")  # fmt: skip
    if query is None:
        return None
    tier = query.selected_columns.tier
    counts = [
        func.count(case((tier == place, 1))).over().label(f"n_{place}")
        for place in range(len(tiers))
    ]
    return Prepared(query.add_columns(*counts).order_by(day, Customer.id).limit(limit))


def _birthday_query(
    dialect: str, year: int, days: Sequence[Sequence[date]], oldest: int, youngest: int,
    tiers: Sequence[str], *, texts: bool = False,
) -> tuple[Any, Any]:  # fmt: skip
    """The members greeted for their birthday on `days` of `year` with no greeting
    scheduled: (customer, name, tier's place in `tiers`, the day greeted as month * 100 +
    day), and that day's expression; (None, None) when nobody can be. `texts`: the dates
    compared with as SQLite stores them (YYYY-MM-DD), for a statement run as seat.db.Prepared
    (its built-in values go to the driver as they are)."""
    if dialect == "sqlite":
        # The stored text is YYYY-MM-DD: its digits read straight, not through strftime
        # (a year's report reads every member's birthday: strftime was half of it).
        born_day: Any = cast(func.substr(Customer.birthday, 6, 2), Integer) * 100 + cast(
            func.substr(Customer.birthday, 9, 2), Integer
        )
    else:
        born_day = extract("month", Customer.birthday) * 100 + extract("day", Customer.birthday)
    # The day greeted in `year` as month * 100 + day (29 February: the 28th if common).
    day: Any = born_day
    if not calendar.isleap(year):
        day = case((day == 229, 228), else_=day)
    if sum((last - first).days + 1 for first, last in days) > SCAN_DAYS:
        greeted = or_(
            *(day.between(f.month * 100 + f.day, t.month * 100 + t.day) for f, t in days)
        )
    else:
        ranges = [
            found
            for born_year in range(oldest, youngest + 1)
            for first, last in days
            if (found := _born_in(first, last, born_year)) is not None
        ]
        if not ranges:
            return None, None
        bounds: list[tuple[Any, Any]] = list(ranges)
        if texts:
            bounds = [(lo.isoformat(), hi.isoformat()) for lo, hi in ranges]
        greeted = or_(*(Customer.birthday.between(lo, hi) for lo, hi in bounds))
    key = literal("birthday:") + cast(Customer.id, String) + literal(f":{year}")
    # The tier as its place in member_tiers: a number, not one more text to read.
    tier = case(*((Customer.tier == t, i) for i, t in enumerate(tiers)), else_=-1)
    found = (Customer.id.label("cid"), Customer.name, tier.label("tier"), day.label("day"))
    query = select(*found).where(
        Customer.tier.in_(tiers),
        Customer.birthday.is_not(None),
        Customer.merged_into_id.is_(None),
        greeted,
        ~exists().where(Callback.source_key == key),
    )
    return query, day


def _plain(
    session: Session, ahead: ReadAhead | None, key: str, statement: Prepared,
    params: dict[str, Any],
) -> list[Any]:  # fmt: skip
    """The rows of `statement` as the driver gives them: read ahead (`ahead`, the job `key`:
    the same statement and parameters) or here (on SQLite the driver's own tuples,
    Prepared.rows)."""
    if ahead is not None:
        return ahead.rows(key)
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return statement.rows(conn, params)
    return list(statement.execute(conn, params).all())


def _agent_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Agent.id, Agent.display_name)).all())  # type: ignore[arg-type]


def breakdown_tables(
    *,
    session: Session,
    date_from: date,
    date_to: date,
    settings: Settings,
    now: datetime,
    policy: CallbackPolicy | None = None,
) -> list[Table]:
    """The period's callbacks by kind, by agent and by score."""
    policy = policy or load_policy(settings)
    return _breakdown(session, date_from, date_to, settings, now, policy, None)


def _breakdown(
    session: Session, date_from: date, date_to: date, settings: Settings, now: datetime,
    policy: CallbackPolicy, ahead: ReadAhead | None,
) -> list[Table]:  # fmt: skip
    """breakdown_tables' tables, their statements read ahead when `ahead`."""
    start, end = period(date_from, date_to, ZoneInfo(settings.local_timezone))
    within = timedelta(days=policy.done_within_days)
    meta = {"from": date_from, "to": date_to, "as of": now}
    names = _agent_names(session)
    figures = _figures(session, start, end, now, within, ahead)
    by_agent = figures.by_agent
    kinds = Table(
        N_("By kind"),
        [N_("Kind"), *COUNT_HEADERS],
        [[_label(k), *c.row()] for k, c in sorted(figures.by_kind.items())]
        + [[TOTAL, *figures.total.row()]],
        meta,
        label_columns=(0,),
    )
    agents = Table(
        N_("By agent"),
        [N_("Agent"), *COUNT_HEADERS, N_("Avg score")],
        sorted([str(names.get(a, a)), *c.row(), c.average()] for a, c in by_agent.items()),
        meta,
    )
    every = _Counts()
    score_rows = []
    for kind, c in sorted(figures.scored.items()):
        every.scores += c.scores
        counts = [c.scores[s] for s in range(5, 0, -1)]
        score_rows.append([_label(kind), c.scored, c.average(), *counts])
    score_rows.append(
        [TOTAL, every.scored, every.average(), *(every.scores[s] for s in range(5, 0, -1))]
    )
    heads = [N_("Kind"), N_("Scored"), N_("Average"), "5", "4", "3", "2", "1"]
    scores = Table(N_("Scores"), heads, score_rows, meta, label_columns=(0,))
    return [kinds, agents, scores]


def _cover(
    session: Session, date_from: date, date_to: date, settings: Settings, now: datetime,
    policy: CallbackPolicy, limit: int | None, *, counting: bool,
    ahead: ReadAhead | None = None,
) -> _Coverage:  # fmt: skip
    zone = ZoneInfo(settings.local_timezone)
    start, end = period(date_from, date_to, zone)
    cover = _Coverage(zone=zone, limit=limit, counting=counting, ahead=ahead)
    tiers = policy.member_tiers
    with few_collections(pause=limit is None):
        if tiers:
            until = min(end, now)
            _callbacks_not_done(session, cover, start, end, now, tiers, _agent_names(session))
            for rule in (_after_service, _new_buyers, _closed_complaints, _birthdays):
                rule(session, cover, start, until, policy)
    return cover


def lines_without(
    *,
    session: Session,
    date_from: date,
    date_to: date,
    settings: Settings,
    now: datetime,
    policy: CallbackPolicy | None = None,
    limit: int,
) -> list[list[object]]:
    """The first `limit` lines of the members without a callback (the rows of
    coverage_tables' second table), without counting anything: a further page of it."""
    policy = policy or load_policy(settings)
    cover = _cover(session, date_from, date_to, settings, now, policy, limit, counting=False)
    return cover.table_rows()


def coverage_tables(
    *,
    session: Session,
    date_from: date,
    date_to: date,
    settings: Settings,
    now: datetime,
    policy: CallbackPolicy | None = None,
    limit: int | None = None,
) -> list[Table]:
    """Coverage per tier, and the members without a callback: the first `limit` lines, or
    all of them. Every count is whole, `limit` or not."""
    policy = policy or load_policy(settings)
    return _coverage(session, date_from, date_to, settings, now, policy, limit, None)


def _coverage(
    session: Session, date_from: date, date_to: date, settings: Settings, now: datetime,
    policy: CallbackPolicy, limit: int | None, ahead: ReadAhead | None,
) -> list[Table]:  # fmt: skip
    """coverage_tables' tables, the year's report's statements read ahead when `ahead`."""
    meta = {"from": date_from, "to": date_to, "as of": now}
    # Coverage: members' callbacks due by now, each done or not, plus the never scheduled.
    cover = _cover(session, date_from, date_to, settings, now, policy, limit, counting=True,
                   ahead=ahead)  # fmt: skip
    tiers = policy.member_tiers
    without = cover.table_rows()
    cov_rows = []
    need = got = 0
    for tier in tiers:
        n, ok = cover.per_tier.get(tier, [0, 0])
        need, got = need + n, got + ok
        cov_rows.append([tier, n, ok, n - ok, round(100 * ok / n, 1) if n else None])
    cov_rows.append([TOTAL, need, got, need - got, round(100 * got / need, 1) if need else None])
    coverage = Table(
        N_("Coverage"),
        [N_("Tier"), N_("Required"), N_("Done"), N_("Not done"), N_("Coverage %")],
        cov_rows,
        meta,
        label_columns=(0,),
    )
    missing = Table(
        N_("Members without callback"),
        [
            N_("Customer #"), N_("Customer"), N_("Tier"), N_("Kind"), N_("Due"), N_("Why"),
            N_("Owner"), N_("Callback #"),
        ],
        without,
        meta,
        label_columns=(2, 3),
    )
    return [coverage, missing]


def tables(
    *,
    session: Session,
    date_from: date,
    date_to: date,
    settings: Settings,
    now: datetime,
    policy: CallbackPolicy | None = None,
    limit: int | None = None,
) -> list[Table]:
    """Coverage, the members without a callback (the first `limit` lines, or all), and the
    period's callbacks by kind, by agent and by score. Every count is over the whole period,
    `limit` or not."""
    policy = policy or load_policy(settings)
    args = (session, date_from, date_to, settings, now, policy)
    ahead = None
    if limit is None:  # the whole report: what reads much and returns little, read ahead
        ahead = ReadAhead.start(session, _ahead_jobs(*args))
    try:
        return [*_coverage(*args, limit, ahead), *_breakdown(*args, ahead)]
    finally:
        if ahead is not None:
            ahead.close()


def _ahead_jobs(
    session: Session, date_from: date, date_to: date, settings: Settings, now: datetime,
    policy: CallbackPolicy,
) -> list[tuple[str, Prepared, dict[str, Any]]]:
    """The year's report's statements read ahead (seat.db.ReadAhead: on a second connection,
    in a thread, the same snapshot) while this one reads the lines and builds them: those
    that read much and return little (the work orders completed in the period, the
    complaints closed, the counts per tier and per kind, agent and status: a third of the
    report's time in SQL at the bench's size), in the order the report takes them."""
    start, end = period(date_from, date_to, ZoneInfo(settings.local_timezone))
    jobs = []
    if policy.member_tiers:
        until = min(end, now)
        jobs += _not_done_jobs(policy.member_tiers, start, end, now)[:1]
        jobs += _after_service_jobs(start, until, policy)
        jobs += _closed_complaints_jobs(start, until, policy)
    within = timedelta(days=policy.done_within_days)
    return jobs + _figures_jobs(session, start, end, now, within)
