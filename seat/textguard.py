"""One guard for every text written to the database: no terminal control sequences.

Stored text is shown in terminals; an ESC in a name or a note would reach the agent's
terminal (colours, window titles, swallowed text). Each form validates its own fields
with friendly messages; this guard is the net under all of them: a flush that would store
a control character is refused with a ValidationError naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event, inspect
from sqlmodel import Session

from seat.customers import ValidationError

# Line breaks and tabs are text; everything else below 0x20, DEL, C1 and lone surrogates is not.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str) -> str:
    """The text without control characters (for display of anything that slipped in)."""
    return FORBIDDEN.sub("", text)


def _check(obj: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        value = getattr(obj, attr.key, None)
        if isinstance(value, str) and FORBIDDEN.search(value):
            label = attr.key.replace("_", " ").capitalize()
            errors[attr.key] = f"{label} contains control characters; retype it."
    return errors


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    errors: dict[str, str] = {}
    for obj in list(session.new) + list(session.dirty):
        found = _check(obj)
        if found and obj in session.new:
            session.expunge(obj)  # refused rows leave nothing pending in the session
        errors.update(found)
    if errors:
        raise ValidationError(errors)


def install() -> None:
    """Listen on every Session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
