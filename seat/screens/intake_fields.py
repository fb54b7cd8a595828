"""The intake fields every form of work from any channel shares (seat.intake)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Select

from seat import labels
from seat.i18n import _
from seat.screens.form import FormScreen


def channel_fields(form: FormScreen) -> ComposeResult:
    """Channel, time received and the channel's reference: the intake of any channel."""
    yield from form.field(
        _("Channel"), "channel",
        Select([(_(word), key) for key, word in labels.CHANNELS.items()], value="phone",
               allow_blank=False),
    )  # fmt: skip
    yield from form.field(
        _("Received (empty: now; 2026-12-05 15:00, 09:30 or -1d)"), "received_at",
        Input(placeholder=_("now")),
    )  # fmt: skip
    yield from form.field(
        _("Channel reference (e-mail subject, post link, letter no.)"), "channel_ref", Input()
    )
