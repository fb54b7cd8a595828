"""One guard for every text written to the database: no terminal control sequences.

Stored text is shown in terminals; an ESC in a name or a note would reach the agent's
terminal (colours, window titles, swallowed text). Every typed field of the domain is
checked by `check_text` (required, control characters, length) with the agent's message;
the write guard is the net under all of them: a flush that would store a control character
is refused with a ValidationError naming the field.

Rows written by other tools (an import script, a hand-typed UPDATE) never meet that guard,
so text is also cleaned where it comes back: every text value read from the database (both
drivers, every query: ORM rows, column selects, reports) has its control characters removed
before any screen, command or export sees it. `shown()` does the same for text from
elsewhere (a draft file, a command-line argument) on its way to a terminal.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.pool import Pool
from sqlmodel import Session

from seat.errors import ValidationError
from seat.i18n import _

# Line breaks and tabs are text; everything else below 0x20, DEL, C1 and lone surrogates is not,
# nor are the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069):
# in a name or a note they reorder what the agent reads ("Trojan Source").
BIDI = r"\u202a-\u202e\u2066-\u2069"
FORBIDDEN = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI}\ud800-\udfff]")
# In a one-line field (a name, a reason) line breaks and tabs are not text either.
FORBIDDEN_IN_LINE = re.compile(rf"[\x00-\x1f\x7f-\x9f{BIDI}\ud800-\udfff]")


def check_text(
    errors: dict[str, str],
    key: str,
    value: str | None,
    label: str,
    limit: int,
    *,
    required: bool = True,
    missing: str = "",
    one_line: bool = False,
) -> str:
    """The text typed into one field, stripped; what is wrong with it goes in `errors[key]`.

    `label` is N_-marked English (the messages come in the current language); `missing`
    says more than "{label} is required." where the form needs it; `one_line` refuses line
    breaks and tabs too. Raising is the caller's, once every field was checked.
    """
    text = (value or "").strip()
    shown = _(label)
    if not text:
        if required:
            errors[key] = missing or _("{label} is required.").format(label=shown)
    elif (FORBIDDEN_IN_LINE if one_line else FORBIDDEN).search(text):
        errors[key] = _("{label} contains control characters; retype it.").format(label=shown)
    elif len(text) > limit:
        errors[key] = _("{label} is too long ({limit} characters at most).").format(
            label=shown, limit=limit
        )
    return text


def clean(text: str) -> str:
    """The text without control characters (for display of anything that slipped in)."""
    return FORBIDDEN.sub("", text) if FORBIDDEN.search(text) else text


def shown(text: str | None) -> str:
    """Text safe for one line of a terminal: no control characters, line breaks and tabs as
    spaces (a CR would move the cursor back over what was printed)."""
    if not text:
        return ""
    return clean(text).replace("\r\n", " ").translate(_ONE_LINE)


_ONE_LINE = {ord("\r"): " ", ord("\n"): " ", ord("\t"): " "}


def _sqlite_text(raw: bytes) -> str:
    # errors="replace": a damaged text value reads as "�", not as a crash of the screen.
    text = raw.decode("utf-8", errors="replace")
    # Every forbidden character is unprintable (Cc, Cf, Cs): a printable text, nearly every
    # one read (a year's report reads hundreds of thousands), is clean as it is.
    return text if text.isprintable() else clean(text)


_sqlite_text.keeps_printable = True  # type: ignore[attr-defined]
"""A printable text it returns as decoded (seat.db's plain rows check texts in bulk)."""


def texts_of(raw: Sequence[bytes | None]) -> list[str | None]:
    """What the seat's SQLite connections read (`_sqlite_text`) for each of `raw`: text
    values read as BLOBs (`CAST(x AS BLOB)` in a UTF-8 database), so that a column of tens
    of thousands is made text by C loops, not by a Python call per value: decoded as UTF-8
    (a damaged value reads with "\ufffd"), without control characters. NULL stays None."""
    texts: list[str | None]
    try:
        try:
            texts = list(map(bytes.decode, raw))  # type: ignore[arg-type]
        except TypeError:  # a NULL among them
            texts = [None if v is None else v.decode() for v in raw]
    except UnicodeDecodeError:  # a damaged value: value by value
        return [None if v is None else _sqlite_text(v) for v in raw]
    if "".join(filter(None, texts)).isprintable():
        return texts
    return [t if t is None or t.isprintable() else clean(t) for t in texts]


def _clean_reads(dbapi_conn: Any, _record: Any) -> None:
    """Every text value this connection reads comes back without control characters."""
    if isinstance(dbapi_conn, sqlite3.Connection):
        dbapi_conn.text_factory = _sqlite_text
        return
    adapters = getattr(dbapi_conn, "adapters", None)  # psycopg 3
    if adapters is not None:
        loader = _pg_loader()
        for pg_type in ("text", "varchar", "bpchar"):
            adapters.register_loader(pg_type, loader)


@lru_cache(maxsize=1)
def _pg_loader() -> type:
    from psycopg.types.string import TextLoader  # only where PostgreSQL is used

    class CleanTextLoader(TextLoader):
        def load(self, data: Any) -> str:
            return clean(super().load(data))

    return CleanTextLoader


def _check(obj: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        value = getattr(obj, attr.key, None)
        if isinstance(value, str) and FORBIDDEN.search(value):
            errors[attr.key] = _refusal(attr.key)
    return errors


def _refusal(column: str) -> str:
    return f"{column.replace('_', ' ').capitalize()} contains control characters; retype it."


def check_rows(rows: Iterable[Mapping[str, object]]) -> dict[str, str]:
    """`_check` for rows written without the ORM (a multi-row INSERT): column -> message."""
    errors: dict[str, str] = {}
    for row in rows:
        for key, value in row.items():
            if isinstance(value, str) and FORBIDDEN.search(value):
                errors[key] = _refusal(key)
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
    """Listen on every Session and every new connection (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
    if not event.contains(Pool, "connect", _clean_reads):
        event.listen(Pool, "connect", _clean_reads)
