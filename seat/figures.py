"""Agent figures over any period (坐席绩效): the agent report and the agent-figure screen.

Per agent and per local day in the desk's zone, folded into days, Monday weeks or months:

- calls handled: calls the agent took or made that started that day;
- handling time, talk and wrap-up apart: talk from the start to wrap-up (to the end when
  the call has no wrap-up time), wrap-up from then to the save (kept on the call when it
  is saved: `seat.repeats.time_it`); averaged over the calls that have them;
- first-contact resolution: of the inbound calls judged (a number and a need), the share
  no repeat call followed (same number, same need, within 7 days: `seat.repeats`);
- satisfaction: of the calls scored (1-5), the share of 4 and 5, and the average;
- complaints owned: registered that day and owned by the agent; closed ones, and of those
  the share closed on time (no clock breached: first reply, solution, follow-up);
- callbacks due that day (up to now, cancelled ones left out) owned by the agent, and the
  share done on time (done, no later than due).

The database adds up calls and callbacks (one SELECT a local day, UNION ALL: each reads an
index range in order); complaints, a few per thousand calls, are judged by their clocks
here, the same way the complaint report judges them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from operator import add
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, select
from sqlmodel import Session

from seat import complaints, roles, sla
from seat.db import Prepared, ReadAhead
from seat.export import Table
from seat.i18n import N_, _
from seat.models import (
    Agent,
    Call,
    Callback,
    CallbackKind,
    CallbackStatus,
    Complaint,
    Customer,
    level_for,
)


def require_figures(agent: roles.HasRole | None) -> None:
    """Every agent's figures are a supervisor's to read (roles.PermissionDenied)."""
    roles.require(agent, roles.AGENT_FIGURES)


class Step(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    """One day, a Monday week or a calendar month, cut to the range."""

    start: date
    end: date  # included

    @property
    def label(self) -> str:
        """The chart's x tick: the first day's month-day (one cell a character, any language)."""
        return f"{self.start:%m-%d}"


def periods(date_from: date, date_to: date, step: Step | str) -> list[Period]:
    """The days, Monday weeks or months from `date_from` to `date_to`, cut to the range."""
    if date_to < date_from:
        raise ValueError(_("The end date is before the start date."))
    step = Step(step)
    out: list[Period] = []
    start = date_from
    while start <= date_to:
        if step == Step.DAY:
            end = start
        elif step == Step.WEEK:
            end = start + timedelta(days=6 - start.weekday())
        else:
            first_next = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            end = first_next - timedelta(days=1)
        out.append(Period(start, min(end, date_to)))
        start = min(end, date_to) + timedelta(days=1)
    return out


@dataclass(frozen=True)
class Sums:
    """What one agent's figures add up from, over any span (sums add across days)."""

    calls: int = 0
    talked: int = 0
    """Calls with a talk time (ended)."""
    talk_s: float = 0.0
    wrapped: int = 0
    """Calls with a wrap-up time."""
    wrap_s: float = 0.0
    judged: int = 0
    """Inbound calls judged for first-contact resolution."""
    repeated: int = 0
    scored: int = 0
    score_sum: int = 0
    satisfied: int = 0
    """Scores of 4 or 5."""
    complaints: int = 0
    closed: int = 0
    closed_on_time: int = 0
    callbacks_due: int = 0
    callbacks_on_time: int = 0

    def __add__(self, other: Sums) -> Sums:
        # The fields in order (a frozen dataclass's __dict__): no copies, as astuple makes,
        # and filled in directly (a frozen dataclass's __init__ sets 15 fields one by one
        # through object.__setattr__: a year's agent report adds 16,000 times).
        out = object.__new__(Sums)
        mine, theirs = self.__dict__.values(), other.__dict__.values()
        out.__dict__.update(zip(_SUM_FIELDS, map(add, mine, theirs), strict=True))
        return out

    @property
    def avg_talk_s(self) -> int | None:
        return round(self.talk_s / self.talked) if self.talked else None

    @property
    def avg_wrap_s(self) -> int | None:
        return round(self.wrap_s / self.wrapped) if self.wrapped else None

    @property
    def fcr_percent(self) -> float | None:
        """First-contact resolution: judged calls not repeated, in %."""
        return _percent(self.judged - self.repeated, self.judged)

    @property
    def satisfied_percent(self) -> float | None:
        return _percent(self.satisfied, self.scored)

    @property
    def avg_score(self) -> float | None:
        return round(self.score_sum / self.scored, 2) if self.scored else None

    @property
    def on_time_percent(self) -> float | None:
        """Complaints closed on time, of those closed."""
        return _percent(self.closed_on_time, self.closed)

    @property
    def callbacks_percent(self) -> float | None:
        """Callbacks done on time, of those due."""
        return _percent(self.callbacks_on_time, self.callbacks_due)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


NOTHING = Sums()


@dataclass(frozen=True)
class AgentRow:
    id: int
    name: str
    display_name: str


_SUM_FIELDS = tuple(f.name for f in fields(Sums))


@dataclass(frozen=True)
class Figures:
    """Every agent's sums per local day of the range (days without any: absent)."""

    date_from: date
    date_to: date
    agents: tuple[AgentRow, ...]
    days: dict[tuple[int, date], Sums]

    def series(self, step: Step | str) -> list[tuple[Period, dict[int, Sums]]]:
        """Per period, each agent's sums (agents without any left out)."""
        spans = periods(self.date_from, self.date_to, step)
        index: dict[date, int] = {}
        for i, p in enumerate(spans):
            for n in range((p.end - p.start).days + 1):
                index[p.start + timedelta(days=n)] = i
        out: list[dict[int, Sums]] = [{} for __ in spans]
        for (agent_id, day), sums in sorted(self.days.items()):
            per = out[index[day]]
            per[agent_id] = per.get(agent_id, NOTHING) + sums
        return list(zip(spans, out, strict=True))

    def totals(self) -> dict[int, Sums]:
        """Each agent's sums over the whole range."""
        out: dict[int, Sums] = {}
        for (agent_id, __), sums in sorted(self.days.items()):
            out[agent_id] = out.get(agent_id, NOTHING) + sums
        return out


# -- reading -------------------------------------------------------------------------------


def local_days(
    date_from: date, date_to: date, zone: ZoneInfo
) -> list[tuple[date, datetime, datetime]]:
    """(local day, its UTC start, its UTC end) for each day of the range."""
    out = []
    day = date_from
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    while day <= date_to:
        nxt = day + timedelta(days=1)
        end = datetime.combine(nxt, time.min, tzinfo=zone).astimezone(UTC)
        out.append((day, start, end))
        day, start = nxt, end
    return out


def _daily(
    column: Any, *, by: Any, aggregates: Sequence[Any], where: Sequence[Any] = ()
) -> Prepared:
    """The SELECT of one local day's (`lo` to `hi`) aggregates per `by`, reading one index
    range in order (compiled once; a UNION ALL of a year of them takes SQLAlchemy longer to
    compile than the database to answer)."""
    return Prepared(
        select(by, *aggregates)
        .where(column >= bindparam("lo"), column < bindparam("hi"), *where)
        .group_by(by)
    )


def _per_day(
    session: Session, query: Prepared, days: Sequence[tuple[date, datetime, datetime]],
    ahead: ReadAhead | None = None, key: str = "",
) -> Iterable[tuple[date, int, Sequence[Any]]]:  # fmt: skip
    """(day, `by`, aggregates) per local day and `by` (`_daily`'s statement once a day). Run
    at the driver level (seat.db.Prepared), the rows as the driver reads them (the callers
    make ints and floats of the sums): a year is 730 statements of a few rows, where
    SQLAlchemy's work per statement cost more than the statement. With `ahead`, the days'
    rows as the second connection read them (the jobs `key` + the day's place)."""
    conn = None if ahead is not None else session.connection()
    for i, (day, lo, hi) in enumerate(days):
        if ahead is not None:
            rows = ahead.rows(f"{key}{i}")
        else:
            result = query.execute(conn, {"lo": lo, "hi": hi})
            try:
                rows = result.cursor.fetchall()
            finally:
                result.close()
        for row in rows:
            yield day, row[0], row[1:]


@cache
def _call_query() -> Prepared:
    aggregates = [
        func.count(),
        func.count(Call.talk_seconds),
        func.sum(Call.talk_seconds),
        func.count(Call.wrapup_seconds),
        func.sum(Call.wrapup_seconds),
        func.count(Call.repeated),
        func.sum(case((Call.repeated.is_(True), 1), else_=0)),
        func.count(Call.satisfaction),
        func.sum(Call.satisfaction),
        func.sum(case((Call.satisfaction >= 4, 1), else_=0)),
    ]
    return _daily(
        Call.started_at, by=Call.agent_id, aggregates=aggregates,
        # Lets SQLite seek ix_call_agent_figures agent by agent, in order, index only.
        where=[Call.agent_id.in_(select(Agent.id))],
    )  # fmt: skip


def _call_jobs(
    days: Sequence[tuple[date, datetime, datetime]],
) -> list[tuple[str, Prepared, dict[str, Any]]]:
    """The calls' sums of each day as jobs to read ahead (seat.db.ReadAhead)."""
    query = _call_query()
    return [(f"calls{i}", query, {"lo": lo, "hi": hi}) for i, (__, lo, hi) in enumerate(days)]


def _call_sums(
    session: Session, days: Sequence[tuple[date, datetime, datetime]],
    ahead: ReadAhead | None = None,
) -> Iterable[tuple[int, date, Sums]]:  # fmt: skip
    rows = _per_day(session, _call_query(), days, ahead, "calls")
    for day, agent_id, v in rows:
        yield agent_id, day, Sums(
            calls=int(v[0]), talked=int(v[1]), talk_s=float(v[2] or 0), wrapped=int(v[3]),
            wrap_s=float(v[4] or 0), judged=int(v[5]), repeated=int(v[6] or 0),
            scored=int(v[7]), score_sum=int(v[8] or 0), satisfied=int(v[9] or 0),
        )  # fmt: skip


def _callback_sums(
    session: Session, days: Sequence[tuple[date, datetime, datetime]], now: datetime
) -> Iterable[tuple[int, date, Sums]]:
    due = [(d, lo, min(hi, now)) for d, lo, hi in days if lo < now]
    on_time = and_(
        Callback.status == CallbackStatus.DONE,
        Callback.done_at.is_not(None),
        Callback.done_at <= Callback.due_at,
    )
    query = _daily(
        Callback.due_at, by=Callback.owner_id,
        aggregates=[func.count(), func.sum(case((on_time, 1), else_=0))],
        where=[Callback.status != CallbackStatus.CANCELLED],
    )  # fmt: skip
    rows = _per_day(session, query, due)
    for day, owner_id, (n, done) in rows:
        yield owner_id, day, Sums(callbacks_due=int(n), callbacks_on_time=int(done or 0))


def _complaint_sums(
    session: Session, date_from: date, date_to: date, zone: ZoneInfo, policy: sla.Policy,
    now: datetime,
) -> Iterable[tuple[int, date, Sums]]:  # fmt: skip
    start = datetime.combine(date_from, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    rows = session.execute(
        select(
            Complaint.id, Complaint.owner_id, Complaint.status, Complaint.created_at,
            Complaint.closed_at, Complaint.category, Complaint.first_reply_at,
            Complaint.solution_at, Complaint.implemented_at, Complaint.waiting_since,
            Complaint.channel, Complaint.registered_at, Complaint.promised_at,
            Complaint.promised_reply_at, Customer.tier,
        )
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(Complaint.created_at >= start, Complaint.created_at < end)
        .order_by(Complaint.created_at, Complaint.id)
    ).all()  # fmt: skip
    closed_ids = [r.id for r in rows if r.status == "closed"]
    pauses = complaints.pauses_for(session=session, complaint_ids=closed_ids)
    follow_ups: dict[int, datetime] = dict(
        session.execute(  # type: ignore[arg-type]
            select(Callback.complaint_id, func.min(Callback.done_at))
            .join(Complaint, Complaint.id == Callback.complaint_id)
            .where(
                Complaint.created_at >= start,
                Complaint.created_at < end,
                Complaint.status == "closed",
                Callback.kind == CallbackKind.COMPLAINT_FOLLOW_UP,
                Callback.done_at.is_not(None),
            )
            .group_by(Callback.complaint_id)
        ).all()
    )
    for r in rows:
        day = r.created_at.astimezone(zone).date()
        if r.status != "closed":
            yield r.owner_id, day, Sums(complaints=1)
            continue
        clocks = complaints.clocks(
            r, level=level_for(r.tier), policy=policy, now=now, pauses=pauses.get(r.id, ()),
            callback_done_at=follow_ups.get(r.id),
        )  # fmt: skip
        late = any(c.breached for c in clocks)
        yield r.owner_id, day, Sums(complaints=1, closed=1, closed_on_time=int(not late))


def load(
    *, session: Session, date_from: date, date_to: date, zone: ZoneInfo, policy: sla.Policy,
    now: datetime,
) -> Figures:  # fmt: skip
    """Every agent's sums per local day from `date_from` to `date_to` (both included)."""
    if date_to < date_from:
        raise ValueError(_("The end date is before the start date."))
    days = local_days(date_from, date_to, zone)
    # On SQLite the calls' sums (a year: 365 statements over a million calls, half the
    # report's SQL) are read ahead on a second connection of the same snapshot, in a thread
    # (seat.db.ReadAhead), while this one reads the callbacks and works out the complaints'
    # clocks; the sums are then added in the same order as before.
    ahead = ReadAhead.start(session, _call_jobs(days), as_json=False)  # 365 of a few rows
    try:
        callback_sums = list(_callback_sums(session, days, now))
        complaint_sums = list(_complaint_sums(session, date_from, date_to, zone, policy, now))
        call_sums = list(_call_sums(session, days, ahead))
    finally:
        if ahead is not None:
            ahead.close()
    out: dict[tuple[int, date], Sums] = defaultdict(Sums)
    for source in (call_sums, callback_sums, complaint_sums):
        for agent_id, day, sums in source:
            out[agent_id, day] = out[agent_id, day] + sums
    seen = {agent_id for agent_id, __ in out}
    agents = session.execute(
        select(Agent.id, Agent.name, Agent.display_name)
        .where(Agent.id.in_(seen) | (Agent.active.is_(True) & (Agent.role == "agent")))
        .order_by(Agent.name)
    ).all()
    return Figures(
        date_from, date_to, tuple(AgentRow(*a) for a in agents), dict(out)
    )


# -- tables: the same rows on screen and in the export ---------------------------------------

TITLE = N_("Agent figures")
TITLES = {
    Step.DAY: N_("Agent figures by day"),
    Step.WEEK: N_("Agent figures by week"),
    Step.MONTH: N_("Agent figures by month"),
}
FIRST_COLUMN = {Step.DAY: N_("Day"), Step.WEEK: N_("Week of"), Step.MONTH: N_("Month of")}
HEADERS = [
    N_("Agent"), N_("Name"), N_("Calls"), N_("Avg talk s"), N_("Avg wrap-up s"),
    N_("FCR judged"), N_("FCR %"), N_("Scored"), N_("Satisfied %"), N_("Avg score"),
    N_("Complaints"), N_("Closed"), N_("Closed on time %"), N_("Callbacks due"),
    N_("Done on time %"),
]  # fmt: skip
"""English and stable (json/csv keys); txt, xlsx and the screen translate them."""
TOTAL = N_("Total")


def cells(s: Sums) -> list[Any]:
    """The figures of one row, in HEADERS order after the agent's name."""
    return [
        s.calls, s.avg_talk_s, s.avg_wrap_s, s.judged, s.fcr_percent, s.scored,
        s.satisfied_percent, s.avg_score, s.complaints, s.closed, s.on_time_percent,
        s.callbacks_due, s.callbacks_percent,
    ]  # fmt: skip


@dataclass
class FigureTable(Table):
    """A Table whose "Total" cells are translated for people and whose agent names are not
    (a name is never a catalogue entry)."""

    @property
    def shown_rows(self) -> list[list[Any]]:
        return [[_(v) if v == TOTAL else v for v in row] for row in self.rows]


def _sum(values: Iterable[Sums]) -> Sums:
    total = NOTHING
    for s in values:
        total = total + s
    return total


def summary_table(data: Figures) -> Table:
    """A row per agent over the whole range, and the total."""
    totals = data.totals()
    rows: list[list[Any]] = [
        [a.name, a.display_name, *cells(totals.get(a.id, NOTHING))] for a in data.agents
    ]
    rows.append([TOTAL, "", *cells(_sum(totals.values()))])
    meta = {"from": data.date_from, "to": data.date_to}
    return FigureTable(TITLE, list(HEADERS), rows, meta)


def step_table(data: Figures, step: Step | str) -> Table:
    """A row per period and agent (agents with nothing in a period left out)."""
    step = Step(step)
    names = {a.id: a for a in data.agents}
    rows: list[list[Any]] = []
    for period, per in data.series(step):
        for agent_id in sorted(per, key=lambda i: names[i].name if i in names else str(i)):
            a = names.get(agent_id)
            rows.append([period.start, a.name if a else str(agent_id),
                         a.display_name if a else "", *cells(per[agent_id])])  # fmt: skip
    meta = {"from": data.date_from, "to": data.date_to}
    return FigureTable(TITLES[step], [FIRST_COLUMN[step], *HEADERS], rows, meta)


def tables(data: Figures) -> list[Table]:
    """The whole range per agent, then by day, by week and by month."""
    return [summary_table(data), *(step_table(data, step) for step in Step)]
