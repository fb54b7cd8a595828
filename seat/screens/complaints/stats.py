"""Complaint statistics: the same tables as `seat report complaints`, for a date range."""

from __future__ import annotations

from datetime import date, timedelta

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label

from seat.export import Table
from seat.i18n import N_, _, ngettext
from seat.reports.complaints import LOOPS_TITLE
from seat.services import StorageError
from seat.sla import PolicyError
from seat.widgets.door import Seated
from seat.widgets.field_error import FieldError
from seat.widgets.table import SeatTable


def month_range(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, str):
        return _(value)  # the report's own words are N_-marked; data passes through
    return str(value)


class ComplaintStatsScreen(Seated, Screen[None]):
    BINDINGS = [
        Binding("left_square_bracket", "month(-1)", N_("Prev month"),
                tooltip=N_("The month before"),
                id="stats.prev_month"),
        Binding("right_square_bracket", "month(1)", N_("Next month"), tooltip=N_("The month after"),
                id="stats.next_month"),
        Binding("ctrl+r", "reload", N_("Reload"), tooltip=N_("Count again for the dates typed"),
                id="stats.reload"),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="stats.back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    ComplaintStatsScreen #st-range { height: 1; padding: 0 1; }
    ComplaintStatsScreen #st-range Label { width: auto; padding: 0 1 0 0; }
    ComplaintStatsScreen #st-range Input { width: 14; margin: 0 1 0 0; background: $boost; }
    ComplaintStatsScreen #st-error { padding: 0 1; }
    ComplaintStatsScreen .st-title { text-style: bold; padding: 0 1; background: $boost;
                                     width: 100%; }
    ComplaintStatsScreen #st-classification { height: 2fr; }
    ComplaintStatsScreen #st-months { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.date_from = date.min
        self.date_to = date.min

    def compose(self) -> ComposeResult:
        with Horizontal(id="st-range"):
            yield Label(_("From"))
            yield Input(id="st-from", compact=True, max_length=10)
            yield Label(_("to"))
            yield Input(id="st-to", compact=True, max_length=10)
            yield Label("", id="st-summary")
        yield FieldError(id="st-error")
        yield Label(_("Complaint classification"), classes="st-title", id="st-title-1")
        yield SeatTable(id="st-classification", zebra_stripes=True, cursor_type="row")
        yield Label(_("By month and category"), classes="st-title", id="st-title-2")
        yield SeatTable(id="st-months", zebra_stripes=True, cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        desk = self.services
        self._set_range(*month_range(desk.today()))
        self.query_one("#st-classification").focus()

    def _set_range(self, first: date, last: date) -> None:
        self.date_from, self.date_to = first, last
        self.query_one("#st-from", Input).value = first.isoformat()
        self.query_one("#st-to", Input).value = last.isoformat()
        self.load()

    @work(thread=True, exclusive=True, group="stats")
    def load(self) -> None:
        desk = self.services
        first, last = self.date_from, self.date_to
        try:
            tables = desk.complaint_stats(first, last)
        except (StorageError, PolicyError) as exc:
            self.app.call_from_thread(self._error, str(exc))
            return
        self.app.call_from_thread(self._fill, tables)

    def _error(self, message: str) -> None:
        self.query_one("#st-error", FieldError).show(message)

    def _fill(self, tables: list[Table]) -> None:
        self._error("")
        for table, wid in zip(tables, ("#st-classification", "#st-months"), strict=False):
            view = self.query_one(wid, DataTable)
            view.clear(columns=True)
            view.add_columns(*[_(h) for h in table.headers])
            view.add_rows([[_cell(v) for v in row] for row in table.rows])
        total = tables[0].rows[0][2] if tables and tables[0].rows else 0
        summary = ngettext("{n} complaint registered", "{n} complaints registered", total).format(
            n=total
        )
        open_loops = next(
            (t.rows[0][2] for t in tables if t.title == LOOPS_TITLE and t.rows), 0
        )
        if open_loops:  # unsatisfied callbacks whose complaint cannot close yet
            summary += " · " + ngettext(
                "{n} unsatisfied loop open", "{n} unsatisfied loops open", open_loops
            ).format(n=open_loops)
        self.query_one("#st-summary", Label).update(summary)

    def action_month(self, step: int) -> None:
        anchor = self.date_from if step < 0 else self.date_to
        day = anchor - timedelta(days=1) if step < 0 else anchor + timedelta(days=1)
        self._set_range(*month_range(day))

    @on(Input.Submitted)
    def _dates_typed(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_reload()

    def action_reload(self) -> None:
        errors = []
        values = []
        for wid, name in (("#st-from", _("From")), ("#st-to", _("To"))):
            text = self.query_one(wid, Input).value.strip()
            try:
                values.append(date.fromisoformat(text))
            except ValueError:
                errors.append(
                    _("{name}: {text} is not a date like 2026-11-23.").format(
                        name=name, text=repr(text)
                    )
                )
        if not errors and values[1] < values[0]:
            errors.append(_("To is before From."))
        if errors:
            self._error(" ".join(errors))
            return
        self.date_from, self.date_to = values
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)
