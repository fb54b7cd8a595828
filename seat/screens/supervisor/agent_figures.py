"""Agent figures with pictures: each agent's figures by day, week or month, charted.

The numbers are `seat.figures`, the same as `seat report agents`. The database is read in a
worker; switching the figure only redraws what was read. The chart is the statistics
screen's (plotext, its legend and palette): a line per agent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Tab, Tabs
from textual_plotext import PlotextPlot

from seat import figures
from seat.figures import Figures, Step, Sums
from seat.i18n import N_, _, format_date
from seat.roles import PermissionDenied
from seat.screens.background import DeskWorker
from seat.screens.supervisor.statistics import PALETTE, Legend, _cell, _count_ticks, _ticks
from seat.services import StorageError
from seat.sla import PolicyError
from seat.widgets.table import SeatTable

SHOWN = {Step.DAY: 28, Step.WEEK: 12, Step.MONTH: 12}
"""How many periods the screen shows."""

# What the chart draws per agent and period; None: nothing to draw there.
FIGURES: dict[str, tuple[str, str, Callable[[Sums], float | None]]] = {
    "calls": (N_("Calls"), N_("calls handled"), lambda s: s.calls),
    "handling": (N_("Handling"), N_("average talk minutes"),
                 lambda s: None if s.avg_talk_s is None else round(s.avg_talk_s / 60, 1)),
    "fcr": (N_("First contact"), N_("first-contact resolution %"), lambda s: s.fcr_percent),
    "satisfaction": (N_("Satisfaction"), N_("satisfied (4-5) %"),
                     lambda s: s.satisfied_percent),
    "complaints": (N_("Complaints"), N_("complaints owned"), lambda s: s.complaints),
    "callbacks": (N_("Callbacks"), N_("callbacks done on time %"),
                  lambda s: s.callbacks_percent),
}  # fmt: skip
PERCENTS = {"fcr", "satisfaction", "callbacks"}
STEP_NAMES = {Step.DAY: N_("by day"), Step.WEEK: N_("by week"), Step.MONTH: N_("by month")}


def window(last: date, step: Step) -> tuple[date, date]:
    """The dates shown when the range ends on `last`: 28 days, 12 Monday weeks or 12
    months (each whole but the last)."""
    if step == Step.DAY:
        return last - timedelta(days=SHOWN[step] - 1), last
    if step == Step.WEEK:
        monday = last - timedelta(days=last.weekday())
        return monday - timedelta(weeks=SHOWN[step] - 1), last
    months = last.year * 12 + last.month - 1 - (SHOWN[step] - 1)
    return date(months // 12, months % 12 + 1, 1), last


def shifted(last: date, step: Step, direction: int) -> date:
    """The last day of the range before (-1) or after (1) the one ending on `last`."""
    if step == Step.DAY:
        return last + timedelta(days=direction * SHOWN[step])
    if step == Step.WEEK:
        sunday = last + timedelta(days=6 - last.weekday())
        return sunday + timedelta(weeks=direction * SHOWN[step])
    months = last.year * 12 + last.month - 1 + direction * SHOWN[step] + 1
    return date(months // 12, months % 12 + 1, 1) - timedelta(days=1)  # a month's last day


class AgentFiguresScreen(DeskWorker, Screen[None]):
    BINDINGS = [
        Binding("m", "next_figure", N_("Figure"),
                tooltip=N_("Calls, handling, first contact, satisfaction, complaints, "
                           "callbacks in turn"), id="figures.next"),
        *(
            Binding(str(i), f"figure('{key}')", label, show=False, id=f"figures.{key}")
            for i, (key, (label, __, __f)) in enumerate(FIGURES.items(), start=1)
        ),
        Binding("d", "next_step", N_("Day/week/month"),
                tooltip=N_("Switch between days, weeks and months"), id="figures.step"),
        Binding("left_square_bracket", "shift(-1)", N_("Earlier"),
                tooltip=N_("The range before this one"), id="figures.earlier"),
        Binding("right_square_bracket", "shift(1)", N_("Later"),
                tooltip=N_("The range after this one"), id="figures.later"),
        Binding("ctrl+r", "reload", N_("Reload"), tooltip=N_("Read the numbers again"),
                id="figures.reload", show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="figures.back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    AgentFiguresScreen #af-range { height: 1; padding: 0 1; background: $boost; width: 100%;
                                   text-style: bold; }
    AgentFiguresScreen Tabs { height: 2; }
    AgentFiguresScreen #af-plot { height: 3fr; }
    AgentFiguresScreen #af-legend { width: 100%; height: auto; max-height: 3; padding: 0 1; }
    AgentFiguresScreen #af-chart { height: 1fr; }
    AgentFiguresScreen #af-table { height: 2fr; scrollbar-size-vertical: 1; }
    AgentFiguresScreen #af-status { height: 1; padding: 0 1; color: $text-muted; }
    AgentFiguresScreen #af-status.-error { color: $error; }
    """

    step: reactive[Step] = reactive(Step.DAY, init=False)
    """Whether a point is a day, a Monday week or a month."""
    figure: reactive[str] = reactive("calls", init=False)
    """Which figure the chart shows (a key of FIGURES)."""
    last: reactive[date] = reactive(date.min, init=False)
    """The last day of the range shown (today when the screen opens)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: Figures | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="af-range")
        yield Tabs(
            *(
                Tab(f"{i} {_(label)}", id=f"af-{key}")
                for i, (key, (label, __, __f)) in enumerate(FIGURES.items(), start=1)
            ),
            id="af-tabs",
        )
        with Vertical(id="af-plot"):
            yield Legend("", id="af-legend")
            yield PlotextPlot(id="af-chart")
        yield SeatTable(id="af-table", zebra_stripes=True, cursor_type="row")
        yield Label("", id="af-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        try:
            figures.require_figures(self.seat_agent)
        except PermissionDenied as exc:
            self.notify(str(exc), title=_("Supervisor only"), severity="error")
            self.call_after_refresh(self.dismiss, None)
            return
        self.query_one("#af-table", DataTable).focus()
        self.query_one("#af-status").display = False
        self.last = self.services.today()

    # -- loading ---------------------------------------------------------------------------

    def watch_last(self) -> None:
        self.load()

    def watch_step(self) -> None:
        self.load()

    def watch_figure(self) -> None:
        self.query_one("#af-tabs", Tabs).active = f"af-{self.figure}"
        if self.data is not None:
            self._draw(self.data)

    def load(self) -> None:
        first, last = window(self.last, self.step)
        self._status(_("Counting…"))
        self.in_worker(
            lambda desk: desk.agent_figures(first, last), self._loaded,
            failed=self._failed, refusals=(StorageError, PolicyError),
        )  # fmt: skip

    def _loaded(self, data: Figures) -> None:
        self.data = data
        self._status("")
        self._show(data)

    def _failed(self, exc: Exception) -> None:
        self._status(str(exc), error=True)

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#af-status", Label)
        status.update(text)
        status.set_class(error, "-error")
        status.display = bool(text)

    # -- drawing ---------------------------------------------------------------------------

    def _show(self, data: Figures) -> None:
        self.query_one("#af-range", Label).update(
            f"{_(figures.TITLE)} {_(STEP_NAMES[self.step])} · "
            f"{format_date(data.date_from, 'medium')} – {format_date(data.date_to, 'medium')}"
        )
        table = figures.summary_table(data)
        view = self.query_one("#af-table", DataTable)
        view.clear(columns=True)
        view.add_columns(*table.shown_headers[1:])  # the display name; logins are for scripts
        rows = table.shown_rows
        for row in rows[:-1]:
            view.add_row(*[_cell(v) for v in row[1:]])
        view.add_row(rows[-1][0], *[_cell(v) for v in rows[-1][2:]])  # the total
        self._draw(data)

    def _draw(self, data: Figures) -> None:
        chart = self.query_one("#af-chart", PlotextPlot)
        plt = chart.plt
        plt.clear_figure()
        __, unit, value = FIGURES[self.figure]
        series = data.series(self.step)
        labels = [p.label for p, __ in series]
        xs = list(range(1, len(labels) + 1))
        legend: list[tuple[str, tuple[int, int, int]]] = []
        top = 0.0
        for i, agent in enumerate(a for a in data.agents if any(a.id in per for __, per in series)):
            points = [(x, value(per[agent.id])) for x, (__, per) in zip(xs, series, strict=True)
                      if agent.id in per]  # fmt: skip
            drawn = [(x, v) for x, v in points if v is not None]
            if not drawn:
                continue
            color = PALETTE[i % len(PALETTE)]
            plt.plot(*zip(*drawn, strict=True), color=color, marker="braille")
            legend.append((agent.display_name, color))
            top = max(top, *(v for __, v in drawn))
        if self.figure in PERCENTS:
            plt.ylim(0, 100)
            plt.yticks([0, 20, 40, 60, 80, 100])
        else:
            ticks = _count_ticks(int(top + 0.999))
            plt.ylim(0, ticks[-1])
            plt.yticks(ticks)
        where, names = _ticks(labels, chart.size.width - 8)
        plt.xticks(where, names)
        plt.xlim(0.5, len(xs) + 0.5)
        plt.title(_(unit))
        box = self.query_one("#af-legend", Legend)
        if legend:
            box.show(legend)
        else:
            box.show([], empty=_("Nothing in this range."))
        chart.refresh()

    def on_resize(self) -> None:
        if self.data is not None:
            self.call_after_refresh(self._draw, self.data)

    # -- keys ------------------------------------------------------------------------------

    @on(Tabs.TabActivated)
    def _tab(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab.id:
            self.figure = event.tab.id.removeprefix("af-")

    def action_figure(self, name: str) -> None:
        self.figure = name

    def action_next_figure(self) -> None:
        order = list(FIGURES)
        self.figure = order[(order.index(self.figure) + 1) % len(order)]

    def action_next_step(self) -> None:
        order = list(Step)
        self.step = order[(order.index(self.step) + 1) % len(order)]

    def action_shift(self, direction: int) -> None:
        target = min(shifted(self.last, self.step, direction), self.services.today())
        if target == self.last:
            self.notify(_("This range already ends today."), severity="warning")
            return
        self.last = target

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)
