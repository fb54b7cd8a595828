"""A yes/no question."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from seat.i18n import N_


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 50; height: auto; border: thick $warning;
                               background: $surface; padding: 1 2; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", N_("Yes"), tooltip=N_("Yes"), id="confirm.yes"),
        Binding("n,escape", "answer(False)", N_("No"), tooltip=N_("No"), id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Label("y yes · n no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
