"""A yes/no question."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from seat.i18n import N_, _


class ConfirmScreen(ModalScreen[bool]):
    """`y` answers yes, `n` or esc no; the question wraps, however long (or wide) it is."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 60; max-width: 100%; height: auto; max-height: 100%;
                               border: thick $warning; background: $surface; padding: 1 2; }
    ConfirmScreen Label { width: 100%; }
    ConfirmScreen #confirm-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", N_("Yes"), tooltip=N_("Yes"), id="confirm.yes"),
        Binding("n,escape", "answer(False)", N_("No"), tooltip=N_("No"), id="confirm.no"),
    ]

    def __init__(self, question: str, *, keys: str | None = None) -> None:
        """`keys` says what y and n do here (translated); the default is "y yes · n no"."""
        super().__init__()
        self.question = question
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, id="confirm-question")
            yield Label(self.keys or _("y yes · n no"), id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
