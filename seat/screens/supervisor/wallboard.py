"""The supervisor's wallboard: the floor's live queues, refreshed from the shared database.

Four tabs (agents, complaints, callbacks, orders), a page of rows each. A worker thread
reads the board every `refresh_seconds`; the tables are updated in place when the rows are
the same, so the highlighted row and the scroll position stay put. Enter drills into the
case; `a` approves a proposal, `r` reassigns a callback or an order. Agents are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, TabbedContent, TabPane
from textual.worker import get_current_worker

from seat import complaints, roles, sla, states, supervisor
from seat.customers import ValidationError
from seat.i18n import N_, NC_, _, format_datetime, format_duration, ngettext
from seat.labels import callback_kind, complaint_step_short
from seat.roles import PermissionDenied
from seat.screens.background import DeskWorker
from seat.services import StorageError
from seat.supervisor import Board, ComplaintRow
from seat.widgets.complaint_items import clock_cell
from seat.widgets.lines import fit
from seat.widgets.table import SeatTable

if TYPE_CHECKING:
    from seat.screens.form import FormScreen
    from seat.services import Desk

TABS = (
    ("agents", N_("Agents")),
    ("complaints", N_("Complaints")),
    ("callbacks", N_("Callbacks")),
    ("orders", N_("Orders")),
)
COLUMNS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "agents": (
        ("agent", N_("Agent"), 16),
        ("now", N_("Now"), 10),
        ("calls", N_("Calls"), 5),
        ("aht", N_("Avg time"), 8),
        ("overdue", N_("Overdue cb"), 10),
        ("role", N_("Role"), 10),
    ),
    "complaints": (
        ("id", N_("#"), 5),
        ("step", N_("Step"), 15),
        ("left", N_("Time left"), 22),
        ("customer", N_("Customer"), 11),
        ("owner", N_("Owner"), 10),
    ),
    "callbacks": (
        ("owner", N_("Owner"), 11),
        ("id", N_("#"), 5),
        ("customer", N_("Customer"), 14),
        ("kind", N_("Kind"), 13),
        ("late", N_("Overdue"), 8),
        ("tries", N_("Tries"), 5),
    ),
    "orders": (
        ("id", N_("#"), 6),
        ("job", N_("Job"), 21),
        ("status", N_("Status"), 12),
        ("assignee", N_("Assignee"), 11),
        ("due", N_("Expected end"), 12),
    ),
}
NOW_LOOK = {
    "call": ("☎", N_("on call"), "bold red"),
    "wrapup": ("✎", N_("wrap-up"), "bold yellow"),
    "desk": ("○", N_("free"), "green"),
}
AWAY = ("·", N_("away"), "dim")
"""No fresh heartbeat: no seat running for the agent."""


def _one_line(text: str, style: str = "") -> Text:
    """A cell the table cuts with '…' when its column is narrower (never wraps)."""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def time_left(row: ComplaintRow) -> Text:
    """'⚠ reply late by 3h20', '◔ solution 2h10 left': the words every screen uses."""
    return clock_cell(row.clock)


def step_cell(row: ComplaintRow) -> Text:
    flags = ("↑" if row.escalated else "") + ("★" if row.awaiting_approval else "")
    style = "bold" if row.awaiting_approval else ""
    return _one_line(f"{flags}{complaint_step_short(row.status)}", style)


class WallboardScreen(DeskWorker, Screen[None]):
    """Live queues of the whole floor, for supervisors."""

    BINDINGS = [
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="wallboard.back"),
        Binding("a", "approve", N_("Approve"),
                tooltip=N_("Approve the highlighted complaint's proposed solution"),
                id="wallboard.approve"),
        Binding("r", "reassign", N_("Reassign"),
                tooltip=N_("Give the highlighted callback or work order to someone else"),
                id="wallboard.reassign"),
        Binding("left_square_bracket", "page(-1)", NC_("page", "Prev"),
                tooltip=N_("The previous page"),
                id="wallboard.prev"),
        Binding("right_square_bracket", "page(1)", NC_("page", "Next"),
                tooltip=N_("The next page"),
                id="wallboard.next"),
        Binding("f5", "reload", N_("Refresh"), tooltip=N_("Read the board again now"),
                id="wallboard.refresh", show=False),
        *(
            Binding(str(i), f"tab('{tab}')", title, show=False,
                    tooltip=N_("Show this tab"), id=f"wallboard.tab_{tab}")
            for i, (tab, title) in enumerate(TABS, start=1)
        ),
    ]  # fmt: skip

    DEFAULT_CSS = """
    WallboardScreen #wb-head { height: 1; width: 100%; background: $boost; padding: 0 1;
                               text-style: bold; }
    WallboardScreen TabbedContent { height: 1fr; }
    WallboardScreen TabPane { padding: 0; }
    WallboardScreen .wb-sum { height: auto; max-height: 3; width: 100%; color: $text-muted;
                              padding: 0 1; }
    WallboardScreen DataTable { height: 1fr; scrollbar-size-vertical: 1; }
    WallboardScreen #wb-status { height: 1; width: 100%; color: $text-muted; padding: 0 1; }
    WallboardScreen #wb-refused { padding: 1 2; color: $error; }
    """

    @dataclass
    class Loaded(Message):
        """A fresh board was read."""

        board: Board

    def __init__(self) -> None:
        super().__init__()
        self.board: Board | None = None
        self.offsets: dict[str, int] = {tab: 0 for tab, _t in TABS}
        self.policy = sla.Policy()
        self.refused: str | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        try:
            supervisor.require_wallboard(self.seat_agent)
        except PermissionDenied as exc:
            self.refused = str(exc)
            yield Label(self.refused, id="wb-refused")
            yield Footer()
            return
        yield Label(_("Wallboard · reading…"), id="wb-head")
        with TabbedContent(id="wb-tabs", initial="wb-tab-complaints"):
            for i, (tab, title) in enumerate(TABS, start=1):
                with TabPane(f"{i} {_(title)}", id=f"wb-tab-{tab}"):
                    yield Label("", id=f"wb-sum-{tab}", classes="wb-sum")
                    yield SeatTable(id=f"wb-{tab}", cursor_type="row", zebra_stripes=True)
        yield Label("", id="wb-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.refused is not None:
            self.notify(self.refused, title=_("Supervisor only"), severity="error")
            self.call_after_refresh(self.action_back)
            return
        desk = self.services
        self.policy = self.clock_policy(timeout=None)
        for tab, columns in COLUMNS.items():
            table = self.query_one(f"#wb-{tab}", DataTable)
            for key, label, width in columns:
                heading = _(label)  # a heading wider than its column (CJK) widens it
                table.add_column(heading, width=max(width, cell_len(heading)), key=key)
        self.query_one("#wb-complaints", DataTable).focus()
        self.load()
        self.set_interval(desk.settings.refresh_seconds, self._tick)

    # -- reading ------------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.is_current:  # a case opened on top: read again when it closes
            self.load()

    def on_screen_resume(self) -> None:
        if self.board is not None:
            self.load()

    @work(thread=True, exclusive=True, group="wallboard")
    def load(self) -> None:
        desk = self.services
        offsets = dict(self.offsets)
        try:
            board = desk.wallboard(
                self.policy, offsets=offsets, limit=supervisor.PAGE, fresh=self.board is None
            )
        except StorageError as exc:
            self.app.call_from_thread(self._status, str(exc))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(board))

    def on_wallboard_screen_loaded(self, event: Loaded) -> None:
        event.stop()
        self.show(event.board)

    def show(self, board: Board) -> None:
        """Put a board on screen without losing the highlighted rows."""
        desk = self.services
        self.board = board
        self.offsets = {
            "agents": 0,
            "complaints": board.complaints.offset,
            "callbacks": board.callbacks.offset,
            "orders": board.orders.offset,
        }
        on_call = sum(1 for a in board.agents if a.state == "call")
        wrapup = sum(1 for a in board.agents if a.state == "wrapup")
        local = desk.local(board.at)
        head = _("Wallboard · {at} · {call} on a call · {wrapup} in wrap-up").format(
            at=f"{format_datetime(local, 'weekday')}:{local:%S}", call=on_call, wrapup=wrapup
        )
        self.query_one("#wb-head", Label).update(_one_line(head))
        self._show_agents(board)
        self._show_complaints(board)
        self._show_callbacks(board)
        self._show_orders(board)
        tabs = self.query_one(TabbedContent)
        counts = {
            "agents": str(len(board.agents)),
            "complaints": f"{board.complaints.total}"
            + (f" ⚠{board.breached}" if board.breached else ""),
            "callbacks": str(board.callbacks.total),
            "orders": str(board.orders.total),
        }
        for i, (tab, title) in enumerate(TABS, start=1):
            tabs.get_tab(f"wb-tab-{tab}").label = f"{i} {_(title)} {counts[tab]}"
        self._show_status()
        self.refresh_bindings()

    def _show_agents(self, board: Board) -> None:
        calls = sum(a.calls for a in board.agents)
        seated = sum(1 for a in board.agents if a.state is not None)
        running = ngettext("Calls today {calls} · {seated} seat running",
                           "Calls today {calls} · {seated} seats running", seated)  # fmt: skip
        self._summary("agents", running.format(calls=calls, seated=seated))
        rows = []
        for a in board.agents:
            mark, label, style = NOW_LOOK.get(a.state or "", AWAY)
            rows.append((f"ag:{a.agent_id}", (
                _one_line(a.agent), Text(f"{mark} {_(label)}", style=style), str(a.calls),
                supervisor.handling_text(a.avg_handling_seconds),
                Text(str(a.overdue_callbacks), style="bold red" if a.overdue_callbacks else "dim"),
                _one_line(_(roles.ROLE_NAMES.get(a.role, roles.ROLE_NAMES["agent"])), "dim"),
            )))  # fmt: skip
        self._fill("agents", rows)

    def _show_complaints(self, board: Board) -> None:
        steps = " · ".join(
            f"{complaint_step_short(status)} {n}" for status, n in board.complaints_by_status
        )
        self._summary("complaints", steps or _("No open complaints."))
        rows = [
            (f"cp:{r.id}", (str(r.id), step_cell(r), time_left(r), _one_line(r.customer_name),
                            _one_line(r.owner)))
            for r in board.complaints.rows
        ]  # fmt: skip
        self._fill("complaints", rows)

    def _show_callbacks(self, board: Board) -> None:
        per_agent: dict[str, int] = {}
        for a in board.agents:
            if a.overdue_callbacks:
                per_agent[a.agent] = a.overdue_callbacks
        text = " · ".join(f"{name} {n}" for name, n in per_agent.items())
        self._summary("callbacks", _("Overdue by agent: {who}").format(who=text) if text
                      else _("No overdue callbacks."))  # fmt: skip
        rows = [
            (f"cb:{r.id}", (_one_line(r.owner), str(r.id), _one_line(r.customer_name),
                            _one_line(callback_kind(r.kind)),
                            Text(format_duration(supervisor.since(board.at, r.due_at)),
                                 style="bold red"),
                            str(r.attempts)))
            for r in board.callbacks.rows
        ]  # fmt: skip
        self._fill("callbacks", rows)

    def _show_orders(self, board: Board) -> None:
        from seat import workorders

        desk = self.services
        self._summary("orders", _(
            "Open orders: {unassigned} unassigned · {urgent} urgent · {late} late"
        ).format(unassigned=board.unassigned, urgent=board.urgent, late=board.late)
        + " · " + _("clocks late: on site {a} · reply {b} · follow-up {c}").format(
            a=board.clocks.on_site, b=board.clocks.reply, c=board.clocks.follow_up,
        ))  # fmt: skip
        rows = []
        for r in board.orders.rows:
            late = states.order_late(r.due_at, board.at)
            rows.append((f"wo:{r.id}", (
                Text(f"{'‼' if r.urgent else ' '}{r.id}", style="bold red" if r.urgent else ""),
                _one_line(r.short_text),
                _one_line(workorders.status_label(r.status)),
                _one_line(r.assignee or _("unassigned"), "" if r.assignee else "bold yellow"),
                Text(f"{'⚠' if late else '⏱' if r.clock_late else ' '}"
                     f"{format_datetime(desk.local(r.due_at), 'short')}",
                     style="red" if late or r.clock_late else ""),
            )))  # fmt: skip
        self._fill("orders", rows)

    def _summary(self, tab: str, text: str) -> None:
        # Wrapped, not cut: a cut per-agent list hid the last agents behind a lone '·'.
        self.query_one(f"#wb-sum-{tab}", Label).update(Text(text))

    def _fill(self, tab: str, rows: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Same rows: update the cells in place. Other rows: refill, keeping the cursor on
        the same case (or the same line) and the scroll where it was."""
        table = self.query_one(f"#wb-{tab}", DataTable)
        widths = [c.width for c in table.ordered_columns]
        rows = [(key, tuple(map(fit, cells, widths))) for key, cells in rows]
        old = [k.value for k in table.rows]
        if old == [key for key, _c in rows]:
            columns = list(table.columns)
            for key, cells in rows:
                for column, cell in zip(columns, cells, strict=True):
                    table.update_cell(key, column, cell)
            return
        keep = old[table.cursor_row] if old and 0 <= table.cursor_row < len(old) else None
        line, scroll = table.cursor_row, table.scroll_y
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if not rows:
            return
        keys = [key for key, _c in rows]
        target = keys.index(keep) if keep in keys else min(line, len(rows) - 1)
        table.move_cursor(row=target, scroll=False)
        table.scroll_to(y=scroll, animate=False, immediate=True)

    def _status(self, text: str) -> None:
        self.query_one("#wb-status", Label).update(_one_line(text))

    def _show_status(self) -> None:
        board, tab = self.board, self.active_tab
        if board is None:
            return
        page = {"complaints": board.complaints, "callbacks": board.callbacks,
                "orders": board.orders}.get(tab)  # fmt: skip
        where = ""
        if page is not None and page.total > supervisor.PAGE:
            pages = -(-page.total // supervisor.PAGE)
            where = _("page {n}/{pages} ([ ]) · ").format(
                n=page.offset // supervisor.PAGE + 1, pages=pages
            )
        keys = {
            "agents": _("Enter: the agent's queue"),
            "complaints": _("Enter opens · a approves ★"),
            "callbacks": _("Enter or r reassigns"),
            "orders": _("Enter opens · r reassigns"),
        }[tab]
        every = self.services.settings.refresh_seconds
        self._status(where + keys + " · " + _("every {s:g}s").format(s=every))

    # -- where the cursor is ------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        if self.refused is not None:
            return "agents"
        active = self.query_one(TabbedContent).active or "wb-tab-complaints"
        return active.removeprefix("wb-tab-")

    def highlighted(self) -> tuple[str, int] | None:
        """(kind, id) of the highlighted row of the tab shown: ag, cp, cb or wo."""
        if self.refused is not None:
            return None
        table = self.query_one(f"#wb-{self.active_tab}", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        kind, _sep, rest = key.partition(":")
        return (kind, int(rest)) if rest.isdigit() else None

    def _complaint_row(self, complaint_id: int) -> ComplaintRow | None:
        if self.board is None:
            return None
        return next((r for r in self.board.complaints.rows if r.id == complaint_id), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Approve and reassign show only on a row they act on; pages only where there are
        more."""
        if self.refused is not None:
            return action == "back"
        if "(" in action:  # the command palette asks with the whole action text
            _a, action, parameters = parse_action(action)
        row = self.highlighted()
        if action == "approve":
            found = self._complaint_row(row[1]) if row and row[0] == "cp" else None
            return found is not None and found.awaiting_approval
        if action == "reassign":
            return row is not None and row[0] in ("cb", "wo")
        if action == "page":
            page = self._page()
            if page is None or not parameters:
                return False
            target = page.offset + int(parameters[0]) * supervisor.PAGE  # type: ignore[call-overload]
            return 0 <= target < page.total
        return True

    def _page(self) -> supervisor.Page | None:
        if self.board is None:
            return None
        return {"complaints": self.board.complaints, "callbacks": self.board.callbacks,
                "orders": self.board.orders}.get(self.active_tab)  # fmt: skip

    @on(DataTable.RowHighlighted)
    @on(TabbedContent.TabActivated)
    def _moved(self) -> None:
        self.refresh_bindings()
        self._show_status()

    # -- actions ------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.load()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"wb-tab-{tab}"
        self.query_one(f"#wb-{tab}", DataTable).focus()

    def action_page(self, step: int) -> None:
        page = self._page()
        if page is None:
            return
        target = page.offset + step * supervisor.PAGE
        if 0 <= target < page.total:
            self.offsets[self.active_tab] = target
            self.load()

    @on(DataTable.RowSelected)
    def open_row(self, event: DataTable.RowSelected) -> None:
        """Enter: drill into the case under the cursor."""
        event.stop()
        row = self.highlighted()
        if row is None:
            return
        kind, row_id = row
        if kind == "cp":
            from seat.screens.complaints.complaint import ComplaintScreen

            self.app.push_screen(ComplaintScreen(row_id))
        elif kind == "wo":
            from seat.screens.work_orders.work_order import WorkOrderScreen

            self.app.push_screen(WorkOrderScreen(row_id))
        elif kind == "cb":
            self._reassign_callback(row_id)
        elif kind == "ag":
            from seat.screens.supervisor.agent_queue import AgentQueueScreen

            name = next((a.agent for a in self.board.agents if a.agent_id == row_id), "")  # type: ignore[union-attr]
            self.app.push_screen(AgentQueueScreen(row_id, name))

    def action_approve(self) -> None:
        row = self.highlighted()
        found = self._complaint_row(row[1]) if row and row[0] == "cp" else None
        if found is None or not found.awaiting_approval:
            self.notify(_("Highlight a complaint marked ★ (its solution awaits approval)."),
                        severity="warning")  # fmt: skip
            return
        self._open_approval(found.id)

    @work(thread=True, exclusive=True, group="wallboard-act")
    def _open_approval(self, complaint_id: int) -> None:
        desk = self.services
        try:
            view = desk.complaint_case(complaint_id, self.policy)
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._push_approval, complaint_id, view)

    def _push_approval(self, complaint_id: int, view: complaints.CaseView | None) -> None:
        from seat.screens.complaints.forms import ApproveForm

        if view is None:
            self.notify(_("Complaint #{id} is gone.").format(id=complaint_id), severity="warning")
            return
        why = complaints.refusal("approve", view.complaint, needs_revision=view.needs_revision)
        if why:
            self.notify(why, severity="warning")
            self.load()
            return
        self.app.push_screen(
            ApproveForm(view, self.policy),
            self._acted(_("Complaint #{id}: solution approved.").format(id=complaint_id)),
        )

    def action_reassign(self) -> None:
        row = self.highlighted()
        if row is None or row[0] not in ("cb", "wo"):
            self.notify(_("Highlight a callback or a work order first."), severity="warning")
            return
        if row[0] == "cb":
            self._reassign_callback(row[1])
        else:
            self._reassign_order(row[1])

    def _reassign_callback(self, callback_id: int) -> None:
        from seat.screens.callbacks.view import ReassignForm

        def shown(agents: list[tuple[int, str]]) -> None:
            self.app.push_screen(
                ReassignForm(callback_id, agents),
                self._acted(_("Callback #{id} reassigned.").format(id=callback_id)),
            )

        self.in_worker(lambda desk: desk.assignable(), shown, group="open-form", move=True)

    def _reassign_order(self, work_order_id: int) -> None:
        self.in_worker(
            lambda desk: desk.assignable(),
            lambda agents: self._reassign_order_to(work_order_id, agents),
            group="open-form", move=True,
        )  # fmt: skip

    def _reassign_order_to(self, work_order_id: int, agents: list[tuple[int, str]]) -> None:
        from seat.screens.work_orders.work_order import ReassignForm

        me = self.seat_agent.id

        def change(desk: Desk, form: FormScreen) -> int:
            chosen = form.value("assignee")
            if not chosen:
                raise ValidationError({"assignee": _("Choose who takes the order.")})
            return desk.reassign_work_order(
                work_order_id, agent_id=me, assignee_id=int(chosen),
                comment=form.value("comment"),
            )  # fmt: skip

        self.app.push_screen(
            ReassignForm(_("Reassign work order #{id}").format(id=work_order_id), change, agents),
            self._acted(_("Work order #{id} reassigned.").format(id=work_order_id)),
        )

    def _acted(self, message: str):  # noqa: ANN202 - a push_screen callback
        def done(result: object) -> None:
            if result is not None:
                self.notify(message)
            self.load()

        return done
