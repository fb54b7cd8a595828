"""Statistics with pictures: daily and weekly trends as terminal charts, the table beside them.

The numbers are `seat.trends`, the same as `seat report summary`. The database is read in a
worker; switching the measure only redraws what was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Tab, Tabs
from textual_plotext import PlotextPlot

from seat import trends
from seat.i18n import N_, _, format_date
from seat.services import StorageError
from seat.sla import PolicyError
from seat.trends import Measure, Step, Trends
from seat.widgets.door import Seated
from seat.widgets.table import SeatTable

DAYS_SHOWN = 28
WEEKS_SHOWN = 12
TAB_LABELS = {
    Measure.CALLS: N_("Calls"),
    Measure.COMPLAINTS: N_("Complaints"),
    Measure.CALLBACKS: N_("Callbacks"),
    Measure.SATISFACTION: N_("Satisfaction"),
}


def window(last: date, step: Step) -> tuple[date, date]:
    """The dates shown when the range ends on `last`: 28 days, or 12 Monday weeks."""
    if step == Step.DAY:
        return last - timedelta(days=DAYS_SHOWN - 1), last
    monday = last - timedelta(days=last.weekday())
    return monday - timedelta(weeks=WEEKS_SHOWN - 1), last


# RGB, so the plot and the legend (drawn by Rich, which measures CJK labels) agree.
PALETTE = [
    (66, 133, 244), (255, 152, 0), (67, 160, 71), (229, 57, 53), (171, 71, 188),
    (0, 172, 193), (141, 110, 99), (158, 158, 158),
]  # fmt: skip


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, date):
        return format_date(value, "medium")
    return str(value)


def _count_ticks(top: int) -> list[int]:
    """Whole-number y ticks from 0 to at least `top`, five or fewer steps."""
    step = max(1, -(-top // 5))
    return list(range(0, max(top, 1) + step, step))


def _ticks(labels: list[str], room: int) -> tuple[list[int], list[str]]:
    """Positions and labels of the x ticks: as many as fit in `room` columns."""
    every = max(1, -(-len(labels) * 7 // max(room, 7)))
    where = list(range(1, len(labels) + 1, every))
    return where, [labels[i - 1] for i in where]


def _legend(entries: list[tuple[str, tuple[int, int, int]]], width: int) -> Text:
    """A colour square and name per entry; lines break between entries (never inside one)
    by cell width, so a square stays with its CJK name."""
    text = Text()
    used = 0
    for name, (r, g, b) in entries:
        size = 2 + cell_len(name)
        if used and used + size > width:
            text.right_crop(3)  # no spaces at the end of a line
            text.append("\n")
            used = 0
        text.append("■ ", style=f"rgb({r},{g},{b})")
        text.append(f"{name}   ")
        used += size + 3
    return text


class Legend(Label):
    """The chart's legend, wrapped between entries at its own width (again on resize)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._entries: list[tuple[str, tuple[int, int, int]]] = []
        self._empty = ""

    def show(self, entries: list[tuple[str, tuple[int, int, int]]], *, empty: str = "") -> None:
        """Show these entries, or `empty` in italics when there are none."""
        self._entries, self._empty = entries, empty
        self._wrap()

    def on_resize(self) -> None:
        self._wrap()

    def _wrap(self) -> None:
        if not self._entries:
            self.update(Text(self._empty, style="italic"))
        else:
            self.update(_legend(self._entries, self.content_size.width or self.app.size.width))


class StatisticsScreen(Seated, Screen[None]):
    BINDINGS = [
        Binding("m", "next_measure", N_("Measure"),
                tooltip=N_("Calls, complaints, callbacks, satisfaction in turn"),
                id="trends.measure"),
        Binding("1", "measure('calls')", N_("Calls"), tooltip=N_("Calls and handling time"),
                id="trends.calls", show=False),
        Binding("2", "measure('complaints')", N_("Complaints"),
                tooltip=N_("Complaints registered, by category"), id="trends.complaints",
                show=False),
        Binding("3", "measure('callbacks')", N_("Callbacks"),
                tooltip=N_("Callbacks done of those due"), id="trends.callbacks", show=False),
        Binding("4", "measure('satisfaction')", N_("Satisfaction"),
                tooltip=N_("Average satisfaction score"), id="trends.satisfaction", show=False),
        Binding("d", "toggle_step", N_("Day/week"), tooltip=N_("Switch between days and weeks"),
                id="trends.step"),
        Binding("left_square_bracket", "shift(-1)", N_("Earlier"),
                tooltip=N_("The range before this one"), id="trends.earlier"),
        Binding("right_square_bracket", "shift(1)", N_("Later"),
                tooltip=N_("The range after this one"), id="trends.later"),
        Binding("ctrl+r", "reload", N_("Reload"), tooltip=N_("Read the numbers again"),
                id="trends.reload", show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="trends.back"),
    ]  # fmt: skip

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    DEFAULT_CSS = """
    StatisticsScreen #tr-range { height: 1; padding: 0 1; background: $boost; width: 100%;
                                 text-style: bold; }
    StatisticsScreen Tabs { height: 2; }
    StatisticsScreen #tr-body { height: 1fr; }
    StatisticsScreen.-wide #tr-body { layout: horizontal; }
    StatisticsScreen.-wide #tr-plot { width: 1fr; height: 1fr; }
    StatisticsScreen.-wide #tr-table { width: auto; max-width: 50%; height: 1fr; }
    StatisticsScreen.-narrow #tr-body { layout: vertical; }
    StatisticsScreen.-narrow #tr-plot { width: 1fr; height: 3fr; }
    StatisticsScreen.-narrow #tr-table { width: 1fr; height: 2fr; }
    StatisticsScreen #tr-legend { width: 100%; height: auto; max-height: 3; padding: 0 1; }
    StatisticsScreen #tr-chart { height: 1fr; }
    StatisticsScreen #tr-table { scrollbar-size-vertical: 1; }
    StatisticsScreen #tr-status { height: 1; padding: 0 1; color: $text-muted; }
    StatisticsScreen #tr-status.-error { color: $error; }
    """

    step: reactive[Step] = reactive(Step.DAY, init=False)
    """Whether each bar is a day or a Monday week."""
    measure: reactive[Measure] = reactive(Measure.CALLS, init=False)
    """Which trend the chart and the table show."""
    last: reactive[date] = reactive(date.min, init=False)
    """The last day of the range shown (today when the screen opens)."""

    @dataclass
    class Loaded(Message):
        data: Trends

    @dataclass
    class Failed(Message):
        message: str

    def __init__(self) -> None:
        super().__init__()
        self.data: Trends | None = None

    @property
    def desk(self) -> Any:
        return self.services

    def compose(self) -> ComposeResult:
        yield Label("", id="tr-range")
        yield Tabs(
            *(
                Tab(f"{i} {_(TAB_LABELS[m])}", id=f"tr-{m.value}")
                for i, m in enumerate(Measure, start=1)
            ),
            id="tr-tabs",
        )
        with Container(id="tr-body"):
            with Vertical(id="tr-plot"):
                yield Legend("", id="tr-legend")
                yield PlotextPlot(id="tr-chart")
            yield SeatTable(id="tr-table", zebra_stripes=True, cursor_type="row")
        yield Label("", id="tr-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#tr-table", DataTable)
        table.focus()
        self.watch(table, "show_vertical_scrollbar", self._scrollbar_shown, init=False)
        self.query_one("#tr-status").display = False
        self.last = self.desk.today()

    def _scrollbar_shown(self, shown: bool) -> None:
        # Textual moves a scrollbar's thumb only while it is shown: when the cursor jumped to
        # the total row before the scrollbar appeared, the thumb would stay at the top.
        table = self.query_one("#tr-table", DataTable)
        if shown:
            table.vertical_scrollbar.position = table.scroll_y

    # -- loading ---------------------------------------------------------------------------

    def watch_last(self) -> None:
        self.load()

    def watch_step(self) -> None:
        self.load()

    def watch_measure(self) -> None:
        self.query_one("#tr-tabs", Tabs).active = f"tr-{self.measure.value}"
        self._show()

    @work(thread=True, exclusive=True, group="trends")
    def load(self) -> None:
        desk = self.desk
        first, last = window(self.last, self.step)
        step = self.step
        self.app.call_from_thread(self._status, _("Counting…"))
        try:
            data = desk.trends(first, last, step)
        except (StorageError, PolicyError) as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.Loaded(data))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        first, last = window(self.last, self.step)
        wanted = (first, last, self.step)
        if (event.data.date_from, event.data.date_to, event.data.step) != wanted:
            return  # a load the keys have overtaken; the newer one is on its way
        self.data = event.data
        self._status("")
        self._show()

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self._status(event.message, error=True)

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#tr-status", Label)
        status.update(text)
        status.set_class(error, "-error")
        status.display = bool(text)

    # -- drawing ---------------------------------------------------------------------------

    def _show(self) -> None:
        data = self.data
        if data is None:
            return
        table = trends.table(data, self.measure)
        self.query_one("#tr-range", Label).update(
            f"{table.shown_title} · "
            f"{format_date(data.date_from, 'medium')} – {format_date(data.date_to, 'medium')}"
        )
        view = self.query_one("#tr-table", DataTable)
        view.clear(columns=True)
        view.add_columns(*table.shown_headers)
        view.add_rows([[_cell(v) for v in row] for row in table.shown_rows])
        view.move_cursor(row=view.row_count - 1)  # the total, and the latest periods above it
        self._draw(data)

    def _draw(self, data: Trends) -> None:
        chart = self.query_one("#tr-chart", PlotextPlot)
        plt = chart.plt
        plt.clear_figure()
        labels = [p.period.label for p in data.calls]
        xs = list(range(1, len(labels) + 1))
        legend: list[tuple[str, tuple[int, int, int]]] = []
        top = 0
        if self.measure == Measure.CALLS:
            counts = [p.calls for p in data.calls]
            top = max(counts, default=0)
            plt.bar(xs, counts, color=PALETTE[0], width=0.5, marker="hd")
            legend.append((_("calls (left)"), PALETTE[0]))
            timed = [(x, p.avg_seconds / 60) for x, p in zip(xs, data.calls, strict=True)
                     if p.avg_seconds is not None]  # fmt: skip
            if timed:
                plt.plot(*zip(*timed, strict=True), yside="right", color=PALETTE[1],
                         marker="braille")  # fmt: skip
                plt.ylim(0, max(m for _x, m in timed) * 1.2, yside="right")
                legend.append((_("average handling minutes (right)"), PALETTE[1]))
        elif self.measure == Measure.COMPLAINTS:
            series = data.complaints
            top = max((p.total for p in series.points), default=0)
            if series.categories:
                columns = [[p.counts[i] for p in series.points]
                           for i in range(len(series.categories))]  # fmt: skip
                colors = [PALETTE[i % len(PALETTE)] for i in range(len(columns))]
                plt.stacked_bar(xs, columns, color=colors, width=0.5, marker="hd")
                legend += list(zip(series.shown_categories, colors, strict=True))
        elif self.measure == Measure.CALLBACKS:
            done = [p.done for p in data.callbacks]
            left = [p.due - p.done for p in data.callbacks]
            top = max((p.due for p in data.callbacks), default=0)
            plt.stacked_bar(
                xs, [done, left], color=[PALETTE[2], PALETTE[3]], width=0.5, marker="hd"
            )
            legend += [(_("done"), PALETTE[2]), (_("due, not done"), PALETTE[3])]
        else:
            scored = [(x, p.average) for x, p in zip(xs, data.satisfaction, strict=True)
                      if p.average is not None]  # fmt: skip
            if scored:
                plt.plot(*zip(*scored, strict=True), color=PALETTE[2], marker="braille")
            plt.ylim(1, 5)
            plt.yticks([1, 2, 3, 4, 5])
            legend.append((_("average score, 1 to 5"), PALETTE[2]))
        if self.measure != Measure.SATISFACTION:
            ticks = _count_ticks(top)
            plt.ylim(0, ticks[-1])
            plt.yticks(ticks)
        where, names = _ticks(labels, chart.size.width - 8)
        plt.xticks(where, names)
        plt.xlim(0.5, len(xs) + 0.5)
        box = self.query_one("#tr-legend", Legend)
        if not legend or (self.measure == Measure.COMPLAINTS and not top):
            box.show([], empty=_("Nothing in this range."))
        else:
            box.show(legend)
        chart.refresh()

    def on_resize(self) -> None:
        if self.data is not None:
            self.call_after_refresh(self._draw, self.data)

    # -- keys ------------------------------------------------------------------------------

    @on(Tabs.TabActivated)
    def _tab(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab.id:
            self.measure = Measure(event.tab.id.removeprefix("tr-"))

    def action_measure(self, name: str) -> None:
        self.measure = Measure(name)

    def action_next_measure(self) -> None:
        order = list(Measure)
        self.measure = order[(order.index(self.measure) + 1) % len(order)]

    def action_toggle_step(self) -> None:
        self.step = Step.WEEK if self.step == Step.DAY else Step.DAY

    def action_shift(self, direction: int) -> None:
        if self.step == Step.DAY:
            target = self.last + timedelta(days=direction * DAYS_SHOWN)
        else:  # whole weeks: the range then ends on a Sunday
            sunday = self.last + timedelta(days=6 - self.last.weekday())
            target = sunday + timedelta(weeks=direction * WEEKS_SHOWN)
        target = min(target, self.desk.today())
        if target == self.last:
            self.notify(_("This range already ends today."), severity="warning")
            return
        self.last = target

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)
