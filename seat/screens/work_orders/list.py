"""The work order list: filtered by keys, one page at a time (50 rows, never thousands)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from rich.text import Text
from textual import on, work
from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Input, Label, Select

from seat import workorders
from seat.customers import ValidationError
from seat.i18n import N_, NC_, _
from seat.screens.background import DeskWorker
from seat.screens.form import FormScreen
from seat.screens.work_orders.work_order import WorkOrderScreen
from seat.services import StorageError
from seat.widgets.lines import fit
from seat.widgets.table import SeatTable
from seat.workorders import OrderPage, OrderQuery

PAGE_SIZE = 50
STATE_CYCLE: tuple[str | None, ...] = (*workorders.STATES, None)
KIND_CYCLE: tuple[str | None, ...] = (None, *workorders.KINDS)


@dataclass(frozen=True)
class Filters:
    """What the agent chose; turned into an OrderQuery with the desk's time zone."""

    state: str | None = "open"
    kind: str | None = None
    assignee_id: int | None = None
    assignee: str = ""
    work_center: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    urgent_only: bool = False

    def query(self, zone: Any) -> OrderQuery:
        start = workorders.day_bounds(self.created_from, zone)[0] if self.created_from else None
        end = workorders.day_bounds(self.created_to, zone)[1] if self.created_to else None
        return OrderQuery(
            state=self.state, kind=self.kind, assignee_id=self.assignee_id,
            work_center=self.work_center, created_from=start, created_to=end,
            urgent_only=self.urgent_only,
        )

    def describe(self) -> str:
        parts = [_(workorders.STATE_LABELS.get(self.state or "", N_("any state")))]
        parts.append(_(workorders.KIND_LABELS.get(self.kind or "", N_("both kinds"))))
        parts.append(self.assignee or _("anyone"))
        if self.work_center:
            parts.append(self.work_center)
        if self.created_from or self.created_to:
            a = f"{self.created_from:%m-%d}" if self.created_from else "…"
            b = f"{self.created_to:%m-%d}" if self.created_to else "…"
            parts.append(_("created {a}–{b}").format(a=a, b=b))
        if self.urgent_only:
            parts.append(_("urgent only"))
        return " · ".join(parts)


def _cycle(values: tuple[Any, ...], current: Any) -> Any:
    i = values.index(current) if current in values else -1
    return values[(i + 1) % len(values)]


class FilterForm(FormScreen):
    """Every filter at once: assignee, work center, created dates (state, kind, urgency)."""

    TITLE_TEXT = N_("Filter work orders")

    def __init__(self, current: Filters, agents: list[tuple[int, str]],
                 centers: tuple[str, ...]) -> None:
        super().__init__()
        self.current = current
        self.agents = agents
        self.centers = centers

    def fields(self) -> ComposeResult:
        c = self.current
        yield from self.field(
            _("State"), "state",
            Select([(workorders.state_label(s), s) for s in workorders.STATES],
                   value=c.state or Select.NULL, prompt=_("any state")),
        )
        yield from self.field(
            _("Kind"), "kind",
            Select([(_(workorders.KIND_LABELS[k]), k) for k in workorders.KINDS],
                   value=c.kind or Select.NULL, prompt=_("both kinds")),
        )
        yield from self.field(
            _("Assignee"), "assignee",
            Select([(n, str(i)) for i, n in self.agents],
                   value=str(c.assignee_id) if c.assignee_id else Select.NULL,
                   prompt=_("anyone")),
        )
        centers = sorted({*self.centers, *([c.work_center] if c.work_center else [])})
        yield from self.field(
            _("Work center"), "work_center",
            Select([(w, w) for w in centers], value=c.work_center or Select.NULL,
                   prompt=_("any")),
        )
        yield from self.field(
            _("Created from (YYYY-MM-DD)"), "created_from",
            Input(f"{c.created_from:%Y-%m-%d}" if c.created_from else ""),
        )
        yield from self.field(
            _("Created to (YYYY-MM-DD, that day included)"), "created_to",
            Input(f"{c.created_to:%Y-%m-%d}" if c.created_to else ""),
        )
        yield from self.field(
            _("Urgency"), "urgent_only", Checkbox(_("Urgent only"), c.urgent_only)
        )

    def submit(self) -> Filters:  # type: ignore[override]
        errors: dict[str, str] = {}
        days: dict[str, date | None] = {}
        for name in ("created_from", "created_to"):
            raw = self.value(name).strip()
            try:
                days[name] = date.fromisoformat(raw) if raw else None
            except ValueError:
                errors[name] = _("Not a date; use 2026-11-23.")
        if not errors and days["created_from"] and days["created_to"]:
            if days["created_to"] < days["created_from"]:
                errors["created_to"] = _("The end is before the start.")
        if errors:
            raise ValidationError(errors)
        assignee = self.value("assignee")
        names = dict(self.agents)
        return Filters(
            state=self.value("state") or None,
            kind=self.value("kind") or None,
            assignee_id=int(assignee) if assignee else None,
            assignee=names.get(int(assignee), "") if assignee else "",
            work_center=self.value("work_center") or None,
            created_from=days["created_from"],
            created_to=days["created_to"],
            urgent_only=self.flag("urgent_only"),
        )


class WorkOrderListScreen(DeskWorker, Screen[None]):
    """All work orders, filtered and paged; Enter opens one."""

    BINDINGS = [
        Binding("s", "cycle_state", N_("State"), tooltip=N_("Open, in process, closed, any"),
                id="orders.state"),
        Binding("k", "cycle_kind", N_("Kind"),
                tooltip=N_("Service request, delivery exception, both"),
                id="orders.kind"),
        Binding("m", "mine", N_("Mine"), tooltip=N_("Only mine / anyone's"), id="orders.mine"),
        Binding("u", "urgent", N_("Urgent"),
                tooltip=N_("Only urgent orders / all"), id="orders.urgent"),
        Binding("f", "filters", N_("Filters"),
                tooltip=N_("Assignee, work center, created dates and the rest"),
                id="orders.filters"),
        Binding("left_square_bracket", "page(-1)", NC_("page", "Prev"), tooltip=N_("Previous page"),
                id="orders.prev"),
        Binding("right_square_bracket", "page(1)", NC_("page", "Next"), tooltip=N_("Next page"),
                id="orders.next"),
        Binding("r", "reload", N_("Refresh"),
                tooltip=N_("Read the list again"), id="orders.refresh",
                show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="orders.back"),
    ]

    DEFAULT_CSS = """
    WorkOrderListScreen #orders-filters { background: $boost; padding: 0 1; width: 100%; }
    WorkOrderListScreen DataTable { height: 1fr; scrollbar-size-vertical: 1; }
    WorkOrderListScreen #orders-status { color: $text-muted; padding: 0 1; }
    """

    filters: reactive[Filters] = reactive(Filters, init=False)
    """The filters in force; changing them reads page 1 again."""
    page: reactive[int] = reactive(1, init=False)
    """The page shown (1-based)."""

    @dataclass
    class Loaded(Message):
        result: OrderPage

    def __init__(self, filters: Filters | None = None) -> None:
        super().__init__()
        self.set_reactive(WorkOrderListScreen.filters, filters or Filters())
        self.result: OrderPage | None = None
        self._shown_job = 0
        """The job column's width when the rows were last shown."""

    def compose(self) -> ComposeResult:
        yield Label("", id="orders-filters")
        yield SeatTable(id="orders", cursor_type="row", zebra_stripes=True)
        yield Label("", id="orders-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.load()

    def on_screen_resume(self) -> None:
        if self.result is not None:
            self.load()  # an order may have moved while its detail was open

    @property
    def desk(self) -> Any:
        return self.services

    def watch_filters(self) -> None:
        self.set_reactive(WorkOrderListScreen.page, 1)
        self.load()

    def watch_page(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="orders")
    def load(self) -> None:
        query = self.filters.query(self.desk.zone)
        page = self.page
        self.app.call_from_thread(self._status, _("reading…"))
        try:
            result = self.desk.work_orders(query, page=page, page_size=PAGE_SIZE)
        except StorageError as exc:
            self.app.call_from_thread(self._status, str(exc))
            return
        self.post_message(self.Loaded(result))

    def _status(self, text: str) -> None:
        self.query_one("#orders-status", Label).update(text)

    def on_work_order_list_screen_loaded(self, event: Loaded) -> None:
        event.stop()
        self.show(event.result)

    def show(self, result: OrderPage) -> None:
        self.result = result
        self.set_reactive(WorkOrderListScreen.page, result.page)
        desk = self.desk
        now = desk.now()
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        job = self._job_width()
        self._shown_job = job
        for label, width in (("#", 7), (N_("Status"), 12), (N_("Job"), job),
                             (N_("Customer"), 10), (N_("Assignee"), 8), (N_("Expected end"), 12)):
            table.add_column(_(label), width=width, key=label)  # keys stay English
        for r in result.rows:
            late = r.late(now)
            num = Text(f"{'‼' if r.urgent else ' '}{r.id}", style="bold red" if r.urgent else "")
            mark = "⚠" if late else ("⏱" if r.clock_late else " ")  # past its end, or a clock
            due = Text(f"{mark}{desk.local(r.due_at):%m-%d %H:%M}",
                       style="red" if late or r.clock_late else "")
            table.add_row(
                num,
                fit(Text(workorders.status_label(r.status), overflow="ellipsis",
                         no_wrap=True), 12),
                fit(Text(r.short_text, overflow="ellipsis", no_wrap=True), job),
                fit(Text(r.customer, overflow="ellipsis", no_wrap=True), 10),
                fit(Text(r.assignee or "-", overflow="ellipsis", no_wrap=True), 8),
                due,
                key=str(r.id),
            )
        if result.rows:
            table.move_cursor(row=min(keep, len(result.rows) - 1))
        self.query_one("#orders-filters", Label).update(
            Text(_("Orders · {filters}").format(filters=self.filters.describe()), no_wrap=True,
                 overflow="ellipsis")
        )
        first = (result.page - 1) * result.page_size + 1
        shown = (
            _("{first}–{last} of {total}").format(
                first=first, last=first + len(result.rows) - 1, total=f"{result.total:,}")
            if result.rows else _("no orders match")
        )
        order = _(workorders.ORDER_LABELS[workorders.order_of(self.filters.query(desk.zone))])
        self._status(
            _("{shown} · page {page}/{pages} · {order} · ‼ urgent ⚠ late ⏱ clock late").format(
                shown=shown, page=result.page, pages=result.pages, order=order)
        )
        self.refresh_bindings()

    def _job_width(self) -> int:
        """The job column takes what the other columns leave of the screen's width."""
        return max(16, self.size.width - 64)

    def on_resize(self) -> None:
        # A terminal made narrower must not push the customer and the end off the screen.
        if self.result is not None and self._job_width() != self._shown_job:
            self.show(self.result)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if "(" in action:  # the command palette asks with the binding's whole action text
            __, action, parameters = parse_action(action)
        if action == "page" and self.result is not None:
            step = int(parameters[0])  # type: ignore[call-overload]
            target = self.result.page + step
            return 1 <= target <= self.result.pages
        return True

    # -- actions ----------------------------------------------------------------------------

    def action_cycle_state(self) -> None:
        self.filters = replace(self.filters, state=_cycle(STATE_CYCLE, self.filters.state))

    def action_cycle_kind(self) -> None:
        self.filters = replace(self.filters, kind=_cycle(KIND_CYCLE, self.filters.kind))

    def action_mine(self) -> None:
        agent = self.seat_agent
        if self.filters.assignee_id == agent.id:
            self.filters = replace(self.filters, assignee_id=None, assignee="")
        else:
            self.filters = replace(self.filters, assignee_id=agent.id,
                                   assignee=agent.display_name)

    def action_urgent(self) -> None:
        self.filters = replace(self.filters, urgent_only=not self.filters.urgent_only)

    def action_filters(self) -> None:
        centers = self.desk.work_order_policy().work_centers

        def chosen(result: Filters | None) -> None:
            if result is not None:
                self.filters = result

        self.in_worker(
            lambda desk: desk.assignable(),
            lambda agents: self.app.push_screen(
                FilterForm(self.filters, agents, centers), chosen  # type: ignore[arg-type]
            ),
            group="open-form", move=True,
        )  # fmt: skip

    def action_page(self, step: int) -> None:
        if self.result is None:
            return
        target = self.result.page + step
        if 1 <= target <= self.result.pages:
            self.page = target

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected)
    def open_order(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.app.push_screen(WorkOrderScreen(int(event.row_key.value)))
