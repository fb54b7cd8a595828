"""Callbacks: the coverage view (the report's tables and a to-do list), snooze and reassign.

`b` on the desk opens the view; `z` snoozes the highlighted callback (here or on the
sidebar), `a` reassigns it (supervisors only), `[` `]` move the period, `p` changes its
length, `g` runs the scheduler now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import get_current_worker

from seat import callbacks, roles
from seat.customers import ValidationError
from seat.export import Table
from seat.i18n import N_, _, format_date, format_datetime, format_time, ngettext
from seat.roles import PermissionDenied
from seat.screens.background import DeskWorker
from seat.screens.due_time import DueTimeForm
from seat.screens.form import FormScreen
from seat.services import Desk, StorageError
from seat.widgets.lines import fit
from seat.widgets.table import SeatTable

PERIODS = (7, 30, 90)
PAGE = 50  # rows read and mounted at a time: n / PgDn and b / PgUp page through the rest
SHOWN = PAGE  # rows of each list read when the view opens (what seat bench times)
REACH = 500  # rows of the to-do list and of the members without one to page through; the
# export has them all
# Fixed column widths (cells): DataTable's automatic widths depended on when a hidden tab
# was measured, and columns that move with the data are hard to read across pages.
WIDTHS = {
    "#": 4, "State": 13, "Customer": 12, "Tier": 8, "Kind": 12, "Due": 11, "Why": 12,
    "Owner": 8, "Tries": 5, "Agent": 10, "Required": 8, "Done": 5, "Not done": 8,
    "Coverage %": 10, "On time": 7, "Overdue": 7, "Missed": 6, "Not yet due": 11,
    "Done %": 6, "Avg score": 9, "Scored": 6, "Average": 7,
}  # fmt: skip
TODO_HEADERS = (
    "#", N_("State"), N_("Customer"), N_("Due"), N_("Owner"), N_("Tries"), N_("Kind"),
)  # fmt: skip
"""English, the keys of WIDTHS; shown with `_()`."""
TABS = (
    ("coverage", N_("Coverage"), N_("Show Coverage")),
    ("todo", N_("To do"), N_("Show To do")),
    ("kind", N_("By kind"), N_("Show By kind")),
    ("agent", N_("By agent"), N_("Show By agent")),
    ("scores", N_("Scores"), N_("Show Scores")),
)
"""(id, title, key tooltip), N_-marked."""
HIDDEN = ("Customer #", "Callback #")  # in the export; on screen the row itself is enough
STATES = {
    "overdue": (N_("⚠ overdue"), "bold red"),
    "due": (N_("◷ due"), "yellow"),
    "waiting": (N_("⚠ ☾ {opens}"), "red"),
    callbacks.MISSED: (N_("✗ missed"), "magenta"),
}
"""N_-marked: translated (and `{opens}` filled in) where shown."""


def describe(desk: Desk, callback_id: int) -> str:
    """In a worker: one line naming the callback a form acts on."""
    try:
        cb = desk.callback_summary(callback_id)
    except StorageError:
        cb = None
    if cb is None:
        return _("Callback #{id}").format(id=callback_id)
    return _("#{id} {customer} · {kind} · due {due} · {owner}").format(
        id=cb.id,
        customer=cb.customer_name,
        kind=callbacks.kind_label(cb.kind),
        due=format_datetime(desk.local(cb.due_at)),
        owner=cb.owner,
    )


def _refusal(exc: PermissionDenied) -> ValidationError:
    return ValidationError({"_": str(exc)})


class _NamesItsCallback(DeskWorker):
    """A form whose first line names its callback: read in a worker once the form is up."""

    callback_id: int
    WHAT_ID = ""

    def on_mount(self) -> None:
        callback_id, line = self.callback_id, self.query_one(f"#{self.WHAT_ID}", Static)
        self.in_worker(lambda desk: describe(desk, callback_id), line.update)


class SnoozeForm(_NamesItsCallback, DueTimeForm):
    """Move a callback to a new due time; the reason is recorded on its history.

    A time in the customer's rest hours is offered the next open time instead (DueTimeForm).
    """

    TITLE_TEXT = N_("Snooze a callback")
    DUE_FIELD = "until"
    WHAT_ID = "snooze-what"

    def __init__(self, callback_id: int) -> None:
        super().__init__()
        self.callback_id = callback_id

    def fields(self) -> ComposeResult:
        yield Static(_("Callback #{id}").format(id=self.callback_id), id="snooze-what")
        yield from self.field(
            _("New due time (2026-11-24 10:30, 15:00 or +2h) *"),
            "until",
            Input(placeholder="+1d"),
        )
        yield self.offer_button()
        hint = _("e.g. the customer asked for Friday afternoon")
        yield from self.field(_("Reason *"), "reason", Input(placeholder=hint, max_length=500))

    def submit(self) -> int:
        try:
            return self.services.snooze_callback(
                self.callback_id,
                agent_id=self.seat_agent.id,
                until_text=self.value("until"),
                reason=self.value("reason"),
                # In the customer's rest hours: warn once (the snooze is undone), offer the
                # open time.
                before_commit=self.check_rest,
            )
        except PermissionDenied as exc:
            raise _refusal(exc) from None


class ReassignForm(_NamesItsCallback, FormScreen):
    """A supervisor gives a callback to another agent."""

    TITLE_TEXT = N_("Reassign a callback")
    WHAT_ID = "reassign-what"

    def __init__(self, callback_id: int, agents: list[tuple[int, str]]) -> None:
        super().__init__()
        self.callback_id = callback_id
        self.agents = agents

    def fields(self) -> ComposeResult:
        yield Static(_("Callback #{id}").format(id=self.callback_id), id="reassign-what")
        yield from self.field(
            _("New owner *"),
            "owner",
            Select([(name, str(i)) for i, name in self.agents], prompt=_("Select")),
        )
        yield from self.field(_("Comment"), "comment", Input(max_length=2000))

    def submit(self) -> int:
        owner = self.value("owner")
        try:
            return self.services.reassign_callback(
                self.callback_id,
                actor_id=self.seat_agent.id,
                new_owner_id=int(owner) if owner else None,
                comment=self.value("comment"),
            )
        except PermissionDenied as exc:
            raise _refusal(exc) from None


def _cell(value: object, desk) -> object:  # noqa: ANN001
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return format_datetime(desk.local(value))
    if isinstance(value, float):
        return f"{value:g}"
    return value


def _fit(cell: object, width: int) -> object:
    """A cell cut to its column's width by cells, at a whole character (CJK counts double).
    Plain strings stay plain strings: a Text renderable is measured differently while its
    tab is hidden."""
    if isinstance(cell, str):
        text = Text(cell)
        return fit(text, width).plain if text.cell_len > width else cell
    return fit(cell, width)


class CallbacksScreen(DeskWorker, Screen[tuple[int, int] | None]):
    """Coverage and the callbacks still to do, for a period ending today.

    Enter (or c) on a To do row starts that callback: the view closes with (callback id,
    customer id) and the desk starts it as it does one chosen on the sidebar."""

    BINDINGS = [
        Binding(
            "escape", "app.pop_screen", N_("Back"), tooltip=N_("Back to the desk"), id="cbv.back"
        ),
        Binding("r", "reload", N_("Refresh"), tooltip=N_("Reload the tables"), id="cbv.refresh"),
        Binding("[", "shift(-1)", N_("Earlier"), tooltip=N_("The period before"), id="cbv.earlier"),
        Binding("]", "shift(1)", N_("Later"), tooltip=N_("The period after"), id="cbv.later"),
        Binding("p", "length", N_("Period"), tooltip=N_("7, 30 or 90 days"), id="cbv.period"),
        Binding(
            "c", "start", N_("Call"), tooltip=N_("Start the highlighted callback"), id="cbv.call"
        ),
        Binding("z", "snooze", N_("Snooze"), tooltip=N_("Move it, with a reason"), id="cbv.snooze"),
        Binding(
            "a",
            "reassign",
            N_("Reassign"),
            tooltip=N_("Give it to another agent"),
            id="cbv.reassign",
        ),
        Binding(
            "g",
            "schedule",
            N_("Schedule"),
            tooltip=N_("Run the callback rules now"),
            id="cbv.sched",
        ),
        Binding(
            "pagedown,n",
            "page(1)",
            N_("Next page"),
            tooltip=N_("The next 50 rows"),
            id="cbv.next",
            priority=True,
        ),
        Binding(
            "pageup,b",
            "page(-1)",
            N_("Previous page"),
            tooltip=N_("The previous 50 rows"),
            id="cbv.prev",
            priority=True,
        ),
        *(
            Binding(str(i), f"tab('{tab}')", title, show=False, tooltip=tip, id=f"cbv.{tab}")
            for i, (tab, title, tip) in enumerate(TABS, start=1)
        ),
    ]

    DEFAULT_CSS = """
    CallbacksScreen #cbv-head { height: 1; background: $boost; padding: 0 1; width: 100%; }
    CallbacksScreen TabbedContent { height: 1fr; }
    CallbacksScreen TabPane { padding: 0; }
    CallbacksScreen DataTable { height: 1fr; }
    CallbacksScreen #cbv-coverage { height: auto; max-height: 8; }
    CallbacksScreen .cbv-note { color: $text-muted; height: 1; padding: 0 1; }
    CallbacksScreen #cbv-page { width: 100%; }
    """

    days: reactive[int] = reactive(30, init=False)
    """Length of the period, in days."""
    last_day: reactive[date | None] = reactive(None, init=False)
    """The period's last day (desk local date); None until mounted (today)."""

    @dataclass
    class Loaded(Message):
        tables: list[Table]
        todo: list[callbacks.WorkItem]
        todo_total: int

    @dataclass
    class BreakdownLoaded(Message):
        """The tables by kind, by agent and by score: read after the view has opened."""

        tables: list[Table]

    def compose(self) -> ComposeResult:
        yield Label(_("Callbacks"), id="cbv-head")
        with TabbedContent(id="cbv-tabs"):
            for i, (tab, title, _tip) in enumerate(TABS, start=1):
                with TabPane(f"{i} {_(title)}", id=f"tab-{tab}"):
                    if tab == "coverage":
                        yield SeatTable(id="cbv-coverage", cursor_type="row", zebra_stripes=True)
                        yield Label(_("Members without a done callback"), classes="cbv-note")
                        yield SeatTable(id="cbv-without", cursor_type="row", zebra_stripes=True)
                    else:
                        yield SeatTable(id=f"cbv-{tab}", cursor_type="row", zebra_stripes=True)
        yield Label("", id="cbv-page", classes="cbv-note")
        yield Footer()

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, tuple[list[tuple[object, ...]], list[str | None], int]] = {}
        """Per table: the rows read so far (cells), their keys, and how many there are (the
        lists read a page at a time: `_reach` of them can be paged to)."""
        self._without: Table | None = None
        """The members without a callback as first read (its headers for further pages)."""
        self._pages: dict[str, int] = {}
        """Per table: the page shown (0-based)."""
        self._todo: dict[int, callbacks.WorkItem] = {}
        """The To do rows by callback id: whom to call, and whether it may be dialled now."""

    def on_mount(self) -> None:
        desk = self.services
        self.set_reactive(CallbacksScreen.last_day, desk.today())
        self.action_reload()
        self.query_one("#cbv-without", DataTable).focus()

    def watch_days(self) -> None:
        self.action_reload()

    def watch_last_day(self) -> None:
        self.action_reload()

    def _period(self) -> tuple[date, date]:
        last = self.last_day or self.services.today()
        return last - timedelta(days=self.days - 1), last

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page":  # shown only while the table has a page that way
            selector = self._paged_table()
            if selector is None:
                return False
            target = self._pages.get(selector, 0) + int(parameters[0])  # type: ignore[call-overload]
            return 0 <= target and target * PAGE < self._reach(selector)
        if action in ("start", "snooze", "reassign"):
            # Only where a callback can be highlighted: To do (and, but for a start, the
            # members without one on Coverage); the tables by kind, agent and score have none.
            tabs = self.query(TabbedContent)
            active = tabs.first().active if tabs else ""
            allowed = ("tab-todo",) if action == "start" else ("tab-todo", "tab-coverage")
            if active not in allowed:
                return False
            if action == "reassign":
                return roles.may(self.seat_agent, roles.REASSIGN_CALLBACK)
        return True

    # -- loading ------------------------------------------------------------------------------

    def action_reload(self) -> None:
        first, last = self._period()
        head = ngettext(
            "Callbacks · {first} → {last} ({n} day) · loading…",
            "Callbacks · {first} → {last} ({n} days) · loading…",
            self.days,
        )
        self.query_one("#cbv-head", Label).update(
            head.format(first=format_date(first), last=format_date(last), n=self.days)
        )
        # A reload (after a snooze, a reassignment) reads up to the page each list is on.
        on = max([self._pages.get(t, 0) for t in ("#cbv-todo", "#cbv-without")])
        self.load(first, last, max(SHOWN, min((on + 1) * PAGE, REACH)))

    @work(thread=True, exclusive=True, group="callbacks-view")
    def load(self, first: date, last: date, upto: int) -> None:
        desk = self.services
        agent = self.seat_agent
        owner = None if roles.may(agent, roles.OTHERS_QUEUE) else agent.id
        try:
            tables, todo, total = desk.callback_coverage(first, last, owner_id=owner, limit=upto)
        except (StorageError, callbacks.PolicyError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.post_message(self.Loaded(tables, todo, total))
        try:  # the other tabs: the view is already drawn
            breakdown = desk.callback_breakdown(first, last)
        except (StorageError, callbacks.PolicyError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        if not get_current_worker().is_cancelled:  # another period asked for meanwhile
            self.post_message(self.BreakdownLoaded(breakdown))

    def on_callbacks_screen_loaded(self, event: Loaded) -> None:
        by_title = {t.title: t for t in event.tables}
        coverage = by_title["Coverage"]
        total = coverage.rows[-1]
        first, last = self._period()
        share = "-" if total[4] is None else f"{total[4]:g} %"
        head = _("Callbacks · {first} → {last} ({n} d) · coverage {share} · {open} not done")
        self.query_one("#cbv-head", Label).update(
            Text(
                head.format(
                    first=format_date(first, "short"),
                    last=format_date(last, "short"),
                    n=self.days,
                    share=share,
                    open=total[3],
                ),
                no_wrap=True,
                overflow="ellipsis",
            )
        )
        for selector, title, key_column in (
            ("#cbv-coverage", "Coverage", None),
            ("#cbv-without", "Members without callback", 7),
        ):
            self._load_table(selector, by_title[title], key_column)
        self._without = by_title["Members without callback"]
        rows, keys, __ = self._rows["#cbv-without"]  # its first page; the count is whole
        self._rows["#cbv-without"] = (rows, keys, total[3])
        self._todo = {item.id: item for item in event.todo}
        self._rows["#cbv-todo"] = (
            self._todo_rows(event.todo),
            [f"cb:{item.id}" for item in event.todo],
            event.todo_total,
        )
        self._columns("#cbv-todo", TODO_HEADERS)
        for selector in self._rows:
            self._show(selector, keep_cursor=True)
        self._page_note()

    def _todo_rows(self, items: Sequence[callbacks.WorkItem]) -> list[tuple[object, ...]]:
        desk = self.services
        rows: list[tuple[object, ...]] = []
        for item in items:
            # overdue inside the customer's rest hours: still overdue, and when to dial
            waiting = item.opens_at is not None and item.state == "overdue"
            label, style = STATES["waiting" if waiting else item.state]
            opens = format_time(desk.local(item.opens_at)) if item.opens_at else ""
            rows.append((
                item.id,
                Text(_(label).format(opens=opens), style=style),
                Text(item.customer_name, no_wrap=True, overflow="ellipsis"),
                format_datetime(desk.local(item.due_at)),
                Text(item.owner, no_wrap=True, overflow="ellipsis"),
                item.attempts,
                callbacks.kind_label(item.kind),
            ))  # fmt: skip
        return rows

    def on_callbacks_screen_breakdown_loaded(self, event: BreakdownLoaded) -> None:
        by_title = {t.title: t for t in event.tables}
        for selector, title in (
            ("#cbv-kind", "By kind"), ("#cbv-agent", "By agent"), ("#cbv-scores", "Scores"),
        ):  # fmt: skip
            self._load_table(selector, by_title[title], None)
            self._show(selector, keep_cursor=True)
        self._page_note()

    def _load_table(self, selector: str, table: Table, key_column: int | None) -> None:
        desk = self.services
        shown = [i for i, h in enumerate(table.headers) if h not in HIDDEN]
        self._columns(selector, [table.headers[i] for i in shown])
        labelled = table.shown_rows  # "total", tiers and kinds in the current language
        keys = [
            f"cb:{row[key_column]}" if key_column is not None and row[key_column] is not None
            else None
            for row in table.rows
        ]  # fmt: skip
        rows = [tuple(_cell(row[i], desk) for i in shown) for row in labelled]
        self._rows[selector] = (rows, keys, len(rows))

    def _columns(self, selector: str, headers: Sequence[str]) -> None:
        """Columns of fixed widths (cells), keyed by their English headers, shown translated."""
        grid = self.query_one(selector, DataTable)
        grid.clear(columns=True)
        for header in headers:
            shown = _(header)  # a translated header may be wider: its column grows to fit it
            width = max(WIDTHS.get(header, max(len(header), 3)), cell_len(shown))
            grid.add_column(shown, width=width)

    def _show(self, selector: str, *, keep_cursor: bool = False) -> None:
        """Mount one page of a table's rows (never all of them)."""
        rows, keys, total = self._rows[selector]
        reach = self._reach(selector)
        pages = max(1, -(-reach // PAGE))
        read = max(1, -(-len(rows) // PAGE))  # after a reload only the first page is read
        page = self._pages[selector] = min(self._pages.get(selector, 0), pages - 1, read - 1)
        grid = self.query_one(selector, DataTable)
        keep = grid.cursor_row if keep_cursor else 0
        grid.clear()
        start = page * PAGE
        widths = [c.width for c in grid.ordered_columns]
        for cells, key in zip(rows[start : start + PAGE], keys[start : start + PAGE], strict=True):
            grid.add_row(*(_fit(c, w) for c, w in zip(cells, widths, strict=True)), key=key)
        if total > reach and page == pages - 1:
            more = Text(_("{n} more: seat report callbacks").format(n=total - reach), style="dim")
            grid.add_row("…", _fit(more, widths[1]), *[""] * (len(grid.columns) - 2))
        if grid.row_count:
            grid.move_cursor(row=min(keep, grid.row_count - 1))

    def _reach(self, selector: str) -> int:
        """How many rows of a table can be paged to: all, or REACH of a long list."""
        rows, __, total = self._rows[selector]
        return min(total, max(REACH, len(rows)))

    def _paged_table(self) -> str | None:
        """The table the page keys act on: the active tab's main one."""
        try:
            tabs = self.query_one(TabbedContent)
        except NoMatches:  # not composed yet
            return None
        tab = (tabs.active or "tab-coverage").removeprefix("tab-")
        selector = "#cbv-without" if tab == "coverage" else f"#cbv-{tab}"
        return selector if selector in self._rows else None

    def _page_note(self) -> None:
        selector = self._paged_table()
        note = ""
        if selector is not None:
            reach = self._reach(selector)
            if reach > PAGE:
                start = self._pages.get(selector, 0) * PAGE
                note = _("rows {first}–{last} of {total} · n/PgDn next · b/PgUp previous").format(
                    first=start + 1, last=min(start + PAGE, reach), total=reach
                )
        self.query_one("#cbv-page", Label).update(note)

    def on_tabbed_content_tab_activated(self, _event: TabbedContent.TabActivated) -> None:
        self._page_note()
        self.refresh_bindings()

    def action_page(self, step: int) -> None:
        selector = self._paged_table()
        if selector is None:
            return
        rows = self._rows[selector][0]
        target = self._pages.get(selector, 0) + step
        if not 0 <= target or target * PAGE >= self._reach(selector):
            return
        upto = min((target + 1) * PAGE, self._reach(selector))
        if len(rows) < upto:  # a page not read yet: read it, then turn to it
            self._read_more(selector, target, upto)
            return
        self._turn(selector, target)

    def _turn(self, selector: str, target: int) -> None:
        self._pages[selector] = target
        self._show(selector)
        self._page_note()
        self.refresh_bindings()

    def _read_more(self, selector: str, target: int, upto: int) -> None:
        """Read a list's rows up to `upto` (the to-do list from where it stops, the members
        without a callback from the start: its order is made of several), then turn."""
        period = self._period()
        rows, keys, total = self._rows[selector]
        agent = self.seat_agent
        owner = None if roles.may(agent, roles.OTHERS_QUEUE) else agent.id

        def shown_todo(found: tuple[list[callbacks.WorkItem], int]) -> None:
            items, count = found
            if self._period() != period or self._rows.get(selector, ([],))[0] is not rows:
                return  # the view was read again meanwhile
            self._todo.update((item.id, item) for item in items)
            self._rows[selector] = (
                rows + self._todo_rows(items), keys + [f"cb:{i.id}" for i in items], count
            )
            self._turn(selector, target)

        def shown_without(lines: list[list[object]]) -> None:
            if self._period() != period or self._without is None:
                return
            if self._rows.get(selector, ([],))[0] is not rows:
                return
            self._load_table(selector, replace(self._without, rows=lines), 7)
            self._rows[selector] = (*self._rows[selector][:2], total)
            self._turn(selector, target)

        if selector == "#cbv-todo":
            offset = len(rows)
            self.in_worker(
                lambda desk: desk.callback_todo(owner_id=owner, offset=offset,
                                                limit=upto - offset),
                shown_todo, group="callbacks-page",
            )  # fmt: skip
        elif selector == "#cbv-without":
            first, last = period
            self.in_worker(
                lambda desk: desk.callback_without(first, last, limit=upto),
                shown_without, group="callbacks-page",
            )  # fmt: skip

    # -- acting on a row ----------------------------------------------------------------------

    def _highlighted(self) -> int | None:
        tabs = self.query_one(TabbedContent)
        pane = tabs.get_pane(tabs.active) if tabs.active else None
        grids = [g for g in (pane.query(DataTable) if pane else []) if g.id != "cbv-coverage"]
        if not grids or not grids[0].row_count:
            return None
        grid = grids[0]
        key = grid.coordinate_to_cell_key(grid.cursor_coordinate).row_key.value or ""
        return int(key[3:]) if key.startswith("cb:") else None

    def _need_row(self) -> int | None:
        cb_id = self._highlighted()
        if cb_id is None:
            self.notify(
                _("Highlight a callback first: the To do tab or the members without one."),
                severity="warning",
            )
        return cb_id

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "cbv-todo":
            event.stop()
            self.action_start()

    def action_start(self) -> None:
        """Start the highlighted To do callback, as choosing it on the sidebar does."""
        tabs = self.query_one(TabbedContent)
        cb_id = self._highlighted() if tabs.active == "tab-todo" else None
        item = self._todo.get(cb_id) if cb_id is not None else None
        if item is None:
            self.notify(_("Highlight a callback on the To do tab first."), severity="warning")
            return
        if item.state == callbacks.MISSED:
            self.notify(
                _("Callback #{id} is {status}; it cannot change now.").format(
                    id=item.id, status=callbacks.status_label(item.status)
                ),
                severity="warning",
            )
            return
        if item.opens_at is not None:
            self.notify(
                _("The customer is inside their rest hours: wait for the window (or z snoozes)."),
                severity="warning",
            )
            return
        self.dismiss((item.id, item.customer_id))

    def action_snooze(self) -> None:
        cb_id = self._need_row()
        if cb_id is not None:
            self.app.push_screen(SnoozeForm(cb_id), self._changed(N_("Callback #{id} snoozed.")))

    def action_reassign(self) -> None:
        cb_id = self._need_row()
        if cb_id is None:
            return
        self.in_worker(
            lambda desk: desk.assignable(),
            lambda agents: self.app.push_screen(
                ReassignForm(cb_id, agents), self._changed(N_("Callback #{id} reassigned."))
            ),
            group="open-form", move=True,
        )  # fmt: skip

    def _changed(self, message: str):  # noqa: ANN202
        """After a form: `message` (N_-marked, with `{id}`) and a reload."""

        def done(result: int | None) -> None:
            if result is not None:
                self.notify(_(message).format(id=result))
                self.action_reload()

        return done

    def action_shift(self, direction: int) -> None:
        first, last = self._period()
        self.last_day = last + timedelta(days=direction * self.days)

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{tab}"
        grids = self.query_one(f"#tab-{tab}").query(DataTable)
        (grids.last() if tab == "coverage" else grids.first()).focus()

    def action_length(self) -> None:
        self.days = PERIODS[(PERIODS.index(self.days) + 1) % len(PERIODS)]

    def action_schedule(self) -> None:
        self.schedule_now()

    @work(thread=True, exclusive=True, group="callbacks-schedule")
    def schedule_now(self) -> None:
        try:
            result = callbacks.run_scheduler(self.services, force=True)
        except (StorageError, callbacks.PolicyError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self.notify, result.summary())
        self.app.call_from_thread(self.announce_change, "callback-rules")
        self.app.call_from_thread(self.action_reload)
