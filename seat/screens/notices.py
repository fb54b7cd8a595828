"""Notices (公告): the list of those valid now (o on the desk), the publish form
(supervisors), and the notices to read out on a call about a notice or an outage.

Reads and writes go through the Desk (seat.notices holds the rules).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from seat import labels, roles
from seat.clock import parse_when
from seat.errors import ValidationError
from seat.i18n import N_, _, format_datetime
from seat.labels import label
from seat.notices import NoticeDraft, NoticeView
from seat.screens.background import DeskWorker
from seat.screens.form import FormScreen
from seat.screens.role_keys import RoleKeys
from seat.textguard import shown
from seat.widgets.door import Seated
from seat.widgets.table import SeatTable

KINDS = ("outage", "service")


def read_out(notice: NoticeView, local: Callable[[datetime], datetime]) -> Text:
    """A notice as the agent reads it: title, text, and an outage's area, cause, times
    (`local`: a stored time in the desk's zone)."""
    text = Text()
    text.append(shown(notice.title), style="bold")
    text.append(f"  ({label(labels.NOTICE_KINDS, notice.kind)})\n")
    if notice.kind == "outage":
        text.append(_("Area: {area}").format(area=shown(notice.area)) + "\n")
        if notice.cause:
            text.append(_("Cause: {cause}").format(cause=shown(notice.cause)) + "\n")
        text.append(_("From {start} to {end}").format(
            start=format_datetime(local(notice.valid_from), "short"),
            end=format_datetime(local(notice.valid_to), "short"),
        ) + "\n")  # fmt: skip
        if notice.restore_at is not None:
            text.append(_("Expected back: {when}").format(
                when=format_datetime(local(notice.restore_at), "short")) + "\n")  # fmt: skip
    text.append(notice.text)
    return text


class NoticeForm(FormScreen):
    """Publish a notice: its kind, title, validity, an outage's area, cause and restoration."""

    TITLE_TEXT = N_("Publish a notice")

    def fields(self) -> ComposeResult:
        yield from self.field(_("Kind *"), "kind", Select(
            [(label(labels.NOTICE_KINDS, k), k) for k in KINDS], value="outage",
            allow_blank=False))  # fmt: skip
        yield from self.field(_("Title *"), "title", Input())
        yield from self.field(_("Area (outages: as addresses write it)"), "area", Input())
        yield from self.field(_("Cause"), "cause", Input())
        yield from self.field(_("Valid from *"), "valid_from",
                              Input(placeholder=_("e.g. {example}").format(
                                  example="2026-11-24 08:00, 15:00, +0h")))  # fmt: skip
        yield from self.field(_("Valid to *"), "valid_to",
                              Input(placeholder=_("e.g. {example}").format(example="+8h")))
        yield from self.field(_("Expected back (outages)"), "restore_at",
                              Input(placeholder=_("e.g. {example}").format(example="+6h")))
        yield from self.field(_("Text to read out *"), "text", TextArea())

    def _when(self, name: str, errors: dict[str, str], *, required: bool) -> datetime | None:
        raw = self.value(name).strip()
        if not raw and not required:
            return None
        try:
            return parse_when(raw, now=self.services.now(), tz=self.services.zone)
        except ValueError as exc:
            errors[name] = str(exc)
            return None

    def submit(self) -> int:
        errors: dict[str, str] = {}
        start = self._when("valid_from", errors, required=True)
        end = self._when("valid_to", errors, required=True)
        restore = self._when("restore_at", errors, required=False)
        if errors or start is None or end is None:
            raise ValidationError(errors)
        draft = NoticeDraft(
            kind=self.value("kind"), title=self.value("title"), text=self.value("text"),
            valid_from=start, valid_to=end, area=self.value("area"), cause=self.value("cause"),
            restore_at=restore,
        )  # fmt: skip
        try:
            return self.services.publish_notice(draft, agent=self.seat_agent)
        except roles.PermissionDenied as exc:
            raise ValidationError({"_": str(exc)}) from exc


class NoticesScreen(DeskWorker, RoleKeys, Screen[None]):
    """The notices valid now, each with the calls it drew; the highlighted one in full."""

    ROLE_ACTIONS = {"publish": roles.PUBLISH_NOTICE}
    BINDINGS = [
        Binding("n", "publish", N_("Publish"), tooltip=N_("Publish a notice (supervisors)"),
                id="notices.publish"),
        Binding("ctrl+r", "reload", N_("Reload"), tooltip=N_("Read the notices again"),
                id="notices.reload", show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the desk"), id="notices.back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    NoticesScreen #nt-title { height: 1; padding: 0 1; background: $boost; width: 100%;
                              text-style: bold; }
    NoticesScreen #nt-table { height: 1fr; }
    NoticesScreen #nt-text { height: auto; max-height: 50%; padding: 0 1;
                             border-top: solid $primary; }
    """

    COLUMNS = (N_("Kind"), N_("Title"), N_("Area"), N_("Until"), N_("Calls"))

    def __init__(self) -> None:
        super().__init__()
        self.notices: list[NoticeView] = []

    def compose(self) -> ComposeResult:
        yield Label(_("Notices valid now"), id="nt-title")
        yield SeatTable(id="nt-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="nt-text")
        yield Footer(compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.role_allows(action)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*(_(c) for c in self.COLUMNS))
        table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        self.in_worker(lambda desk: desk.current_notices(), self._show)

    def _show(self, found: list[NoticeView]) -> None:
        self.notices = found
        table = self.query_one(DataTable)
        table.clear()
        for n in found:
            table.add_row(label(labels.NOTICE_KINDS, n.kind), shown(n.title), shown(n.area),
                          format_datetime(self.services.local(n.valid_to), "short"),
                          str(n.calls))  # fmt: skip
        text = self.query_one("#nt-text", Static)
        if not found:
            text.update(Text(_("No notice is valid now."), style="italic"))
        else:
            self._highlighted(min(table.cursor_row, len(found) - 1))

    @on(DataTable.RowHighlighted)
    def _row(self, event: DataTable.RowHighlighted) -> None:
        self._highlighted(event.cursor_row)

    def _highlighted(self, row: int) -> None:
        if 0 <= row < len(self.notices):
            self.query_one("#nt-text", Static).update(
                read_out(self.notices[row], self.services.local)
            )

    def action_publish(self) -> None:
        def done(result: int | None) -> None:
            if result is not None:
                self.notify(_("Notice published."))
                self.action_reload()

        self.app.push_screen(NoticeForm(), done)

    def action_back(self) -> None:
        self.dismiss(None)


class NoticePick(Seated, ModalScreen[int | None]):
    """On a call: the notices that concern the caller, to read out; Enter links the call to
    the one read (the notice counts the calls it drew), esc closes."""

    DEFAULT_CSS = """
    NoticePick { align: center middle; }
    NoticePick > Vertical { width: 76; max-width: 100%; height: auto; max-height: 100%;
                            border: thick $primary; background: $surface; padding: 0 1; }
    NoticePick OptionList { height: auto; max-height: 18; }
    NoticePick #np-help { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "close", N_("Close"), id="notice_pick.close")]

    def __init__(self, found: list[NoticeView]) -> None:
        super().__init__()
        self.found = found

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Notices for this caller")
            local = self.services.local
            options: list[Option | None] = []
            for n in self.found:
                if options:
                    options.append(None)  # a rule between two notices
                options.append(Option(read_out(n, local), id=str(n.id)))
            yield OptionList(*options)
            yield Label(_("Read the notice out · Enter: this call is about it · esc: close"),
                        id="np-help")  # fmt: skip

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0) or None)

    def action_close(self) -> None:
        self.dismiss(None)
