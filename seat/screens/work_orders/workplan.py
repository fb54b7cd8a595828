"""The daily work plan (工作计划表) on screen: one day, one technician or work center."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Select

from seat import workplan
from seat.customers import ValidationError
from seat.export import Table
from seat.i18n import N_, NC_, _, format_date
from seat.privacy import mask_address
from seat.screens.background import DeskWorker
from seat.screens.form import FormScreen
from seat.screens.reveal import RevealScreen, in_call_with
from seat.screens.work_orders.work_order import WorkOrderScreen
from seat.services import StorageError
from seat.widgets.table import SeatTable

MAX_ROWS = 300  # the screen is for the day's work; the whole floor prints with `seat workplan`


@dataclass(frozen=True)
class PlanChoice:
    day: date
    login: str | None  # None: every technician
    work_center: str | None = None


class PlanForm(FormScreen):
    TITLE_TEXT = N_("Work plan for")

    def __init__(self, current: PlanChoice, agents: list[tuple[str, str]],
                 centers: tuple[str, ...]) -> None:
        super().__init__()
        self.current = current
        self.agents = agents
        self.centers = centers

    def fields(self) -> ComposeResult:
        c = self.current
        yield from self.field(_("Day (YYYY-MM-DD) *"), "day", Input(f"{c.day:%Y-%m-%d}"))
        yield from self.field(
            _("Technician"), "login",
            Select([(n, login) for login, n in self.agents], value=c.login or Select.NULL,
                   prompt=_("every technician")),
        )
        centers = sorted({*self.centers, *([c.work_center] if c.work_center else [])})
        yield from self.field(
            _("Work center"), "work_center",
            Select([(w, w) for w in centers], value=c.work_center or Select.NULL, prompt=_("any")),
        )

    def submit(self) -> PlanChoice:  # type: ignore[override]
        try:
            day = date.fromisoformat(self.value("day").strip())
        except ValueError:
            raise ValidationError({"day": _("Not a date; use 2026-11-23.")}) from None
        return PlanChoice(day, self.value("login") or None, self.value("work_center") or None)


class WorkPlanScreen(DeskWorker, Screen[None]):
    """Open orders planned for the day (or overdue), urgent first; Enter opens one."""

    BINDINGS = [
        Binding("left_square_bracket", "day(-1)", NC_("day", "Prev"), tooltip=N_("The day before"),
                id="plan.prev"),
        Binding("right_square_bracket", "day(1)", NC_("day", "Next"), tooltip=N_("The day after"),
                id="plan.next"),
        Binding("t", "today", N_("Today"), tooltip=N_("Back to today"), id="plan.today"),
        Binding("m", "mine", N_("Mine/all"), tooltip=N_("My plan / every technician's"),
                id="plan.mine"),
        Binding("f", "choose", N_("Choose"),
                tooltip=N_("Pick the day, the technician or the work center"), id="plan.choose"),
        Binding("r", "reload", N_("Refresh"), tooltip=N_("Read the plan again"), id="plan.refresh",
                show=False),
        Binding("ctrl+r", "reveal", N_("Reveal"), id="plan.reveal",
                tooltip=N_("Show the highlighted order's service address (asks for a reason, "
                           "logged)")),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="plan.back"),
    ]

    DEFAULT_CSS = """
    WorkPlanScreen #plan-title { background: $boost; padding: 0 1; width: 100%;
                                 text-style: bold; }
    WorkPlanScreen DataTable { height: 1fr; scrollbar-size-vertical: 1; }
    WorkPlanScreen #plan-status { color: $text-muted; padding: 0 1; }
    """

    choice: reactive[PlanChoice | None] = reactive(None, init=False)
    """The day and whose plan is shown."""

    revealed: reactive[frozenset[int]] = reactive(frozenset(), init=False)
    """Customers whose service address was revealed (with a reason) on this screen."""

    @dataclass
    class Loaded(Message):
        tables: list[Table]
        customers: dict[int, int]
        """The customer of each order, by order id."""

    def __init__(self, choice: PlanChoice | None = None) -> None:
        super().__init__()
        self._initial = choice
        self._tables: list[Table] = []
        self._customers: dict[int, int] = {}
        self._addresses: dict[str, str] = {}  # row key -> the address as stored

    def compose(self) -> ComposeResult:
        yield Label("", id="plan-title")
        yield SeatTable(id="plan", cursor_type="row", zebra_stripes=True)
        yield Label("", id="plan-status")
        yield Footer(compact=True)

    @property
    def desk(self) -> Any:
        return self.services

    def on_mount(self) -> None:
        agent = self.seat_agent
        self.query_one(DataTable).focus()
        self.choice = self._initial or PlanChoice(self.desk.today(), agent.name)

    def on_screen_resume(self) -> None:
        if self.choice is not None:
            self.load()

    def watch_choice(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="plan")
    def load(self) -> None:
        c = self.choice
        if c is None:
            return
        desk = self.desk
        try:
            tables, customers = desk.work_plan(
                c.day, assignee=c.login, work_center=c.work_center, limit=MAX_ROWS
            )
        except (StorageError, LookupError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.post_message(self.Loaded(tables, customers))

    def on_work_plan_screen_loaded(self, event: Loaded) -> None:
        event.stop()
        self._customers = event.customers
        self.show(event.tables)

    def watch_revealed(self) -> None:
        if self.choice is not None:
            self.show(self._tables)

    def _address_shown(self, customer_id: int | None) -> bool:
        """Plain on the current call's customer, or once revealed here; masked otherwise."""

        return customer_id in self.revealed or in_call_with(self.app, customer_id)

    def _highlighted(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key, _column = table.coordinate_to_cell_key(table.cursor_coordinate)
        return key.value

    def show(self, tables: list[Table]) -> None:
        c = self.choice
        assert c is not None
        self._tables = tables
        h = {name: i for i, name in enumerate(workplan.HEADERS)}
        many = len(tables) > 1 or c.login is None
        table = self.query_one(DataTable)
        was = self._highlighted()
        table.clear(columns=True)
        self._addresses = {}
        last = "Technician" if many else "Service address"
        job = max(14, self.size.width - 60)
        for label, width in (("#", 7), (N_("Start"), 5), (N_("End"), 12), (N_("Customer"), 10),
                             (N_("Job"), job), (last, 14)):
            heading = _("Address") if label == "Service address" else _(label)
            table.add_column(heading, width=width, key=label)  # keys stay English
        n = urgent = 0
        late_suffix = _("{time} overdue").split("{time}")[-1]  # how seat.workplan marks it
        for t in tables:
            for row in t.rows:
                n += 1
                urgent += bool(row[h["Urgent"]])
                end = str(row[h["Expected end"]])
                overdue = bool(late_suffix) and end.endswith(late_suffix)
                end = f"⚠{end.removesuffix(late_suffix)}" if overdue else f" {end}"
                job = str(row[h["Job"]]).rsplit(" (", 1)[0]  # the kind is in the detail
                key = str(row[h["No."]])
                last_cell = str(row[h[last]])
                if not many:  # the service address: masked unless this customer's may show
                    self._addresses[key] = last_cell
                    if not self._address_shown(self._customers.get(int(key))):
                        last_cell = mask_address(last_cell)
                table.add_row(
                    Text(f"{row[h['Urgent']] or ' '}{row[h['No.']]}",
                         style="bold red" if row[h["Urgent"]] else ""),
                    str(row[h["Start"]])[:5],  # HH:MM that day, else the date MM-DD
                    Text(end, style="red" if overdue else ""),
                    Text(str(row[h["Customer"]]), overflow="ellipsis", no_wrap=True),
                    Text(job, overflow="ellipsis", no_wrap=True),
                    Text(last_cell, overflow="ellipsis", no_wrap=True),
                    key=key,
                )
        if was is not None and was in table.rows:
            table.move_cursor(row=table.get_row_index(was), animate=False)
        who = (tables[0].meta["technician"] if c.login else _("every technician"))
        if c.work_center:
            who += f" · {c.work_center}"
        self.query_one("#plan-title", Label).update(
            Text(_("Work plan · {day} · {who}").format(day=format_date(c.day, "full"), who=who),
                 no_wrap=True, overflow="ellipsis")
        )
        more = _(" (first ones shown)") if n >= MAX_ROWS else ""
        args = f"--date {c.day:%Y-%m-%d}" + (f" --assignee {c.login}" if c.login else "")
        self.query_one("#plan-status", Label).update(
            Text(_("{n} orders{more}, {urgent} urgent · print: seat workplan {args}").format(
                    n=n, more=more, urgent=urgent, args=args),
                 no_wrap=True, overflow="ellipsis")
        )
        self.refresh_bindings()

    # -- actions ----------------------------------------------------------------------------

    def action_day(self, step: int) -> None:
        if self.choice is not None:
            self.choice = replace(self.choice, day=self.choice.day + timedelta(days=step))

    def action_today(self) -> None:
        if self.choice is not None:
            self.choice = replace(self.choice, day=self.desk.today())

    def action_mine(self) -> None:
        if self.choice is None:
            return
        me = self.seat_agent.name
        self.choice = replace(self.choice, login=None if self.choice.login == me else me)

    def action_choose(self) -> None:
        if self.choice is None:
            return
        centers = self.desk.work_order_policy().work_centers

        def chosen(result: PlanChoice | None) -> None:
            if result is not None:
                self.choice = result

        def shown(agents: list[tuple[str, str]]) -> None:
            if self.choice is not None:
                self.app.push_screen(PlanForm(self.choice, agents, centers), chosen)  # type: ignore[arg-type]

        self.in_worker(
            lambda desk: [(a.name, a.display_name) for a in desk.agents()], shown,
            group="open-form", move=True,
        )  # fmt: skip

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Reveal is offered only on a highlighted row whose service address is masked."""
        if action != "reveal":
            return True
        key = self._highlighted() if self.is_mounted else None
        if key is None or not self._addresses.get(key):
            return False
        return not self._address_shown(self._customers.get(int(key)))

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def action_reveal(self) -> None:

        key = self._highlighted()
        customer_id = self._customers.get(int(key)) if key else None
        if customer_id is None:
            return

        def done(log_id: int | None) -> None:
            if log_id is not None:
                self.revealed = self.revealed | {customer_id}

        self.app.push_screen(RevealScreen(customer_id, ("address",)), done)

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected)
    def open_order(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.app.push_screen(WorkOrderScreen(int(event.row_key.value)))
