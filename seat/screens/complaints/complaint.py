"""One complaint on one page: its clocks, its facts, the call, linked work, every event.

A key per move; the footer shows the moves the complaint's step allows. Each opens a small
form (seat.screens.complaints.forms); supervisor moves are refused for agents with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from seat import complaints, labels, loops, roles, sla, workorders
from seat.cases import ModelView
from seat.complaints import CaseView
from seat.i18n import N_, _, format_datetime, ngettext
from seat.labels import label
from seat.models import CLOSED_COMPLAINT_STATUSES
from seat.roles import PermissionDenied
from seat.screens.background import DeskWorker
from seat.screens.complaints.forms import FORMS, CloseLoopForm, MarkModelForm
from seat.screens.complaints.library import CaseLibraryScreen
from seat.screens.role_keys import RoleKeys
from seat.services import StorageError
from seat.textguard import shown
from seat.widgets.complaint_items import LOOK

ACTION_LABELS = labels.COMPLAINT_EVENTS


def _status(status: str) -> str:
    """A complaint status in words, in the current language."""
    return complaints.status_label(status)


CLOCK_LOOK = LOOK


budget_text = sla.budget_text


def clock_line(clock: sla.ClockState, local_deadline: datetime) -> Text:
    """One clock in the words every screen uses (sla.clock_phrase), and its deadline.

    A paused clock shows ⏸ unless it is breached: a breach stays red when paused."""
    office = _(" (office hours)") if clock.business_hours else ""
    word = _(clock.label)
    name = word + " " * max(1, 12 - cell_len(word))  # cells: CJK counts double
    what = sla.state_phrase(clock)
    if not clock.running:
        if clock.breached:
            return Text.assemble(("✗ ", "red"), name, (what + office, "red"))
        return Text.assemble(("✓ ", "green"), name, (what + office, "dim"))
    if clock.paused and not clock.breached:
        return Text.assemble(("⏸ ", "bold cyan"), name, (what + office, "cyan"))
    symbol, style = CLOCK_LOOK[clock.state]
    due = format_datetime(local_deadline, "weekday")
    if not clock.paused:
        what += " · " + (
            _("was due {due}").format(due=due) if clock.breached else _("due {due}").format(due=due)
        )
    return Text.assemble((f"{symbol} ", style), name, (what, style), (office, "dim"))


def loop_text(loop: loops.LoopView, local: Callable[[datetime], datetime]) -> Text:
    """The unsatisfied callback's loop: open (what closes it), or how it was closed."""
    if loop.status == loops.OPEN:
        return Text(
            _(
                "open since {when}: unsatisfied on callback #{id}; closes when a follow-up "
                "finds the customer satisfied, or a supervisor closes it (l)"
            ).format(when=format_datetime(local(loop.opened_at), "short"), id=loop.callback_id),
            "bold yellow",
        )
    when = format_datetime(local(loop.closed_at or loop.opened_at), "short")
    if loop.closed_by_callback_id is not None:
        return Text(
            _("closed {when}: satisfied on follow-up callback #{id}").format(
                when=when, id=loop.closed_by_callback_id
            ),
            "green",
        )
    return Text(
        _("closed {when} by {name}: {reason}").format(
            when=when, name=loop.closed_by or "?", reason=loop.close_reason or ""
        ),
        "green",
    )


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
    who = _("owner {name}").format(name=view.owner)
    if view.escalated_to:
        who += " · " + _("escalated to {name}").format(name=view.escalated_to)
    channel = label(labels.CHANNELS, c.channel)
    received = format_datetime(local(c.created_at), "medium")
    if c.registered_at is None and not c.channel_ref:
        facts.add_row(_("Registered"), f"{received} · {channel} · {who}")
    else:  # came in by another channel, maybe earlier than it was registered
        ref = f" {shown(c.channel_ref)}" if c.channel_ref else ""
        facts.add_row(_("Received"), f"{received} · {channel}{ref}")
        registered = format_datetime(local(c.registered_at or c.created_at), "medium")
        facts.add_row(_("Registered"), f"{registered} · {who}")
    if c.promised_reply_at is not None:
        facts.add_row(
            _("Promised"),
            _("a reply by {when} (agreed {agreed})").format(
                when=format_datetime(local(c.promised_reply_at), "medium"),
                agreed=format_datetime(local(c.promised_at or c.promised_reply_at), "short"),
            ),
        )
    facts.add_row(_("What happened"), c.what_happened)
    facts.add_row(_("Wants"), c.customer_wants)
    if view.call:
        k = view.call
        need = label(labels.NEEDS, k.need_category)
        outcome = label(labels.OUTCOMES, k.outcome)
        facts.add_row(
            _("Call #{id}").format(id=k.id),
            f"{format_datetime(local(k.started_at), 'short')} {k.agent} · {need} → {outcome}",
        )
    if c.department or c.category:
        cat = policy.category_label(c.category) if c.category else _("not classified yet")
        facts.add_row(_("Department"), f"{c.department or '-'} · {cat}")
    if c.invalid_reason:
        facts.add_row(_("Invalid"), c.invalid_reason)
    if c.reply_text:
        facts.add_row(_("Told customer"), c.reply_text)
    if c.cause or c.responsible_person:
        facts.add_row(
            _("Cause"),
            _("{cause} · responsible {person}").format(
                cause=_(policy.cause_label(c.cause)), person=c.responsible_person or "-"
            ),
        )
    options = complaints.options_of(c.solution_options)
    if options:
        facts.add_row(_("Options"), "\n".join(f"{i}) {o}" for i, o in enumerate(options, 1)))
    if view.needs_revision and c.status == "proposed":
        facts.add_row("", Text(_("sent back or refused: revise the proposal (p)"), "bold red"))
    if c.chosen_solution:
        facts.add_row(_("Approved"), c.chosen_solution)
    if c.customer_accepted is not None:
        facts.add_row(_("Customer"), _("accepts") if c.customer_accepted else _("refused"))
    if c.root_cause:
        facts.add_row(_("Root cause"), c.root_cause)
    if c.summary:
        facts.add_row(_("Summary"), c.summary)
    if view.loop is not None:
        facts.add_row(_("Loop"), loop_text(view.loop, local))
    if c.waiting_since:
        facts.add_row(
            _("Waiting"),
            _("on the customer since {when}").format(
                when=format_datetime(local(c.waiting_since), "short")
            ),
        )

    linked = _grid()
    for w in view.work_orders:
        mark = "‼ " if w.urgent else ""
        due = _("due {when}").format(when=format_datetime(local(w.due_at), "short"))
        linked.add_row(
            _("Order #{id}").format(id=w.id),
            f"{mark}{w.short_text} · {workorders.status_label(w.status)} · {due}",
        )
    for cb in view.callbacks:
        when = (
            _("done {when}").format(when=format_datetime(local(cb.done_at), "short"))
            if cb.done_at
            else _("due {when}").format(when=format_datetime(local(cb.due_at), "short"))
        )
        kind = label(labels.CALLBACK_KINDS, cb.kind)
        status = label(labels.CALLBACK_STATUSES, cb.status)
        linked.add_row(
            _("Callback #{id}").format(id=cb.id), f"{kind} · {status} · {when} · {cb.owner}"
        )
    if not view.work_orders and not view.callbacks:
        linked.add_row(_("Linked"), Text(_("no work orders or callbacks yet"), "dim"))

    history = Table.grid(padding=(0, 1))
    history.add_column(style="dim", width=11, no_wrap=True)
    history.add_column(width=10, no_wrap=True, overflow="ellipsis")
    history.add_column(ratio=1)
    for e in view.events:
        move = Text()
        move.append(_(ACTION_LABELS.get(e.action, e.action)), style="bold")
        if e.from_status and e.from_status != e.to_status:
            move.append(f"  {_status(e.from_status)} → {_status(e.to_status)}", style="dim")
        if e.comment:
            move.append(f"\n{e.comment}")
        history.add_row(format_datetime(local(e.at), "short"), e.agent, move)
    return Group(
        facts,
        Text(""),
        Text(_("Linked work"), style="bold underline"),
        linked,
        Text(""),
        Text(
            ngettext("History · {n} event", "History · {n} events", len(view.events)).format(
                n=len(view.events)
            ),
            style="bold underline",
        ),
        history,
    )


class ComplaintScreen(DeskWorker, RoleKeys, Screen[None]):
    """The case page of one complaint."""

    ROLE_ACTIONS = {
        "approve": roles.APPROVE_SOLUTION, "send_back": roles.SEND_BACK,
        "close_loop": roles.CLOSE_LOOP,
        "mark_model": roles.MARK_MODEL_CASE,
        **{a: roles.WORK_CASES for a in (
            "accept", "invalid", "investigate", "propose", "implement", "close_case",
            "escalate", "pause", "resume",
        )},
    }  # fmt: skip

    BINDINGS = [
        Binding("v", "accept", N_("Valid"),
                tooltip=N_("Judge it valid: department, reply to the customer"),
                id="complaint.accept"),
        Binding("x", "invalid", N_("Invalid"),
                tooltip=N_("Judge it invalid: reason, explanation; closes"),
                id="complaint.invalid"),
        Binding("i", "investigate", N_("Cause"),
                tooltip=N_("Record the cause and who is responsible"),
                id="complaint.investigate"),
        Binding("p", "propose", N_("Propose"), tooltip=N_("Propose solution options for approval"),
                id="complaint.propose"),
        Binding("a", "approve", N_("Approve"), tooltip=N_("Approve one option (supervisor)"),
                id="complaint.approve"),
        Binding("b", "send_back", N_("Send back"),
                tooltip=N_("Send the proposal back (supervisor)"),
                id="complaint.send_back"),
        Binding("m", "implement", N_("Implement"), tooltip=N_("Record the customer's answer"),
                id="complaint.implement"),
        Binding("c", "close_case", N_("Close"),
                tooltip=N_("Category, root cause, summary; then close"),
                id="complaint.close"),
        Binding("e", "escalate", N_("Escalate"),
                tooltip=N_("Escalate to a supervisor; you stay owner"),
                id="complaint.escalate"),
        Binding("w", "pause", N_("Wait"), tooltip=N_("Wait on the customer: the clocks pause"),
                id="complaint.pause"),
        Binding("u", "resume", N_("Resume"),
                tooltip=N_("The customer came back: the clocks run again"),
                id="complaint.resume"),
        Binding("l", "close_loop", N_("Close loop"),
                tooltip=N_("Close the unsatisfied callback's loop, with a reason (supervisor)"),
                id="complaint.close_loop"),
        Binding("r", "refresh", N_("Refresh"),
                tooltip=N_("Reload the complaint"), id="complaint.refresh",
                show=False),
        # Off the footer (it is full at 80 columns); in the key panel and the palette.
        Binding("h", "library", N_("Case library"),
                tooltip=N_("Search the model cases of this category"), id="complaint.library",
                show=False),
        Binding("k", "mark_model", N_("Model case"),
                tooltip=N_("Mark this closed case as a model with its agreed solution"),
                id="complaint.model", show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to where you came from"),
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
        self.model: ModelView | None = None
        """The case's entry in the case library, when it is a model case."""
        self.policy = sla.Policy()

    def compose(self) -> ComposeResult:
        yield Label(_("Complaint #{id}").format(id=self.complaint_id), id="cp-title")
        yield Static("", id="cp-clocks")
        with VerticalScroll(id="cp-body"):
            yield Static(_("Loading…"), id="cp-details")
        yield Footer()

    def on_mount(self) -> None:
        self.policy = self.clock_policy()
        self.query_one("#cp-body").focus()
        self.load()

    @work(thread=True, exclusive=True, group="complaint")
    def load(self) -> None:
        desk = self.services
        try:
            view = desk.complaint_case(self.complaint_id, self.policy)
            closed = view is not None and view.complaint.status in CLOSED_COMPLAINT_STATUSES
            model = desk.model_case(self.complaint_id) if closed else None
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._show, view, model)

    def _show(self, view: CaseView | None, model: ModelView | None = None) -> None:
        desk = self.services
        self.view = view
        self.model = model
        title = self.query_one("#cp-title", Label)
        if view is None:
            title.update(_("Complaint #{id} does not exist").format(id=self.complaint_id))
            self.query_one("#cp-details", Static).update("")
            self.refresh_bindings()
            return
        c = view.complaint
        flags = " · " + _("escalated") if c.escalated_to_id else ""
        flags += " · " + _("waiting on customer") if c.waiting_since else ""
        if view.loop is not None and view.loop.status == loops.OPEN:
            flags += " · " + _("loop open")
        title.update(
            Text(
                _("Complaint #{id}").format(id=c.id)
                + f" · {view.customer_name} · {label(labels.TIERS, view.customer_tier)} "
                + _("level {n}").format(n=view.level)
                + f" · {_status(c.status)}{flags}",
                no_wrap=True,
                overflow="ellipsis",
            )
        )
        lines = [clock_line(k, desk.local(k.deadline)) for k in view.clocks]
        self.query_one("#cp-clocks", Static).update(Text("\n").join(lines))
        shown_details = details(view, desk.local, self.policy)
        if model is not None:
            shown_details = Group(
                Text(_("Model case · agreed solution: {solution}").format(
                    solution=model.solution), style="bold green"),
                shown_details,
            )  # fmt: skip
        self.query_one("#cp-details", Static).update(shown_details)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the moves the complaint's step and the person's role allow show in the footer."""
        if not self.role_allows(action):
            return False
        if action == "close_loop":
            loop = self.view.loop if self.view is not None else None
            return loop is not None and loop.status == loops.OPEN
        if action == "mark_model":
            return (
                self.view is not None
                and self.view.complaint.status in CLOSED_COMPLAINT_STATUSES
            )
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
                roles.require(
                    self.seat_agent, complaints.SUPERVISED_MOVES[move],
                    what=complaints.move_label(move),
                )  # fmt: skip
            except PermissionDenied as exc:
                self.notify(str(exc), title=_("Supervisor only"), severity="error")
                return
        why = complaints.refusal(move, view.complaint, needs_revision=view.needs_revision)
        if why:
            self.notify(why, severity="warning")
            return
        if move != "escalate":
            self.app.push_screen(FORMS[move](view, self.policy), self._moved)
            return

        def shown(supervisors: list[tuple[int, str]]) -> None:
            # The supervisor who holds the escalation is no choice: with no other one the
            # form opened, took the reason and then said "Already escalated to ...".
            held = view.complaint.escalated_to_id
            others = [(i, name) for i, name in supervisors if i != held]
            if not others:
                self.notify(
                    _("Already escalated to {name}.").format(name=view.escalated_to),
                    severity="warning",
                )
                return
            # The form carries the version shown at the key press: a change meanwhile is
            # refused by the move's conditional update, as it would be without the wait.
            form = FORMS[move](view, self.policy, supervisors=others)
            self.app.push_screen(form, self._moved)

        self.in_worker(
            lambda desk: desk.supervisors(), shown,
            group="open-form", move=True,
        )  # fmt: skip

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

    def action_close_loop(self) -> None:
        view = self.view
        if view is not None and view.loop is not None and view.loop.status == loops.OPEN:
            self.app.push_screen(CloseLoopForm(view), self._moved)

    def action_refresh(self) -> None:
        self.load()

    def action_library(self) -> None:
        category = self.view.complaint.category if self.view is not None else None
        self.app.push_screen(CaseLibraryScreen(category))

    def action_mark_model(self) -> None:
        view = self.view
        if view is None or view.complaint.status not in CLOSED_COMPLAINT_STATUSES:
            self.notify(_("Only a closed case can be a model."), severity="warning")
            return
        solution = self.model.solution if self.model else (view.complaint.chosen_solution or "")
        self.app.push_screen(MarkModelForm(view, solution), self._moved)

    def action_back(self) -> None:
        self.dismiss(None)
