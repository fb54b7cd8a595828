"""Open complaints, a page at a time: mine, everyone's, waiting for approval, escalated to me."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from seat import complaints, sla
from seat.complaints import ListRow
from seat.desk import StorageError
from seat.screens.complaint import CLOCK_LOOK, ComplaintScreen

PAGE = 50


def clock_cell(row: ListRow) -> Text:
    k = row.next_clock
    if k is None:
        return Text("-", style="dim")
    if k.paused:
        return Text(f"⏸ {k.label.lower()} paused", style="cyan")
    symbol, style = CLOCK_LOOK[k.state]
    span = sla.format_span(k.left)
    what = f"late {span}" if k.breached else f"{span} left"
    words = {"first_reply": "reply", "solution": "solution", "callback": "callback"}
    return Text(f"{symbol} {words.get(k.name, k.name)} {what}", style=style)


class ComplaintListScreen(Screen[None]):
    BINDINGS = [
        Binding("a", "next_scope", "Mine/all", tooltip="Mine, all open, for approval, escalated",
                id="complaints.scope"),
        Binding("right_square_bracket", "page(1)", "Next page", tooltip="The next page",
                id="complaints.next_page"),
        Binding("left_square_bracket", "page(-1)", "Prev page", tooltip="The previous page",
                id="complaints.prev_page"),
        Binding("r", "refresh", "Refresh", tooltip="Reload the list", id="complaints.refresh"),
        Binding("escape", "back", "Back", tooltip="Back to the desk", id="complaints.back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    ComplaintListScreen #cl-title { height: 1; width: 100%; background: $boost; padding: 0 1;
                                    text-style: bold; }
    ComplaintListScreen DataTable { height: 1fr; }
    ComplaintListScreen #cl-help { height: 1; color: $text-muted; padding: 0 1; }
    """

    scope: reactive[str] = reactive("mine", init=False)
    """Which open complaints are listed (see complaints.SCOPES)."""
    page: reactive[int] = reactive(0, init=False)
    """The page shown, from 0."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0
        self.policy = sla.Policy()

    def compose(self) -> ComposeResult:
        yield Label("", id="cl-title")
        yield DataTable(id="cl-table", cursor_type="row", zebra_stripes=True)
        yield Label("Enter opens · a mine/all/approval/escalated · [ ] pages", id="cl-help")
        yield Footer()

    def on_mount(self) -> None:
        desk = self.app.desk  # type: ignore[attr-defined]
        try:
            self.policy = sla.load_policy(desk.settings)
        except sla.PolicyError as exc:
            self.notify(str(exc), title="Complaint policy rejected", severity="error", timeout=15)
            self.policy = sla.Policy(calendar=sla.Calendar(desk.zone))
        table = self.query_one(DataTable)
        table.add_column("#", width=4, key="id")
        table.add_column("Customer", width=13)
        table.add_column("Step", width=14)
        table.add_column("Next clock", width=21)
        table.add_column("Owner", width=8)
        table.add_column("Since", width=5)
        table.focus()
        self.load()

    def watch_scope(self) -> None:
        self.page = 0
        self.load()

    def watch_page(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="complaint-list")
    def load(self) -> None:
        desk = self.app.desk  # type: ignore[attr-defined]
        agent = self.app.agent  # type: ignore[attr-defined]
        scope, page = self.scope, self.page
        try:
            rows, total = desk.run(
                lambda s: complaints.open_complaints(
                    session=s, scope=scope, agent_id=agent.id, now=desk.now(),
                    policy=self.policy, offset=page * PAGE, limit=PAGE,
                )
            )  # fmt: skip
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._fill, rows, total)

    def _fill(self, rows: list[ListRow], total: int) -> None:
        desk = self.app.desk  # type: ignore[attr-defined]
        self.total = total
        pages = max(1, -(-total // PAGE))
        self.query_one("#cl-title", Label).update(
            f"{complaints.SCOPE_TITLES[self.scope]} · {total} · page {self.page + 1}/{pages}"
        )
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            flags = ("↑" if r.escalated else "") + ("⏸" if r.waiting else "")
            table.add_row(
                str(r.id),
                Text(r.customer_name, no_wrap=True, overflow="ellipsis"),
                Text(f"{flags}{r.status}", no_wrap=True, overflow="ellipsis"),
                clock_cell(r),
                Text(r.owner, no_wrap=True, overflow="ellipsis"),
                f"{desk.local(r.created_at):%m-%d}",
                key=str(r.id),
            )  # fmt: skip
        if not rows:
            self.query_one("#cl-title", Label).update(
                f"{complaints.SCOPE_TITLES[self.scope]}: none open (a shows other lists)"
            )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page" and parameters:
            step = int(parameters[0])  # type: ignore[call-overload]
            target = self.page + step
            return 0 <= target and target * PAGE < self.total
        return True

    def action_page(self, step: int) -> None:
        target = self.page + step
        if 0 <= target and target * PAGE < self.total:
            self.page = target

    def action_next_scope(self) -> None:
        scopes = complaints.SCOPES
        self.scope = scopes[(scopes.index(self.scope) + 1) % len(scopes)]

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(ComplaintScreen(int(event.row_key.value)), self._back_here)

    def _back_here(self, _result: None) -> None:
        self.load()
