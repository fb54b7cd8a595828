"""Time is injected: rules and screens ask a Clock, never datetime.now(). And the one way a
typed time ("2026-11-24 10:30", "15:00", "+2h") becomes an instant."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from seat.i18n import _


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move (tests, snapshots)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)


def parse_when(text: str, *, now: datetime, tz: object) -> datetime:
    """Parse 'YYYY-MM-DD HH:MM' (or '+2h', '+1d', '-1d', 'HH:MM' today) in the desk's zone
    -> UTC."""
    zone = tz if not isinstance(tz, str) else ZoneInfo(tz)
    raw = (text or "").strip()
    if not raw:
        raise ValueError(_("Enter a date and time, e.g. 2026-11-24 10:30, 15:00 or +2h."))
    local_now = now.astimezone(zone)  # type: ignore[arg-type]
    if raw.startswith(("+", "-")):  # "-1d": received a day ago
        unit = raw[-1].lower()
        try:
            amount = float(raw[1:-1]) * (-1 if raw.startswith("-") else 1)
        except ValueError:
            raise ValueError(_("Use +30m, +2h or +1d for a relative time.")) from None
        minutes = {"m": 1, "h": 60, "d": 1440}.get(unit)
        if minutes is None or not math.isfinite(amount):
            raise ValueError(_("Use +30m, +2h or +1d for a relative time."))
        try:
            return now + timedelta(minutes=amount * minutes)
        except OverflowError:
            raise ValueError(
                _("Too far ahead; use +30m, +2h or +1d for a relative time.")
            ) from None
    try:
        if len(raw) <= 5 and ":" in raw:
            hh, mm = raw.split(":")
            local = local_now.replace(hour=int(hh), minute=int(mm), second=0, microsecond=0)
        else:
            local = datetime.fromisoformat(raw.replace("T", " "))
            if local.tzinfo is None:
                local = local.replace(tzinfo=zone)  # type: ignore[arg-type]
        return local.astimezone(now.tzinfo)
    except (ValueError, OverflowError):
        raise ValueError(_("Not a date and time; use 2026-11-24 10:30, 15:00 or +2h.")) from None
