"""The member analysis with pictures (`m` on the desk, supervisors): members per month, spend
bands, gender, age and the top spenders, a chart and the table beside it.

The numbers are `seat.reports.members`, the same as `seat report members`. The database is
read in a worker; switching the view only redraws what was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Tab, Tabs
from textual_plotext import PlotextPlot

from seat.errors import PermissionDenied, PolicyError
from seat.export import Table
from seat.i18n import N_, _, format_date, pgettext
from seat.reports import members as member_report
from seat.reports.members import MemberAnalysis
from seat.screens.supervisor.statistics import PALETTE, Legend
from seat.services import StorageError
from seat.widgets.door import Seated
from seat.widgets.table import SeatTable

MONTHS_SHOWN = 12


class View(StrEnum):
    MONTHS = "months"
    SPEND = "spend"
    GENDER = "gender"
    AGE = "age"
    TOP = "top"


TAB_LABELS = {
    View.MONTHS: N_("Per month"),
    View.SPEND: N_("Spend bands"),
    View.GENDER: N_("Gender"),
    View.AGE: N_("Age"),
    View.TOP: N_("Top spenders"),
}
TABLES = {
    View.MONTHS: member_report.month_table,
    View.SPEND: member_report.spend_table,
    View.GENDER: member_report.gender_table,
    View.AGE: member_report.age_table,
    View.TOP: member_report.top_table,
}


def window(last: date) -> tuple[date, date]:
    """The twelve calendar months that end with the month of `last` (up to `last`)."""
    index = last.year * 12 + last.month - 1 - (MONTHS_SHOWN - 1)
    return date(index // 12, index % 12 + 1, 1), last


MONEY = "Spend"
"""The header of the columns that hold yuan."""


def _cell(value: object, money: bool = False) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if money else f"{value:g}"
    return str(value)


def _ticks(top: float) -> list[float]:
    """Round y ticks from 0 to at least `top`, five or fewer steps."""
    if top <= 0:
        return [0, 1]
    raw = top / 5
    magnitude = 10 ** (len(str(int(raw))) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(int(-(-top // step)) + 1)]


class MembersScreen(Seated, Screen[None]):
    BINDINGS = [
        Binding("m", "next_view", N_("View"),
                tooltip=N_("Per month, spend bands, gender, age, top spenders in turn"),
                id="members.view"),
        *(
            Binding(str(i), f"view('{v.value}')", TAB_LABELS[v], id=f"members.{v.value}",
                    show=False)
            for i, v in enumerate(View, start=1)
        ),
        Binding("left_square_bracket", "shift(-1)", N_("Earlier"),
                tooltip=N_("The twelve months before these"), id="members.earlier"),
        Binding("right_square_bracket", "shift(1)", N_("Later"),
                tooltip=N_("The twelve months after these"), id="members.later"),
        Binding("ctrl+r", "reload", N_("Reload"), tooltip=N_("Read the numbers again"),
                id="members.reload", show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="members.back"),
    ]  # fmt: skip

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    DEFAULT_CSS = """
    MembersScreen #mb-range { height: 1; padding: 0 1; background: $boost; width: 100%;
                              text-style: bold; }
    MembersScreen Tabs { height: 2; }
    MembersScreen #mb-body { height: 1fr; }
    MembersScreen.-wide #mb-body { layout: horizontal; }
    MembersScreen.-wide #mb-plot { width: 1fr; height: 1fr; }
    MembersScreen.-wide #mb-table { width: auto; max-width: 60%; height: 1fr; }
    MembersScreen.-narrow #mb-body { layout: vertical; }
    MembersScreen.-narrow #mb-plot { width: 1fr; height: 3fr; }
    MembersScreen.-narrow #mb-table { width: 1fr; height: 2fr; }
    MembersScreen #mb-legend { width: 100%; height: auto; max-height: 3; padding: 0 1; }
    MembersScreen #mb-chart { height: 1fr; }
    MembersScreen #mb-table { scrollbar-size-vertical: 1; }
    MembersScreen #mb-status { height: 1; padding: 0 1; color: $text-muted; }
    MembersScreen #mb-status.-error { color: $error; }
    """

    view: reactive[View] = reactive(View.MONTHS, init=False)
    last: reactive[date] = reactive(date.min, init=False)
    """The last day shown (today when the screen opens)."""

    @dataclass
    class Loaded(Message):
        data: MemberAnalysis

    @dataclass
    class Failed(Message):
        message: str

    def __init__(self) -> None:
        super().__init__()
        self.data: MemberAnalysis | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="mb-range")
        yield Tabs(
            *(Tab(f"{i} {_(TAB_LABELS[v])}", id=f"mb-{v.value}")
              for i, v in enumerate(View, start=1)),
            id="mb-tabs",
        )  # fmt: skip
        with Container(id="mb-body"):
            with Vertical(id="mb-plot"):
                yield Legend("", id="mb-legend")
                yield PlotextPlot(id="mb-chart")
            yield SeatTable(id="mb-table", zebra_stripes=True, cursor_type="row")
        yield Label("", id="mb-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#mb-table", DataTable).focus()
        self.query_one("#mb-status").display = False
        self.last = self.services.today()

    # -- loading ---------------------------------------------------------------------------

    def watch_last(self) -> None:
        self.load()

    def watch_view(self) -> None:
        self.query_one("#mb-tabs", Tabs).active = f"mb-{self.view.value}"
        self._show()

    @work(thread=True, exclusive=True, group="members")
    def load(self) -> None:
        desk = self.services
        first, last = window(self.last)
        self.app.call_from_thread(self._status, _("Counting…"))
        try:
            data = desk.member_analysis(first, last, self.seat_agent.id)
        except (StorageError, PolicyError, PermissionDenied) as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.Loaded(data))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        if (event.data.date_from, event.data.date_to) != window(self.last):
            return  # a load the keys have overtaken; the newer one is on its way
        self.data = event.data
        self._status("")
        self._show()

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self._status(event.message, error=True)

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#mb-status", Label)
        status.update(text)
        status.set_class(error, "-error")
        status.display = bool(text)

    # -- drawing ---------------------------------------------------------------------------

    def _table(self) -> Table | None:
        return TABLES[self.view](self.data) if self.data is not None else None

    def _show(self) -> None:
        data = self.data
        table = self._table()
        if data is None or table is None:
            return
        # Whole yuan in the title (the table has the cents): at 80 columns the cents were cut
        # to "¥695,095." under the DEMO mark.
        summary = _("{buyers} buyers, spend ¥{spend}").format(
            buyers=data.buyers, spend=f"{data.spend:,.0f}"
        )
        self.query_one("#mb-range", Label).update(
            f"{table.shown_title} · {format_date(data.date_from, 'medium')} – "
            f"{format_date(data.date_to, 'medium')} · {summary}"
        )
        view = self.query_one("#mb-table", DataTable)
        view.clear(columns=True)
        view.add_columns(*table.shown_headers)
        money = [h == MONEY for h in table.headers]
        view.add_rows(
            [[_cell(v, m) for v, m in zip(row, money, strict=False)] for row in table.shown_rows]
        )
        self._draw(data, table)

    def _draw(self, data: MemberAnalysis, table: Table) -> None:
        chart = self.query_one("#mb-chart", PlotextPlot)
        plt = chart.plt
        plt.clear_figure()
        legend: list[tuple[str, tuple[int, int, int]]] = []
        if self.view == View.MONTHS:
            names = [f"{m.month:%m}" for m in data.months]
            xs = list(range(1, len(names) + 1))
            new = [m.new for m in data.months]
            churned = [m.churned for m in data.months]
            active = [m.active for m in data.months]
            top = max([*new, *churned, *active, 0])
            plt.multiple_bar(xs, [new, churned], color=[PALETTE[2], PALETTE[3]], width=0.6,
                             marker="hd")  # fmt: skip
            plt.plot(xs, active, color=PALETTE[0], marker="braille")
            legend += [(pgettext("members", "new"), PALETTE[2]), (_("churned"), PALETTE[3]),
                       (_("active"), PALETTE[0])]  # fmt: skip
        elif self.view == View.TOP:
            names = [str(row[0]) for row in table.rows]
            xs = list(range(1, len(names) + 1))
            values = [row[-1] for row in table.rows]
            top = max(values, default=0)
            if values:
                plt.bar(xs, values, color=PALETTE[1], width=0.6, marker="hd")
                legend.append((_("spend, ¥ (customer #)"), PALETTE[1]))
        else:
            # A band's lower bound names its bar ("2,000" for 2,000-5,000): short enough that
            # no tick label is ever dropped for want of room.
            names = [str(row[0]).split("-")[0] for row in table.shown_rows]
            xs = list(range(1, len(names) + 1))
            values = [row[1] for row in table.rows]
            top = max(values, default=0)
            if any(values):
                plt.bar(xs, values, color=PALETTE[0], width=0.6, marker="hd")
                legend.append((_("customers"), PALETTE[0]))
        ticks = _ticks(top)
        plt.ylim(0, ticks[-1])
        plt.yticks(ticks)
        if xs:
            every = max(1, -(-len(names) * 8 // max(chart.size.width - 8, 8)))
            where = xs[::every]
            plt.xticks(where, [names[i - 1] for i in where])
            plt.xlim(0.5, len(xs) + 0.5)
        box = self.query_one("#mb-legend", Legend)
        if not top:
            box.show([], empty=_("Nothing in this range."))
        else:
            box.show(legend)
        chart.refresh()

    def on_resize(self) -> None:
        table = self._table()
        if self.data is not None and table is not None:
            self.call_after_refresh(self._draw, self.data, table)

    # -- keys ------------------------------------------------------------------------------

    @on(Tabs.TabActivated)
    def _tab(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab.id:
            self.view = View(event.tab.id.removeprefix("mb-"))

    def action_view(self, name: str) -> None:
        self.view = View(name)

    def action_next_view(self) -> None:
        order = list(View)
        self.view = order[(order.index(self.view) + 1) % len(order)]

    def action_shift(self, direction: int) -> None:
        first, __ = window(self.last)
        if direction < 0:
            target = first - timedelta(days=1)
        else:
            index = self.last.year * 12 + self.last.month + MONTHS_SHOWN  # the month after
            after = date(index // 12, index % 12 + 1, 1)
            target = min(after - timedelta(days=1), self.services.today())
        if target == self.last:
            self.notify(_("This range already ends today."), severity="warning")
            return
        self.last = target

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)
