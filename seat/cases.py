"""Case review and the case library (案例库): closed complaints, filtered for the weekly case
meeting; the ones a supervisor marks as a model, with the solution agreed there; and the
search an agent runs over the models while handling a complaint of the same kind.

Closed means closed or judged invalid. The period is the local day the case was closed.
A case breached when any of its clocks did (seat.complaints.clocks, as the reports count).
Marking a model is an event of the complaint (audited, hash-chained, version claimed) and a
row of `model_case`; marking again replaces the agreed solution. The library is small (the
models of a few years): its search is a LIKE on every word, the same on both databases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlmodel import Session

from seat import complaints, lifecycle, roles, sla
from seat.customers import ValidationError
from seat.errors import MoveRefused
from seat.i18n import N_, _
from seat.models import (
    CLOSED_COMPLAINT_STATUSES,
    Agent,
    Callback,
    CallbackKind,
    Complaint,
    Customer,
    ModelCase,
    level_for,
)
from seat.textguard import check_text

MARK_ACTION = "model_case"
"""The complaint event that marks (or re-marks) a model case."""
SEARCH_LIMIT = 50
_LIKE_SPECIAL = re.compile(r"([\\%_])")


@dataclass(frozen=True)
class CaseFilter:
    """What the closed-case list and the case report are narrowed to (None: any)."""

    date_from: date | None = None
    date_to: date | None = None
    category: str | None = None
    cause: str | None = None
    department: str | None = None
    owner_id: int | None = None
    breached: bool | None = None
    models_only: bool = False


@dataclass(frozen=True)
class ClosedCase:
    id: int
    customer_name: str
    status: str
    category: str | None
    cause: str | None
    department: str | None
    owner_id: int
    owner: str
    created_at: datetime
    closed_at: datetime
    breached: bool
    model: bool


@dataclass(frozen=True)
class ModelHit:
    """One model case found in the library (no customer named)."""

    complaint_id: int
    category: str | None
    what_happened: str
    solution: str
    marked_at: datetime


@dataclass(frozen=True)
class ModelView:
    """A model case to read: what happened, what was found, what was agreed."""

    complaint_id: int
    category: str | None
    cause: str | None
    department: str | None
    what_happened: str
    customer_wants: str
    root_cause: str | None
    chosen_solution: str | None
    summary: str | None
    solution: str
    marked_by: str
    marked_at: datetime
    closed_at: datetime | None


def period(date_from: date, date_to: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local days from `date_from` to `date_to`, both included."""
    start = datetime.combine(date_from, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def closed_cases(
    *, session: Session, filters: CaseFilter, policy: sla.Policy, zone: ZoneInfo, now: datetime,
    viewer: roles.HasRole | None = None, viewer_id: int | None = None,
) -> list[ClosedCase]:
    """The closed complaints the filters let through, the latest closed first. A `viewer`
    who may not see every agent's complaints sees their own only (`viewer_id`)."""
    if viewer is not None and not roles.may(viewer, roles.ALL_COMPLAINTS):
        filters = replace(filters, owner_id=viewer_id)
    query = (
        select(
            Complaint.id, Complaint.status, Complaint.created_at, Complaint.closed_at,
            Complaint.category, Complaint.cause, Complaint.department, Complaint.owner_id,
            Complaint.first_reply_at, Complaint.solution_at, Complaint.implemented_at,
            Complaint.waiting_since, Complaint.channel, Complaint.registered_at,
            Complaint.promised_at, Complaint.promised_reply_at,
            Customer.name, Customer.tier, Agent.display_name,
            ModelCase.complaint_id.label("model"),  # type: ignore[attr-defined]
        )
        .join(Customer, Customer.id == Complaint.customer_id)
        .join(Agent, Agent.id == Complaint.owner_id)
        .outerjoin(ModelCase, ModelCase.complaint_id == Complaint.id)
        .where(Complaint.status.in_(CLOSED_COMPLAINT_STATUSES))  # type: ignore[attr-defined]
        .where(Complaint.closed_at.is_not(None))  # type: ignore[union-attr]
        .order_by(Complaint.closed_at.desc(), Complaint.id.desc())  # type: ignore[union-attr]
    )  # fmt: skip
    if filters.date_from is not None or filters.date_to is not None:
        start, end = period(
            filters.date_from or date(1970, 1, 1), filters.date_to or date(9998, 12, 31), zone
        )
        query = query.where(Complaint.closed_at >= start, Complaint.closed_at < end)  # type: ignore[operator]
    if filters.category:
        query = query.where(Complaint.category == filters.category)
    if filters.cause:
        query = query.where(Complaint.cause == filters.cause)
    if filters.department:
        query = query.where(Complaint.department == filters.department)
    if filters.owner_id is not None:
        query = query.where(Complaint.owner_id == filters.owner_id)
    if filters.models_only:
        query = query.where(ModelCase.complaint_id.is_not(None))  # type: ignore[attr-defined]
    rows = session.execute(query).all()
    breached = _breached(session, rows, policy=policy, now=now)
    out = [
        ClosedCase(
            id=r.id, customer_name=r.name, status=r.status, category=r.category,
            cause=r.cause, department=r.department, owner_id=r.owner_id,
            owner=r.display_name, created_at=r.created_at, closed_at=r.closed_at,
            breached=breached[r.id], model=r.model is not None,
        )
        for r in rows
    ]  # fmt: skip
    if filters.breached is not None:
        out = [c for c in out if c.breached == filters.breached]
    return out


def _breached(
    session: Session, rows: list, *, policy: sla.Policy, now: datetime  # type: ignore[type-arg]
) -> dict[int, bool]:
    """Whether each complaint breached any of its clocks (the complaint report's rule)."""
    ids = [r.id for r in rows]
    pauses = complaints.pauses_for(session=session, complaint_ids=ids)
    done: dict[int, datetime] = {}
    for chunk in range(0, len(ids), 500):
        done |= dict(
            session.execute(  # type: ignore[arg-type]
                select(Callback.complaint_id, func.min(Callback.done_at))
                .where(
                    Callback.complaint_id.in_(ids[chunk : chunk + 500]),  # type: ignore[union-attr]
                    Callback.kind == CallbackKind.COMPLAINT_FOLLOW_UP,
                    Callback.done_at.is_not(None),  # type: ignore[union-attr]
                )
                .group_by(Callback.complaint_id)
            ).all()
        )
    out: dict[int, bool] = {}
    for r in rows:
        clocks = complaints.clocks(
            r, level=level_for(r.tier), policy=policy, now=now, pauses=pauses.get(r.id, ()),
            callback_done_at=done.get(r.id),
        )  # fmt: skip
        out[r.id] = any(c.breached for c in clocks)
    return out


def owners(*, session: Session) -> list[tuple[int, str]]:
    """Everyone who owns a closed complaint (id, name), by name: the owner filter's choices."""
    return [
        (r.id, r.display_name)
        for r in session.execute(
            select(Agent.id, Agent.display_name)
            .where(Agent.id.in_(  # type: ignore[union-attr]
                select(Complaint.owner_id).where(
                    Complaint.status.in_(CLOSED_COMPLAINT_STATUSES)  # type: ignore[attr-defined]
                )
            ))
            .order_by(Agent.display_name)
        )
    ]  # fmt: skip


def departments(*, session: Session) -> list[str]:
    """The departments named on closed complaints, sorted: the department filter's choices."""
    return [
        d
        for (d,) in session.execute(
            select(Complaint.department)
            .where(Complaint.status.in_(CLOSED_COMPLAINT_STATUSES))  # type: ignore[attr-defined]
            .where(Complaint.department.is_not(None))  # type: ignore[union-attr]
            .distinct()
            .order_by(Complaint.department)
        )
    ]


def mark_model(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    solution: str,
    now: datetime,
    version: int | None = None,
) -> ModelCase:
    """A supervisor marks a closed case as a model with its agreed solution (again: the
    solution is replaced). PermissionDenied, MoveRefused (no such case, not closed, changed
    meanwhile), ValidationError (the solution)."""
    actor = session.get(Agent, actor_id)
    roles.require(actor, roles.MARK_MODEL_CASE)
    c = session.get(Complaint, complaint_id)
    if c is None:
        raise MoveRefused(_("Complaint #{id} does not exist.").format(id=complaint_id))
    if c.status not in CLOSED_COMPLAINT_STATUSES:
        raise MoveRefused(
            _("Complaint #{id} is still open: only a closed case can be a model.").format(
                id=complaint_id
            )
        )
    if version is not None and version != c.version:
        raise MoveRefused(
            _(
                "Complaint #{id} was changed at another seat meanwhile; "
                "the screen now shows the latest. Check and try again."
            ).format(id=complaint_id)
        )
    errors: dict[str, str] = {}
    solution = check_text(errors, "solution", solution, N_("Agreed solution"), 5000)
    if errors:
        raise ValidationError(errors)
    row = session.get(ModelCase, complaint_id)
    again = row is not None
    if row is None:
        row = ModelCase(complaint_id=complaint_id, solution=solution, marked_by_id=actor_id,
                        marked_at=now)  # fmt: skip
    else:
        row.solution, row.marked_by_id, row.marked_at = solution, actor_id, now
    session.add(row)
    lifecycle.record_event(
        session, c, agent_id=actor_id, at=now, action=MARK_ACTION, from_status=c.status,
        comment=("Model case, solution changed: " if again else "Model case: ") + solution,
    )  # fmt: skip
    return row


def _like(word: str) -> str:
    return "%" + _LIKE_SPECIAL.sub(r"\\\1", word) + "%"


def search_models(
    *, session: Session, words: str, category: str | None = None, limit: int = SEARCH_LIMIT
) -> list[ModelHit]:
    """The model cases of `category` (None: any) whose texts hold every word of `words`
    (any case), the latest marked first. No words: every model of the category."""
    texts = (
        ModelCase.solution, Complaint.what_happened, Complaint.customer_wants,
        Complaint.root_cause, Complaint.summary, Complaint.chosen_solution,
    )  # fmt: skip
    query = (
        select(ModelCase.complaint_id, Complaint.category, Complaint.what_happened,
               ModelCase.solution, ModelCase.marked_at)
        .join(Complaint, Complaint.id == ModelCase.complaint_id)
        .order_by(ModelCase.marked_at.desc(), ModelCase.complaint_id.desc())  # type: ignore[attr-defined]
        .limit(max(1, min(limit, SEARCH_LIMIT)))
    )  # fmt: skip
    if category:
        query = query.where(Complaint.category == category)
    for word in words.split():
        pattern = _like(word)
        query = query.where(
            or_(*(t.ilike(pattern, escape="\\") for t in texts))  # type: ignore[attr-defined]
        )
    return [ModelHit(*r) for r in session.execute(query)]


def model_view(*, session: Session, complaint_id: int) -> ModelView | None:
    """A model case to read (None: the complaint is not a model)."""
    row = session.execute(
        select(ModelCase, Complaint, Agent.display_name)
        .join(Complaint, Complaint.id == ModelCase.complaint_id)
        .join(Agent, Agent.id == ModelCase.marked_by_id)
        .where(ModelCase.complaint_id == complaint_id)
    ).first()
    if row is None:
        return None
    m, c, marked_by = row
    return ModelView(
        complaint_id=c.id, category=c.category, cause=c.cause, department=c.department,
        what_happened=c.what_happened, customer_wants=c.customer_wants,
        root_cause=c.root_cause, chosen_solution=c.chosen_solution, summary=c.summary,
        solution=m.solution, marked_by=marked_by, marked_at=m.marked_at, closed_at=c.closed_at,
    )  # fmt: skip


def is_model(*, session: Session, complaint_id: int) -> bool:
    return session.get(ModelCase, complaint_id) is not None
