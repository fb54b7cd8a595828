"""One complaint on one page: its clocks, its facts, the call, linked work, every event.

A key per move; the footer shows the moves the complaint's step allows. Each opens a small
form (seat.screens.complaint_forms); supervisor moves are refused for agents with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from seat import complaints, sla
from seat.complaints import CaseView
from seat.desk import StorageError
from seat.roles import PermissionDenied, require_supervisor
from seat.screens.complaint_forms import FORMS

ACTION_LABELS = {
    "intake": "registered",
    "accept": "judged valid",
    "invalid": "judged invalid",
    "investigate": "cause recorded",
    "propose": "solution proposed",
    "approve": "solution approved",
    "send_back": "sent back",
    "implement": "customer accepts",
    "refuse": "customer refused",
    "close": "closed",
    "escalate": "escalated",
    "pause": "waiting on the customer",
    "resume": "resumed",
}
CLOCK_LOOK = {"ok": ("◷", "green"), "amber": ("◔", "bold dark_orange"), "red": ("⚠", "bold red")}


def budget_text(span: timedelta) -> str:
    """48h, 7d, 1.5h: a budget as the policy states it."""
    hours = span.total_seconds() / 3600
    if hours >= 72 and hours % 24 == 0:
        return f"{int(hours // 24)}d"
    return f"{hours:g}h"


def clock_line(clock: sla.ClockState, local_deadline: datetime) -> Text:
    """One clock: time left (or how late), the deadline; or how it ended."""
    office = " (office hours)" if clock.business_hours else ""
    name = f"{clock.label:<12}"
    if not clock.running:
        used, budget = sla.format_span(clock.used), budget_text(clock.budget)
        if clock.breached:
            return Text.assemble(("✗ ", "red"), name, (f"late: {used} of {budget}{office}", "red"))
        return Text.assemble(("✓ ", "green"), name, (f"met: {used} of {budget}{office}", "dim"))
    span = sla.format_span(clock.left)
    due = f"{local_deadline:%a %m-%d %H:%M}"
    if clock.paused:
        return Text.assemble(
            ("⏸ ", "bold cyan"), name,
            (f"paused, waiting on the customer · {span} left{office}", "cyan"),
        )  # fmt: skip
    symbol, style = CLOCK_LOOK[clock.state]
    what = f"late {span} · was due {due}" if clock.breached else f"{span} left · due {due}"
    return Text.assemble((f"{symbol} ", style), name, (what, style), (office, "dim"))


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", width=13, no_wrap=True)
    grid.add_column(ratio=1)
    return grid


def details(view: CaseView, local: Callable[[datetime], datetime],
            policy: sla.Policy) -> RenderableType:  # fmt: skip
    """The case's facts, the call it came from, its work orders and callbacks, its history."""
    c = view.complaint
    facts = _grid()
    who = f"owner {view.owner}"
    if view.escalated_to:
        who += f" · escalated to {view.escalated_to}"
    facts.add_row("Registered", f"{local(c.created_at):%Y-%m-%d %H:%M} · {c.channel} · {who}")
    facts.add_row("What happened", c.what_happened)
    facts.add_row("Wants", c.customer_wants)
    if view.call:
        k = view.call
        facts.add_row(
            f"Call #{k.id}",
            f"{local(k.started_at):%m-%d %H:%M} {k.agent} · {k.need_category or '-'} → "
            f"{(k.outcome or '-').replace('_', ' ')}",
        )
    if c.department or c.category:
        cat = policy.category_label(c.category) if c.category else "not classified yet"
        facts.add_row("Department", f"{c.department or '-'} · {cat}")
    if c.invalid_reason:
        facts.add_row("Invalid", c.invalid_reason)
    if c.reply_text:
        facts.add_row("Told customer", c.reply_text)
    if c.cause or c.responsible_person:
        facts.add_row(
            "Cause", f"{policy.cause_label(c.cause)} · responsible {c.responsible_person or '-'}"
        )
    options = complaints.options_of(c.solution_options)
    if options:
        facts.add_row("Options", "\n".join(f"{i}) {o}" for i, o in enumerate(options, 1)))
    if view.needs_revision and c.status == "proposed":
        facts.add_row("", Text("sent back or refused: revise the proposal (p)", "bold red"))
    if c.chosen_solution:
        facts.add_row("Approved", c.chosen_solution)
    if c.customer_accepted is not None:
        facts.add_row("Customer", "accepts" if c.customer_accepted else "refused")
    if c.root_cause:
        facts.add_row("Root cause", c.root_cause)
    if c.summary:
        facts.add_row("Summary", c.summary)
    if c.waiting_since:
        facts.add_row("Waiting", f"on the customer since {local(c.waiting_since):%m-%d %H:%M}")

    linked = _grid()
    for w in view.work_orders:
        mark = "‼ " if w.urgent else ""
        linked.add_row(
            f"Order #{w.id}",
            f"{mark}{w.short_text} · {w.status} · due {local(w.due_at):%m-%d %H:%M}",
        )
    for cb in view.callbacks:
        when = (
            f"done {local(cb.done_at):%m-%d %H:%M}"
            if cb.done_at
            else f"due {local(cb.due_at):%m-%d %H:%M}"
        )
        linked.add_row(
            f"Callback #{cb.id}", f"{cb.kind.replace('_', ' ')} · {cb.status} · {when} · {cb.owner}"
        )
    if not view.work_orders and not view.callbacks:
        linked.add_row("Linked", Text("no work orders or callbacks yet", "dim"))

    history = Table.grid(padding=(0, 1))
    history.add_column(style="dim", width=11, no_wrap=True)
    history.add_column(width=10, no_wrap=True, overflow="ellipsis")
    history.add_column(ratio=1)
    for e in view.events:
        move = Text()
        move.append(ACTION_LABELS.get(e.action, e.action), style="bold")
        if e.from_status and e.from_status != e.to_status:
            move.append(f"  {e.from_status} → {e.to_status}", style="dim")
        if e.comment:
            move.append(f"\n{e.comment}")
        history.add_row(f"{local(e.at):%m-%d %H:%M}", e.agent, move)
    return Group(
        facts,
        Text(""),
        Text("Linked work", style="bold underline"),
        linked,
        Text(""),
        Text(f"History · {len(view.events)} event{'s' * (len(view.events) != 1)}",
             style="bold underline"),
        history,
    )


class ComplaintScreen(Screen[None]):
    """The case page of one complaint."""

    BINDINGS = [
        Binding("v", "accept", "Valid", tooltip="Judge it valid: department, reply to the customer",
                id="complaint.accept"),
        Binding("x", "invalid", "Invalid", tooltip="Judge it invalid: reason, explanation; closes",
                id="complaint.invalid"),
        Binding("i", "investigate", "Cause", tooltip="Record the cause and who is responsible",
                id="complaint.investigate"),
        Binding("p", "propose", "Propose", tooltip="Propose solution options for approval",
                id="complaint.propose"),
        Binding("a", "approve", "Approve", tooltip="Approve one option (supervisor)",
                id="complaint.approve"),
        Binding("b", "send_back", "Send back", tooltip="Send the proposal back (supervisor)",
                id="complaint.send_back"),
        Binding("m", "implement", "Implement", tooltip="Record the customer's answer",
                id="complaint.implement"),
        Binding("c", "close_case", "Close", tooltip="Category, root cause, summary; then close",
                id="complaint.close"),
        Binding("e", "escalate", "Escalate", tooltip="Escalate to a supervisor; you stay owner",
                id="complaint.escalate"),
        Binding("w", "pause", "Wait", tooltip="Wait on the customer: the clocks pause",
                id="complaint.pause"),
        Binding("u", "resume", "Resume", tooltip="The customer came back: the clocks run again",
                id="complaint.resume"),
        Binding("r", "refresh", "Refresh", tooltip="Reload the complaint", id="complaint.refresh",
                show=False),
        Binding("escape", "back", "Back", tooltip="Back to where you came from",
                id="complaint.back"),
    ]  # fmt: skip
    MOVE_ACTIONS = {
        "accept": "accept", "invalid": "invalid", "investigate": "investigate",
        "propose": "propose", "approve": "approve", "send_back": "send_back",
        "implement": "implement", "close_case": "close", "escalate": "escalate",
        "pause": "pause", "resume": "resume",
    }  # fmt: skip

    DEFAULT_CSS = """
    ComplaintScreen #cp-title { height: 1; width: 100%; background: $boost; padding: 0 1;
                                text-style: bold; }
    ComplaintScreen #cp-clocks { height: auto; padding: 0 1; border-bottom: solid $primary; }
    ComplaintScreen #cp-body { height: 1fr; padding: 0 1; }
    """

    def __init__(self, complaint_id: int) -> None:
        super().__init__()
        self.complaint_id = complaint_id
        self.view: CaseView | None = None
        self.policy = sla.Policy()

    def compose(self) -> ComposeResult:
        yield Label(f"Complaint #{self.complaint_id}", id="cp-title")
        yield Static("", id="cp-clocks")
        with VerticalScroll(id="cp-body"):
            yield Static("Loading…", id="cp-details")
        yield Footer()

    def on_mount(self) -> None:
        desk = self.app.desk  # type: ignore[attr-defined]
        try:
            self.policy = sla.load_policy(desk.settings)
        except sla.PolicyError as exc:
            self.notify(str(exc), title="Complaint policy rejected", severity="error", timeout=15)
            self.policy = sla.Policy(calendar=sla.Calendar(desk.zone))
        self.query_one("#cp-body").focus()
        self.load()

    @work(thread=True, exclusive=True, group="complaint")
    def load(self) -> None:
        desk = self.app.desk  # type: ignore[attr-defined]
        try:
            view = desk.run(
                lambda s: complaints.case(
                    session=s, complaint_id=self.complaint_id, now=desk.now(), policy=self.policy
                )
            )
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._show, view)

    def _show(self, view: CaseView | None) -> None:
        desk = self.app.desk  # type: ignore[attr-defined]
        self.view = view
        title = self.query_one("#cp-title", Label)
        if view is None:
            title.update(f"Complaint #{self.complaint_id} does not exist")
            self.query_one("#cp-details", Static).update("")
            self.refresh_bindings()
            return
        c = view.complaint
        flags = " · escalated" if c.escalated_to_id else ""
        flags += " · waiting on customer" if c.waiting_since else ""
        title.update(
            Text(
                f"Complaint #{c.id} · {view.customer_name} · {view.customer_tier.upper()} "
                f"L{view.level} · {complaints.STATUS_LABELS[c.status]}{flags}",
                no_wrap=True,
                overflow="ellipsis",
            )
        )
        lines = [clock_line(k, desk.local(k.deadline)) for k in view.clocks]
        self.query_one("#cp-clocks", Static).update(Text("\n").join(lines))
        self.query_one("#cp-details", Static).update(details(view, desk.local, self.policy))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the moves the complaint's step allows show in the footer."""
        move = self.MOVE_ACTIONS.get(action)
        if move is None:
            return True
        return self.view is not None and move in self.view.allowed

    def _move(self, move: str) -> None:
        view = self.view
        if view is None:
            return
        spec = complaints.MOVES[move]
        if spec.supervisor:
            try:
                require_supervisor(self.app.agent, spec.label)  # type: ignore[attr-defined]
            except PermissionDenied as exc:
                self.notify(str(exc), title="Supervisor only", severity="error")
                return
        why = complaints.refusal(move, view.complaint, needs_revision=view.needs_revision)
        if why:
            self.notify(why, severity="warning")
            return
        extra: dict[str, object] = {}
        if move == "escalate":
            desk = self.app.desk  # type: ignore[attr-defined]
            try:
                extra["supervisors"] = desk.run(lambda s: complaints.supervisors(session=s))
            except StorageError as exc:
                self.notify(str(exc), severity="error")
                return
        self.app.push_screen(FORMS[move](view, self.policy, **extra), self._moved)

    def _moved(self, result: int | None) -> None:
        self.load()

    def action_accept(self) -> None:
        self._move("accept")

    def action_invalid(self) -> None:
        self._move("invalid")

    def action_investigate(self) -> None:
        self._move("investigate")

    def action_propose(self) -> None:
        self._move("propose")

    def action_approve(self) -> None:
        self._move("approve")

    def action_send_back(self) -> None:
        self._move("send_back")

    def action_implement(self) -> None:
        self._move("implement")

    def action_close_case(self) -> None:
        self._move("close")

    def action_escalate(self) -> None:
        self._move("escalate")

    def action_pause(self) -> None:
        self._move("pause")

    def action_resume(self) -> None:
        self._move("resume")

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)
