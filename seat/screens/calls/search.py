"""On a call: find the caller by anything and pick them (ctrl+f, a number not on file), or
pick who is calling from a shared number (a family's landline)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList

from seat.i18n import N_, _, ngettext
from seat.screens.background import DeskWorker
from seat.search import DEFAULT_LIMIT, SearchHit
from seat.services import StorageError
from seat.widgets.field_error import FieldError
from seat.widgets.search_results import SearchResults


class PickCustomerScreen(DeskWorker, ModalScreen[SearchHit | None]):
    """Type, Enter: the customers found (masked); Enter on one picks them, esc picks none."""

    DEFAULT_CSS = """
    PickCustomerScreen { align: center middle; }
    PickCustomerScreen > Vertical { width: 76; max-width: 100%; height: auto;
                                    max-height: 100%;
                                    border: thick $primary; background: $surface; padding: 0 1; }
    PickCustomerScreen #pick-count { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "dismiss(None)", N_("Close"), tooltip=N_("Close"), id="pick.close"),
    ]

    def __init__(self, number: str = "", *, shared: Sequence[SearchHit] = ()) -> None:
        """`number`: the caller's number as shown. `shared`: the customers who share it,
        listed at once (the agent asks who is calling); none: a search."""
        super().__init__()
        self.number = number
        self.shared = tuple(shared)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = (
                _("Shared number: who is calling?") if self.shared else _("Find the caller")
            )
            if self.number:
                box.border_subtitle = self.number
            yield Input(
                placeholder=_("name, address, customer, order or phone number; Enter"),
                id="pick-text",
            )
            yield FieldError(id="pick-error")
            yield Label("", id="pick-count")
            yield SearchResults(id="pick-results")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(SearchResults).display = False
        if self.shared:
            self._found(list(self.shared))
        else:
            self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        self.query_one("#pick-count", Label).update(_("looking up…"))

        def read(desk: Any) -> list[SearchHit]:
            return desk.search_customers(text)

        self.in_worker(read, self._found, group="search", failed=self._failed,
                       refusals=(StorageError,))  # fmt: skip

    def _failed(self, exc: Exception) -> None:
        self.query_one("#pick-count", Label).update("")
        self.query_one("#pick-error", FieldError).show(str(exc))

    def _found(self, hits: list[SearchHit]) -> None:
        results = self.query_one(SearchResults)
        results.show(hits)
        count = self.query_one("#pick-count", Label)
        if not hits:
            count.update("")
            self.query_one("#pick-error", FieldError).show(
                _("Nobody found: try part of a name, an address, a customer, order or phone "
                  "number.")
            )  # fmt: skip
            return
        self.query_one("#pick-error", FieldError).show("")
        if len(hits) >= DEFAULT_LIMIT:  # a page, not a count: there may be more
            count.update(_("The first {n} found: type more to narrow them; Enter picks the "
                           "caller").format(n=len(hits)))  # fmt: skip
        else:
            count.update(ngettext("{n} customer found; Enter picks the caller",
                                  "{n} customers found; Enter picks the caller", len(hits))
                         .format(n=len(hits)))  # fmt: skip
        results.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        hit = self.query_one(SearchResults).hit(event.option_index)
        if hit is not None:
            self.dismiss(hit)
