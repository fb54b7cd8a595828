"""The daily work plan (工作计划表): each technician's open orders for one local day.

An order is on a day's plan when it is open (not closed) and its requested start or its
expected end falls on that day, or its expected end is already past at the day's start
(overdue, still to do). Urgent orders come first, then by planned time. The screen and
`seat workplan` both print what `tables()` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from seat import phone
from seat.config import Settings
from seat.export import Table
from seat.i18n import N_, _
from seat.models import (
    OPEN_WORK_ORDER_EXCLUDES,
    Agent,
    Customer,
    PhoneNumber,
    WorkOrder,
    WorkOrderLine,
)
from seat.workorders import day_bounds, format_line, kind_label, status_label

HEADERS = [
    N_("No."),
    N_("Urgent"),
    N_("Start"),
    N_("Expected end"),
    N_("Status"),
    N_("Customer"),
    N_("Phone"),
    N_("Service address"),
    N_("Job"),
    N_("Product"),
    N_("Materials"),
    N_("Work center"),
    N_("Technician"),
]


@dataclass(frozen=True)
class PlanRow:
    id: int
    kind: str
    status: str
    urgent: bool
    short_text: str
    requested_start: datetime | None
    due_at: datetime
    customer: str
    e164: str | None
    service_address: str | None
    product_type: str | None
    product_colour: str | None
    work_center: str | None
    assignee_id: int | None
    assignee: str | None


def plan_rows(
    *,
    session: Session,
    day: date,
    zone: ZoneInfo,
    assignee_id: int | None = None,
    everyone: bool = True,
    work_center: str | None = None,
    limit: int | None = None,
) -> list[PlanRow]:
    """Open orders planned for `day` (or overdue by then), urgent first, then by time."""
    start, end = day_bounds(day, zone)
    first_phone = (
        select(PhoneNumber.e164)
        .where(PhoneNumber.customer_id == WorkOrder.customer_id, ~PhoneNumber.wrong_number)
        .order_by(PhoneNumber.id)
        .limit(1)
        .scalar_subquery()
    )
    planned = func.coalesce(WorkOrder.requested_start, WorkOrder.due_at)
    stmt = (
        select(
            WorkOrder.id,
            WorkOrder.kind,
            WorkOrder.status,
            WorkOrder.urgent,
            WorkOrder.short_text,
            WorkOrder.requested_start,
            WorkOrder.due_at,
            Customer.name,
            first_phone,
            WorkOrder.service_address,
            WorkOrder.product_type,
            WorkOrder.product_colour,
            WorkOrder.work_center,
            WorkOrder.assignee_id,
            Agent.display_name,
        )
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .outerjoin(Agent, Agent.id == WorkOrder.assignee_id)
        .where(
            WorkOrder.status.not_in(OPEN_WORK_ORDER_EXCLUDES),
            or_(
                WorkOrder.due_at < end,  # due that day, or overdue by then
                and_(WorkOrder.requested_start >= start, WorkOrder.requested_start < end),
            ),
        )
        .order_by(WorkOrder.urgent.desc(), planned, WorkOrder.id)
    )
    if not everyone:
        stmt = stmt.where(
            WorkOrder.assignee_id == assignee_id
            if assignee_id is not None
            else WorkOrder.assignee_id.is_(None)
        )
    if work_center:
        stmt = stmt.where(WorkOrder.work_center == work_center)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [PlanRow(*r) for r in session.execute(stmt).all()]


def customers_of(*, session: Session, work_order_ids: list[int]) -> dict[int, int]:
    """The customer of each work order, by order id.

    The plan's tables stay as printed (`seat workplan` is for the technicians going out);
    a screen uses this to mask each service address unless it may show that customer's.
    """
    out: dict[int, int] = {}
    for chunk in (work_order_ids[i : i + 500] for i in range(0, len(work_order_ids), 500)):
        rows = session.execute(
            select(WorkOrder.id, WorkOrder.customer_id).where(WorkOrder.id.in_(chunk))
        ).all()
        out.update({wo_id: customer_id for wo_id, customer_id in rows})
    return out


def _materials(session: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        rows = session.execute(
            select(
                WorkOrderLine.work_order_id,
                WorkOrderLine.material,
                WorkOrderLine.quantity,
                WorkOrderLine.unit,
            )
            .where(WorkOrderLine.work_order_id.in_(chunk))
            .order_by(WorkOrderLine.id)
        ).all()
        for wo_id, material, qty, unit in rows:
            out.setdefault(wo_id, []).append(format_line(material, qty, unit))
    return out


def _cells(rows: list[PlanRow], day: date, zone: ZoneInfo, region: str,
           materials: dict[int, list[str]], now: datetime | None) -> list[list[object]]:
    start, _end = day_bounds(day, zone)
    # Overdue by the plan's day, or by now when that is later (today's plan at 12:30: an
    # order due at 11:03 is late now, not only tomorrow).
    late_before = start if now is None else max(start, now)

    def when(at: datetime | None) -> str:
        if at is None:
            return ""
        local = at.astimezone(zone)
        return f"{local:%H:%M}" if local.date() == day else f"{local:%m-%d %H:%M}"

    out: list[list[object]] = []
    for r in rows:
        end = when(r.due_at)
        if r.due_at < late_before:
            end = _("{time} overdue").format(time=end)
        product = " ".join(p for p in (r.product_type, r.product_colour) if p)
        out.append(
            [
                r.id,
                "‼" if r.urgent else "",
                when(r.requested_start),
                end,
                status_label(r.status),
                r.customer,
                phone.display(r.e164, region) if r.e164 else "",
                r.service_address or "",
                f"{r.short_text} ({kind_label(r.kind)})",
                product,
                "; ".join(materials.get(r.id, [])),
                r.work_center or "",
                r.assignee or _("unassigned"),
            ]
        )
    return out


def tables(
    *,
    session: Session,
    day: date,
    assignee: str | None,
    work_center: str | None,
    settings: Settings,
    limit: int | None = None,
    now: datetime | None = None,
) -> list[Table]:
    """The plan for `day`: one table for the technician or the work center asked for, or
    one per technician (and the unassigned orders) when neither is given. With `now`, an
    order due before now is marked overdue too (not only one due before the day).

    Raises LookupError for an unknown technician login.
    """
    zone = ZoneInfo(settings.local_timezone)
    # The title is a json key: English and stable; people read the caption.
    title = f"工作计划表 Work plan {day:%Y-%m-%d}"
    caption = _("工作计划表 Work plan {day}").format(day=f"{day:%Y-%m-%d}")
    if assignee:
        login = assignee.strip().lower()
        agent = session.execute(select(Agent).where(Agent.name == login)).scalar_one_or_none()
        if agent is None:
            raise LookupError(_("No agent with login {login}").format(login=assignee))
        groups = [(agent.id, f"{agent.display_name} ({agent.name})", False)]
    elif work_center:
        groups = [(None, _("work center {center}").format(center=work_center), True)]
    else:
        groups = []
    rows_by_group: list[tuple[str, list[PlanRow]]] = []
    if groups:
        for agent_id, name, everyone in groups:
            rows = plan_rows(
                session=session, day=day, zone=zone, assignee_id=agent_id,
                everyone=everyone, work_center=work_center, limit=limit,
            )
            rows_by_group.append((name, rows))
    else:
        rows = plan_rows(session=session, day=day, zone=zone, limit=limit)
        by_agent: dict[int | None, list[PlanRow]] = {}
        for r in rows:
            by_agent.setdefault(r.assignee_id, []).append(r)
        names = {r.assignee_id: r.assignee for r in rows}
        order = sorted((k for k in by_agent if k is not None), key=lambda k: names[k] or "")
        rows_by_group = [(names[k] or f"#{k}", by_agent[k]) for k in order]
        if None in by_agent:
            rows_by_group.append((_("unassigned"), by_agent[None]))
        if not rows_by_group:
            rows_by_group = [(_("everyone"), [])]
    ids = [r.id for _name, rows in rows_by_group for r in rows]
    materials = _materials(session, ids)
    return [
        Table(
            title=f"{title} · {name}",
            caption=f"{caption} · {name}",
            headers=list(HEADERS),
            rows=_cells(rows, day, zone, settings.region, materials, now),
            meta={
                "date": day,
                "technician": name,
                "work_center": work_center or "",
                "orders": len(rows),
                "urgent": sum(1 for r in rows if r.urgent),
            },
        )
        for name, rows in rows_by_group
    ]
