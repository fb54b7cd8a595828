"""Faults a person can fix, told in one line naming the file and what to do.

Classified by the driver's error codes (SQLite's primary result codes), never by the English
text of a message. Anything not recognised here is an unexpected error: the command line
logs its traceback and names the log file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from seat.i18n import _

# SQLite primary result codes (https://sqlite.org/rescode.html).
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26


def database_name(url: str) -> str:
    """The file of an SQLite URL, else the URL without its password."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError:
        return url
    if parsed.get_backend_name() == "sqlite":
        return (parsed.database or url).removeprefix("file:")  # read-only desks use a URI
    return parsed.render_as_string(hide_password=True)


def sqlite_code(exc: BaseException) -> int | None:
    """SQLite's primary result code behind an error (SQLAlchemy wraps the driver's)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error) and getattr(current, "sqlite_errorcode", None):
            return int(current.sqlite_errorcode) & 0xFF
        if isinstance(current, DBAPIError) and current.orig is not None:
            current = current.orig
        else:
            current = current.__cause__ or current.__context__
    return None


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (None: another database, or one in memory)."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError:
        return None
    name = (parsed.database or "").removeprefix("file:")
    if parsed.get_backend_name() != "sqlite" or name in ("", ":memory:"):
        return None
    return Path(name)


def unwritable(url: str) -> Path | None:
    """What keeps this SQLite database from being written: the file, or its folder (SQLite
    writes FILE-wal and FILE-shm beside it), else None (writable, not made yet, or not SQLite).

    `os.access` asks the kernel, so an immutable file (chattr +i) or a read-only mount counts
    even for root; a folder that cannot be written does not matter while both companions
    exist and can be written (SQLite then writes only those)."""
    path = sqlite_file(url)
    if path is None or not path.exists():
        return None
    if not os.access(path, os.R_OK | os.W_OK):
        return path
    folder = path.parent
    if os.access(folder, os.W_OK | os.X_OK):
        return None
    companions = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    if all(c.exists() and os.access(c, os.R_OK | os.W_OK) for c in companions):
        return None
    return folder


class ReadOnlyOutdated(RuntimeError):
    """A read-only database at an older schema: the seat needs the newest and cannot migrate."""

    def __init__(self, url: str) -> None:
        super().__init__(
            _(
                "{file} is read-only and its schema is older than this seat's: it cannot be "
                "upgraded. Give this user write access to the file and its folder and start "
                "again (the seat upgrades it), or use a seat of its own version."
            ).format(file=database_name(url))
        )


class NewerSchema(RuntimeError):
    """A database a newer seat has upgraded: this seat does not know its schema."""

    def __init__(self, url: str, revisions: set[str]) -> None:
        super().__init__(
            _(
                "{file} was upgraded by a newer seat (schema {revision}): this seat cannot "
                "use it. Install that seat's version, or use another file with --db."
            ).format(file=database_name(url), revision=", ".join(sorted(revisions)))
        )


def explain(exc: BaseException, url: str) -> str | None:
    """One line for a database fault a person can fix (None when it is not one)."""
    if isinstance(exc, ReadOnlyOutdated | NewerSchema):
        return str(exc)
    name = database_name(url)
    code = sqlite_code(exc)
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return _(
            "{file} is damaged or is not a seat database: restore the last backup "
            "(seat restore BACKUP) or choose another file with --db."
        ).format(file=name)
    if code in (SQLITE_READONLY, SQLITE_PERM):
        return _(
            "{file} is read-only: the seat cannot save. Give this user write access to the "
            "file and its folder, or use another file with --db."
        ).format(file=name)
    if code == SQLITE_CANTOPEN:
        return _(
            "{file} cannot be opened: check that its folder exists and this user may read and "
            "write there (SQLite also writes {file}-wal and {file}-shm next to it)."
        ).format(file=name)
    if code == SQLITE_FULL:
        return _("{file}: the disk is full. Free some space, then start again.").format(
            file=name
        )
    if code == SQLITE_IOERR:
        return _("{file}: the disk could not be read or written. Check the disk.").format(
            file=name
        )
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return _(
            "{file} is busy: another program holds a lock on it. Try again in a moment."
        ).format(file=name)
    if code is None and isinstance(exc, OperationalError) and not exc.statement:
        # Refused or unreachable server (psycopg's OperationalError while connecting).
        return _("cannot reach the database {url}: {problem}").format(
            url=name, problem=" ".join(str(exc.orig).split())[:200]
        )
    return None
