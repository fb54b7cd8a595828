"""New customer, prefilled with the caller's number."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Select

from seat import labels
from seat.customers import GENDERS, LANGUAGES, TIER_CHOICES
from seat.i18n import N_, _, language
from seat.labels import label
from seat.screens.form import FormScreen


class NewCustomerScreen(FormScreen):
    TITLE_TEXT = N_("New customer")

    def __init__(self, number: str = "") -> None:
        super().__init__()
        self.number = number

    def fields(self) -> ComposeResult:
        yield from self.field(_("Name *"), "name", Input(placeholder=_("Wang Fang / 王芳")))
        yield from self.field(_("Phone *"), "phone", Input(self.number))
        yield from self.field(
            _("Tier"),
            "tier",
            Select(
                [(label(labels.TIERS, t), t) for t in TIER_CHOICES],
                value="ordinary",
                allow_blank=False,
            ),
        )
        yield from self.field(_("Birthday"), "birthday", Input(placeholder="YYYY-MM-DD"))
        yield from self.field(
            _("Gender"),
            "gender",
            Select([(label(labels.GENDERS, g), g) for g in GENDERS], prompt=_("Select")),
        )
        yield from self.field(_("Address"), "address", Input())
        seat = language()
        yield from self.field(
            _("Language"),
            "language",
            Select(
                [(labels.language_label(code), code) for code in LANGUAGES],
                value=seat if seat in LANGUAGES else LANGUAGES[0],  # the seat's, by default
                allow_blank=False,
            ),
        )

    def submit(self) -> int:
        return self.services.create_customer(
            name=self.value("name"),
            phone_text=self.value("phone"),
            tier=self.value("tier") or "ordinary",
            birthday=self.value("birthday"),
            gender=self.value("gender") or None,
            address=self.value("address"),
            language=self.value("language"),
            created_by_id=self.seat_agent.id,
        )
