"""The callback report as it was computed before its counts moved into SQL: row by row in
Python, one query per birthday, order or closed complaint. Kept as the reference the SQL
report is checked against (tests/unit/test_callback_report_sql.py); not used by the seat.
The only change: rows that tie on every sort key come in id order (the SQL report's), where
the database's order decided before."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import extract, func, or_, select
from sqlmodel import Session

from seat import labels, states
from seat.callbacks import MISSED, WRONG_NUMBER, CallbackPolicy, load_policy
from seat.config import Settings
from seat.export import Table
from seat.i18n import N_, _
from seat.models import (
    Agent,
    Callback,
    CallbackKind,
    CallbackStatus,
    Complaint,
    Customer,
    Purchase,
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


@dataclass(frozen=True)
class _Row:
    id: int
    kind: str
    owner_id: int
    status: str
    due_at: datetime
    done_at: datetime | None
    score: int | None
    customer_id: int
    customer: str
    tier: str
    attempts: int
    last_outcome: str | None


class _Counts:
    def __init__(self) -> None:
        self.due = self.done = self.on_time = self.overdue = self.missed = self.pending = 0
        self.scores: list[int] = []

    def add(self, r: _Row, now: datetime, within: timedelta) -> None:
        self.due += 1
        if r.status == CallbackStatus.DONE:
            self.done += 1
            if r.done_at is not None and r.done_at <= r.due_at + within:
                self.on_time += 1
            if r.score is not None:
                self.scores.append(r.score)
        elif r.status == MISSED:
            self.missed += 1
        elif states.callback_overdue(r.due_at, now):
            self.overdue += 1
        else:
            self.pending += 1

    def row(self) -> list[object]:
        share = round(100 * self.done / self.due, 1) if self.due else None
        return [self.due, self.done, self.on_time, self.overdue, self.missed, self.pending, share]

    def average(self) -> float | None:
        return round(sum(self.scores) / len(self.scores), 2) if self.scores else None


def period(date_from: date, date_to: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC for local dates from..to inclusive."""
    start = datetime.combine(date_from, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return start, end


def _cohort(session: Session, start: datetime, end: datetime) -> list[_Row]:
    rows = session.execute(
        select(
            Callback.id,
            Callback.kind,
            Callback.owner_id,
            Callback.status,
            Callback.due_at,
            Callback.done_at,
            Callback.score,
            Callback.customer_id,
            Customer.name,
            Customer.tier,
            Callback.attempts,
            Callback.last_outcome,
        )
        .join(Customer, Customer.id == Callback.customer_id)
        .where(
            Callback.due_at >= start,
            Callback.due_at < end,
            Callback.status != CallbackStatus.CANCELLED,
        )
        .order_by(Callback.due_at, Callback.id)  # ties by id, as the SQL report breaks them
    ).all()
    return [_Row(*r) for r in rows]


def _by(
    rows: Iterable[_Row], key: Callable[[_Row], object], now: datetime, within: timedelta
) -> dict[object, _Counts]:
    out: dict[object, _Counts] = defaultdict(_Counts)
    for r in rows:
        out[key(r)].add(r, now, within)
    return out


def _label(kind: str) -> str:
    return KIND_NAMES.get(kind, kind.replace("_", " "))


def _missing(
    session: Session, start: datetime, end: datetime, now: datetime, policy: CallbackPolicy
) -> list[list[object]]:
    """Members' events in the period that call for a callback, with none scheduled."""
    tiers = policy.member_tiers
    out: list[list[object]] = []
    until = min(end, now)
    # After service: work orders completed so that the callback fell due in the period.
    lag = timedelta(days=policy.after_service_days)
    completed: dict[int, datetime] = dict(
        session.execute(  # type: ignore[arg-type]
            select(WorkOrderEvent.work_order_id, func.min(WorkOrderEvent.at))
            .where(WorkOrderEvent.to_status == "completed")
            .group_by(WorkOrderEvent.work_order_id)
            .having(func.min(WorkOrderEvent.at) >= start - lag)
            .having(func.min(WorkOrderEvent.at) < until - lag)
        ).all()
    )
    finished = func.coalesce(WorkOrder.accepted_at, WorkOrder.closed_at)
    for wo_id, at in session.execute(
        select(WorkOrder.id, finished).where(
            WorkOrder.status.in_(("completed", "closed")),
            finished >= start - lag,
            finished < until - lag,
        )
    ).all():
        completed.setdefault(wo_id, at)
    ids = sorted(completed)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        linked = set(
            session.execute(
                select(Callback.work_order_id).where(Callback.work_order_id.in_(chunk))
            ).scalars()
        )
        for wo_id, cid, name, tier in session.execute(
            select(WorkOrder.id, Customer.id, Customer.name, Customer.tier)
            .join(Customer, Customer.id == WorkOrder.customer_id)
            .where(WorkOrder.id.in_(chunk), Customer.tier.in_(tiers))
            .order_by(WorkOrder.id)
        ).all():
            if wo_id not in linked:
                due = completed[wo_id] + lag
                why = _("no satisfaction callback for work order #{id}").format(id=wo_id)
                out.append([cid, name, tier, CallbackKind.SATISFACTION.value, due, why, "", None])
    # New buyers: delivered so that the callback fell due in the period.
    lag = timedelta(days=policy.new_buyer_days)
    for cid, name, tier, order_no, delivered in session.execute(
        select(
            Customer.id,
            Customer.name,
            Customer.tier,
            Purchase.order_no,
            func.min(Purchase.delivered_at),
        )
        .join(Customer, Customer.id == Purchase.customer_id)
        .where(
            Customer.tier.in_(tiers),
            Purchase.delivered_at >= start - lag,
            Purchase.delivered_at < until - lag,
        )
        .group_by(Customer.id, Customer.name, Customer.tier, Purchase.order_no)
        .order_by(Customer.id, Purchase.order_no)
    ).all():
        key = f"new_buyer:{cid}:order:{order_no}"[:120]
        if session.execute(select(Callback.id).where(Callback.source_key == key)).first():
            continue
        why = _("no new-buyer callback for order {order}").format(order=order_no)
        due = delivered + lag
        out.append([cid, name, tier, CallbackKind.SATISFACTION.value, due, why, "", None])
    # Closed complaints: every complaint ends with a callback.
    for cid, name, tier, complaint_id, closed in session.execute(
        select(Customer.id, Customer.name, Customer.tier, Complaint.id, Complaint.closed_at)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(
            Customer.tier.in_(tiers),
            Complaint.status == "closed",
            Complaint.closed_at >= start,
            Complaint.closed_at < until,
        )
        .order_by(Complaint.id)
    ).all():
        after = session.execute(
            select(Callback.id).where(
                Callback.complaint_id == complaint_id,
                Callback.status != CallbackStatus.CANCELLED,
                or_(
                    Callback.source_key == f"complaint:{complaint_id}:after-close",
                    Callback.created_at >= closed,
                ),
            )
        ).first()
        if after is None:
            why = _("no callback after complaint #{id} closed").format(id=complaint_id)
            kind = CallbackKind.COMPLAINT_FOLLOW_UP.value
            out.append([cid, name, tier, kind, closed, why, "", None])
    # Birthdays whose greeting fell due in the period.
    before = timedelta(days=policy.birthday_days_before)
    zone = ZoneInfo(policy.home_zone)
    first = (start + before).astimezone(zone).date()
    last = (until + before).astimezone(zone).date()
    if first < last:
        months = {(first + timedelta(days=d)).month for d in range((last - first).days + 1)}
        for cid, name, tier, born in session.execute(
            select(Customer.id, Customer.name, Customer.tier, Customer.birthday).where(
                Customer.tier.in_(tiers),
                Customer.birthday.is_not(None),
                # a merged-away tombstone is greeted no more (its survivor is); the seeded
                # desk of test_callback_report_sql merges nobody, test_callback_tier_copy's does
                Customer.merged_into_id.is_(None),
                extract("month", Customer.birthday).in_(sorted(months)),
            )
            .order_by(Customer.id)
        ).all():
            for year in range(first.year, last.year + 1):
                try:
                    day = born.replace(year=year)
                except ValueError:
                    day = date(year, 2, 28)
                due = datetime.combine(day - before, policy.call_at, tzinfo=zone)
                if not (start <= due < until):
                    continue
                key = f"birthday:{cid}:{year}"
                if session.execute(select(Callback.id).where(Callback.source_key == key)).first():
                    continue
                why = _("no birthday greeting scheduled")
                out.append([cid, name, tier, CallbackKind.BIRTHDAY.value, due, why, "", None])
    return out


def tables(
    *,
    session: Session,
    date_from: date,
    date_to: date,
    settings: Settings,
    now: datetime,
    policy: CallbackPolicy | None = None,
) -> list[Table]:
    policy = policy or load_policy(settings)
    zone = ZoneInfo(settings.local_timezone)
    start, end = period(date_from, date_to, zone)
    within = timedelta(days=policy.done_within_days)
    meta = {"from": date_from, "to": date_to, "as of": now}
    rows = _cohort(session, start, end)
    names = dict(session.execute(select(Agent.id, Agent.display_name)).all())

    by_kind = _by(rows, lambda r: r.kind, now, within)
    total = _Counts()
    for r in rows:
        total.add(r, now, within)
    kinds = Table(
        N_("By kind"),
        [N_("Kind"), *COUNT_HEADERS],
        [[_label(k), *c.row()] for k, c in sorted(by_kind.items())] + [[TOTAL, *total.row()]],
        meta,
        label_columns=(0,),
    )
    by_agent = _by(rows, lambda r: r.owner_id, now, within)
    agents = Table(
        N_("By agent"),
        [N_("Agent"), *COUNT_HEADERS, N_("Avg score")],
        sorted([str(names.get(a, a)), *c.row(), c.average()] for a, c in by_agent.items()),
        meta,
    )
    scored = _by(
        (r for r in rows if r.score is not None and r.status == CallbackStatus.DONE),
        lambda r: r.kind,
        now,
        within,
    )
    every: list[int] = []
    score_rows = []
    for kind, c in sorted(scored.items()):
        every += c.scores
        counts = [c.scores.count(s) for s in range(5, 0, -1)]
        score_rows.append([_label(kind), len(c.scores), c.average(), *counts])
    avg = round(sum(every) / len(every), 2) if every else None
    score_rows.append([TOTAL, len(every), avg, *(every.count(s) for s in range(5, 0, -1))])
    heads = [N_("Kind"), N_("Scored"), N_("Average"), "5", "4", "3", "2", "1"]
    scores = Table(N_("Scores"), heads, score_rows, meta, label_columns=(0,))

    # Coverage: members' callbacks due by now, each done or not, plus the never scheduled.
    without: list[list[object]] = []
    per_tier: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        not_yet = r.status == CallbackStatus.OPEN and not states.callback_overdue(r.due_at, now)
        if r.tier not in policy.member_tiers or not_yet:
            continue
        per_tier[r.tier][0] += 1
        if r.status == CallbackStatus.DONE:
            per_tier[r.tier][1] += 1
            continue
        if r.status == MISSED:
            why = (
                _("missed: no working number")
                if r.last_outcome == WRONG_NUMBER
                else _("missed after {n} tries").format(n=r.attempts)
            )
        elif r.attempts:
            why = _("overdue, {n} tries").format(n=r.attempts)
        else:
            why = _("overdue")
        owner = str(names.get(r.owner_id, r.owner_id))
        without.append(
            [r.customer_id, r.customer, r.tier, _label(r.kind), r.due_at, why, owner, r.id]
        )
    for miss in _missing(session, start, end, now, policy):
        per_tier[str(miss[2])][0] += 1
        miss[3] = _label(str(miss[3]))
        without.append(miss)
    for line in without:  # local times read better, and xlsx drops the zone
        line[4] = line[4].astimezone(zone).replace(second=0, microsecond=0)  # type: ignore[union-attr]
    without.sort(key=lambda m: (m[4], m[0]))  # type: ignore[arg-type, return-value]
    cov_rows = []
    need = got = 0
    for tier in policy.member_tiers:
        n, ok = per_tier.get(tier, [0, 0])
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
    return [coverage, missing, kinds, agents, scores]
