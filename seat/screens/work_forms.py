"""Work opened from a call: a callback, a work order, a complaint."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Select, TextArea

from seat.calls import CallState
from seat.screens.form import FormScreen
from seat.work import WORK_ORDER_KINDS


class CallbackForm(FormScreen):
    TITLE_TEXT = "Schedule a callback"

    def __init__(self, state: CallState) -> None:
        super().__init__()
        self.state = state

    def fields(self) -> ComposeResult:
        yield from self.field(
            "Due (2026-11-24 10:30, 15:00 or +2h) *", "due_at", Input(placeholder="+1d")
        )
        yield from self.field("Reason *", "reason", Input(placeholder="what to call about"))

    def submit(self) -> int:
        return self.app.desk.create_callback(  # type: ignore[attr-defined]
            self.state, due_text=self.value("due_at"), reason=self.value("reason")
        )


class WorkOrderForm(FormScreen):
    TITLE_TEXT = "Open a work order"

    def __init__(self, state: CallState, agents: list[tuple[int, str]]) -> None:
        super().__init__()
        self.state = state
        self.agents = agents

    def fields(self) -> ComposeResult:
        kinds = [
            ("service request (after payment)", WORK_ORDER_KINDS[0]),
            ("delivery exception (before payment)", WORK_ORDER_KINDS[1]),
        ]
        yield from self.field("Kind *", "kind", Select(kinds, value=WORK_ORDER_KINDS[0]))
        yield from self.field("Short description *", "short_text", Input(max_length=200))
        yield from self.field(
            "Assignee *", "assignee", Select([(name, str(i)) for i, name in self.agents])
        )
        yield from self.field("Urgency", "urgent", Checkbox("Urgent: dispatch at once"))
        yield from self.field(
            "Expected end (+2h, 15:00, 2026-11-24 10:00) *", "due_at", Input(placeholder="+1d")
        )
        yield from self.field("Long text", "long_text", TextArea())

    def submit(self) -> int:
        assignee = self.value("assignee")
        return self.app.desk.create_work_order(  # type: ignore[attr-defined]
            self.state,
            kind=self.value("kind"),
            short_text=self.value("short_text"),
            assignee_id=int(assignee) if assignee else None,
            urgent=self.flag("urgent"),
            due_text=self.value("due_at"),
            long_text=self.value("long_text"),
        )


class ComplaintForm(FormScreen):
    TITLE_TEXT = "Open a complaint"

    def __init__(self, state: CallState) -> None:
        super().__init__()
        self.state = state

    def fields(self) -> ComposeResult:
        yield from self.field("What happened *", "what_happened", TextArea())
        yield from self.field("What the customer wants *", "customer_wants", Input())

    def submit(self) -> int:
        return self.app.desk.create_complaint(  # type: ignore[attr-defined]
            self.state,
            what_happened=self.value("what_happened"),
            customer_wants=self.value("customer_wants"),
        )
