"""Intake by channel: where a complaint, a suggestion or a service request came from, when it
was received and the channel's own reference (DOMAIN.md section 3, "Channels")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from seat import labels
from seat.i18n import N_, _
from seat.textguard import check_text

CHANNELS = tuple(labels.CHANNELS)
"""phone, email, wechat, weibo, web, store, letter, walk_in."""
OFFICIAL_MEDIA = ("wechat", "weibo")
"""The company's official media accounts (the 400-desk rule: reviewed within 1 h)."""
CLOCK_SKEW = timedelta(minutes=1)
"""A received time this little ahead of the seat's clock is a clock difference, taken as now."""


@dataclass(frozen=True)
class Intake:
    """How something reached the company: typed at a seat, or received earlier elsewhere."""

    channel: str = "phone"
    received_at: datetime | None = None
    """None: received now (a call)."""
    channel_ref: str = ""


def check_intake(errors: dict[str, str], intake: Intake, *, now: datetime) -> Intake:
    """The intake as stored (the reference stripped, the time at most now); each problem in
    `errors` under channel, received_at or channel_ref."""
    if intake.channel not in CHANNELS:
        errors["channel"] = _("Choose one of the channels.")
    ref = check_text(errors, "channel_ref", intake.channel_ref, N_("The channel's reference"),
                     120, required=False, one_line=True)  # fmt: skip
    received = intake.received_at
    if received is not None:
        if received > now + CLOCK_SKEW:
            errors["received_at"] = _(
                "The time received cannot be in the future: enter when it reached us."
            )
        received = min(received, now)
    return Intake(intake.channel, received, ref)


def channel_label(channel: str | None) -> str:
    """The channel in the current language."""
    return _(labels.CHANNELS[channel]) if channel in labels.CHANNELS else (channel or "")
