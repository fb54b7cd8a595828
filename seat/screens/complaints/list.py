"""Open complaints, a page at a time: mine, everyone's, waiting for approval, escalated to me."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from seat import complaints, roles, sla
from seat.complaints import ListRow
from seat.i18n import N_, _
from seat.screens.complaints.cases import ClosedCasesScreen
from seat.screens.complaints.complaint import ComplaintScreen
from seat.screens.role_keys import RoleKeys
from seat.services import StorageError
from seat.supervisor import complaint_scopes
from seat.widgets.complaint_items import clock_cell as complaint_clock_cell
from seat.widgets.door import Seated
from seat.widgets.lines import fit
from seat.widgets.table import SeatTable

PAGE = 50


STATUS_WORDS = {
    "intake": N_("intake"),
    "invalid": N_("invalid"),
    "investigating": N_("investigating"),
    "proposed": N_("proposed"),
    "approved": N_("approved"),
    "implemented": N_("implemented"),
    "closed": N_("closed"),
}
"""The step column: the status code as a short word (14 cells)."""


def clock_cell(row: ListRow) -> Text:
    """The next clock in the words every screen uses (seat.widgets.complaint_items)."""
    return complaint_clock_cell(row.next_clock)


class ComplaintListScreen(Seated, RoleKeys, Screen[None]):
    ROLE_ACTIONS = {"next_scope": roles.ALL_COMPLAINTS}

    BINDINGS = [
        Binding("a", "next_scope", N_("Mine/all"),
                tooltip=N_("Mine, all open, for approval, escalated"),
                id="complaints.scope"),
        Binding("right_square_bracket", "page(1)", N_("Next page"), tooltip=N_("The next page"),
                id="complaints.next_page"),
        Binding("left_square_bracket", "page(-1)", N_("Prev page"), tooltip=N_("The previous page"),
                id="complaints.prev_page"),
        Binding("r", "refresh", N_("Refresh"),
                tooltip=N_("Reload the list"), id="complaints.refresh"),
        Binding("h", "closed_cases", N_("Closed cases"),
                tooltip=N_("Review closed complaints: filter, open, mark models"),
                id="complaints.closed", show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="complaints.back"),
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
        yield SeatTable(id="cl-table", cursor_type="row", zebra_stripes=True)
        agent = self.seat_agent
        hint = (
            _("Enter opens · a mine/all/approval/escalated · [ ] pages")
            if roles.may(agent, roles.ALL_COMPLAINTS)
            else _("Enter opens · [ ] pages")  # an agent sees their own complaints only
        )
        yield Label(hint, id="cl-help")
        yield Footer()

    def on_mount(self) -> None:
        self.policy = self.clock_policy()
        table = self.query_one(DataTable)
        table.add_column("#", width=4, key="id")
        table.add_column(_("Customer"), width=13)
        table.add_column(_("Step"), width=14)
        table.add_column(_("Next clock"), width=21)
        table.add_column(_("Owner"), width=8)
        table.add_column(_("Since"), width=5)
        table.focus()
        self.load()

    def watch_scope(self) -> None:
        self.page = 0
        self.load()

    def watch_page(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="complaint-list")
    def load(self) -> None:
        desk = self.services
        agent = self.seat_agent
        scope, page = self.scope, self.page
        try:
            rows, total = desk.complaint_list(
                scope, agent_id=agent.id, policy=self.policy, offset=page * PAGE, limit=PAGE
            )
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._fill, rows, total)

    def _fill(self, rows: list[ListRow], total: int) -> None:
        desk = self.services
        self.total = total
        pages = max(1, -(-total // PAGE))
        self.query_one("#cl-title", Label).update(
            f"{_(complaints.SCOPE_TITLES[self.scope])} · {total} · "
            + _("page {n}/{pages}").format(n=self.page + 1, pages=pages)
        )
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            flags = ("↑" if r.escalated else "") + ("⏸" if r.waiting else "")
            table.add_row(
                str(r.id),
                fit(Text(r.customer_name, no_wrap=True, overflow="ellipsis"), 13),
                fit(Text(f"{flags}{_(STATUS_WORDS.get(r.status, r.status))}",
                         no_wrap=True, overflow="ellipsis"), 14),
                clock_cell(r),
                fit(Text(r.owner, no_wrap=True, overflow="ellipsis"), 8),
                f"{desk.local(r.created_at):%m-%d}",  # 5 cells in every language
                key=str(r.id),
            )  # fmt: skip
        if not rows:
            shown = _(complaints.SCOPE_TITLES[self.scope])
            self.query_one("#cl-title", Label).update(
                _("{list}: none open (a shows other lists)").format(list=shown)
                if roles.may(self.seat_agent, roles.ALL_COMPLAINTS)
                else _("{list}: none open").format(list=shown)  # an agent's a is refused
            )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.role_allows(action):
            return False  # an agent sees only their own complaints: no scope key
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
        agent = self.seat_agent
        scopes = complaint_scopes(agent)
        if len(scopes) == 1:  # an agent sees their own complaints only
            self.notify(roles.refusal(roles.ALL_COMPLAINTS, agent), severity="warning")
            return
        self.scope = scopes[(scopes.index(self.scope) + 1) % len(scopes)]

    def action_refresh(self) -> None:
        self.load()

    def action_closed_cases(self) -> None:
        self.app.push_screen(ClosedCasesScreen())

    def action_back(self) -> None:
        self.dismiss(None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(ComplaintScreen(int(event.row_key.value)), self._back_here)

    def _back_here(self, _result: None) -> None:
        self.load()
