"""Details opened from the desk: a customer found by phone; the work order (work_order.py)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from seat import phone
from seat.desk import StorageError
from seat.screens.work_order import WorkOrderScreen as WorkOrderScreen
from seat.widgets.card import CustomerCardView
from seat.widgets.field_error import FieldError


class FindCustomerScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    FindCustomerScreen { align: center middle; }
    FindCustomerScreen > Vertical { width: 76; max-width: 100%; height: auto;
                                    border: thick $primary; background: $surface; padding: 0 1; }
    FindCustomerScreen #find-error { color: $error; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", tooltip="Close", id="find.close")]

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Find a customer by phone"
            yield Input(placeholder="number, any format; Enter", id="find-number")
            yield FieldError(id="find-error")
            yield CustomerCardView(id="find-card")

    def on_mount(self) -> None:
        self.query_one(CustomerCardView).display = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        desk = self.app.desk  # type: ignore[attr-defined]
        error = self.query_one("#find-error", FieldError)
        card_view = self.query_one(CustomerCardView)
        try:
            e164, hit = desk.lookup(event.value)
            card = desk.card(hit.id) if hit else None
        except (phone.PhoneError, StorageError) as exc:
            error.show(str(exc))
            card_view.display = False
            return
        error.show("")
        card_view.display = True
        card_view.show_card(card, number=desk.display_phone(e164))
