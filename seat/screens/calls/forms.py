"""Work opened from a call: a callback, a work order, a complaint."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, TextArea

from seat.calls import CallState
from seat.i18n import N_, _
from seat.screens.due_time import DueTimeForm
from seat.screens.form import FormScreen
from seat.screens.intake_fields import channel_fields
from seat.screens.work_orders.work_order import (
    WorkOrderForm as WorkOrderForm,  # the full order form
)


class CallbackForm(DueTimeForm):
    TITLE_TEXT = N_("Schedule a callback")

    def __init__(self, state: CallState) -> None:
        super().__init__()
        self.state = state

    def fields(self) -> ComposeResult:
        yield from self.field(
            _("Due (2026-11-24 10:30, 15:00 or +2h) *"), "due_at", Input(placeholder="+1d")
        )
        yield self.offer_button()
        yield from self.field(
            _("Reason *"), "reason", Input(placeholder=_("what to call about"))
        )

    def submit(self) -> int:
        return self.services.create_callback(
            self.state,
            due_text=self.value("due_at"),
            reason=self.value("reason"),
            # In the customer's rest hours: warn once and offer the next open time.
            before_commit=lambda _customer, due, read: self.check_rest(
                self.state.customer_id, due, read
            ),
        )


class ComplaintForm(FormScreen):
    TITLE_TEXT = N_("Open a complaint")

    def __init__(self, state: CallState, *, what_happened: str = "") -> None:
        super().__init__()
        self.state = state
        self.prefill = what_happened
        """What the customer said (an unsatisfied callback answer), for the agent to edit."""

    def fields(self) -> ComposeResult:
        yield from self.field(
            _("What happened *"), "what_happened", TextArea(self.prefill)
        )
        yield from self.field(_("What the customer wants *"), "customer_wants", Input())
        yield from channel_fields(self)

    def submit(self) -> int:
        return self.services.register_complaint(
            self.state,
            what_happened=self.value("what_happened"),
            customer_wants=self.value("customer_wants"),
            channel=self.value("channel") or "phone",
            received_text=self.value("received_at"),
            channel_ref=self.value("channel_ref"),
        )

