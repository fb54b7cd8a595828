"""Import customers from a CSV file, one SAVEPOINT per row, committed in batches.

The file needs a header row; column names are matched case-insensitively and
extra columns are ignored. `name` and `phone` are required; `tier`, `birthday`
(YYYY-MM-DD), `gender`, `address`, `occupation` and `language` are optional.
Every row goes through `seat.customers.create_customer`, so the rules are the
same as at the seat. A bad row is reported with its line number in the file
(the header is line 1) and leaves nothing behind; the good rows are imported.

The rows are committed in batches (BATCH_ROWS rows or BATCH_SECONDS, whichever comes
first): on SQLite a write transaction holds the whole file, and a seat saving a call waits
for it, so an import must never hold it for more than about a second. An import stopped
half-way keeps the batches already committed; running the file again reports them as
duplicates. With `batch_rows=None` nothing is committed and the caller decides.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from seat.customers import DuplicatePhone, ValidationError, create_customer
from seat.db import refresh_statistics
from seat.i18n import _, ngettext
from seat.phone import normalise

REQUIRED = ("name", "phone")
OPTIONAL = ("tier", "birthday", "gender", "address", "occupation", "language")
LANGUAGES = ("en", "zh_CN")
_LANGUAGE_ALIASES = {"en": "en", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "zh": "zh_CN"}
BATCH_ROWS = 500
BATCH_SECONDS = 0.5
# The csv module refuses a field over 128 KiB as a broken file; a huge field is one bad row
# (the customer rules name it), not a reason to refuse the rows around it.
FIELD_LIMIT = 2**31 - 1


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (no header, wrong encoding, broken CSV)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str
    name: str = ""
    phone: str = ""


@dataclass
class ImportReport:
    imported: int = 0
    duplicates: list[RowProblem] = field(default_factory=list)
    errors: list[RowProblem] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.duplicates) + len(self.errors)


def import_csv(
    *,
    session: Session,
    path: Path,
    now: datetime,
    region: str = "CN",
    batch_rows: int | None = BATCH_ROWS,
    committed: Callable[[ImportReport, int], None] | None = None,
) -> ImportReport:
    """Import the customers of a CSV file; see the module docstring for the format.

    `committed(report, line)` is called after each batch is committed (progress; the last
    line read so far).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFileError(
            _("Cannot read {path}: {reason}.").format(path=path, reason=exc.strerror or exc)
        ) from None
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            _(
                "{name} is not UTF-8 text (bad byte on line {line}); "
                'save it as "CSV UTF-8" (GBK/ANSI files are not read) and try again.'
            ).format(name=Path(path).name, line=line)
        ) from None
    if "\x00" in content:
        raise ImportFileError(_("{name} is not a text file.").format(name=Path(path).name))

    # newline="": the csv module sees the raw line ends (quoted fields may span lines).
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    report = ImportReport()
    _begin_outer_transaction(session)
    in_batch, batch_started = 0, time.monotonic()
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # skip leading blank lines
        if header is None:
            raise ImportFileError(_("The file is empty; the first row must name the columns."))
        columns = _columns(header)
        seen: dict[str, int] = {}  # e164 -> line imported from this file
        start = reader.line_num + 1
        for cells in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            _import_row(session, columns, cells, line, now, region, seen, report)
            in_batch += 1
            if batch_rows is not None and (
                in_batch >= batch_rows or time.monotonic() - batch_started >= BATCH_SECONDS
            ):
                _commit(session, report, line, committed)
                in_batch, batch_started = 0, time.monotonic()
        if batch_rows is not None and in_batch:
            _commit(session, report, reader.line_num, committed)
    except csv.Error as exc:
        raise ImportFileError(
            _("Line {line}: malformed CSV ({reason}).").format(line=reader.line_num, reason=exc)
        ) from None
    if batch_rows is not None and report.imported:
        # Committed: the planner's statistics see the new rows (a caller that keeps the
        # transaction open, batch_rows=None, refreshes them after its own commit).
        refresh_statistics(session.get_bind())  # type: ignore[arg-type]
    return report


def _commit(
    session: Session,
    report: ImportReport,
    line: int,
    committed: Callable[[ImportReport, int], None] | None,
) -> None:
    session.commit()  # the write lock is free here: a seat's save goes in between batches
    if committed is not None:
        committed(report, line)
    _begin_outer_transaction(session)


def _begin_outer_transaction(session: Session) -> None:
    """Make sure SQLite is inside a real transaction before the first SAVEPOINT.

    The sqlite3 driver only emits BEGIN before the first INSERT/UPDATE/DELETE; a
    SAVEPOINT issued earlier opens the transaction itself, and releasing it then
    commits, so the caller's rollback could no longer undo the import.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    if raw is not None and not getattr(raw, "in_transaction", True):
        conn.exec_driver_sql("BEGIN")


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        if key in REQUIRED + OPTIONAL and key not in columns:
            columns[key] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        found = ", ".join(h.strip() for h in header if h.strip()) or _("nothing")
        raise ImportFileError(
            ngettext(
                "The header row must have the column {missing}; found: {found}.",
                "The header row must have the columns {missing}; found: {found}.",
                len(missing),
            ).format(missing=", ".join(missing), found=found)
        )
    return columns


def _import_row(
    session: Session,
    columns: dict[str, int],
    cells: list[str],
    line: int,
    now: datetime,
    region: str,
    seen: dict[str, int],
    report: ImportReport,
) -> None:
    def get(key: str) -> str:
        index = columns.get(key)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    name, phone_text = get("name"), get("phone")
    shown_name, shown_phone = name[:200], phone_text[:40]  # a 1 MB field is not echoed back
    extra: dict[str, str] = {}  # checks create_customer does not make
    language = get("language")
    lang = _LANGUAGE_ALIASES.get(language.lower()) if language else "en"
    if lang is None:
        extra["language"] = _("Language must be one of: {choices}.").format(
            choices=", ".join(LANGUAGES)
        )
    occupation = get("occupation")
    if len(occupation) > 120:
        extra["occupation"] = _("Occupation is too long (120 characters at most).")
    savepoint = session.begin_nested()
    try:
        create_customer(
            session=session,
            now=now,
            name=name,
            phone_text=phone_text,
            region=region,
            tier=get("tier") or "ordinary",
            birthday=get("birthday") or None,
            gender=get("gender") or None,
            address=get("address") or None,
            occupation=occupation or None,
            language=lang or "en",
        )
    except DuplicatePhone as exc:
        savepoint.rollback()
        if extra:
            report.errors.append(
                RowProblem(line, _reason({**exc.errors, **extra}), shown_name, shown_phone)
            )
            return
        first = seen.get(exc.e164)
        reason = (
            _("phone: {number} already appears on line {line} of this file.").format(
                number=exc.e164, line=first
            )
            if first is not None
            else _("phone: {number} is already on file (customer #{id}).").format(
                number=exc.e164, id=exc.customer_id
            )
        )
        report.duplicates.append(RowProblem(line, reason, shown_name, shown_phone))
        return
    except ValidationError as exc:
        savepoint.rollback()
        report.errors.append(
            RowProblem(line, _reason({**exc.errors, **extra}), shown_name, shown_phone)
        )
        return
    except BaseException:
        savepoint.rollback()
        raise
    if extra:
        savepoint.rollback()
        report.errors.append(RowProblem(line, _reason(extra), shown_name, shown_phone))
        return
    savepoint.commit()
    seen[normalise(phone_text, region)] = line
    report.imported += 1


def _reason(errors: dict[str, str]) -> str:
    return "; ".join(f"{key}: {message}" for key, message in errors.items())


def format_report(report: ImportReport) -> str:
    """One line per problem in file order, then a summary line."""
    problems = sorted(report.errors + report.duplicates, key=lambda p: p.line)
    lines = [_("line {line}: {reason}").format(line=p.line, reason=p.reason) for p in problems]
    imported = ngettext("Imported {n} customer", "Imported {n} customers", report.imported)
    duplicates = ngettext("{n} duplicate", "{n} duplicates", len(report.duplicates))
    rejected = ngettext("{n} row rejected.", "{n} rows rejected.", len(report.errors))
    lines.append(
        "; ".join(
            (
                imported.format(n=report.imported),
                duplicates.format(n=len(report.duplicates)),
                rejected.format(n=len(report.errors)),
            )
        )
    )
    return "\n".join(lines)
