"""The complaint classification table (顾客投诉分类统计表) for the screen and the export.

Complaints received between two local dates (both included) are counted by category,
cause, responsible department, customer level, channel and month, with the median and
90th-percentile time to the first reply and to an approved solution, and the share of
complaints that breached a clock. Times are hours as the clocks count them: in opening
hours where the policy says so, never while waiting on the customer.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from seat import complaints, loops, sla, suggestions
from seat.config import Settings
from seat.export import Table
from seat.i18n import N_
from seat.labels import CHANNELS, SUGGESTION_CATEGORIES, SUGGESTION_STATUSES
from seat.models import Callback, CallbackKind, Complaint, ComplaintLoop, Customer, level_for

# Headers, titles and the label cells below are English and stable (json/csv keys and
# values for scripts); txt, xlsx and the screen translate them (Table.shown_*).
HEADERS = [
    N_("Dimension"), N_("Value"), N_("Complaints"), N_("Open"), N_("Closed"), N_("Invalid"),
    N_("Reply median h"), N_("Reply p90 h"), N_("Solution median h"), N_("Solution p90 h"),
    N_("Breached %"),
]  # fmt: skip
NOT_SET = {
    "category": N_("(not classified)"),
    "cause": N_("(no cause yet)"),
    "department": N_("(not named)"),
}
LEVELS = {1: N_("Level 1"), 2: N_("Level 2"), 3: N_("Level 3")}


@dataclass(frozen=True)
class Record:
    """One complaint, reduced to what the table counts."""

    id: int
    status: str
    category: str
    cause: str
    department: str
    level: str
    month: str
    channel: str
    reply_h: float | None
    solution_h: float | None
    breached: bool


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _hours(span: timedelta) -> float:
    return round(span.total_seconds() / 3600, 1)


def records(
    *, session: Session, date_from: date, date_to: date, zone: ZoneInfo, policy: sla.Policy,
    now: datetime,
) -> list[Record]:  # fmt: skip
    start = datetime.combine(date_from, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    rows = session.execute(
        select(
            Complaint.id, Complaint.status, Complaint.created_at, Complaint.closed_at,
            Complaint.category, Complaint.cause, Complaint.responsible_person,
            Complaint.department, Complaint.first_reply_at, Complaint.solution_at,
            Complaint.implemented_at, Complaint.waiting_since, Complaint.channel,
            Complaint.registered_at, Complaint.promised_at, Complaint.promised_reply_at,
            Customer.tier,
        )
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(Complaint.created_at >= start, Complaint.created_at < end)
        .order_by(Complaint.created_at, Complaint.id)
    ).all()  # fmt: skip
    ids = [r.id for r in rows]
    pauses = complaints.pauses_for(session=session, complaint_ids=ids)
    # The first follow-up done, per complaint of the period: one join, not a list of ids
    # (an IN list beside kind = ... led SQLite to read every follow-up by kind, per chunk).
    done: dict[int, datetime] = dict(
        session.execute(  # type: ignore[arg-type]
            select(Callback.complaint_id, func.min(Callback.done_at))
            .join(Complaint, Complaint.id == Callback.complaint_id)
            .where(
                Complaint.created_at >= start,
                Complaint.created_at < end,
                Callback.kind == CallbackKind.COMPLAINT_FOLLOW_UP,
                Callback.done_at.is_not(None),
            )
            .group_by(Callback.complaint_id)
        ).all()
    )
    out: list[Record] = []
    # A few levels, categories and causes over many complaints: each looked up once.
    budgets: dict[tuple[int, str | None, str | None], sla.Budgets] = {}
    categories: dict[str | None, str] = {}
    causes: dict[str | None, str] = {}
    for r in rows:
        level = level_for(r.tier)
        which = (level, r.category, r.channel)
        if which not in budgets:
            budgets[which] = policy.budgets(level=level, category=r.category, channel=r.channel)
        if r.category not in categories:
            categories[r.category] = policy.category_label(r.category) or NOT_SET["category"]
        if r.cause not in causes:
            causes[r.cause] = policy.cause_label(r.cause) or NOT_SET["cause"]
        clocks = {
            c.name: c
            for c in complaints.clocks(
                r, level=level, policy=policy, now=now, pauses=pauses.get(r.id, ()),
                callback_done_at=done.get(r.id), budgets=budgets[which],
            )
        }  # fmt: skip
        reply = clocks[sla.FIRST_REPLY]
        solution = clocks.get(sla.SOLUTION)
        out.append(
            Record(
                id=r.id,
                status=r.status,
                category=categories[r.category],
                cause=causes[r.cause],
                department=r.department or NOT_SET["department"],
                level=LEVELS.get(level, f"Level {level}"),
                month=f"{r.created_at.astimezone(zone):%Y-%m}",
                channel=CHANNELS.get(r.channel, r.channel),
                reply_h=_hours(reply.used) if r.first_reply_at else None,
                solution_h=_hours(solution.used) if solution and r.solution_at else None,
                breached=any(c.breached for c in clocks.values()),
            )
        )
    return out


def _row(dimension: str, value: str, group: list[Record]) -> list[object]:
    replies = [r.reply_h for r in group if r.reply_h is not None]
    solutions = [r.solution_h for r in group if r.solution_h is not None]
    statuses = Counter(r.status for r in group)
    return [
        dimension,
        value,
        len(group),
        sum(n for s, n in statuses.items() if s in complaints.OPEN_STATUSES),
        statuses["closed"],
        statuses["invalid"],
        round(statistics.median(replies), 1) if replies else None,
        percentile(replies, 90),
        round(statistics.median(solutions), 1) if solutions else None,
        percentile(solutions, 90),
        round(100 * sum(r.breached for r in group) / len(group), 1) if group else None,
    ]


def classification(
    recs: list[Record], *, title: str = N_("Complaint classification")
) -> Table:
    rows: list[list[object]] = [_row(N_("All"), N_("all complaints"), recs)]
    dims: list[tuple[str, Callable[[Record], str], bool]] = [
        (N_("Category"), lambda r: r.category, False),
        (N_("Cause"), lambda r: r.cause, False),
        (N_("Department"), lambda r: r.department, False),
        (N_("Level"), lambda r: r.level, True),
        (N_("Channel"), lambda r: r.channel, False),
        (N_("Month"), lambda r: r.month, True),
    ]
    for name, key, by_value in dims:
        groups: dict[str, list[Record]] = defaultdict(list)
        for r in recs:
            groups[key(r)].append(r)
        order: Iterable[str] = (
            sorted(groups) if by_value else sorted(groups, key=lambda v: (-len(groups[v]), v))
        )
        rows += [_row(name, value, groups[value]) for value in order]
    return Table(title=title, headers=list(HEADERS), rows=rows, label_columns=(0, 1))


def by_month(recs: list[Record], policy: sla.Policy) -> Table:
    labels = [c.label for c in policy.categories]
    extra = sorted({r.category for r in recs} - set(labels) - {NOT_SET["category"]})
    columns = [*labels, *extra, NOT_SET["category"]]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in recs:
        counts[r.month][r.category] += 1
    rows: list[list[object]] = [
        [month, *[counts[month][c] for c in columns], sum(counts[month].values())]
        for month in sorted(counts)
    ]
    rows.append([N_("Total"), *[sum(counts[m][c] for m in counts) for c in columns], len(recs)])
    return Table(title=N_("By month and category"),
                 headers=[N_("Month"), *columns, N_("Total")], rows=rows,
                 label_columns=(0,))  # fmt: skip


def tables(
    *, session: Session, date_from: date, date_to: date, settings: Settings, now: datetime
) -> list[Table]:
    """The classification table and the month-by-category table, the same on screen and
    in `seat report complaints`."""
    policy = sla.load_policy(settings)
    zone = ZoneInfo(settings.local_timezone)
    recs = records(
        session=session, date_from=date_from, date_to=date_to, zone=zone, policy=policy, now=now
    )
    meta = {
        "from": date_from,
        "to": date_to,
        "generated_at": now,
        "policy": policy.source,
        "hours": "as the clocks count them; waiting on the customer excluded",
    }
    first = classification(recs)
    first.meta = meta
    start = datetime.combine(date_from, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return [
        first, by_month(recs, policy), loop_counts(session, start, end),
        suggestion_counts(session, start, end),
    ]  # fmt: skip


LOOPS_TITLE = N_("Unsatisfied callbacks")


def loop_counts(session: Session, start: datetime, end: datetime) -> Table:
    """Unsatisfied callbacks' loops (seat.loops): open now, opened and closed in [start, end)
    (by a satisfied follow-up or by a supervisor), and the unsatisfied callbacks done in the
    period that opened no complaint (a reason kept)."""
    in_period = (ComplaintLoop.closed_at >= start) & (ComplaintLoop.closed_at < end)

    def count(*where: object) -> int:
        return session.execute(
            select(func.count()).select_from(ComplaintLoop).where(*where)  # type: ignore[arg-type]
        ).scalar_one()

    declined = session.execute(
        select(func.count()).select_from(Callback).where(
            Callback.no_complaint_reason.is_not(None),  # type: ignore[union-attr]
            Callback.done_at >= start, Callback.done_at < end,  # type: ignore[operator]
        )
    ).scalar_one()  # fmt: skip
    rows: list[list[object]] = [
        [N_("Loops"), N_("open now"), loops.count_open(session=session)],
        [N_("Loops"), N_("opened"),
         count(ComplaintLoop.opened_at >= start, ComplaintLoop.opened_at < end)],
        [N_("Loops"), N_("closed by a satisfied follow-up"),
         count(in_period, ComplaintLoop.closed_by_callback_id.is_not(None))],  # type: ignore[union-attr]
        [N_("Loops"), N_("closed by a supervisor"),
         count(in_period, ComplaintLoop.closed_by_callback_id.is_(None))],  # type: ignore[union-attr]
        [N_("Unsatisfied"), N_("no complaint opened (reason kept)"), declined],
    ]  # fmt: skip
    return Table(title=LOOPS_TITLE, headers=[N_("Dimension"), N_("Value"), N_("Count")],
                 rows=rows, label_columns=(0, 1))  # fmt: skip


def suggestion_counts(session: Session, start: datetime, end: datetime) -> Table:
    """Suggestions (意见和建议) received in [start, end): in all, by category, channel and
    step (the register's count beside the complaints)."""
    by_category, by_channel, by_status = suggestions.counts(
        session=session, start=start, end=end
    )
    rows: list[list[object]] = [[N_("All"), N_("all suggestions"), sum(by_status.values())]]
    for name, counted, words in (
        (N_("Category"), by_category, SUGGESTION_CATEGORIES),
        (N_("Channel"), by_channel, CHANNELS),
        (N_("Step"), by_status, SUGGESTION_STATUSES),
    ):
        rows += [
            [name, words.get(code, code) if code else NOT_SET["category"], n]
            for code, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
    return Table(title=N_("Suggestions"), headers=[N_("Dimension"), N_("Value"),
                 N_("Suggestions")], rows=rows, label_columns=(0, 1))  # fmt: skip
