"""Work created from a call: callbacks, work orders, complaints; and the sidebar queries."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text, union_all
from sqlmodel import Session

from seat import states
from seat.customers import ValidationError
from seat.i18n import N_, _
from seat.models import (
    CLOSED_COMPLAINT_STATUSES,
    OPEN_WORK_ORDER_EXCLUDES,
    Agent,
    Callback,
    CallbackKind,
    Complaint,
    Customer,
    WorkOrder,
)
from seat.textguard import FORBIDDEN

MAX_TEXT = 20000


def _required(errors: dict[str, str], key: str, value: str | None, label: str, limit: int) -> str:
    """`label` is N_-marked English; the messages come in the current language."""
    text = (value or "").strip()
    shown = _(label)
    if not text:
        errors[key] = _("{label} is required.").format(label=shown)
    elif FORBIDDEN.search(text):
        errors[key] = _("{label} contains control characters; retype it.").format(label=shown)
    elif len(text) > limit:
        errors[key] = _("{label} is too long ({limit} characters at most).").format(
            label=shown, limit=limit
        )
    return text


def parse_when(text: str, *, now: datetime, tz: object) -> datetime:
    """Parse 'YYYY-MM-DD HH:MM' (or '+2h', '+1d', 'HH:MM' today) in the desk's zone -> UTC."""
    from zoneinfo import ZoneInfo

    zone = tz if not isinstance(tz, str) else ZoneInfo(tz)
    raw = (text or "").strip()
    if not raw:
        raise ValueError(_("Enter a date and time, e.g. 2026-11-24 10:30, 15:00 or +2h."))
    local_now = now.astimezone(zone)  # type: ignore[arg-type]
    if raw.startswith("+"):
        unit = raw[-1].lower()
        try:
            amount = float(raw[1:-1])
        except ValueError:
            raise ValueError(_("Use +30m, +2h or +1d for a relative time.")) from None
        minutes = {"m": 1, "h": 60, "d": 1440}.get(unit)
        if minutes is None or not math.isfinite(amount):
            raise ValueError(_("Use +30m, +2h or +1d for a relative time."))
        try:
            return now + timedelta(minutes=amount * minutes)
        except OverflowError:
            raise ValueError(
                _("Too far ahead; use +30m, +2h or +1d for a relative time.")
            ) from None
    try:
        if len(raw) <= 5 and ":" in raw:
            hh, mm = raw.split(":")
            local = local_now.replace(hour=int(hh), minute=int(mm), second=0, microsecond=0)
        else:
            local = datetime.fromisoformat(raw.replace("T", " "))
            if local.tzinfo is None:
                local = local.replace(tzinfo=zone)  # type: ignore[arg-type]
        return local.astimezone(now.tzinfo)
    except (ValueError, OverflowError):
        raise ValueError(_("Not a date and time; use 2026-11-24 10:30, 15:00 or +2h.")) from None


def create_callback(
    *,
    session: Session,
    now: datetime,
    customer_id: int,
    owner_id: int,
    due_at: datetime | None,
    reason: str,
    kind: str = CallbackKind.MANUAL,
    call_id: int | None = None,
) -> Callback:
    errors: dict[str, str] = {}
    reason = _required(errors, "reason", reason, N_("Reason"), 2000)
    if due_at is None:
        errors["due_at"] = _("A due time is required.")
    elif due_at <= now:
        errors["due_at"] = _("The due time is in the past; pick a time from now on.")
    if errors:
        raise ValidationError(errors)
    cb = Callback(
        customer_id=customer_id,
        owner_id=owner_id,
        call_id=call_id,
        kind=kind,
        reason=reason,
        due_at=due_at,
        created_at=now,
    )
    session.add(cb)
    session.flush()
    from seat.models import CallbackEvent  # the history of the callback starts here

    session.add(
        CallbackEvent(
            callback_id=cb.id,  # type: ignore[arg-type]
            agent_id=owner_id,
            at=now,
            action="create",
            comment=reason,
        )
    )
    session.flush()
    return cb


def create_complaint(
    *,
    session: Session,
    now: datetime,
    customer_id: int,
    owner_id: int,
    what_happened: str,
    customer_wants: str,
    call_id: int | None = None,
) -> Complaint:
    errors: dict[str, str] = {}
    what_happened = _required(errors, "what_happened", what_happened, N_("What happened"), MAX_TEXT)
    customer_wants = _required(
        errors, "customer_wants", customer_wants, N_("What the customer wants"), 5000
    )
    if errors:
        raise ValidationError(errors)
    c = Complaint(
        customer_id=customer_id,
        owner_id=owner_id,
        call_id=call_id,
        what_happened=what_happened,
        customer_wants=customer_wants,
        created_at=now,
    )
    session.add(c)
    session.flush()
    # Step 1 of the lifecycle is an event like every later move (seat.complaints).
    from seat.models import ComplaintEvent

    session.add(
        ComplaintEvent(
            complaint_id=c.id,  # type: ignore[arg-type]
            agent_id=owner_id,
            at=now,
            action="intake",
            from_status=None,
            to_status=c.status,
            comment=f"Registered ({c.channel}); the customer wants: {customer_wants}"[:10000],
        )
    )
    session.flush()
    return c


# -- the sidebar ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackItem:
    id: int
    customer_id: int
    customer_name: str
    due_at: datetime
    reason: str
    kind: str
    attempts: int

    def overdue(self, now: datetime) -> bool:
        return states.callback_overdue(self.due_at, now)


@dataclass(frozen=True)
class WorkOrderItem:
    id: int
    customer_id: int
    customer_name: str
    short_text: str
    status: str
    urgent: bool
    due_at: datetime

    def late(self, now: datetime) -> bool:
        return states.order_late(self.due_at, now)


@dataclass(frozen=True)
class SidebarData:
    work_orders: tuple[WorkOrderItem, ...]
    complaints_open: int


def sidebar(*, session: Session, agent_id: int, limit: int = 50) -> SidebarData:
    """The agent's open work orders (urgent first, then by due time) and how many open
    complaints they own. The callbacks come from seat.callbacks.sidebar_callbacks (which
    knows rest hours), the near complaints from seat.complaints.sidebar_complaints."""
    conn = session.connection()
    page = _order_page(conn.execute(_OWN_STATUSES, {"agent_id": agent_id}).scalars(), limit)
    ids = conn.execute(page, {"agent_id": agent_id}).scalars().all() if page is not None else []
    details, count = _sidebar_statements()
    wos = conn.execute(details, {"ids": ids}).all() if ids else []
    n_complaints = conn.execute(count, {"agent_id": agent_id}).scalar_one()
    return SidebarData(
        work_orders=tuple(WorkOrderItem(*r) for r in wos),
        complaints_open=n_complaints,
    )


@dataclass(frozen=True)
class OrderCounts:
    """True totals of an agent's open work orders (the sidebar's list is cut at a page)."""

    open: int
    urgent: int
    late: int


def order_counts(*, session: Session, agent_id: int, now: datetime) -> OrderCounts:
    """COUNT queries over the (assignee, status, urgent, due) index; late is seat.states'."""
    mine = (WorkOrder.assignee_id == agent_id, states.order_open_sql())

    def count(*where: Any) -> int:
        return session.execute(
            select(func.count()).select_from(WorkOrder).where(*mine, *where)
        ).scalar_one()

    return OrderCounts(
        open=count(), urgent=count(WorkOrder.urgent), late=count(states.order_late_sql(now))
    )


def late_orders(
    *, session: Session, agent_id: int, now: datetime, limit: int = 50
) -> tuple[WorkOrderItem, ...]:
    """The agent's late open orders, the longest late first (a page; order_counts counts)."""
    rows = session.execute(
        select(
            WorkOrder.id, WorkOrder.customer_id, Customer.name, WorkOrder.short_text,
            WorkOrder.status, WorkOrder.urgent, WorkOrder.due_at,
        )
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .where(WorkOrder.assignee_id == agent_id, states.order_late_sql(now))
        .order_by(WorkOrder.due_at, WorkOrder.id)
        .limit(limit)
    ).all()  # fmt: skip
    return tuple(WorkOrderItem(*r) for r in rows)


_STATEMENTS: list[Any] = []


def _sidebar_statements() -> tuple[Any, Any]:
    """The orders of a page with their customers, and the open complaints count; built once
    (building them cost more than running them)."""
    if not _STATEMENTS:
        details = (
            select(
                WorkOrder.id,
                WorkOrder.customer_id,
                Customer.name,
                WorkOrder.short_text,
                WorkOrder.status,
                WorkOrder.urgent,
                WorkOrder.due_at,
            )
            .join(Customer, Customer.id == WorkOrder.customer_id)
            .where(WorkOrder.id.in_(bindparam("ids", expanding=True)))
            .order_by(WorkOrder.urgent.desc(), WorkOrder.due_at, WorkOrder.id)
        )
        count = (
            select(func.count())
            .select_from(Complaint)
            .where(
                Complaint.owner_id == bindparam("agent_id"),
                Complaint.status.not_in(CLOSED_COMPLAINT_STATUSES),
            )
        )
        _STATEMENTS[:] = [details, count]
    return _STATEMENTS[0], _STATEMENTS[1]


# The (assignee, status, urgent, due) index gives each (status, urgent) pair in due order,
# but "open" is every status but a few, so ordering the agent's open orders by urgency and
# due time sorted all of them (seat bench: 1.4 ms for an agent with 8,000 open orders).
# Instead the agent's statuses are found by skipping through the index (one seek each),
# and the page is merged from the first `limit` of each open (status, urgent) pair.
_OWN_STATUSES = text(
    "WITH RECURSIVE own(status) AS ("
    " SELECT min(status) FROM work_order WHERE assignee_id = :agent_id"
    " UNION ALL SELECT (SELECT min(w.status) FROM work_order w"
    "  WHERE w.assignee_id = :agent_id AND w.status > own.status)"
    " FROM own WHERE own.status IS NOT NULL)"
    " SELECT status FROM own WHERE status IS NOT NULL"
)
_PAGES: dict[tuple[tuple[str, ...], int], Any] = {}


def _order_page(statuses: Iterable[str], limit: int) -> Any:
    """The statement for the ids of the page of open orders, built once per status set."""
    open_ = tuple(sorted(s for s in statuses if s not in OPEN_WORK_ORDER_EXCLUDES))
    if not open_:
        return None
    key = (open_, limit)
    if key not in _PAGES:
        parts = [
            select(WorkOrder.id, WorkOrder.urgent, WorkOrder.due_at)
            .where(
                WorkOrder.assignee_id == bindparam("agent_id"),
                WorkOrder.status == status,
                WorkOrder.urgent == urgent,
            )
            .order_by(WorkOrder.due_at, WorkOrder.id)
            .limit(limit)
            .subquery()
            for status in open_
            for urgent in (True, False)
        ]
        merged = union_all(*(select(p.c.id, p.c.urgent, p.c.due_at) for p in parts)).subquery()
        if len(_PAGES) > 64:
            _PAGES.clear()
        _PAGES[key] = (
            select(merged.c.id)
            .order_by(merged.c.urgent.desc(), merged.c.due_at, merged.c.id)
            .limit(limit)
        )
    return _PAGES[key]



def get_work_order(*, session: Session, work_order_id: int) -> WorkOrder | None:
    return session.get(WorkOrder, work_order_id)


def get_callback(*, session: Session, callback_id: int) -> Callback | None:
    return session.get(Callback, callback_id)


def assignable_agents(*, session: Session) -> list[tuple[int, str]]:
    return [
        (r.id, r.display_name)
        for r in session.execute(
            select(Agent.id, Agent.display_name).where(Agent.active).order_by(Agent.display_name)
        )
    ]
