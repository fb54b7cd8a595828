"""The suggestions register (意见和建议): record, classify, answer, thank; a page at a time."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Select, TextArea

from seat import labels
from seat.errors import MoveRefused, ValidationError
from seat.i18n import N_, _
from seat.labels import label
from seat.screens.form import FormScreen
from seat.screens.intake_fields import channel_fields
from seat.services import StorageError
from seat.suggestions import SuggestionRow
from seat.textguard import shown
from seat.widgets.door import Seated
from seat.widgets.lines import fit
from seat.widgets.table import SeatTable

PAGE = 50
TITLES = {"open": N_("Suggestions to answer"), "all": N_("All suggestions")}


def _categories() -> list[tuple[str, str]]:
    return [(_(word), key) for key, word in labels.SUGGESTION_CATEGORIES.items()]


class SuggestionForm(FormScreen):
    """Record a suggestion that came by any channel."""

    TITLE_TEXT = N_("Record a suggestion")

    def fields(self) -> ComposeResult:
        yield from self.field(_("The suggestion *"), "text", TextArea())
        yield from self.field(
            _("Category"), "category",
            Select(_categories(), prompt=_("classify later")),
        )  # fmt: skip
        yield from self.field(
            _("Customer's phone (if they left one)"), "phone", Input()
        )
        yield from channel_fields(self)

    def submit(self) -> int:
        return self.services.record_suggestion(
            agent_id=self.seat_agent.id,
            text=self.value("text"),
            category=self.value("category"),
            phone_text=self.value("phone"),
            channel=self.value("channel") or "phone",
            received_text=self.value("received_at"),
            channel_ref=self.value("channel_ref"),
        )


class _OnSuggestion(FormScreen):
    """A move on one suggestion, as it was when the form opened (its version)."""

    def __init__(self, row: SuggestionRow) -> None:
        super().__init__()
        self.row = row

    def on_mount(self) -> None:
        form = self.query_one("#form")
        form.border_title = f"{_(self.TITLE_TEXT)} #{self.row.id}"

    def submit(self) -> Any:
        try:
            return self.move()
        except MoveRefused as exc:
            raise ValidationError({"_": str(exc)}) from None

    def move(self) -> Any:
        raise NotImplementedError


class ClassifyForm(_OnSuggestion):
    TITLE_TEXT = N_("Classify the suggestion")

    def fields(self) -> ComposeResult:
        yield from self.field(
            _("Category *"), "category",
            Select(_categories(), value=self.row.category or Select.NULL,
                   prompt=_("choose a category")),
        )  # fmt: skip

    def move(self) -> int:
        self.services.classify_suggestion(
            self.row.id, agent_id=self.seat_agent.id, category=self.value("category"),
            version=self.row.version,
        )  # fmt: skip
        return self.row.id


class ReplyForm(_OnSuggestion):
    TITLE_TEXT = N_("Answer the suggestion")

    def fields(self) -> ComposeResult:
        yield Label(Text(shown(self.row.text), "italic"), classes="field-label")
        yield from self.field(
            _("What the customer was told *"), "reply_text", TextArea(self.row.reply_text or "")
        )

    def move(self) -> int:
        self.services.reply_suggestion(
            self.row.id, agent_id=self.seat_agent.id, reply_text=self.value("reply_text"),
            version=self.row.version,
        )  # fmt: skip
        return self.row.id


class SuggestionListScreen(Seated, Screen[None]):
    BINDINGS = [
        Binding("n", "record", N_("Record"), tooltip=N_("Record a suggestion"),
                id="suggestions.record"),
        Binding("k", "classify", N_("Classify"), tooltip=N_("Classify the highlighted one"),
                id="suggestions.classify"),
        Binding("y", "reply", N_("Answer"), tooltip=N_("Record the answer to the customer"),
                id="suggestions.reply"),
        Binding("h", "thank", N_("Thanked"), tooltip=N_("The customer was thanked: done"),
                id="suggestions.thank"),
        Binding("a", "next_scope", N_("Open/all"), tooltip=N_("To answer, or every one"),
                id="suggestions.scope"),
        Binding("right_square_bracket", "page(1)", N_("Next page"),
                tooltip=N_("The next page"), id="suggestions.next_page"),
        Binding("left_square_bracket", "page(-1)", N_("Prev page"),
                tooltip=N_("The previous page"), id="suggestions.prev_page"),
        Binding("r", "refresh", N_("Refresh"), tooltip=N_("Reload the list"),
                id="suggestions.refresh", show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"),
                id="suggestions.back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    SuggestionListScreen #sg-title { height: 1; width: 100%; background: $boost; padding: 0 1;
                                     text-style: bold; }
    SuggestionListScreen DataTable { height: 1fr; }
    SuggestionListScreen #sg-detail { height: auto; max-height: 4; padding: 0 1; }
    SuggestionListScreen #sg-help { height: 1; color: $text-muted; padding: 0 1; }
    """

    scope: reactive[str] = reactive("open", init=False)
    page: reactive[int] = reactive(0, init=False)

    def __init__(self) -> None:
        super().__init__()
        self.total = 0
        self.rows: dict[str, SuggestionRow] = {}

    def compose(self) -> ComposeResult:
        yield Label("", id="sg-title")
        yield SeatTable(id="sg-table", cursor_type="row", zebra_stripes=True)
        yield Label("", id="sg-detail")
        yield Label(_("n record · k classify · y answer · h thanked · a open/all · [ ] pages"),
                    id="sg-help")  # fmt: skip
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("#", width=4, key="id")
        table.add_column(_("Received"), width=11)
        table.add_column(_("Channel"), width=8)
        table.add_column(_("Customer"), width=10)
        table.add_column(_("Category"), width=10)
        table.add_column(_("Status"), width=8)
        table.add_column(_("Suggestion"), width=self._text_width())
        table.focus()
        self.load()

    def _text_width(self) -> int:
        """The suggestion's column: what the other columns leave (their widths and each
        column's two cells of padding, the scrollbar's two), 12 to 60 cells. A fixed 24
        ran past the edge at 80 columns: "Please add Satur", cut with no '…'."""
        others = 4 + 11 + 8 + 10 + 10 + 8 + 2 * 7 + 2
        return max(12, min(60, self.app.size.width - others))

    def watch_scope(self) -> None:
        self.page = 0
        self.load()

    def watch_page(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="suggestion-list")
    def load(self) -> None:
        scope, page = self.scope, self.page
        try:
            rows, total = self.services.suggestion_list(scope, offset=page * PAGE, limit=PAGE)
        except StorageError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._fill, rows, total)

    def _fill(self, rows: list[SuggestionRow], total: int) -> None:
        desk = self.services
        self.total = total
        pages = max(1, -(-total // PAGE))
        title = f"{_(TITLES[self.scope])} · {total} · " + _("page {n}/{pages}").format(
            n=self.page + 1, pages=pages
        )
        if not rows:
            title = _("{list}: none (n records one, a shows the others)").format(
                list=_(TITLES[self.scope])
            )
        self.query_one("#sg-title", Label).update(title)
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        self.rows = {str(r.id): r for r in rows}

        def cell(text: str, width: int) -> Text:
            return fit(Text(shown(text), no_wrap=True, overflow="ellipsis"), width)

        for r in rows:
            table.add_row(
                str(r.id),
                f"{desk.local(r.received_at):%m-%d %H:%M}",
                cell(label(labels.CHANNELS, r.channel), 8),
                cell(r.customer or "-", 10),
                cell(label(labels.SUGGESTION_CATEGORIES, r.category), 10),
                cell(label(labels.SUGGESTION_STATUSES, r.status), 8),
                cell(r.text, self._text_width()),
                key=str(r.id),
            )
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        self._show_detail()
        self.refresh_bindings()

    def _current(self) -> SuggestionRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(key or "")

    def _show_detail(self) -> None:
        row = self._current()
        detail = self.query_one("#sg-detail", Label)
        if row is None:
            detail.update("")
            return
        text = Text(shown(row.text))
        if row.reply_text:
            text.append("\n" + _("Answered: {text}").format(text=shown(row.reply_text)), "dim")
        detail.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page" and parameters:
            target = self.page + int(parameters[0])  # type: ignore[call-overload]
            return 0 <= target and target * PAGE < self.total
        if action in ("classify", "reply", "thank"):
            row = self._current()
            return row is not None and row.status != "thanked"
        return True

    def action_page(self, step: int) -> None:
        target = self.page + step
        if 0 <= target and target * PAGE < self.total:
            self.page = target

    def action_next_scope(self) -> None:
        self.scope = "all" if self.scope == "open" else "open"

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    def _reload(self, result: object) -> None:
        if result is not None:
            self.load()

    def action_record(self) -> None:
        self.app.push_screen(SuggestionForm(), self._reload)

    def action_classify(self) -> None:
        row = self._current()
        if row is not None:
            self.app.push_screen(ClassifyForm(row), self._reload)

    def action_reply(self) -> None:
        row = self._current()
        if row is not None:
            self.app.push_screen(ReplyForm(row), self._reload)

    def action_thank(self) -> None:
        row = self._current()
        if row is not None:
            self._thank(row, self.seat_agent.id)

    @work(thread=True, exclusive=True, group="suggestion-move")
    def _thank(self, row: SuggestionRow, agent_id: int) -> None:
        try:
            self.services.thank_suggestion(row.id, agent_id=agent_id, version=row.version)
        except (MoveRefused, StorageError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="warning")
            self.app.call_from_thread(self.load)
            return
        self.app.call_from_thread(
            self.notify, _("Suggestion #{id}: thanked, done.").format(id=row.id)
        )
        self.app.call_from_thread(self.announce_change, "suggestion")
        self.app.call_from_thread(self.load)
