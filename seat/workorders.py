"""Work orders (售后服务通知单), after the SAP service desk.

Two kinds with their own status flows, every change one WorkOrderEvent:

- service request (Z1, after full payment): created → survey_done (KCJS; the survey says
  whether head office must be involved: an HQ quote or HQ support) → [head office only:
  approved / not_approved (a supervisor decides, ZGPZ / BPZ) → replied (the department
  replied, ZBHF)] → serviced (the service is done) → completed (the customer's acceptance is
  recorded) → closed. A local job needs no supervisor;
- delivery exception (Z2, before full payment): created → replied_sales → delivered (to the
  customer) / returned (to the vendor) → closed.

Paid service needs a quote the customer confirmed before the work is approved or done; a
quote priced by head office needs a supervisor's approval before the customer can confirm it
(and puts the order on the head-office path). The moves start and stop the order's clocks
(seat.order_clocks): on site at the survey, the reply when the job is done, the weekly
follow-ups until then (`follow_up` records one, with the reason it is not finished).
Closing needs the customer's acceptance. Reassigning and the urgent flag are events too.

The completion of a service request has no column of its own: it is the WorkOrderEvent with
to_status "completed" (its `at`), which is what the satisfaction callback is scheduled from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, literal, or_, select
from sqlmodel import Session

from seat import lifecycle, order_clocks, roles, sla
from seat.customers import ValidationError
from seat.errors import PolicyError as PolicyError
from seat.errors import StaleOrder as StaleOrder
from seat.i18n import N_, _
from seat.models import (
    Agent,
    Customer,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderKind,
    WorkOrderLine,
)
from seat.order_clocks import ClockPolicy
from seat.order_policy import (  # noqa: F401  (re-exported: the policy is read without the tables)
    DEFAULT_REASON_CODES,
    DEFAULT_WORK_CENTERS,
    WORK_ORDER_POLICY,
    Policy,
    load_policy,
    read_policy,
)
from seat.textguard import FORBIDDEN, check_text

Z1 = WorkOrderKind.SERVICE_REQUEST.value
Z2 = WorkOrderKind.DELIVERY_EXCEPTION.value
KINDS = (Z1, Z2)
KIND_LABELS = {Z1: N_("service request"), Z2: N_("delivery exception")}
SERVICE_TYPES = ("repair", "paid", "complaint")
SERVICE_TYPE_LABELS = {
    "repair": N_("repair"),
    "paid": N_("paid service"),
    "complaint": N_("complaint after payment"),
}

CREATED = "created"
CLOSED = "closed"
STATUS_LABELS = {
    "created": N_("created"),
    "survey_done": N_("survey done"),
    "approved": N_("supervisor approved"),
    "not_approved": N_("not approved"),
    "replied": N_("department replied"),
    "serviced": N_("service done"),
    "completed": N_("completed"),
    "replied_sales": N_("replied to sales"),
    "delivered": N_("delivered to customer"),
    "returned": N_("returned to vendor"),
    "closed": N_("closed"),
}
# The list's three states, after SAP's outstanding / in process / completed notifications.
STATES = ("open", "in_process", "closed")
STATE_LABELS = {"open": N_("open"), "in_process": N_("in process"), "closed": N_("closed")}
IN_PROCESS = tuple(s for s in STATUS_LABELS if s not in (CREATED, CLOSED))
# The maps hold N_-marked English: show them through these, which translate at call time.


def kind_label(kind: str) -> str:
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def service_type_label(service_type: str) -> str:
    label = SERVICE_TYPE_LABELS.get(service_type)
    return _(label) if label else service_type


def status_label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def state_label(state: str) -> str:
    return _(STATE_LABELS[state]) if state in STATE_LABELS else state


MAX_TEXT = 20000


@dataclass(frozen=True)
class Step:
    """One allowed status change of one kind."""

    action: str
    kind: str
    sources: tuple[str, ...]
    to_status: str
    label: str
    supervisor: bool = False
    needs_acceptance: bool = False
    hq: bool | None = None
    """True: on the head-office path only; False: on a local job only; None: either."""
    job_done: bool = False
    """The job is done: the reply clock starts, the follow-ups stop."""
    reply: bool = False
    """The desk's reply after the job: the reply clock stops."""

    @property
    def title(self) -> str:
        """The label in the current language (`label` is the N_-marked English)."""
        return _(self.label)


STEPS: tuple[Step, ...] = (
    Step("survey", Z1, ("created",), "survey_done", N_("Survey done")),
    Step("approve", Z1, ("survey_done",), "approved", N_("Approve"), supervisor=True, hq=True),
    Step("reject", Z1, ("survey_done",), "not_approved", N_("Not approve"), supervisor=True,
         hq=True),
    Step("reply", Z1, ("approved", "not_approved"), "replied", N_("Department replied")),
    Step("service", Z1, ("survey_done",), "serviced", N_("Service done"), hq=False,
         job_done=True),
    Step("service", Z1, ("replied",), "serviced", N_("Service done"), job_done=True),
    Step("complete", Z1, ("serviced",), "completed", N_("Completed"), needs_acceptance=True,
         reply=True),
    Step("close", Z1, ("completed",), CLOSED, N_("Close")),
    Step("reply_sales", Z2, ("created",), "replied_sales", N_("Replied to sales")),
    Step("deliver", Z2, ("replied_sales",), "delivered", N_("Delivered"), job_done=True),
    Step("return", Z2, ("replied_sales",), "returned", N_("Returned to vendor"), job_done=True),
    Step("close", Z2, ("delivered", "returned"), CLOSED, N_("Close"), needs_acceptance=True,
         reply=True),
)
ACTIONS = tuple(dict.fromkeys(s.action for s in STEPS))
QUOTE_STATUSES = (CREATED, "survey_done")  # a quote is priced before the work is approved


def statuses(kind: str) -> tuple[str, ...]:
    """Every status of a kind, in flow order."""
    seen: dict[str, None] = {CREATED: None}
    for s in STEPS:
        if s.kind == kind:
            seen[s.to_status] = None
    return tuple(seen)


def state_of(status: str) -> str:
    """open / in_process / closed for a status."""
    if status == CREATED:
        return "open"
    return "closed" if status == CLOSED else "in_process"


def allowed_steps(kind: str, status: str, *, hq: bool | None = None) -> tuple[Step, ...]:
    """The status changes the flow allows from here (rules on quotes etc. checked on move);
    `hq`: the order's path (head office or local), None: the steps of both."""
    return tuple(
        s for s in STEPS
        if s.kind == kind and status in s.sources and (hq is None or s.hq in (None, hq))
    )  # fmt: skip


def find_step(kind: str, status: str, action: str, *, hq: bool | None = None) -> Step | None:
    return next((s for s in allowed_steps(kind, status, hq=hq) if s.action == action), None)


def on_hq_path(wo: WorkOrder) -> bool:
    """Head office must be involved: flagged at survey, or the quote is priced by head office."""
    return bool(wo.hq_involved or wo.quote_needs_hq)


def steps_for(wo: WorkOrder) -> tuple[Step, ...]:
    """The status changes this order's flow and path allow now."""
    return allowed_steps(wo.kind, wo.status, hq=on_hq_path(wo))


def step_for(wo: WorkOrder, action: str) -> Step | None:
    return next((s for s in steps_for(wo) if s.action == action), None)


def may_follow_up(wo: WorkOrder) -> bool:
    """An unfinished order (the job not done, not closed) can be followed up."""
    return wo.status != CLOSED and wo.done_at is None and wo.status not in DONE_STATUSES


DONE_STATUSES = ("serviced", "completed", "delivered", "returned", CLOSED)


def quote_blocks(wo: WorkOrder, step: Step) -> str | None:
    """Why a paid service may not proceed to approval or work yet, or None."""
    if wo.kind != Z1 or wo.service_type != "paid":
        return None
    if step.to_status in ("approved", "serviced"):
        if wo.quote_amount is None:
            return _("Paid service needs a quote first (o): enter the amount.")
        if wo.quote_needs_hq and wo.quote_approved_at is None:
            return _("The head-office quote needs a supervisor's approval first (h).")
        if wo.quote_confirmed_at is None:
            return _("The customer has not confirmed the quote yet (k).")
    return None


# -- creating an order ------------------------------------------------------------------------


@dataclass(frozen=True)
class LineIn:
    material: str
    quantity: float = 1.0
    unit: str = "pc"


_LINE = re.compile(
    r"^(?P<material>.*?\S)"
    r"(?:\s*(?:\s[xX]|[×*])\s*(?P<qty>-?[0-9]+(?:[.,][0-9]+)?)\s*(?P<unit>[^\s\d]\S{0,15})?)?\s*$"
)


def parse_lines(text: str) -> list[LineIn]:
    """Material lines typed one a line: 'door seal × 2 pc', 'hinge x 4', 'manual'."""
    out: list[LineIn] = []
    for n, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        m = _LINE.match(raw.strip())
        if m is None:  # pragma: no cover - the pattern accepts any non-blank line
            raise ValueError(_("Line {n}: write 'material × quantity unit'.").format(n=n))
        qty = float(m["qty"].replace(",", ".")) if m["qty"] else 1.0
        out.append(LineIn(m["material"].strip(), qty, (m["unit"] or "pc")))
    return out


def format_line(material: str, quantity: float, unit: str) -> str:
    qty = f"{quantity:g}"
    return f"{material} × {qty} {unit}"


def parse_amount(text: str) -> float | None:
    """A quote amount typed as 380, 380.50 or ¥1,200; blank is None."""
    raw = (text or "").strip().lstrip("¥￥$").replace(",", "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(_("Type the amount as a number, e.g. 380 or 1200.50.")) from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(_("The amount must be zero or more."))
    return round(value, 2)


@dataclass(frozen=True)
class WorkOrderDraft:
    """A new work order as the agent filled it in: what `create_order` validates and saves.

    The form builds it from its fields; `problems` carries what the form could not read
    (a date it could not parse), so the agent sees every problem at once.
    """

    kind: str
    short_text: str
    assignee_id: int | None
    due_at: datetime | None
    reporter: str | None = None
    """Who told us about the problem; None: the customer on file."""
    urgent: bool = False
    long_text: str = ""
    service_address: str | None = None
    """Blank: the customer's address, then their second address."""
    service_type: str | None = None
    sales_order_no: str | None = None
    requested_start: datetime | None = None
    work_center: str | None = None
    product_type: str | None = None
    product_colour: str | None = None
    reason_code: str | None = None
    lines: tuple[LineIn, ...] = ()
    quote_amount: float | None = None
    quote_needs_hq: bool = False
    problems: Mapping[str, str] = field(default_factory=dict)
    """Field name -> why what was typed there could not be read."""


def create_order(
    *,
    session: Session,
    now: datetime,
    customer_id: int,
    created_by_id: int,
    draft: WorkOrderDraft,
    call_id: int | None = None,
    reason_codes: Sequence[str] | None = None,
    clocks: ClockPolicy | None = None,
    calendar: sla.Calendar | None = None,
) -> WorkOrder:
    """A complete work order with its lines and its creation event, or ValidationError.

    Every problem of the draft is reported at once, with those the form found first
    (`draft.problems`). The service address defaults to the customer's address, then their
    second address; the reporter to the customer's name. The clocks start: a service
    request's on-site promise by its service zone (`clocks`, in `calendar`'s opening hours
    where the zone says so) and, for every order, the weekly follow-up.
    """
    d = draft
    errors = dict(d.problems)
    customer = session.get(Customer, customer_id)
    if d.kind not in KINDS:
        errors["kind"] = _("Choose the kind of work order.")
    short_text = check_text(errors, "short_text", d.short_text, N_("Short description"), 200)
    reporter = check_text(
        errors, "reporter",
        d.reporter if d.reporter is not None else (customer.name if customer else ""),
        N_("Reporter"), 200,
        missing=_("Reporter is required: who told us about the problem."),
    )  # fmt: skip
    long_text = check_text(
        errors, "long_text", d.long_text, N_("Long text"), MAX_TEXT, required=False
    )
    if customer is None:
        errors["customer"] = _("The customer is not on file any more.")
    if d.assignee_id is None:
        errors["assignee"] = _("Choose who the order is assigned to.")
    else:
        agent = session.get(Agent, d.assignee_id)
        if agent is None or not agent.active:
            errors["assignee"] = _("That person is not on the active roster; choose another.")
    if d.due_at is None:
        errors.setdefault("due_at", _("An expected end is required."))
    elif d.due_at <= now:
        errors["due_at"] = _("The expected end is in the past; pick a time from now on.")
    if d.requested_start is not None and d.due_at is not None and d.requested_start >= d.due_at:
        errors["requested_start"] = _("The requested start must be before the expected end.")
    stype = (d.service_type or "").strip() or None
    if d.kind == Z1 and stype not in SERVICE_TYPES:
        errors["service_type"] = _("Choose the service type: repair, paid service or complaint.")
    if d.kind == Z2:
        stype = None
    sales_order_no = check_text(
        errors, "sales_order_no", d.sales_order_no, N_("Sales order number"), 40,
        required=d.kind == Z2,
        missing=_("A delivery exception needs the original sales order number."),
    )  # fmt: skip
    address = check_text(
        errors, "service_address", d.service_address, N_("Service address"), 500, required=False
    )
    if not address and customer is not None:
        address = (customer.address or customer.second_address or "").strip()
    work_center = check_text(
        errors, "work_center", d.work_center, N_("Work center"), 40, required=False
    )
    product_type = check_text(
        errors, "product_type", d.product_type, N_("Product type"), 80, required=False
    )
    product_colour = check_text(
        errors, "product_colour", d.product_colour, N_("Colour"), 40, required=False
    )
    reason_code = check_text(
        errors, "reason_code", d.reason_code, N_("Reason code"), 16, required=False
    )
    if reason_code and reason_codes is not None and reason_code not in reason_codes:
        errors["reason_code"] = _(
            "Unknown reason code {code}; choose one from the list."
        ).format(code=reason_code)
    for n, line in enumerate(d.lines, start=1):
        if not line.material.strip() or len(line.material) > 120:
            errors.setdefault(
                "lines", _("Line {n}: name the material (120 characters at most).").format(n=n)
            )
        elif FORBIDDEN.search(line.material + line.unit):
            # Checked here, not left to the write guard: the order would be written already.
            errors.setdefault(
                "lines",
                _("Line {n}: the material contains control characters; retype it.").format(n=n),
            )
        elif not (math.isfinite(line.quantity) and line.quantity > 0):
            errors.setdefault("lines", _("Line {n}: the quantity must be more than 0.").format(n=n))
        elif len(line.unit) > 16:
            errors.setdefault("lines", _("Line {n}: the unit is too long.").format(n=n))
    if d.quote_amount is not None and stype != "paid":
        errors.setdefault("quote_amount", _("A quote is only for paid service."))
    if errors:
        raise ValidationError(errors)
    urgent = bool(d.urgent)
    wo = WorkOrder(
        kind=d.kind,
        short_text=short_text,
        long_text=long_text,
        customer_id=customer_id,
        call_id=call_id,
        reporter=reporter,
        service_address=address or None,
        assignee_id=d.assignee_id,
        created_by_id=created_by_id,
        urgent=urgent,
        due_at=d.due_at,
        created_at=now,
        service_type=stype,
        sales_order_no=sales_order_no or None,
        requested_start=d.requested_start,
        work_center=work_center or None,
        product_type=product_type or None,
        product_colour=product_colour or None,
        reason_code=reason_code or None,
        quote_amount=d.quote_amount,
        quote_needs_hq=bool(d.quote_needs_hq) if d.quote_amount is not None else False,
    )
    clocks = clocks or ClockPolicy()
    if d.kind == Z1:
        order_clocks.start_on_site(wo, clocks, now=now, calendar=calendar)
    order_clocks.start_follow_up(wo, clocks, now=now)
    note = "urgent: dispatched at once" if urgent else "planned"
    lifecycle.record_event(
        session, wo, agent_id=created_by_id, at=now, action="create", comment=note
    )
    for line in d.lines:
        session.add(
            WorkOrderLine(
                work_order_id=wo.id,  # type: ignore[arg-type]
                material=line.material.strip(),
                quantity=line.quantity,
                unit=line.unit.strip() or "pc",
            )
        )
    session.flush()
    return wo


def get_work_order(*, session: Session, work_order_id: int) -> WorkOrder | None:
    return session.get(WorkOrder, work_order_id)


# -- changing an order -----------------------------------------------------------------------


def _load(session: Session, work_order_id: int, agent_id: int,
          expected_version: int | None) -> tuple[WorkOrder, Agent]:
    wo = session.get(WorkOrder, work_order_id)
    if wo is None:
        raise LookupError(_("Work order #{id} does not exist.").format(id=work_order_id))
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise LookupError(_("Agent #{id} does not exist.").format(id=agent_id))
    roles.require(agent, roles.WORK_CASES)  # a quality inspector reads, never moves
    if expected_version is not None and wo.version != expected_version:
        raise StaleOrder()
    return wo, agent


def move(
    *,
    session: Session,
    now: datetime,
    work_order_id: int,
    agent_id: int,
    action: str,
    comment: str = "",
    acceptance: str = "",
    expected_version: int | None = None,
    hq: bool | None = None,
    clocks: ClockPolicy | None = None,
) -> WorkOrder:
    """Apply one status change of the order's flow, or refuse it with a reason.

    `hq` (the survey only): head office must be involved, an HQ quote or HQ support; the
    order then goes through a supervisor's approval, otherwise it is a local job. The step
    starts and stops the order's clocks (`clocks`: the reply time).

    Refusals: ValidationError (the flow or a rule says no), roles.PermissionDenied (a
    supervisor's decision asked of an agent), StaleOrder, LookupError.
    """
    wo, agent = _load(session, work_order_id, agent_id, expected_version)
    step = step_for(wo, action)
    if step is None:
        allowed = ", ".join(s.title.lower() for s in steps_for(wo))
        where = status_label(wo.status)
        if allowed:
            message = _("The order is at '{status}'; the next step is: {steps}.").format(
                status=where, steps=allowed
            )
        else:
            message = _("The order is at '{status}' and stays closed.").format(status=where)
        raise ValidationError({"status": message})
    if step.supervisor:
        roles.require(
            agent, roles.DECIDE_ORDER,
            what=_("decide on '{order}' ({step})").format(
                order=wo.short_text, step=step.title.lower()
            ),
        )  # fmt: skip
    blocked = quote_blocks(wo, step)
    if blocked:
        raise ValidationError({"status": blocked})
    acceptance = (acceptance or "").strip()
    takes_acceptance = step.needs_acceptance or step.to_status == CLOSED
    if not takes_acceptance or wo.accepted_at is not None:
        acceptance = ""  # recorded once, at the step that asks for it
    if len(acceptance) > 2000:
        raise ValidationError({"acceptance": _("Too long (2000 characters at most).")})
    if takes_acceptance and wo.accepted_at is None and not acceptance:
        if step.to_status == CLOSED:
            message = _("Record what the customer accepted before closing the order.")
        else:
            message = _("Record what the customer accepted before completing the order.")
        raise ValidationError({"acceptance": message})
    if acceptance:
        wo.customer_acceptance = acceptance
        wo.accepted_at = now
    before = wo.status
    wo.status = step.to_status
    if step.to_status == CLOSED:
        wo.closed_at = now
    clocks = clocks or ClockPolicy()
    text = comment.strip()
    if step.action == "survey":
        wo.hq_involved = bool(hq)
        if wo.on_site_due_at is not None and wo.on_site_at is None:
            wo.on_site_at = now
        if on_hq_path(wo):
            text = f"{text}\nHead office involved: supervisor approval needed.".strip()
    if step.job_done:
        order_clocks.job_done(wo, clocks, now=now)
    if step.reply and wo.reply_due_at is not None and wo.replied_at is None:
        wo.replied_at = now
    if step.to_status == CLOSED:
        wo.follow_up_due_at = None
    if acceptance:
        text = f"{text}\nCustomer accepted: {acceptance}".strip()
    lifecycle.record_event(
        session, wo, agent_id=agent_id, at=now, action=step.action, from_status=before,
        comment=text,
    )  # fmt: skip
    return wo


def set_quote(
    *,
    session: Session,
    now: datetime,
    work_order_id: int,
    agent_id: int,
    amount: float | None,
    needs_hq: bool,
    comment: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """Price a paid service; a new price needs a new confirmation (and HQ approval)."""
    wo, _agent = _load(session, work_order_id, agent_id, expected_version)
    if wo.kind != Z1 or wo.service_type != "paid":
        raise ValidationError({"amount": _("Only a paid service has a quote.")})
    if wo.status not in QUOTE_STATUSES:
        raise ValidationError({"amount": _("The work is already decided; the quote is fixed.")})
    if amount is None or not math.isfinite(amount) or amount < 0:
        raise ValidationError({"amount": _("Enter the amount (zero or more).")})
    wo.quote_amount = round(amount, 2)
    wo.quote_needs_hq = bool(needs_hq)
    wo.quote_confirmed_at = None
    wo.quote_approved_at = None
    wo.quote_approved_by_id = None
    hq = " (head-office pricing)" if needs_hq else ""
    lifecycle.record_event(
        session, wo, agent_id=agent_id, at=now, action="quote", from_status=wo.status,
        comment=f"Quote {wo.quote_amount:.2f}{hq}. {comment}",
    )  # fmt: skip
    return wo


def approve_quote(
    *,
    session: Session,
    now: datetime,
    work_order_id: int,
    agent_id: int,
    comment: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """A supervisor approves a head-office quote, before the customer is asked."""
    wo, agent = _load(session, work_order_id, agent_id, expected_version)
    roles.require(agent, roles.APPROVE_QUOTE)
    if wo.quote_amount is None or not wo.quote_needs_hq:
        raise ValidationError({"status": _("There is no head-office quote to approve.")})
    if wo.quote_approved_at is not None:
        raise ValidationError({"status": _("The quote is already approved.")})
    wo.quote_approved_by_id = agent_id
    wo.quote_approved_at = now
    lifecycle.record_event(
        session, wo, agent_id=agent_id, at=now, action="quote_approve", from_status=wo.status,
        comment=f"HQ quote {wo.quote_amount:.2f} approved. {comment}",
    )  # fmt: skip
    return wo


def confirm_quote(
    *,
    session: Session,
    now: datetime,
    work_order_id: int,
    agent_id: int,
    comment: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """Record that the customer confirmed the quote (after HQ approval where needed)."""
    wo, _agent = _load(session, work_order_id, agent_id, expected_version)
    if wo.quote_amount is None:
        raise ValidationError({"status": _("There is no quote to confirm yet.")})
    if wo.quote_needs_hq and wo.quote_approved_at is None:
        raise ValidationError(
            {"status": _("A head-office quote needs a supervisor's approval before the "
                         "customer confirms it.")}
        )
    if wo.quote_confirmed_at is not None:
        raise ValidationError({"status": _("The customer already confirmed this quote.")})
    wo.quote_confirmed_at = now
    lifecycle.record_event(
        session, wo, agent_id=agent_id, at=now, action="quote_confirm", from_status=wo.status,
        comment=f"Customer confirmed the quote {wo.quote_amount:.2f}. {comment}",
    )  # fmt: skip
    return wo


def reassign(
    *,
    session: Session,
    now: datetime,
    work_order_id: int,
    agent_id: int,
    assignee_id: int,
    comment: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """Hand the order to someone else (a supervisor's decision); recorded with both names."""
    wo, agent = _load(session, work_order_id, agent_id, expected_version)
    roles.require(agent, roles.REASSIGN_ORDER)
    if wo.status == CLOSED:
        raise ValidationError({"assignee": _("The order is closed; open a new one instead.")})
    new = session.get(Agent, assignee_id)
    if new is None or not new.active:
        raise ValidationError(
            {"assignee": _("That person is not on the active roster; choose another.")}
        )
    if wo.assignee_id == assignee_id:
        raise ValidationError(
            {"assignee": _("The order is already with {name}.").format(name=new.display_name)}
        )
    old = session.get(Agent, wo.assignee_id) if wo.assignee_id else None
    wo.assignee_id = assignee_id
    who = f"{old.display_name if old else 'unassigned'} → {new.display_name}"
    lifecycle.record_event(
        session, wo, agent_id=agent_id, at=now, action="reassign", from_status=wo.status,
        comment=f"{who}. {comment}",
    )  # fmt: skip
    return wo


def set_urgent(
    *,
    session: Session,
    now: datetime,
    work_order_id: int,
    agent_id: int,
    urgent: bool,
    comment: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """Mark or unmark urgent: urgent orders go to the top of the assignee's queue."""
    wo, _agent = _load(session, work_order_id, agent_id, expected_version)
    if wo.status == CLOSED:
        raise ValidationError({"status": _("The order is closed.")})
    if wo.urgent == urgent:
        return wo
    wo.urgent = urgent
    what = "marked urgent: dispatch at once" if urgent else "no longer urgent: planned"
    lifecycle.record_event(
        session, wo, agent_id=agent_id, at=now, action="urgent" if urgent else "not_urgent",
        from_status=wo.status, comment=f"{what}. {comment}",
    )  # fmt: skip
    return wo


def follow_up(
    *,
    session: Session,
    now: datetime,
    work_order_id: int,
    agent_id: int,
    reason: str,
    expected_version: int | None = None,
    clocks: ClockPolicy | None = None,
) -> WorkOrder:
    """Record a follow-up of an unfinished order, with the reason it is not finished yet; the
    next one falls due a week later (`clocks.follow_up_every`)."""
    wo, _agent = _load(session, work_order_id, agent_id, expected_version)
    if not may_follow_up(wo):
        raise ValidationError(
            {"reason": _("The job is done or the order closed: there is nothing to follow up.")}
        )
    errors: dict[str, str] = {}
    text = check_text(
        errors, "reason", reason, N_("Why it is not finished"), 2000,
        missing=_("Record why the order is not finished yet."),
    )  # fmt: skip
    if errors:
        raise ValidationError(errors)
    clocks = clocks or ClockPolicy()
    order_clocks.followed_up(wo, clocks, now=now)
    lifecycle.record_event(
        session, wo, agent_id=agent_id, at=now, action="follow_up", from_status=wo.status,
        comment=f"Follow-up {wo.follow_ups}: {text}",
    )  # fmt: skip
    return wo


def completed_at(*, session: Session, work_order_id: int) -> datetime | None:
    """When the customer's acceptance completed the order (the last 'completed' event)."""
    return session.execute(
        select(func.max(WorkOrderEvent.at)).where(
            WorkOrderEvent.work_order_id == work_order_id,
            WorkOrderEvent.to_status == "completed",
            WorkOrderEvent.action == "complete",
        )
    ).scalar_one()


# -- reading one order -------------------------------------------------------------------------


@dataclass(frozen=True)
class EventLine:
    at: datetime
    agent: str
    action: str
    from_status: str | None
    to_status: str
    comment: str


def events(*, session: Session, work_order_id: int) -> list[EventLine]:
    rows = session.execute(
        select(
            WorkOrderEvent.at,
            Agent.display_name,
            WorkOrderEvent.action,
            WorkOrderEvent.from_status,
            WorkOrderEvent.to_status,
            WorkOrderEvent.comment,
        )
        .join(Agent, Agent.id == WorkOrderEvent.agent_id)
        .where(WorkOrderEvent.work_order_id == work_order_id)
        .order_by(WorkOrderEvent.at, WorkOrderEvent.id)
    ).all()
    return [EventLine(*r) for r in rows]


def lines(*, session: Session, work_order_id: int) -> list[tuple[str, float, str]]:
    return [
        (r.material, r.quantity, r.unit)
        for r in session.execute(
            select(WorkOrderLine.material, WorkOrderLine.quantity, WorkOrderLine.unit)
            .where(WorkOrderLine.work_order_id == work_order_id)
            .order_by(WorkOrderLine.id)
        )
    ]


@dataclass(frozen=True)
class OrderView:
    """One order for its page: the row, the names it points to, its lines and its history."""

    order: WorkOrder
    customer: str
    assignee: str | None
    created_by: str | None
    quote_approved_by: str | None
    lines: tuple[tuple[str, float, str], ...]
    """(material, quantity, unit), as entered."""
    events: tuple[EventLine, ...]
    """Oldest first."""
    clocks: tuple[order_clocks.OrderClock, ...] = ()
    """The clocks that have started (seat.order_clocks)."""
    zone: order_clocks.Zone | None = None
    """The service zone of the on-site promise (None: no promise)."""


def order_view(
    *, session: Session, work_order_id: int, clocks: ClockPolicy | None = None
) -> OrderView | None:
    """Every field of an order with names, its lines, its events and its clocks; None if it
    is gone."""
    wo = get_work_order(session=session, work_order_id=work_order_id)
    if wo is None:
        return None
    customer = session.get(Customer, wo.customer_id)

    def name(agent_id: int | None) -> str | None:
        agent = session.get(Agent, agent_id) if agent_id else None
        return agent.display_name if agent else None

    return OrderView(
        order=wo,
        customer=customer.name if customer else "?",
        assignee=name(wo.assignee_id),
        created_by=name(wo.created_by_id),
        quote_approved_by=name(wo.quote_approved_by_id),
        lines=tuple(lines(session=session, work_order_id=work_order_id)),
        events=tuple(events(session=session, work_order_id=work_order_id)),
        clocks=order_clocks.clocks_of(wo, clocks or ClockPolicy()),
        zone=(clocks or ClockPolicy()).zone(wo.service_zone),
    )


@dataclass(frozen=True)
class Prefill:
    """What a new order takes from the call: the reporter and the customer's addresses."""

    customer_id: int
    reporter: str
    addresses: tuple[str, ...]


def prefill(*, session: Session, customer_id: int) -> Prefill | None:
    c = session.get(Customer, customer_id)
    if c is None:
        return None
    addresses = tuple(a.strip() for a in (c.address, c.second_address) if a and a.strip())
    return Prefill(customer_id=customer_id, reporter=c.name, addresses=addresses)


# -- the list: filtered, paged, indexed -----------------------------------------------------


@dataclass(frozen=True)
class OrderQuery:
    """Filters of the order list; None means any. Dates are UTC bounds [created_from, to)."""

    state: str | None = "open"
    kind: str | None = None
    assignee_id: int | None = None
    work_center: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    urgent_only: bool = False


@dataclass(frozen=True)
class OrderRow:
    id: int
    kind: str
    status: str
    urgent: bool
    short_text: str
    customer: str
    assignee: str | None
    work_center: str | None
    due_at: datetime
    created_at: datetime
    clock_late: bool = False
    """A clock (on site, reply, follow-up) is running late (seat.order_clocks)."""

    def late(self, now: datetime) -> bool:
        return self.status != CLOSED and self.due_at < now


@dataclass(frozen=True)
class OrderPage:
    rows: tuple[OrderRow, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _conditions(q: OrderQuery) -> list:
    where = []
    if q.state == "open":
        where.append(WorkOrder.status == CREATED)
    elif q.state == "closed":
        where.append(WorkOrder.status == CLOSED)
    elif q.state == "in_process":
        where.append(WorkOrder.status.in_(IN_PROCESS))
    if q.kind:
        where.append(WorkOrder.kind == q.kind)
    if q.assignee_id is not None:
        where.append(WorkOrder.assignee_id == q.assignee_id)
    if q.work_center:
        where.append(WorkOrder.work_center == q.work_center)
    if q.created_from is not None:
        where.append(WorkOrder.created_at >= q.created_from)
    if q.created_to is not None:
        where.append(WorkOrder.created_at < q.created_to)
    if q.urgent_only:
        where.append(WorkOrder.urgent.is_(True))
    return where


def order_of(q: OrderQuery) -> str:
    """How a list is sorted, chosen so the filter's index already holds that order."""
    if q.state in ("open", "in_process"):
        return "due"  # the most pressing first
    if q.state == "closed":
        return "due_desc"
    return "newest"


_ORDERS = {
    "due": (WorkOrder.due_at.asc(), WorkOrder.id.asc()),
    "due_desc": (WorkOrder.due_at.desc(), WorkOrder.id.desc()),
    "newest": (WorkOrder.created_at.desc(), WorkOrder.id.desc()),
}
ORDER_LABELS = {"due": N_("soonest end first"), "due_desc": N_("latest end first"),
                "newest": N_("newest first")}


def list_statement(
    q: OrderQuery, *, page: int = 1, page_size: int = 50, now: datetime | None = None
) -> Select:
    """One page, only the columns the list shows, and (given `now`) whether a clock of the
    order runs late then.

    The page's ids are picked from work_order alone (an index holds the filter and the
    order, so deep pages stay cheap); only those rows are joined to customer and agent.
    """
    clock_late = (
        or_(*(order_clocks.late_sql(name, now) for name in order_clocks.CLOCKS))
        if now is not None else literal(False)
    )  # fmt: skip
    order = _ORDERS[order_of(q)]
    ids = (
        select(WorkOrder.id)
        .where(*_conditions(q))
        .order_by(*order)
        .limit(page_size)
        .offset((max(page, 1) - 1) * page_size)
    )
    return (
        select(
            WorkOrder.id,
            WorkOrder.kind,
            WorkOrder.status,
            WorkOrder.urgent,
            WorkOrder.short_text,
            Customer.name,
            Agent.display_name,
            WorkOrder.work_center,
            WorkOrder.due_at,
            WorkOrder.created_at,
            clock_late,
        )
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .outerjoin(Agent, Agent.id == WorkOrder.assignee_id)
        .where(WorkOrder.id.in_(ids.scalar_subquery()))
        .order_by(*order)
    )


def count_statement(q: OrderQuery) -> Select:
    return select(func.count()).select_from(WorkOrder).where(*_conditions(q))


def list_orders(
    *, session: Session, query: OrderQuery, page: int = 1, page_size: int = 50,
    now: datetime | None = None,
) -> OrderPage:
    """One page of the filtered list and the total, clamped to the last page; given `now`,
    each row says whether a clock of it runs late."""
    total = session.execute(count_statement(query)).scalar_one()
    last = max(1, -(-total // page_size))
    page = min(max(page, 1), last)
    rows = session.execute(
        list_statement(query, page=page, page_size=page_size, now=now)
    ).all()
    return OrderPage(
        tuple(OrderRow(*r[:-1], clock_late=bool(r[-1])) for r in rows), total, page, page_size
    )


def day_bounds(day: date, zone: ZoneInfo | str) -> tuple[datetime, datetime]:
    """The UTC instants where a local day starts and the next one starts."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return start.astimezone(UTC), end.astimezone(UTC)
