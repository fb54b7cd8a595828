"""Read-only details of a work order and a customer opened from the desk."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from seat import phone
from seat.desk import StorageError
from seat.widgets.card import CustomerCardView
from seat.widgets.field_error import FieldError


class WorkOrderScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    WorkOrderScreen { align: center middle; }
    WorkOrderScreen > Vertical { width: 76; max-width: 100%; height: auto;
                                 border: thick $primary; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", tooltip="Close", id="detail.close")]

    def __init__(self, work_order_id: int) -> None:
        super().__init__()
        self.work_order_id = work_order_id

    def compose(self) -> ComposeResult:
        desk = self.app.desk  # type: ignore[attr-defined]
        data = desk.work_order(self.work_order_id) or {}
        with Vertical() as box:
            box.border_title = f"Work order #{self.work_order_id}"
            if not data:
                yield Label("This work order no longer exists.")
                return
            due = desk.local(data["due_at"])
            created = desk.local(data["created_at"])
            urgent = "URGENT · " if data["urgent"] else ""
            yield Static(
                f"[b]{data['short_text']}[/b]\n"
                f"{urgent}{str(data['kind']).replace('_', ' ')} · status {data['status']}\n"
                f"Customer: {data['customer']} · reporter {data['reporter']}\n"
                f"Service address: {data['service_address'] or '-'}\n"
                f"Assignee: {data['assignee']} · expected end {due:%Y-%m-%d %H:%M}\n"
                f"Created {created:%Y-%m-%d %H:%M} from call #{data['call_id'] or '-'}\n\n"
                f"{data['long_text'] or ''}",
                markup=True,
            )
            yield Label("esc close", classes="field-label")


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
