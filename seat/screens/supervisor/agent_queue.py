"""One agent's queue as their supervisor sees it: open callbacks, complaints, work orders."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from seat import sla, supervisor
from seat.i18n import N_, _, format_datetime
from seat.labels import callback_kind, complaint_step_short
from seat.screens.background import DeskWorker
from seat.services import StorageError
from seat.supervisor import QueueItem
from seat.widgets.lines import fit
from seat.widgets.table import SeatTable

KINDS = {"callback": N_("callback"), "complaint": N_("complaint"), "order": N_("order")}
COLUMNS = (("kind", N_("Kind"), 9), ("id", N_("#"), 5), ("what", N_("What"), 38),
           ("due", N_("Due"), 13))  # fmt: skip
"""(key, heading, width in cells) of the queue's table."""


def what_text(item: QueueItem) -> str:
    """The customer or the order, and the callback's kind or the complaint's step."""
    if not item.detail:
        return item.text
    if item.kind == "callback":
        word = callback_kind(item.detail)
    else:
        word = complaint_step_short(item.detail)
    return f"{item.text} · {word}"


class AgentQueueScreen(DeskWorker, Screen[None]):
    """Enter opens the case: a complaint, an order, or a callback's reassign form."""

    BINDINGS = [
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the wallboard"),
                id="agent_queue.back"),
        Binding("f5", "reload", N_("Refresh"), tooltip=N_("Read the queue again"),
                id="agent_queue.refresh"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    AgentQueueScreen #aq-head { height: 1; width: 100%; background: $boost; padding: 0 1;
                                text-style: bold; }
    AgentQueueScreen DataTable { height: 1fr; }
    """

    @dataclass
    class Loaded(Message):
        items: list[QueueItem]

    def __init__(self, agent_id: int, name: str) -> None:
        super().__init__()
        self.agent_id = agent_id
        self.agent_name = name
        self.policy = sla.Policy()

    def compose(self) -> ComposeResult:
        yield Label(_("Queue of {name}").format(name=self.agent_name), id="aq-head")
        yield SeatTable(id="aq-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def _allowed(self) -> bool:
        me = self.seat_agent
        return supervisor.may_see_queue(me, me.id, self.agent_id)

    def on_mount(self) -> None:
        if not self._allowed():
            self.notify(_("Only a supervisor can see another agent's queue."), severity="error")
            self.call_after_refresh(self.action_back)
            return
        self.policy = self.clock_policy(tell=False)
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            heading = _(label)
            table.add_column(heading, width=max(width, cell_len(heading)), key=key)
        table.focus()

    def on_screen_resume(self) -> None:
        """First shown, and back from a case: (re)read the queue."""
        if self._allowed():
            self.load()

    @work(thread=True, exclusive=True, group="agent-queue")
    def load(self) -> None:
        desk = self.services
        try:
            items = desk.agent_queue(self.agent_id, self.policy)
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.post_message(self.Loaded(items))

    def on_agent_queue_screen_loaded(self, event: Loaded) -> None:
        event.stop()
        desk = self.services
        table = self.query_one(DataTable)
        line = table.cursor_row
        width = table.ordered_columns[2].width
        table.clear()
        for item in event.items:
            due = format_datetime(desk.local(item.due_at), "short") if item.due_at else "-"
            table.add_row(
                _(KINDS[item.kind]),
                str(item.id),
                fit(Text(what_text(item), no_wrap=True, overflow="ellipsis"), width),
                Text(("⚠ " if item.late else "  ") + due, style="bold red" if item.late else ""),
                key=f"{item.kind}:{item.id}",
            )
        if event.items:
            table.move_cursor(row=min(line, len(event.items) - 1))
        self.query_one("#aq-head", Label).update(
            _("Queue of {name} · {n} open").format(name=self.agent_name, n=len(event.items))
        )

    @on(DataTable.RowSelected)
    def open_row(self, event: DataTable.RowSelected) -> None:
        event.stop()
        kind, _sep, rest = (event.row_key.value or "").partition(":")
        if not rest.isdigit():
            return
        row_id = int(rest)
        if kind == "complaint":
            from seat.screens.complaints.complaint import ComplaintScreen

            self.app.push_screen(ComplaintScreen(row_id))
        elif kind == "order":
            from seat.screens.work_orders.work_order import WorkOrderScreen

            self.app.push_screen(WorkOrderScreen(row_id))
        elif kind == "callback":
            from seat.screens.callbacks.view import ReassignForm

            self.in_worker(
                lambda desk: desk.assignable(),
                lambda agents: self.app.push_screen(ReassignForm(row_id, agents)),
                group="open-form", move=True,
            )  # fmt: skip

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)
