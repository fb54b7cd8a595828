"""Daily and weekly trends for the statistics screen and `seat report summary`.

Four measures over local dates `date_from`..`date_to` (both included) in the desk's zone:
calls (count, average handling time from start to end), complaints registered by
category, callback completion (callbacks that fell due by now: done of due) and
satisfaction (the 1-5 scores given on calls). Weeks start on Monday; the first and last
week are cut to the range. Days without data count as zero.

The database does the counting per local day, folded into weeks here (`regroup` folds a
day-by-day load into weeks without reading again). SQLite counts each local day's UTC range
by itself (the zone's offset is constant between its transitions); PostgreSQL groups by the
day it converts with the zone name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, func, literal, select, union_all
from sqlmodel import Session

from seat import call_slots
from seat.config import Settings
from seat.export import Table
from seat.i18n import N_, _
from seat.models import Call, Callback, CallbackStatus, Complaint

NOT_CLASSIFIED = N_("(not classified)")


class Step(StrEnum):
    DAY = "day"
    WEEK = "week"


class Measure(StrEnum):
    CALLS = "calls"
    COMPLAINTS = "complaints"
    CALLBACKS = "callbacks"
    SATISFACTION = "satisfaction"


# Titles, headers and the "Total" cells of the tables are English and stable: they are the
# json/csv keys scripts read. txt, xlsx and the screen translate them (Table.shown_*).
TITLES = {
    (Measure.CALLS, Step.DAY): N_("Calls by day"),
    (Measure.COMPLAINTS, Step.DAY): N_("Complaints by category by day"),
    (Measure.CALLBACKS, Step.DAY): N_("Callback completion by day"),
    (Measure.SATISFACTION, Step.DAY): N_("Satisfaction by day"),
    (Measure.CALLS, Step.WEEK): N_("Calls by week"),
    (Measure.COMPLAINTS, Step.WEEK): N_("Complaints by category by week"),
    (Measure.CALLBACKS, Step.WEEK): N_("Callback completion by week"),
    (Measure.SATISFACTION, Step.WEEK): N_("Satisfaction by week"),
}
"""The English title of each measure's table per step (translate with `_()` to show it)."""
FIRST_COLUMN = {Step.DAY: N_("Day"), Step.WEEK: N_("Week of")}
HEADERS = {
    Measure.CALLS: [N_("Calls"), N_("Avg handling s")],
    Measure.CALLBACKS: [N_("Due"), N_("Done"), N_("Done %")],
    Measure.SATISFACTION: [N_("Scored"), N_("Avg score")],
}
"""The English headers after the first column (complaints: a column per category)."""
TOTAL = N_("Total")


@dataclass(frozen=True)
class Period:
    """One day, or the days of one Monday-based week that lie in the range."""

    start: date
    end: date  # included

    @property
    def label(self) -> str:
        """Month-day ("11-23") in every language: the chart's x ticks, which plotext measures
        by characters, so they stay one cell each (Chinese reads month-day digits as well)."""
        return f"{self.start:%m-%d}"


@dataclass(frozen=True)
class CallPoint:
    period: Period
    calls: int
    ended: int
    """Calls with an end time: the ones the average handling time is taken over."""
    seconds: float
    """Handling time of the ended calls, added up."""

    @property
    def avg_seconds(self) -> int | None:
        return round(self.seconds / self.ended) if self.ended else None


@dataclass(frozen=True)
class ComplaintPoint:
    period: Period
    counts: tuple[int, ...]
    """Per category, in the order of ComplaintSeries.categories."""

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class ComplaintSeries:
    categories: tuple[str, ...]
    """Labels of the categories that occur in the range, policy order first: the policy's
    base labels, stable in every language (json/csv keys)."""
    points: tuple[ComplaintPoint, ...]
    shown_categories: tuple[str, ...] = ()
    """The same categories as people read them, in the language of the load."""


@dataclass(frozen=True)
class CallbackPoint:
    period: Period
    due: int
    done: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.done / self.due, 1) if self.due else None


@dataclass(frozen=True)
class SatisfactionPoint:
    period: Period
    scored: int
    score_sum: int

    @property
    def average(self) -> float | None:
        return round(self.score_sum / self.scored, 2) if self.scored else None


@dataclass(frozen=True)
class Trends:
    date_from: date
    date_to: date
    step: Step
    calls: tuple[CallPoint, ...]
    complaints: ComplaintSeries
    callbacks: tuple[CallbackPoint, ...]
    satisfaction: tuple[SatisfactionPoint, ...]


# -- periods and local days ------------------------------------------------------------------


def periods(date_from: date, date_to: date, step: Step | str) -> list[Period]:
    """The days, or the Monday-based weeks cut to the range, from `date_from` to `date_to`."""
    if date_to < date_from:
        raise ValueError(_("The end date is before the start date."))
    if Step(step) == Step.DAY:
        return [
            Period(date_from + timedelta(days=i), date_from + timedelta(days=i))
            for i in range((date_to - date_from).days + 1)
        ]
    out: list[Period] = []
    start = date_from
    while start <= date_to:
        sunday = start + timedelta(days=6 - start.weekday())
        out.append(Period(start, min(sunday, date_to)))
        start = sunday + timedelta(days=1)
    return out


def bounds(date_from: date, date_to: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local dates from..to inclusive."""
    start = datetime.combine(date_from, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def _offset(at: datetime, zone: ZoneInfo) -> int:
    return int(at.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]


def offset_spans(
    start: datetime, end: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime, int]]:
    """[start, end) cut where the zone's UTC offset changes: (from, to, offset seconds)."""
    probe = timedelta(hours=6)  # zones never change their offset twice in six hours
    spans: list[tuple[datetime, datetime, int]] = []
    lo, off = start, _offset(start, zone)
    at = start
    while at + probe < end:
        nxt = at + probe
        if _offset(nxt, zone) != off:
            a, b = int(at.timestamp()), int(nxt.timestamp())
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(datetime.fromtimestamp(mid, UTC), zone) == off:
                    a = mid
                else:
                    b = mid
            cut = datetime.fromtimestamp(b, UTC)
            spans.append((lo, cut, off))
            lo, off = cut, _offset(cut, zone)
        at = nxt
    spans.append((lo, end, off))
    return spans


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _per_day(
    session: Session,
    column: Any,
    *,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    aggregates: Sequence[Any],
    where: Sequence[Any] = (),
    by: Sequence[Any] = (),
) -> dict[tuple[Any, ...], list[float]]:
    """Sums per (local day, *by) of `aggregates` (counts and sums only, so spans add up)."""
    out: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0] * len(aggregates))
    if end <= start:
        return out
    if session.get_bind().dialect.name == "sqlite":
        rows: Iterable[tuple[date, Sequence[Any]]] = _sqlite_days(
            session, column, zone=zone, start=start, end=end, aggregates=aggregates,
            where=where, by=by,
        )  # fmt: skip
    else:
        # Inlined, not bound: PostgreSQL sees two parameters in SELECT and GROUP BY as
        # different expressions. A ZoneInfo key is a tz database name, safe to quote.
        day = func.date(func.timezone(literal(zone.key, literal_execute=True), column))
        query = (
            select(day, *by, *aggregates)
            .where(column >= start, column < end, *where)
            .group_by(day, *by)
        )
        rows = ((_as_date(row[0]), row[1:]) for row in session.execute(query))
    for day_, values in rows:
        key = (day_, *values[: len(by)])
        sums = out[key]
        for i, value in enumerate(values[len(by) :]):
            sums[i] += float(value or 0)
    return out


DAYS_A_STATEMENT = 200
"""SQLite joins at most 500 SELECTs in one compound statement."""


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[call_slots.Day]:
    """The local days of [start, end), each with its [start, end) in UTC (cut to the range,
    and where the zone's offset changes)."""
    days: list[call_slots.Day] = []
    for lo, hi, off in offset_spans(start, end, zone):
        shift = timedelta(seconds=off)
        day = (lo + shift).date()
        while True:
            first = datetime.combine(day, time.min, tzinfo=UTC) - shift
            a, b = max(lo, first), min(hi, first + timedelta(days=1))
            if a >= hi:
                break
            if a < b:
                days.append((day, a, b))
            day += timedelta(days=1)
    return days


def _sqlite_days(
    session: Session, column: Any, *, zone: ZoneInfo, start: datetime, end: datetime,
    aggregates: Sequence[Any], where: Sequence[Any], by: Sequence[Any],
) -> Iterable[tuple[date, Sequence[Any]]]:  # fmt: skip
    """(local day, row) on SQLite: each local day's UTC range read by itself, one SELECT a
    day joined by UNION ALL. An index on `column` is then read in order, range by range,
    where a GROUP BY on the day computed per row sorts every row (a year of a million calls:
    seconds)."""
    days = local_days(start, end, zone)
    for i in range(0, len(days), DAYS_A_STATEMENT):
        chunk = days[i : i + DAYS_A_STATEMENT]
        parts = [
            select(literal(n, Integer), *by, *aggregates)
            .where(column >= a, column < b, *where)
            .group_by(*by)
            for n, (__, a, b) in enumerate(chunk)
        ]
        query = parts[0] if len(parts) == 1 else union_all(*parts)
        for row in session.execute(query):
            yield chunk[row[0]][0], row[1:]


def _fold(days: dict[tuple[Any, ...], list[float]], spans: list[Period], width: int
          ) -> list[list[float]]:  # fmt: skip
    """Per period, the sums of its days (keys are (day,))."""
    index = {}
    for i, p in enumerate(spans):
        for n in range((p.end - p.start).days + 1):
            index[p.start + timedelta(days=n)] = i
    out = [[0.0] * width for __ in spans]
    for (day, *_rest), sums in days.items():
        if day in index:
            row = out[index[day]]
            for i, v in enumerate(sums):
                row[i] += v
    return out


# -- the four measures -------------------------------------------------------------------------


def _call_sums(
    session: Session, date_from: date, date_to: date, zone: ZoneInfo, step: Step | str,
    now: datetime | None = None,
) -> tuple[list[Period], list[list[float]]]:
    """Per period: calls, ended calls, handling milliseconds, scored calls, sum of scores.

    With `now`, the days before today (local) whose slots are all kept (seat.call_slots) are
    read from the slots, and today's kept quarter hours; every other day (and the rest of
    today) from the calls, with the very same sums."""
    start, end = bounds(date_from, date_to, zone)
    spans = periods(date_from, date_to, step)
    closed: dict[date, list[int]] = {}
    if now is not None:
        today = now.astimezone(zone).date()
        closed = call_slots.day_sums(
            session, [d for d in local_days(start, end, zone) if d[0] < today], zone
        )
        for day_, a, b, kept_until in _today(date_from, date_to, zone, now):
            closed[day_] = call_slots.span_sums(session, a, b, kept_until)
    days: dict[tuple[Any, ...], list[float]] = {(d,): [float(v) for v in sums]
                                                for d, sums in closed.items()}  # fmt: skip
    for lo, hi in _open_runs(date_from, date_to, closed):
        a, b = bounds(lo, hi, zone)
        days.update(
            _per_day(
                session, Call.started_at, zone=zone, start=a, end=b,
                aggregates=call_slots.aggregates(session), where=[call_slots.known_calls()],
            )
        )  # fmt: skip
    return spans, _fold(days, spans, 5)


def _open_runs(
    date_from: date, date_to: date, closed: Mapping[date, Any]
) -> list[tuple[date, date]]:
    """The runs of consecutive days from..to (both included) not in `closed`."""
    runs: list[tuple[date, date]] = []
    day = date_from
    while day <= date_to:
        if day not in closed:
            if runs and runs[-1][1] == day - timedelta(days=1):
                runs[-1] = (runs[-1][0], day)
            else:
                runs.append((day, day))
        day += timedelta(days=1)
    return runs


def slot_days(
    date_from: date, date_to: date, zone: ZoneInfo, now: datetime
) -> list[call_slots.Day]:
    """The days of the range that trends read from slots once they are kept: before today."""
    today = now.astimezone(zone).date()
    return [d for d in local_days(*bounds(date_from, date_to, zone), zone) if d[0] < today]


def _today(
    date_from: date, date_to: date, zone: ZoneInfo, now: datetime
) -> list[tuple[date, datetime, datetime, datetime]]:
    """Today, when in the range and its settled quarter hours can be kept (seat.call_slots):
    (day, its start and end in UTC, the end of its settled part)."""
    today = now.astimezone(zone).date()
    if not date_from <= today <= date_to:
        return []
    parts = local_days(*bounds(today, today, zone), zone)
    if len(parts) != 1:  # the zone changes its offset today: read from the calls
        return []
    __, a, b = parts[0]
    settled = call_slots.settled_day(today, a, now)
    return [] if settled is None or settled[2] > b else [(today, a, b, settled[2])]


def today_slots(
    date_from: date, date_to: date, zone: ZoneInfo, now: datetime
) -> list[call_slots.Day]:
    """Today's settled part, when trends read it from slots once they are kept."""
    return [(day_, a, kept_until) for day_, a, __, kept_until in _today(date_from, date_to,
                                                                       zone, now)]  # fmt: skip


def _call_points(spans: list[Period], sums: list[list[float]]) -> tuple[CallPoint, ...]:
    return tuple(
        CallPoint(p, int(n), int(ended), millis / 1000)
        for p, (n, ended, millis, _s, _t) in zip(spans, sums, strict=True)
    )


def _score_points(spans: list[Period], sums: list[list[float]]) -> tuple[SatisfactionPoint, ...]:
    return tuple(
        SatisfactionPoint(p, int(n), int(total))
        for p, (_c, _e, _s, n, total) in zip(spans, sums, strict=True)
    )


def calls(
    *, session: Session, date_from: date, date_to: date, zone: ZoneInfo, step: Step | str
) -> tuple[CallPoint, ...]:
    """Calls started per period, with the average handling time (start to end, seconds)."""
    return _call_points(*_call_sums(session, date_from, date_to, zone, step))


def satisfaction(
    *, session: Session, date_from: date, date_to: date, zone: ZoneInfo, step: Step | str
) -> tuple[SatisfactionPoint, ...]:
    """Scores (1-5) given on calls started per period: how many, and their average."""
    return _score_points(*_call_sums(session, date_from, date_to, zone, step))


def complaints(
    *,
    session: Session,
    date_from: date,
    date_to: date,
    zone: ZoneInfo,
    step: Step | str,
    categories: Sequence[tuple[str, str]] = (),
    shown_labels: Mapping[str, str] | None = None,
) -> ComplaintSeries:
    """Complaints registered per period and category; `categories` are the policy's
    (id, base label) pairs, which give the order and the stable labels; `shown_labels`
    (id -> label) what people read (default: the base labels)."""
    start, end = bounds(date_from, date_to, zone)
    spans = periods(date_from, date_to, step)
    days = _per_day(
        session, Complaint.created_at, zone=zone, start=start, end=end,
        aggregates=[func.count()], by=[Complaint.category],
    )  # fmt: skip
    seen = {key[1] for key, sums in days.items() if sums[0]}
    order = [cid for cid, _label in categories if cid in seen]
    order += sorted(c for c in seen if c is not None and c not in order)
    if None in seen:
        order.append(None)  # type: ignore[arg-type]
    labels = dict(categories)
    columns = {cid: i for i, cid in enumerate(order)}
    per: list[list[float]] = [[0.0] * len(order) for __ in spans]
    for cid, index in columns.items():
        folded = _fold({k: v for k, v in days.items() if k[1] == cid}, spans, 1)
        for row, (n,) in zip(per, folded, strict=True):
            row[index] = n
    # English like every table heading ("(not classified)"); shown translated.
    names = tuple(NOT_CLASSIFIED if cid is None else labels.get(cid, cid) for cid in order)
    shown = shown_labels or {}
    return ComplaintSeries(
        names,
        tuple(
            ComplaintPoint(p, tuple(int(n) for n in row)) for p, row in zip(spans, per, strict=True)
        ),
        tuple(
            _(NOT_CLASSIFIED) if cid is None else shown.get(cid, name)
            for cid, name in zip(order, names, strict=True)
        ),
    )


def callbacks(
    *,
    session: Session,
    date_from: date,
    date_to: date,
    zone: ZoneInfo,
    step: Step | str,
    now: datetime,
) -> tuple[CallbackPoint, ...]:
    """Callbacks that fell due per period up to `now` (cancelled ones left out): how many,
    and how many of them are done."""
    start, end = bounds(date_from, date_to, zone)
    spans = periods(date_from, date_to, step)
    days = _per_day(
        session, Callback.due_at, zone=zone, start=start, end=min(end, now),
        aggregates=[
            func.count(), func.sum(case((Callback.status == CallbackStatus.DONE, 1), else_=0)),
        ],
        where=[Callback.status != CallbackStatus.CANCELLED],
    )  # fmt: skip
    return tuple(
        CallbackPoint(p, int(due), int(done))
        for p, (due, done) in zip(spans, _fold(days, spans, 2), strict=True)
    )


def trends(
    *,
    session: Session,
    date_from: date,
    date_to: date,
    step: Step | str,
    zone: ZoneInfo,
    now: datetime,
    categories: Sequence[tuple[str, str]] = (),
    shown_labels: Mapping[str, str] | None = None,
) -> Trends:
    """All four measures for one range and step (the calls table is read once, the days
    before today from their kept slots where they are all kept: seat.call_slots)."""
    spans, sums = _call_sums(session, date_from, date_to, zone, step, now)
    common: dict[str, Any] = dict(
        session=session, date_from=date_from, date_to=date_to, zone=zone, step=step
    )
    return Trends(
        date_from=date_from,
        date_to=date_to,
        step=Step(step),
        calls=_call_points(spans, sums),
        complaints=complaints(**common, categories=categories, shown_labels=shown_labels),
        callbacks=callbacks(**common, now=now),
        satisfaction=_score_points(spans, sums),
    )


def regroup(data: Trends, step: Step | str) -> Trends:
    """Day-by-day trends folded into `step` periods: the figures trends() gives for that
    step, without reading the database again (the same sums, added in the same order)."""
    if data.step != Step.DAY:
        raise ValueError("only day-by-day trends regroup")
    spans = periods(data.date_from, data.date_to, step)
    index = [0] * len(data.calls)
    for i, p in enumerate(spans):
        for n in range((p.end - p.start).days + 1):
            index[(p.start - data.date_from).days + n] = i

    def fold(values: Sequence[Sequence[float]], width: int) -> list[list[float]]:
        out = [[0.0] * width for __ in spans]
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                out[index[i]][j] += v
        return out

    # Handling time folded in whole milliseconds, as trends() adds it up.
    calls = fold([(p.calls, p.ended, round(p.seconds * 1000)) for p in data.calls], 3)
    width = len(data.complaints.categories)
    complaint_sums = fold([p.counts for p in data.complaints.points], width)
    callbacks = fold([(p.due, p.done) for p in data.callbacks], 2)
    scores = fold([(p.scored, p.score_sum) for p in data.satisfaction], 2)
    return replace(
        data,
        step=Step(step),
        calls=tuple(
            CallPoint(p, int(n), int(ended), millis / 1000)
            for p, (n, ended, millis) in zip(spans, calls, strict=True)
        ),
        complaints=replace(
            data.complaints,
            points=tuple(
                ComplaintPoint(p, tuple(int(n) for n in row))
                for p, row in zip(spans, complaint_sums, strict=True)
            ),
        ),
        callbacks=tuple(
            CallbackPoint(p, int(due), int(done))
            for p, (due, done) in zip(spans, callbacks, strict=True)
        ),
        satisfaction=tuple(
            SatisfactionPoint(p, int(n), int(total))
            for p, (n, total) in zip(spans, scores, strict=True)
        ),
    )


def load(
    *,
    session: Session,
    date_from: date,
    date_to: date,
    step: Step | str,
    settings: Settings,
    now: datetime,
) -> Trends:
    """trends() in the settings' zone with the complaint policy's categories: what the
    statistics screen and `seat report summary` both show."""
    from seat import sla

    policy = sla.load_policy(settings)
    return trends(
        session=session, date_from=date_from, date_to=date_to, step=step,
        zone=ZoneInfo(settings.local_timezone), now=now,
        categories=[(c.id, c.base_label) for c in policy.categories],
        shown_labels={c.id: c.label for c in policy.categories},
    )  # fmt: skip


# -- tables: the same rows on screen and in the export -------------------------------------------


@dataclass
class TrendTable(Table):
    """A Table whose headers people read are given (complaint categories are policy data,
    translated by the policy file, not by the catalogues)."""

    shown_names: list[str] | None = None

    @property
    def shown_headers(self) -> list[str]:
        return list(self.shown_names) if self.shown_names is not None else super().shown_headers


def table(data: Trends, measure: Measure | str) -> Table:
    """One measure as a table: a row per period (its first day) and a total row. Title,
    headers and "Total" are English (the json/csv keys); `shown_*` gives them translated."""
    measure = Measure(measure)
    first = FIRST_COLUMN[data.step]
    title = TITLES[measure, data.step]
    meta = {"from": data.date_from, "to": data.date_to}

    def made(headers: list[str], rows: list[list[Any]], shown: list[str] | None = None) -> Table:
        return TrendTable(title, [first, *headers], rows, meta, label_columns=(0,),
                          shown_names=None if shown is None else [_(first), *shown])  # fmt: skip

    if measure == Measure.CALLS:
        rows: list[list[Any]] = [[p.period.start, p.calls, p.avg_seconds] for p in data.calls]
        whole = CallPoint(
            Period(data.date_from, data.date_to),
            sum(p.calls for p in data.calls),
            sum(p.ended for p in data.calls),
            sum(p.seconds for p in data.calls),
        )
        rows.append([TOTAL, whole.calls, whole.avg_seconds])
        return made(HEADERS[measure], rows)
    if measure == Measure.COMPLAINTS:
        series = data.complaints
        rows = [[p.period.start, *p.counts, p.total] for p in series.points]
        sums = [sum(p.counts[i] for p in series.points) for i in range(len(series.categories))]
        rows.append([TOTAL, *sums, sum(sums)])
        return made([*series.categories, TOTAL], rows, [*series.shown_categories, _(TOTAL)])
    if measure == Measure.CALLBACKS:
        rows = [[p.period.start, p.due, p.done, p.percent] for p in data.callbacks]
        done = CallbackPoint(
            Period(data.date_from, data.date_to),
            sum(p.due for p in data.callbacks),
            sum(p.done for p in data.callbacks),
        )
        rows.append([TOTAL, done.due, done.done, done.percent])
        return made(HEADERS[measure], rows)
    rows = [[p.period.start, p.scored, p.average] for p in data.satisfaction]
    scores = SatisfactionPoint(
        Period(data.date_from, data.date_to),
        sum(p.scored for p in data.satisfaction),
        sum(p.score_sum for p in data.satisfaction),
    )
    rows.append([TOTAL, scores.scored, scores.average])
    return made(HEADERS[measure], rows)


def tables(data: Trends) -> list[Table]:
    """The four measures' tables, in the order the screen offers them."""
    return [table(data, m) for m in Measure]
