"""Edit a customer: name, first phone, addresses, tier, language; every change is history.

Outside the customer's own call the phone and addresses stay masked here too: those fields
start empty with the masked value as a hint, and left empty they are not changed.
"""

from __future__ import annotations

from collections.abc import Collection

from textual.app import ComposeResult
from textual.widgets import Input, Select

from seat import customers, labels, privacy
from seat.i18n import N_, SOURCE_LANGUAGE, _, language, ngettext
from seat.screens.form import FormScreen
from seat.services import Desk

KIND = {"phone": "phone", "address": "address", "second_address": "address"}


def tier_word(tier: str) -> str:
    """A tier in the Select: the stored word in English, translated otherwise."""
    return tier if language() == SOURCE_LANGUAGE else labels.label(labels.TIERS, tier)


class CustomerEditScreen(FormScreen):
    """Dismisses with the number of fields changed (0: nothing to save), None if cancelled."""

    TITLE_TEXT = N_("Edit customer")

    def __init__(self, current: customers.CustomerEdit, *, hidden: Collection[str] = ()) -> None:
        """`hidden`: the kinds ("phone", "address") masked on the screen that asked."""
        super().__init__()
        self.TITLE_TEXT = _("Edit customer #{id}").format(id=current.id)
        self.current = current
        self.hidden = frozenset(hidden)

    def _masked(self, name: str) -> bool:
        return KIND.get(name, "") in self.hidden

    def _text(self, name: str, value: str | None) -> Input:
        desk = self.services
        shown = desk.display_phone(value) if name == "phone" and value else (value or "")
        if not self._masked(name):
            return Input(shown)
        hint = (
            privacy.mask_phone(value, desk.settings.region)
            if name == "phone"
            else (privacy.mask_address(value))
        )
        return Input(
            placeholder=_("{masked}: type a new one to change it").format(masked=hint)
            if hint
            else _("none on file")
        )

    def fields(self) -> ComposeResult:
        c = self.current
        yield from self.field(_("Name *"), "name", Input(c.name))
        yield from self.field(_("Phone *"), "phone", self._text("phone", c.phone))
        yield from self.field(_("Address"), "address", self._text("address", c.address))
        yield from self.field(
            _("Second address"), "second_address", self._text("second_address", c.second_address)
        )
        yield from self.field(
            _("Tier"),
            "tier",
            Select([(tier_word(t), t) for t in customers.TIER_CHOICES], value=c.tier,
                   allow_blank=False),  # fmt: skip
        )
        languages = [(labels.language_label(code), code) for code in customers.LANGUAGES]
        yield from self.field(
            _("Language"),
            "language",
            Select(
                languages,
                value=c.language if c.language in customers.LANGUAGES else customers.LANGUAGES[0],
                allow_blank=False,
            ),
        )

    def _typed(self, name: str) -> str | None:
        """What to save for a field; None leaves it as it is (a masked field left empty)."""
        value = self.value(name)
        if self._masked(name) and not value.strip():
            return None
        return value

    def submit(self) -> int:
        changes = self.services.edit_customer(
            self.current.id,
            agent_id=self.seat_agent.id,
            name=self.value("name"),
            phone_text=self._typed("phone"),
            address=self._typed("address"),
            second_address=self._typed("second_address"),
            tier=self.value("tier"),
            language=self.value("language"),
        )
        return len(changes)


def read_editable(desk: Desk, customer_id: int) -> customers.CustomerEdit:
    """In a worker: the customer as stored now, for the edit form (StorageError; LookupError
    when the customer is no longer on file)."""
    current = desk.editable_customer(customer_id)
    if current is None:
        raise LookupError(_("Customer #{id} is no longer on file.").format(id=customer_id))
    return current


def edited_message(count: int | None) -> str | None:
    """What to tell the agent after the form closed (None: it was cancelled)."""
    if count is None:
        return None
    if count == 0:
        return _("Nothing changed.")
    return ngettext(
        "Customer saved: {n} change written to the history.",
        "Customer saved: {n} changes written to the history.",
        count,
    ).format(n=count)
