"""Revealing a masked phone number or address: a reason first, written to the access log.

Everyone gives a reason, supervisors too. The value is then shown on the screen that asked,
and only there: leaving the screen masks it again.
"""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input, Select

from seat.i18n import N_, _
from seat.screens.form import FormScreen

WHAT_LABELS = {"phone": N_("Phone numbers"), "address": N_("Addresses")}


def in_call_with(app: App[Any], customer_id: int | None) -> bool:
    """True if a call with this customer is open at this seat (its card is shown unmasked).

    A call screen says whose call it is by `call_customer_id` (the call screen imports the
    screens that ask, so they do not import it)."""
    if customer_id is None:
        return False
    return any(
        getattr(screen, "call_customer_id", None) == customer_id for screen in app.screen_stack
    )


class RevealScreen(FormScreen):
    """Asks why; dismisses with the AccessLog id and `self.what` set to what was revealed."""

    TITLE_TEXT = N_("Reveal customer data")

    def __init__(self, customer_id: int, what: tuple[str, ...] = ("phone", "address")) -> None:
        super().__init__()
        self.TITLE_TEXT = _("Reveal data of customer #{id}").format(id=customer_id)
        self.customer_id = customer_id
        self.choices = what
        self.what = what[0]

    def fields(self) -> ComposeResult:
        yield from self.field(
            _("Reason * (written to the access log)"),
            "reason",
            Input(placeholder=_("e.g. customer asked by e-mail to confirm the number")),
        )
        yield from self.field(
            _("What"),
            "what",
            Select(
                [(_(WHAT_LABELS[w]), w) for w in self.choices],
                value=self.choices[0],
                allow_blank=False,
            ),
        )

    def submit(self) -> int:
        agent_id = self.seat_agent.id
        self.what = self.value("what") or self.choices[0]
        return self.services.reveal(
            self.customer_id, agent_id=agent_id, what=self.what, reason=self.value("reason")
        )
