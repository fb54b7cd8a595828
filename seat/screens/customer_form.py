"""New customer, prefilled with the caller's number."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Select

from seat.customers import GENDERS, TIER_CHOICES
from seat.screens.form import FormScreen


class NewCustomerScreen(FormScreen):
    TITLE_TEXT = "New customer"

    def __init__(self, number: str = "") -> None:
        super().__init__()
        self.number = number

    def fields(self) -> ComposeResult:
        yield from self.field("Name *", "name", Input(placeholder="Wang Fang / 王芳"))
        yield from self.field("Phone *", "phone", Input(self.number))
        yield from self.field(
            "Tier",
            "tier",
            Select([(t, t) for t in TIER_CHOICES], value="ordinary", allow_blank=False),
        )
        yield from self.field("Birthday", "birthday", Input(placeholder="YYYY-MM-DD"))
        yield from self.field("Gender", "gender", Select([(g, g) for g in GENDERS]))
        yield from self.field("Address", "address", Input())

    def submit(self) -> int:
        return self.app.desk.create_customer(  # type: ignore[attr-defined]
            name=self.value("name"),
            phone_text=self.value("phone"),
            tier=self.value("tier") or "ordinary",
            birthday=self.value("birthday"),
            gender=self.value("gender") or None,
            address=self.value("address"),
        )
