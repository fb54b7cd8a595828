"""The desk: what the agent sees between calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, OptionList, Static

from seat import labels, roles
from seat.i18n import N_, _, format_datetime
from seat.labels import label
from seat.privacy import mask_phone
from seat.screens.background import DeskWorker
from seat.screens.role_keys import RoleKeys
from seat.services import RecentCall, StorageError
from seat.textguard import shown
from seat.widgets.lines import fit_text
from seat.widgets.sidebar import Sidebar
from seat.widgets.table import SeatTable

if TYPE_CHECKING:  # the desk is drawn before they run (seat.lazy)
    from seat.calls import CallState
    from seat.notices import NoticeView

# The call, customer and work-order screens are imported where first used: they are most of
# the desk's import time, and the desk shows before any of them is needed.

KEYS = (
    ("n", N_("take a call"), "f", N_("find a customer")),
    ("s", N_("my queue"), "z", N_("snooze callback")),
    ("c", N_("complaints"), "t", N_("statistics")),
    ("w", N_("work orders"), "p", N_("work plan")),
    ("b", N_("callbacks"), "r", N_("refresh")),
    ("v", N_("wallboard"), "g", N_("trends")),
    ("^p", N_("all commands"), "q", N_("quit")),
)
CLOCK_SECONDS = 5.0
"""How often the header clock (minutes shown) is read again."""
COLUMNS = ((N_("When"), 11), (N_("Customer"), 10), (N_("Need"), 8), (N_("Outcome"), 9))


KEY_ROLES = {"v": roles.WALLBOARD, "n": roles.WORK_CASES, "z": roles.WORK_CASES}
"""Desk keys only some roles may use (roles.PERMISSIONS keys): left off the key card."""


def welcome(agent: roles.HasRole | None) -> Text:
    """Every desk key `agent` can use, two to a line (the footer has room for the main ones)."""
    keys = [
        (key, what)
        for k1, what1, k2, what2 in KEYS
        for key, what in ((k1, what1), (k2, what2))
        if key not in KEY_ROLES or roles.may(agent, KEY_ROLES[key])
    ]
    text = Text()
    for i in range(0, len(keys), 2):
        if i:
            text.append("\n")
        (k1, what1), *second = keys[i : i + 2]
        text.append(f"{k1:>2} ", style="bold")
        what1 = _(what1)
        text.append(what1 + " " * max(1, 16 - cell_len(what1)))  # cells: CJK counts double
        for k2, what2 in second:
            text.append(f"{k2:>2} ", style="bold")
            text.append(_(what2))
    return text


def masked_caller(e164: str | None, region: str, width: int) -> str:
    """An unregistered caller's number, masked ("138****1234") and fitted to `width` cells.

    The shown ends matter more than the count of stars: a run of stars is shortened to three,
    then the digits after the country code go ("+44***0958"); the last digits always stay.
    """
    masked = mask_phone(e164, region)
    head, stars, tail = masked.partition("*")
    if cell_len(masked) <= width or not stars:
        return masked if cell_len(masked) <= width else "…" + masked[len(masked) - width + 1 :]
    tail = tail.lstrip("*")
    head = head[: max(0, width - 3 - len(tail))].rstrip()
    return (head + "***" + tail)[-width:]


class OneLine(Static):
    """One line cut to the width it has, '…' where it was cut (the greeting: at 80 columns
    it read "... · Seat Home Servic", clipped by the column with no mark)."""

    def __init__(self, *, id: str) -> None:  # noqa: A002 (Textual's own name)
        super().__init__("", id=id)
        self._line = ""

    def show(self, line: str) -> None:
        self._line = line
        self.refresh()

    def render(self) -> Text:
        width = self.content_size.width
        return fit_text(self._line, width) if width > 0 else Text(self._line, no_wrap=True)


class DeskScreen(DeskWorker, RoleKeys, Screen[None]):
    ROLE_ACTIONS = {
        "wallboard": roles.WALLBOARD, "agent_figures": roles.AGENT_FIGURES,
        "members": roles.MEMBER_REPORT, "new_call": roles.WORK_CASES,
        "snooze": roles.WORK_CASES,
    }

    BINDINGS = [
        Binding(
            "n,f2",
            "new_call",
            N_("Take call"),
            tooltip=N_("Start a call: type the caller's number"),
            id="desk.new_call",
        ),
        Binding(
            "f", "find", N_("Find"),
            tooltip=N_("Find a customer by name, address, customer, order or phone number"),
            id="desk.find",
        ),  # fmt: skip
        Binding(
            "s",
            "focus_queue",
            N_("Queue"),
            tooltip=N_("Move to the sidebar queue"),
            id="desk.queue",
            show=False,
        ),
        Binding(
            "w", "work_orders", N_("Orders"), tooltip=N_("The work order list"), id="desk.orders"
        ),
        Binding(
            "p",
            "work_plan",
            N_("Plan"),
            tooltip=N_("The daily work plan"),
            id="desk.plan",
            show=False,
        ),
        Binding(
            "b",
            "callbacks",
            N_("Callbacks"),
            tooltip=N_("Callback coverage, to-do"),
            id="desk.callbacks",
        ),
        Binding(
            "z",
            "snooze",
            N_("Snooze"),
            tooltip=N_("Snooze the highlighted callback"),
            id="desk.snooze",
        ),
        Binding(
            "c",
            "complaints",
            N_("Complaints"),
            tooltip=N_("Open complaints: mine, all, approvals"),
            id="desk.complaints",
        ),
        Binding(
            "o",
            "suggestions",
            N_("Suggestions"),
            tooltip=N_("The suggestions register (意见和建议)"),
            id="desk.suggestions",
            show=False,
        ),
        Binding(
            "t",
            "complaint_stats",
            N_("Statistics"),
            tooltip=N_("Complaint statistics by category"),
            id="desk.complaint_stats",
            show=False,
        ),
        Binding(
            "r",
            "refresh",
            N_("Refresh"),
            tooltip=N_("Reload queue and recent calls"),
            id="desk.refresh",
            show=False,
        ),
        Binding(
            "v",
            "wallboard",
            N_("Wallboard"),
            tooltip=N_("Live queues of the whole floor (supervisors)"),
            id="desk.wallboard",
            show=False,
        ),
        Binding(
            "g",
            "trends",
            N_("Trends"),
            tooltip=N_("Daily and weekly statistics with charts"),
            id="desk.trends",
            show=False,
        ),
        Binding(
            "a",
            "agent_figures",
            N_("Agent figures"),
            tooltip=N_("Each agent's figures by day, week or month (supervisors)"),
            id="desk.agent_figures",
            show=False,
        ),
        Binding(
            "i",
            "notices",
            N_("Notices"),
            tooltip=N_("Notices valid now: outages and service notices to read out"),
            id="desk.notices",
            show=False,
        ),
        Binding(
            "m",
            "members",
            N_("Members"),
            tooltip=N_("Member analysis: new, active, churned, spend (supervisors)"),
            id="desk.members",
            show=False,
        ),
        Binding(
            "e",
            "quality",
            N_("Quality"),
            tooltip=N_("Quality spot-checks: draw and score calls (supervisors), else your "
                       "own scores"),
            id="desk.quality",
            show=False,
        ),
        Binding("q", "app.quit", N_("Quit"), tooltip=N_("Leave the seat"), id="desk.quit"),
    ]

    DEFAULT_CSS = """
    DeskScreen #body { height: 1fr; }
    DeskScreen #main { width: 1fr; padding: 0 1; }
    DeskScreen #hello { width: 100%; height: 1; background: $boost; padding: 0 1;
                        text-style: bold; }
    DeskScreen #keys { height: auto; padding: 0 1; border: round $primary; margin: 1 0 0 0; }
    DeskScreen #recent-title { text-style: bold; }
    DeskScreen #notices { height: auto; max-height: 3; padding: 0 1; color: $warning;
                          display: none; }
    DeskScreen DataTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield OneLine(id="hello")
                yield Label("", id="notices")
                yield Static(welcome(getattr(self.app, "agent", None)), id="keys")
                yield Label(_("My last calls"), id="recent-title")
                yield SeatTable(id="recent", cursor_type="row", zebra_stripes=True)
            yield Sidebar(id="sidebar")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Fixed widths: a long (or CJK) name must not push the outcome off an 80x24 screen.
        for heading, width in COLUMNS:
            table.add_column(_(heading), width=width)
        self._hello()
        # The header clock follows the seat's clock (injected: a test's FixedClock too).
        self.set_interval(CLOCK_SECONDS, self._hello)
        # Read once the desk is drawn: begun here, the reads' threads held the interpreter
        # while the first frame was laid out (~60-90 ms of every start). They show the same.
        self.call_after_refresh(self.load_recent)
        self.call_after_refresh(self.load_notices)
        self.on_work_changed(lambda __: self.load_recent())  # a call saved here, a reassignment
        self.query_one("#sidebar OptionList").focus()

    def _hello(self) -> None:
        desk = self.services
        agent = self.seat_agent
        now = desk.local(desk.now())
        role = (
            _(" (supervisor)") if agent.role == "supervisor"
            else f" ({_(roles.ROLE_NAMES[agent.role])})"
            if agent.role in roles.ROLE_NAMES and agent.role != "agent" else ""
        )  # fmt: skip
        self.query_one("#hello", OneLine).show(
            f"{agent.display_name}{role} · {format_datetime(now, 'full')} · "
            f"{desk.settings.company}"
        )

    def load_notices(self) -> None:
        """The notices valid now, on one line under the greeting (none: no line)."""
        self.in_worker(lambda desk: desk.current_notices(), self._show_notices, group="notices")

    def _show_notices(self, found: list[NoticeView]) -> None:
        line = self.query_one("#notices", Label)
        line.display = bool(found)
        if found:
            titles = "; ".join(shown(n.title) for n in found)
            line.update(Text(
                _("Notices valid now ({n}, i to read): {titles}").format(n=len(found),
                                                                         titles=titles),
                no_wrap=True, overflow="ellipsis",
            ))  # fmt: skip

    @work(thread=True, exclusive=True, group="recent")
    def load_recent(self) -> None:
        desk = self.services
        try:
            rows = desk.recent_calls(self.seat_agent.id)
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._fill_recent, rows)

    def _fill_recent(self, rows: list[RecentCall]) -> None:
        desk = self.services
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            who = r.customer or masked_caller(r.from_number, desk.settings.region, 10) or "-"
            table.add_row(
                format_datetime(desk.local(r.started_at), "short"),
                fit_text(who, 10),
                fit_text(label(labels.NEEDS, r.need_category), 8),
                fit_text(label(labels.OUTCOMES, r.outcome), 9),
                key=str(r.id),
            )

    @on(DataTable.RowSelected, "#recent")
    def open_recording(self, event: DataTable.RowSelected) -> None:
        """Enter on a last call plays its recording, when the phone system sent one and a
        player is set (recording_command)."""
        call_id = int(event.row_key.value or 0)
        self.in_worker(
            lambda desk: desk.open_call_recording(call_id),
            lambda done: self.notify(
                done.message, severity="information" if done.started else "warning"
            ),
            group="recording",
        )

    # -- actions ----------------------------------------------------------------------------

    @dataclass
    class CallReady(Message):
        """An incoming call was looked up and its state made: the call screen can open."""

        state: CallState
        customer_name: str
        shared: tuple = ()  # seat.search.SearchHit: the customers sharing the number

    @work(thread=True, exclusive=True, group="incoming")
    def take_call(self, e164: str, call_ref: str | None = None) -> None:
        """An incoming call from the phone system: the caller's card, ready for the script.
        `call_ref` is the phone system's id for the call (seat cti serve), kept on the call."""
        desk = self.services
        try:
            # A withheld number pops as "" (seat pop): the call opens asking for the number.
            hits = desk.lookup_callers(e164)[1] if e164 else []
            hit = hits[0] if len(hits) == 1 else None
            # A shared number (a family's landline): the call asks who is calling.
            shared = tuple(desk.search_customers(e164)) if len(hits) > 1 else ()
            state = desk.new_call(
                agent_id=self.seat_agent.id,
                customer_id=hit.id if hit else None,
                from_number=e164 or None,
                call_ref=call_ref,
            )
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.post_message(self.CallReady(state, hit.name if hit else "", shared))

    def on_desk_screen_call_ready(self, event: CallReady) -> None:
        from seat.screens.calls.call import CallScreen

        self.app.bell()
        self.app.push_screen(
            CallScreen(event.state, customer_name=event.customer_name, shared=event.shared)
        )

    def action_new_call(self) -> None:
        desk = self.services
        if "inbound" not in desk.scripts:
            self.notify(
                _(
                    "The inbound call script could not be loaded (see the message at start-up); "
                    "fix data/scripts/inbound.toml."
                ),
                severity="error",
            )
            return
        from seat.screens.calls.call import CallScreen

        state = desk.new_call(agent_id=self.seat_agent.id)
        self.app.push_screen(CallScreen(state))

    def action_find(self) -> None:
        from seat.screens.calls.find_customer import FindCustomerScreen

        self.app.push_screen(FindCustomerScreen())

    def action_complaints(self) -> None:
        from seat.screens.complaints.list import ComplaintListScreen

        self.app.push_screen(ComplaintListScreen())

    def action_suggestions(self) -> None:
        from seat.screens.complaints.suggestions import SuggestionListScreen

        self.app.push_screen(SuggestionListScreen())

    def action_complaint_stats(self) -> None:
        from seat.screens.complaints.stats import ComplaintStatsScreen

        self.app.push_screen(ComplaintStatsScreen())

    def action_work_orders(self) -> None:
        from seat.screens.work_orders.list import WorkOrderListScreen

        self.app.push_screen(WorkOrderListScreen())

    def action_work_plan(self) -> None:
        from seat.screens.work_orders.workplan import WorkPlanScreen

        self.app.push_screen(WorkPlanScreen())

    def action_wallboard(self) -> None:
        from seat.screens.supervisor.wallboard import WallboardScreen

        self.app.push_screen(WallboardScreen())

    def action_members(self) -> None:
        from seat.screens.supervisor.members import MembersScreen

        self.app.push_screen(MembersScreen())

    def action_trends(self) -> None:
        from seat.screens.supervisor.statistics import StatisticsScreen

        self.app.push_screen(StatisticsScreen())

    def action_notices(self) -> None:
        from seat.screens.notices import NoticesScreen

        self.app.push_screen(NoticesScreen(), lambda __: self.load_notices())

    def action_agent_figures(self) -> None:
        from seat.screens.supervisor.agent_figures import AgentFiguresScreen

        self.app.push_screen(AgentFiguresScreen())

    def action_quality(self) -> None:
        """A supervisor scores calls; an agent reads their own scores."""
        if roles.may(self.seat_agent, roles.QUALITY_SCORE):
            from seat.screens.supervisor.quality import QualityScreen

            self.app.push_screen(QualityScreen())
        else:
            from seat.screens.my_quality import MyQualityScreen

            self.app.push_screen(MyQualityScreen())

    def action_focus_queue(self) -> None:
        queue = self.query_one("#sidebar OptionList", OptionList)
        queue.focus()
        if queue.highlighted is None:  # Enter at once opens the most urgent item
            queue.action_first()

    def action_callbacks(self) -> None:
        from seat.screens.callbacks.view import CallbacksScreen

        self.app.push_screen(CallbacksScreen(), self._callbacks_closed)

    def _callbacks_closed(self, chosen: tuple[int, int] | None) -> None:
        """Back from the callbacks view: a callback chosen there starts as from the sidebar."""
        self.action_refresh()
        if chosen is not None:
            self.post_message(Sidebar.CallbackChosen(*chosen))

    def action_snooze(self) -> None:
        from seat.screens.callbacks.view import SnoozeForm
        from seat.widgets.callback_items import sidebar_callback_id

        cb_id = sidebar_callback_id(self)
        if cb_id is None:
            self.notify(_("Highlight a callback in the queue first (s, ↑↓)."), severity="warning")
            return

        def snoozed(result: int | None) -> None:
            if result is not None:
                self.notify(_("Callback #{id} snoozed.").format(id=result))
                self.action_refresh()

        self.app.push_screen(SnoozeForm(cb_id), snoozed)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Snooze shows only while a callback is highlighted in the queue."""
        if not self.role_allows(action):
            return False
        if action == "snooze":
            from seat.widgets.callback_items import sidebar_callback_id

            return sidebar_callback_id(self) is not None
        return True

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self.refresh_bindings()

    def action_refresh(self) -> None:
        self._hello()
        self.query_one(Sidebar).refresh_data()
        self.load_recent()
        self.load_notices()

    def on_sidebar_complaint_chosen(self, event: Sidebar.ComplaintChosen) -> None:
        from seat.screens.complaints.complaint import ComplaintScreen

        self.app.push_screen(ComplaintScreen(event.complaint_id))

    def on_sidebar_work_order_chosen(self, event: Sidebar.WorkOrderChosen) -> None:
        from seat.screens.work_orders.work_order import WorkOrderScreen

        self.app.push_screen(WorkOrderScreen(event.work_order_id))

    def on_sidebar_callback_chosen(self, event: Sidebar.CallbackChosen) -> None:
        from seat.screens.calls.call import CallScreen

        agent_id = self.seat_agent.id

        def read(desk: Any) -> tuple[Any, str] | None:
            # The kind's own script; a birthday and a churn call due together are one call.
            found = desk.callback_call(event.callback_id, agent_id=agent_id)
            return (found, desk.customer_name(found[0].customer_id)) if found else None

        def shown(got: tuple[Any, str] | None) -> None:
            if got is None:
                self.notify(_("That callback is gone."), severity="warning")
                return
            (state, plan), name = got
            self.app.push_screen(CallScreen(state, customer_name=name, reason=plan.reason))

        # One Enter, one call: a second choice while this one is read is refused.
        self.in_worker(read, shown, group="callback-call", move=True)
