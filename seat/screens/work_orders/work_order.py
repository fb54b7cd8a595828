"""Work orders on screen: the full order form used from a call, and the order's detail.

The detail screen shows every field, the material lines and the history, and offers one
key per status change the order's flow allows now (the footer shows only those), plus
reassign, urgent, and the quote steps of a paid service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from rich.cells import cell_len
from rich.console import Group
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text
from textual import on, work
from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Label, Select, Static, TextArea

from seat import order_clocks, roles, workorders
from seat.calls import CallState
from seat.customers import ValidationError
from seat.i18n import N_, _, format_datetime, format_duration, ngettext, pgettext
from seat.roles import PermissionDenied
from seat.screens.background import DeskWorker
from seat.screens.form import FormScreen
from seat.screens.reveal import RevealScreen, in_call_with
from seat.screens.role_keys import RoleKeys
from seat.services import Desk, StorageError
from seat.workorders import Z1, Z2

T = TypeVar("T")

# -- the full order form ------------------------------------------------------------------------


def read_form_data(
    desk: Desk, customer_id: int | None
) -> tuple[list[tuple[int, str]], workorders.Prefill | None]:
    """In a worker: who an order can go to, and what the form starts with for the customer."""
    agents = desk.assignable()
    if customer_id is None:
        return agents, None
    return agents, desk.work_order_prefill(customer_id)


class WorkOrderForm(FormScreen):
    """Open a work order from a call: customer, reporter and address come from the call."""

    TITLE_TEXT = N_("Open a work order")
    DEFAULT_CSS = """
    WorkOrderForm VerticalScroll { max-height: 19; }
    WorkOrderForm .row { height: auto; }
    WorkOrderForm .col { width: 1fr; height: auto; padding-right: 1; }
    WorkOrderForm TextArea { height: 3; }
    WorkOrderForm .col .field-error { width: 100%; }
    WorkOrderForm SelectCurrent #label { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(
        self,
        state: CallState,
        agents: list[tuple[int, str]],
        prefill: workorders.Prefill | None = None,
    ) -> None:
        """`agents` and `prefill` come from `read_form_data`, read in a worker."""
        super().__init__()
        self.state = state
        self.agents = agents
        self.prefill = prefill

    def compose(self) -> ComposeResult:
        desk = self.services
        self.policy = desk.work_order_policy()
        yield from super().compose()

    def on_mount(self) -> None:
        self._show_for_kind()

    def _col(self, label: str, name: str, widget: Any, classes: str = "col") -> ComposeResult:
        with Vertical(classes=classes, id=f"col-{name}"):
            yield from self.field(label, name, widget)

    def fields(self) -> ComposeResult:
        # The first five keep the tab order of the old short form: kind, short description,
        # assignee, urgency, expected end.
        kinds = [(_("service request (Z1)"), Z1), (_("delivery exception (Z2)"), Z2)]
        pre = self.prefill
        with Horizontal(classes="row"):
            yield from self._col(_("Kind *"), "kind", Select(kinds, value=Z1, allow_blank=False))
            yield from self._col(
                _("Short description *"), "short_text",
                Input(max_length=200, placeholder=_("what is wrong, in a line")),
            )
        with Horizontal(classes="row"):
            yield from self._col(
                _("Assignee *"), "assignee",
                Select([(name, str(i)) for i, name in self.agents], prompt=_("choose")),
            )
            yield from self._col(
                _("Urgency"), "urgent", Checkbox(_("Urgent: dispatch at once")), classes="col"
            )
        with Horizontal(classes="row"):
            yield from self._col(
                _("Expected end *"), "due_at", Input(placeholder="+1d · 15:00 · 2026-11-24 18:00")
            )
            yield from self._col(
                _("Requested start"), "requested_start", Input(placeholder="2026-11-24 09:00")
            )
        with Horizontal(classes="row"):
            yield from self._col(
                _("Service type *"), "service_type",
                Select(
                    [(_(label), key) for key, label in workorders.SERVICE_TYPE_LABELS.items()],
                    value="repair", allow_blank=False,
                ),
            )
            yield from self._col(
                _("Work center"), "work_center",
                Select([(c, c) for c in self.policy.work_centers], prompt=_("none")),
            )
        with Horizontal(classes="row", id="quote-row"):
            yield from self._col(_("Quote amount"), "quote_amount", Input(placeholder="380.00"))
            yield from self._col(
                _("Head office"), "quote_needs_hq", Checkbox(_("Priced by head office"))
            )
        with Horizontal(classes="row"):
            yield from self._col(
                _("Reporter *"), "reporter", Input(pre.reporter if pre else "", max_length=200)
            )
            yield from self._col(
                _("Sales order no. (Z2 *)"), "sales_order_no",
                Input(max_length=40, placeholder="SO-2026-000123"),
            )
        addresses = pre.addresses if pre else ()
        with Horizontal(classes="row"):
            yield from self._col(
                _("Service address on file"), "address_pick",
                Select(
                    [(a, str(i)) for i, a in enumerate(addresses)],
                    value="0" if addresses else Select.NULL,
                    prompt=_("none on file"),
                ),
            )
            yield from self._col(
                _("or another address"), "service_address",
                Input(max_length=500, placeholder=_("typed here wins")),
            )
        with Horizontal(classes="row"):
            yield from self._col(_("Product type"), "product_type", Input(max_length=80))
            yield from self._col(_("Colour"), "product_colour", Input(max_length=40))
            yield from self._col(
                _("Reason code"), "reason_code",
                Select(
                    [(f"{k} {v}", k) for k, v in self.policy.reason_codes.items()],
                    prompt=_("none"),
                ),
            )
        yield from self.field(
            _("Materials: one a line, 'door seal × 2 pc'"), "lines", TextArea()
        )
        yield from self.field(_("Long text: what is broken, what was done, dates"), "long_text",
                              TextArea())

    def show_errors(self, errors: dict[str, str]) -> None:
        """Messages in form order, so the cursor lands on the first field with a problem."""
        order = [w.id.removeprefix("f-") for w in self.query(".-field") if w.id]
        rank = {name: i for i, name in enumerate(order)}
        super().show_errors(dict(sorted(errors.items(), key=lambda kv: rank.get(kv[0], -1))))

    @on(Select.Changed, "#f-kind, #f-service_type")
    def _kind_changed(self) -> None:
        self._show_for_kind()

    def _show_for_kind(self) -> None:
        kind = self.value("kind")
        self.query_one("#col-service_type").display = kind == Z1
        paid = kind == Z1 and self.value("service_type") == "paid"
        self.query_one("#quote-row").display = paid

    def submit(self) -> int:
        return self.services.create_work_order(self.state, self.draft())

    def draft(self) -> workorders.WorkOrderDraft:
        """The order as filled in; what cannot be read (a date) is a problem of its field."""
        desk = self.services
        problems: dict[str, str] = {}
        assignee = self.value("assignee")
        kind = self.value("kind")
        paid = kind == Z1 and self.value("service_type") == "paid"
        pick = self.value("address_pick")
        addresses = self.prefill.addresses if self.prefill else ()
        typed = self.value("service_address").strip()
        address = typed or (addresses[int(pick)] if pick else "")
        start = self.value("requested_start")
        return workorders.WorkOrderDraft(
            kind=kind,
            short_text=self.value("short_text"),
            assignee_id=int(assignee) if assignee else None,
            urgent=self.flag("urgent"),
            due_at=_read(problems, "due_at", desk.parse_when, self.value("due_at")),
            long_text=self.value("long_text"),
            reporter=self.value("reporter"),
            service_address=address,
            service_type=self.value("service_type") if kind == Z1 else None,
            sales_order_no=self.value("sales_order_no"),
            requested_start=(
                _read(problems, "requested_start", desk.parse_when, start)
                if start.strip() else None
            ),
            work_center=self.value("work_center"),
            product_type=self.value("product_type"),
            product_colour=self.value("product_colour"),
            reason_code=self.value("reason_code"),
            lines=tuple(
                _read(problems, "lines", workorders.parse_lines, self.value("lines")) or ()
            ),
            quote_amount=_read(
                problems, "quote_amount", workorders.parse_amount,
                self.value("quote_amount") if paid else "",
            ),
            quote_needs_hq=paid and self.flag("quote_needs_hq"),
            problems=problems,
        )  # fmt: skip


def _read(problems: dict[str, str], name: str, parse: Callable[[str], T], text: str) -> T | None:
    """`parse(text)`, or None with the reason kept under the field's name."""
    try:
        return parse(text)
    except ValueError as exc:
        problems[name] = str(exc)
        return None


# -- small forms the detail screen opens --------------------------------------------------------


Change = Callable[[Desk, FormScreen], int]
"""`change(desk, form)`: one change to an order through the desk, from the form's values;
the order's id."""


class _ChangeForm(FormScreen):
    """A change to one order: `change(desk, form)` makes it in one transaction."""

    def __init__(self, title: str, change: Change) -> None:
        super().__init__()
        self.TITLE_TEXT = title
        self.change = change

    def submit(self) -> int:
        try:
            return self.change(self.services, self)
        except PermissionDenied as exc:
            raise ValidationError({"_": str(exc)}) from None
        except LookupError as exc:
            raise ValidationError({"_": str(exc)}) from None


class StepForm(_ChangeForm):
    def __init__(self, title: str, change: Change, *, acceptance: bool) -> None:
        super().__init__(title, change)
        self.acceptance = acceptance

    def fields(self) -> ComposeResult:
        if self.acceptance:
            yield from self.field(
                _("What the customer accepted *"), "acceptance",
                Input(placeholder=_("e.g. repaired, tested with the customer, signed")),
            )
        yield from self.field(_("Comment"), "comment", Input(placeholder=_("optional")))


class SurveyForm(_ChangeForm):
    """The survey (KCJS): whether head office must be involved decides the order's path."""

    def __init__(self, title: str, change: Change, *, hq: bool) -> None:
        super().__init__(title, change)
        self.hq = hq

    def fields(self) -> ComposeResult:
        yield from self.field(_("Comment"), "comment", Input(placeholder=_("optional")))
        yield from self.field(
            _("Head office"), "hq",
            Checkbox(_("Head office must be involved (HQ quote or HQ support)"), self.hq),
        )


class FollowUpForm(_ChangeForm):
    """A follow-up of an unfinished order: why it is not finished yet."""

    def fields(self) -> ComposeResult:
        yield from self.field(
            _("Why it is not finished *"), "reason",
            Input(max_length=2000, placeholder=_("e.g. waiting for the spare part")),
        )


class ReassignForm(_ChangeForm):
    def __init__(self, title: str, change: Change, agents: list[tuple[int, str]]) -> None:
        super().__init__(title, change)
        self.agents = agents

    def fields(self) -> ComposeResult:
        yield from self.field(
            _("New assignee *"), "assignee",
            Select([(n, str(i)) for i, n in self.agents], prompt=_("choose")),
        )
        yield from self.field(_("Why"), "comment", Input(placeholder=_("optional")))


class QuoteForm(_ChangeForm):
    def __init__(self, title: str, change: Change, amount: float | None,
                 needs_hq: bool) -> None:
        super().__init__(title, change)
        self.amount = amount
        self.needs_hq = needs_hq

    def fields(self) -> ComposeResult:
        shown = f"{self.amount:.2f}" if self.amount is not None else ""
        yield from self.field(_("Amount *"), "amount", Input(shown, placeholder="380.00"))
        yield from self.field(
            _("Head office"), "needs_hq", Checkbox(_("Priced by head office"), self.needs_hq)
        )
        yield from self.field(_("Comment"), "comment", Input(placeholder=_("optional")))


# -- the detail screen ------------------------------------------------------------------------


STEP_KEYS: dict[str, tuple[str, str]] = {
    # action: (key, footer label)
    "survey": ("v", N_("Surveyed")),
    "approve": ("a", N_("Approve")),
    "reject": ("n", N_("Not approve")),
    "reply": ("r", N_("Replied")),
    "service": ("e", N_("Service done")),
    "complete": ("c", N_("Completed")),
    "reply_sales": ("s", N_("Sales replied")),
    "deliver": ("d", N_("Delivered")),
    "return": ("t", N_("Returned")),
    "close": ("x", N_("Close")),
}
STEP_TIPS: dict[str, str] = {
    "survey": N_("Status: surveyed"),
    "approve": N_("Status: approve"),
    "reject": N_("Status: not approve"),
    "reply": N_("Status: replied"),
    "service": N_("Status: service done"),
    "complete": N_("Status: completed"),
    "reply_sales": N_("Status: sales replied"),
    "deliver": N_("Status: delivered"),
    "return": N_("Status: returned"),
    "close": N_("Status: close"),
}


EVENT_WORDS = {
    "create": N_("created"),
    "reassign": N_("reassigned"),
    "urgent": N_("marked urgent"),
    "not_urgent": N_("no longer urgent"),
    "quote": N_("quote saved"),
    "quote_approve": N_("quote approved"),
    "quote_confirm": N_("quote confirmed by the customer"),
    "follow_up": N_("followed up"),
}


def _when(desk: Any, at: datetime | None, style: str = "medium") -> str:
    return format_datetime(desk.local(at), style) if at else "-"


def render_fields(desk: Any, view: workorders.OrderView, *, address_shown: bool = True) -> Group:
    """The order's fields: short ones two a line, long ones on their own line.

    Outside the customer's own call (`address_shown` False) the service address is masked.
    """
    now = desk.now()
    d = view.order
    late = d.status != workorders.CLOSED and d.due_at < now
    reasons = desk.work_order_policy().reason_codes
    code = d.reason_code
    product = " ".join(p for p in (d.product_type, d.product_colour) if p) or "-"
    stype = workorders.service_type_label(d.service_type) if d.service_type else "-"
    due = Text(_when(desk, d.due_at))
    if late:
        due.append(" ⚠ " + _("late"), style="bold red")
    pairs: list[tuple[str, str | Text]] = [
        (_("Customer"), f"{view.customer} #{d.customer_id}"),
        (_("Reporter"), d.reporter or "-"),
        (_("Assignee"), view.assignee or _("unassigned")),
        (_("Work center"), d.work_center or "-"),
        (_("Start"), _when(desk, d.requested_start)),
        (_("Expected end"), due),
        (_("Service"), stype),
        (_("Sales order"), d.sales_order_no or "-"),
        (_("Product"), product),
        (
            pgettext("work order", "Reason"),
            f"{code} {_(reasons.get(code, ''))}".strip() if code else "-",
        ),
    ]
    grid = RichTable.grid(padding=(0, 1), expand=True)
    for ratio in (None, 1, None, 1):
        label = ratio is None
        grid.add_column(style="dim" if label else "", justify="right" if label else "left",
                        ratio=ratio, min_width=12 if label else None, no_wrap=True,
                        overflow="ellipsis")
    for i in range(0, len(pairs), 2):
        (a, av), (b, bv) = pairs[i], pairs[i + 1]
        grid.add_row(a, av, b, bv)
    address = d.service_address
    if not address_shown:
        from seat.privacy import mask_address

        address = mask_address(address)
    full: list[tuple[str, str]] = [(_("Address"), address or "-")]
    created = _("{when} by {who}").format(
        when=_when(desk, d.created_at), who=view.created_by or "-"
    )
    if d.call_id:
        created += " " + _("on call #{id}").format(id=d.call_id)
    full.append((_("Created"), created))
    if d.quote_amount is not None:
        quote = f"{d.quote_amount:.2f}"
        if d.quote_needs_hq:
            quote += " · " + (
                _("HQ approved by {who} {when}").format(
                    who=view.quote_approved_by, when=_when(desk, d.quote_approved_at)
                )
                if d.quote_approved_at
                else _("head office: supervisor approval pending")
            )
        quote += " · " + (
            _("customer confirmed {when}").format(when=_when(desk, d.quote_confirmed_at))
            if d.quote_confirmed_at
            else _("customer has not confirmed")
        )
        full.append((_("Quote"), quote))
    elif d.service_type == "paid":
        full.append((_("Quote"), _("none yet (o)")))
    if d.accepted_at:
        full.append(
            (_("Accepted"), f"{_when(desk, d.accepted_at)}: {d.customer_acceptance}")
        )
    if d.kind == Z1 and d.status != workorders.CREATED:
        full.append((
            _("Path"),
            _("head office: supervisor approval, department reply")
            if workorders.on_hq_path(d) else _("local job: no supervisor approval"),
        ))  # fmt: skip
    if d.closed_at:
        full.append((_("Closed"), _when(desk, d.closed_at)))
    t = Text()
    for i, (label, value) in enumerate(full):
        if i:
            t.append("\n")
        t.append(" " * max(0, 12 - cell_len(label)) + label + " ", style="dim")
        t.append(value)
    return Group(grid, t)


def render_events(desk: Any, events: Sequence[workorders.EventLine]) -> Text:
    t = Text()
    for i, e in enumerate(events):
        if i:
            t.append("\n")
        t.append(f"{_when(desk, e.at, 'short')} ", style="dim")
        t.append(f"{e.agent}:", style="bold")
        if e.from_status != e.to_status:
            src = workorders.status_label(e.from_status) if e.from_status else ""
            dst = workorders.status_label(e.to_status)
            t.append(f" {src} → {dst}" if src else f" {dst}")
        else:
            t.append(f" {_(EVENT_WORDS.get(e.action, e.action.replace('_', ' ')))}")
        if e.comment:
            t.append(f" · {e.comment}", style="italic")
    return t or Text(_("no history"), style="dim")


CLOCK_STYLES = {"ok": "green", "amber": "yellow", "red": "bold red"}


def _pad(text: str, cells: int) -> str:
    """`text` padded to `cells` terminal cells (a CJK character takes two)."""
    return text + " " * max(0, cells - cell_len(text))


def render_clocks(desk: Any, view: workorders.OrderView) -> Text:
    """One line a clock: what it promises, its deadline and where it stands now."""
    now = desk.now()
    d = view.order
    t = Text()
    for i, c in enumerate(view.clocks):
        if i:
            t.append("\n")
        t.append(_pad(c.label, 10) + " ", style="bold")
        if c.name == order_clocks.ON_SITE:
            zone = view.zone.label if view.zone else (d.service_zone or "-")
            t.append(_("zone: {zone}").format(zone=zone), style="dim")
        elif c.name == order_clocks.FOLLOW_UP:
            t.append(_("weekly, done {n} of at least {least}").format(
                n=d.follow_ups, least=desk.work_order_policy().clocks.follow_up_min,
            ), style="dim")  # fmt: skip
        else:
            t.append(_("within {span} after the job").format(
                span=format_duration(c.due_at - c.started_at)
            ), style="dim")  # fmt: skip
        t.append(" · " + _("due {when}").format(when=_when(desk, c.due_at, "short")))
        t.append(" · ")
        t.append(c.phrase(now), style=CLOCK_STYLES[c.state(now)])
    if d.follow_up_due_at is None and d.follow_ups:  # the job is done: the count stays
        if view.clocks:
            t.append("\n")
        t.append(_pad(order_clocks.clock_label(order_clocks.FOLLOW_UP), 10) + " ", style="bold")
        t.append(ngettext("followed up {n} time", "followed up {n} times", d.follow_ups)
                 .format(n=d.follow_ups), style="dim")  # fmt: skip
    return t


class WorkOrderScreen(DeskWorker, RoleKeys, Screen[None]):
    """One work order: every field, lines, history; keys for what can happen next."""

    BINDINGS = [
        *(
            Binding(key, f"step('{action}')", label,
                    tooltip=STEP_TIPS[action], id=f"wo.{action}")
            for action, (key, label) in STEP_KEYS.items()
        ),
        Binding("g", "reassign", N_("Reassign"), tooltip=N_("Give the order to someone else"),
                id="wo.reassign"),
        Binding("u", "urgent", N_("Urgent"), tooltip=N_("Mark or unmark urgent"), id="wo.urgent"),
        Binding("f", "follow_up", N_("Follow up"),
                tooltip=N_("Record a follow-up: why the order is not finished yet"),
                id="wo.follow_up"),
        Binding("o", "quote", N_("Quote"),
                tooltip=N_("Enter the paid service's quote"), id="wo.quote"),
        Binding("h", "approve_quote", N_("HQ approve"),
                tooltip=N_("Supervisor: approve the head-office quote"), id="wo.quote_approve"),
        Binding("k", "confirm_quote", N_("Quote OK"),
                tooltip=N_("The customer confirmed the quote"), id="wo.quote_confirm"),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to where you were"), id="wo.back"),
        Binding("ctrl+r", "reveal", N_("Reveal"), id="wo.reveal",
                tooltip=N_("Show the masked service address (asks for a reason, logged)")),
    ]

    DEFAULT_CSS = """
    WorkOrderScreen #wo-head { background: $boost; padding: 0 1; height: auto; }
    WorkOrderScreen #wo-body { height: 1fr; padding: 0 1; }
    WorkOrderScreen .section { text-style: bold; color: $accent; margin-top: 1; }
    WorkOrderScreen #wo-next { color: $warning; height: auto; }
    """

    data: reactive[workorders.OrderView | None] = reactive(
        None, init=False, always_update=True
    )
    """The order as last read from the database (None until read, or if it is gone)."""

    @dataclass
    class Loaded(Message):
        data: workorders.OrderView | None

    def __init__(self, work_order_id: int) -> None:
        super().__init__()
        self.work_order_id = work_order_id

    def compose(self) -> ComposeResult:
        yield Static(
            _("Work order #{id}: loading…").format(id=self.work_order_id), id="wo-head"
        )
        with VerticalScroll(id="wo-body"):
            yield Static("", id="wo-next")
            yield Label(_("Clocks"), classes="section", id="wo-clocks-title")
            yield Static("", id="wo-clocks")
            yield Static("", id="wo-fields")
            yield Label(_("Materials"), classes="section")
            yield Static("", id="wo-lines")
            yield Label(_("Long text"), classes="section")
            yield Static("", id="wo-long")
            yield Label(_("History"), classes="section")
            yield Static("", id="wo-events")
        yield Footer(compact=True)  # up to seven keys at 80 columns

    def on_mount(self) -> None:
        self.query_one("#wo-body").focus()  # ↑↓ pgup pgdn scroll to the history
        self.load()
        self.set_interval(self.desk.settings.refresh_seconds, self.load)

    @property
    def desk(self) -> Any:
        return self.services

    @property
    def agent(self) -> Any:
        return self.seat_agent

    @work(thread=True, exclusive=True, group="work-order")
    def load(self) -> None:
        try:
            data = self.desk.work_order(self.work_order_id)
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.post_message(self.Loaded(data))

    def on_work_order_screen_loaded(self, event: Loaded) -> None:
        event.stop()
        old, new = self.data, event.data
        if old is not None and new is not None and old.order.version == new.order.version:
            self._show_clocks(new)  # time moves them on; the rest stays quiet
            return  # nothing changed: keep the scroll position and the repaint quiet
        self.data = new

    def watch_data(self, data: workorders.OrderView | None) -> None:
        head = self.query_one("#wo-head", Static)
        if not data:
            head.update(_("Work order #{id} no longer exists.").format(id=self.work_order_id))
            self.refresh_bindings()
            return
        desk = self.desk
        wo = data.order
        t = Text()
        if wo.urgent:
            t.append("‼ " + _("URGENT") + " ", style="bold red")
        t.append(f"#{wo.id} {wo.short_text}", style="bold")
        t.append("\n")
        t.append(workorders.kind_label(wo.kind))
        t.append(" · ")
        t.append(workorders.status_label(wo.status), style="bold")
        head.update(t)
        self.query_one("#wo-fields", Static).update(
            render_fields(desk, data, address_shown=self._address_shown(data))
        )
        lines = data.lines
        self.query_one("#wo-lines", Static).update(
            Text("\n".join(workorders.format_line(*ln) for ln in lines))
            if lines else Text(_("none"), style="dim")
        )
        self.query_one("#wo-long", Static).update(
            Text(wo.long_text) if wo.long_text else Text("-", style="dim")
        )
        self.query_one("#wo-events", Static).update(render_events(desk, data.events))
        self._show_clocks(data)
        hint = self._next_hint(data)
        self.query_one("#wo-next", Static).update(hint)
        self.query_one("#wo-next", Static).display = bool(hint)
        self.refresh_bindings()

    def _show_clocks(self, view: workorders.OrderView) -> None:
        clocks = render_clocks(self.desk, view)
        self.query_one("#wo-clocks", Static).update(clocks)
        self.query_one("#wo-clocks", Static).display = bool(clocks)
        self.query_one("#wo-clocks-title").display = bool(clocks)

    def _next_hint(self, view: workorders.OrderView) -> str:
        wo = view.order
        steps = workorders.steps_for(wo)
        if not steps:
            return ""
        waits = [s for s in steps if s.supervisor and not self._is_supervisor()]
        hints = []
        if waits:
            hints.append(_("Waiting for a supervisor to approve or not."))
        blocked = {workorders.quote_blocks(wo, s) for s in steps} - {None}
        hints += sorted(_(b) for b in blocked if b)
        return escape(" ".join(hints))

    ROLE_ACTIONS = {
        "reassign": roles.REASSIGN_ORDER, "approve_quote": roles.APPROVE_QUOTE,
        "step": roles.WORK_CASES, "urgent": roles.WORK_CASES, "quote": roles.WORK_CASES,
        "confirm_quote": roles.WORK_CASES, "reveal": roles.REVEAL_PERSONAL,
    }  # fmt: skip

    def _is_supervisor(self) -> bool:
        return roles.may(self.agent, roles.DECIDE_ORDER)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only what the order's flow and the agent's role allow now is offered."""
        if "(" in action:  # the command palette asks with the binding's whole action text
            __, action, parameters = parse_action(action)
        view = self.data
        if action == "back":
            return True
        if not self.role_allows(action):
            return False
        if view is None:
            return False
        d = view.order
        if action == "reveal":
            return bool(d.service_address) and not self._address_shown(view)
        open_ = d.status != workorders.CLOSED
        if action == "step":
            step = workorders.step_for(d, str(parameters[0]))
            if step is None or (step.supervisor and not self._is_supervisor()):
                return False
            return not workorders.quote_blocks(d, step)  # the hint line says why
        if action in ("reassign", "urgent"):
            return open_
        if action == "follow_up":
            return workorders.may_follow_up(d)
        paid = d.kind == Z1 and d.service_type == "paid"
        if action == "quote":
            return paid and d.status in workorders.QUOTE_STATUSES
        if action == "approve_quote":
            return (paid and d.quote_needs_hq and d.quote_amount is not None
                    and d.quote_approved_at is None)
        if action == "confirm_quote":
            return (paid and d.quote_amount is not None and d.quote_confirmed_at is None
                    and (not d.quote_needs_hq or d.quote_approved_at is not None))
        return True

    # -- actions ----------------------------------------------------------------------------

    def _after(self, what: str) -> Callable[[int | None], None]:
        def done(result: int | None) -> None:
            if result is None:
                self.load()  # a refused change may mean the order moved: show it as it is
                return
            self.notify(
                _("Work order #{id}: {what}.").format(id=self.work_order_id, what=_(what))
            )
            self.load()

        return done

    def _common(self) -> dict[str, Any]:
        return {
            "work_order_id": self.work_order_id,
            "agent_id": self.agent.id,
            "expected_version": self.data.order.version if self.data else None,
        }

    def action_step(self, action: str) -> None:
        if self.data is None:
            return
        d = self.data.order
        step = workorders.step_for(d, action)
        if step is None:
            return
        if action == "survey":
            self._survey(d)
            return
        needs = (
            step.needs_acceptance or step.to_status == workorders.CLOSED
        ) and d.accepted_at is None

        def change(desk: Desk, form: FormScreen) -> int:
            return desk.move_work_order(
                **self._common(), action=action,
                comment=form.value("comment"),
                acceptance=form.value("acceptance") if needs else "",
            )

        title = f"{_(step.label)}: #{self.work_order_id} {d.short_text}"[:70]
        label = workorders.STATUS_LABELS[step.to_status]  # N_-marked: _after translates it
        self.app.push_screen(StepForm(title, change, acceptance=needs), self._after(label))

    def _survey(self, d: Any) -> None:
        def change(desk: Desk, form: FormScreen) -> int:
            return desk.survey_work_order(
                **self._common(), hq=form.flag("hq"), comment=form.value("comment")
            )

        title = f"{_('Survey done')}: #{self.work_order_id} {d.short_text}"[:70]
        self.app.push_screen(SurveyForm(title, change, hq=bool(d.quote_needs_hq)),
                             self._after(workorders.STATUS_LABELS["survey_done"]))

    def action_follow_up(self) -> None:
        def change(desk: Desk, form: FormScreen) -> int:
            return desk.follow_up_work_order(**self._common(), reason=form.value("reason"))

        self.app.push_screen(
            FollowUpForm(_("Follow up #{id}").format(id=self.work_order_id), change),
            self._after(N_("followed up")),
        )

    def action_reassign(self) -> None:
        self.in_worker(lambda desk: desk.assignable(), self._reassign_to,
                       group="act", move=True)  # fmt: skip

    def _reassign_to(self, assignable: list[tuple[int, str]]) -> None:
        now_with = self.data.assignee if self.data else None
        agents = [(i, n) for i, n in assignable if n != now_with]

        def change(desk: Desk, form: FormScreen) -> int:
            chosen = form.value("assignee")
            if not chosen:
                raise ValidationError({"assignee": _("Choose who takes the order.")})
            return desk.reassign_work_order(
                **self._common(), assignee_id=int(chosen), comment=form.value("comment"),
            )

        self.app.push_screen(
            ReassignForm(_("Reassign #{id}").format(id=self.work_order_id), change, agents),
            self._after(N_("reassigned")),
        )

    def action_urgent(self) -> None:
        flag = not (self.data and self.data.order.urgent)
        common = self._common()  # the version shown now: a change meanwhile is refused
        done = self._after(N_("marked urgent") if flag else N_("no longer urgent"))

        def refused(exc: Exception) -> None:
            self.notify(_message(exc), severity="warning")
            self.load()

        self.in_worker(
            lambda desk: desk.set_urgent(**common, urgent=flag),
            lambda __: done(self.work_order_id),
            group="act", move=True, failed=refused, refusals=(ValidationError, StorageError),
        )  # fmt: skip
        self.notify(_("saving…"), timeout=2)

    def action_quote(self) -> None:
        d = self.data.order if self.data else None

        def change(desk: Desk, form: FormScreen) -> int:
            try:
                amount = workorders.parse_amount(form.value("amount"))
            except ValueError as exc:
                raise ValidationError({"amount": str(exc)}) from None
            return desk.set_quote(
                **self._common(), amount=amount,
                needs_hq=form.flag("needs_hq"), comment=form.value("comment"),
            )

        self.app.push_screen(
            QuoteForm(_("Quote for #{id}").format(id=self.work_order_id), change,
                      d.quote_amount if d else None, bool(d and d.quote_needs_hq)),
            self._after(N_("quote saved")),
        )

    def _quote_step(self, step: Callable[..., int], title: str, done: str) -> None:
        """`step`: the desk's quote step (Desk.approve_quote or Desk.confirm_quote)."""

        def change(desk: Desk, form: FormScreen) -> int:
            return step(desk, **self._common(), comment=form.value("comment"))

        self.app.push_screen(StepForm(title, change, acceptance=False), self._after(done))

    def action_approve_quote(self) -> None:
        self._quote_step(Desk.approve_quote,
                         _("Approve the HQ quote of #{id}").format(id=self.work_order_id),
                         N_("quote approved"))

    def action_confirm_quote(self) -> None:
        self._quote_step(Desk.confirm_quote,
                         _("Customer confirmed the quote of #{id}").format(id=self.work_order_id),
                         N_("quote confirmed by the customer"))

    _address_revealed: bool = False  # with a reason, on this screen only

    def _address_shown(self, view: workorders.OrderView) -> bool:

        return self._address_revealed or in_call_with(self.app, view.order.customer_id)

    def action_reveal(self) -> None:

        if not self.data:
            return

        def done(log_id: int | None) -> None:
            if log_id is not None:
                self._address_revealed = True
                self.data = self.data  # repaint unmasked

        self.app.push_screen(RevealScreen(self.data.order.customer_id, ("address",)), done)

    def action_back(self) -> None:
        self.dismiss(None)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.errors.values())
    return str(exc)
