"""Import customers from a CSV file in batches: checked in Python, written in bulk.

The file needs a header row; column names are matched case-insensitively and
extra columns are ignored. `name` and `phone` are required; `tier`, `birthday`
(YYYY-MM-DD), `gender`, `address`, `occupation`, `language` and `member_until` (the last
day of the membership, YYYY-MM-DD) are optional.
Every row is checked by `seat.customers.new_customer_row`, so the rules are the
same as at the seat. A bad row is reported with its line number in the file
(the header is line 1) and leaves nothing behind; the good rows are imported.

The rows go in batches (BATCH_ROWS rows or BATCH_SECONDS of reading, whichever comes
first). A batch is checked before the database is touched (each number parsed once); then,
in one short write transaction, one SELECT finds the batch's numbers already on file, the
new customers and their numbers are inserted with one executemany each, and it commits. On
SQLite a write transaction holds the whole file and a seat saving a call waits for it, so
an import holds it only for that (milliseconds a batch), never while reading the file. An
import stopped half-way keeps the batches already committed; running the file again reports
them as duplicates. With `batch_rows=None` nothing is committed and the caller decides.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, insert, select
from sqlmodel import Session

from seat.customers import DuplicatePhone, ValidationError, new_customer_row
from seat.db import WRITE, refresh_statistics
from seat.i18n import _, ngettext
from seat.models import Customer, PhoneNumber

REQUIRED = ("name", "phone")
OPTIONAL = ("tier", "birthday", "gender", "address", "occupation", "language", "member_until")
LANGUAGES = ("en", "zh_CN")
_LANGUAGE_ALIASES = {"en": "en", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "zh": "zh_CN"}
BATCH_ROWS = 500
BATCH_SECONDS = 0.5
# The csv module refuses a field over 128 KiB as a broken file; a huge field is one bad row
# (the customer rules name it), not a reason to refuse the rows around it.
FIELD_LIMIT = 2**31 - 1
IMPORTED_TABLES = ("customer", "phone_number")  # the planner statistics an import changes

# A batch's numbers already on file, in one statement.
_ON_FILE = select(PhoneNumber.e164, PhoneNumber.customer_id).where(
    PhoneNumber.e164.in_(bindparam("numbers", expanding=True))
)
# A batch of customers in one statement and their new ids (SQLAlchemy's insertmanyvalues:
# INSERT ... VALUES (...), (...) RETURNING id). PostgreSQL: SQLAlchemy gives the ids back in
# the order of the rows. SQLite cannot batch that (the order of RETURNING rows is arbitrary
# there) but gives each new row the largest id so far plus one, in VALUES order: its ids,
# sorted, are the rows' ids in order.
_CUSTOMER: Table = Customer.__table__  # type: ignore[assignment]
_INSERT_CUSTOMERS = {
    "sqlite": insert(_CUSTOMER).returning(_CUSTOMER.c.id),
    "": insert(_CUSTOMER).returning(_CUSTOMER.c.id, sort_by_parameter_order=True),
}
_INSERT_PHONES = insert(PhoneNumber.__table__)  # type: ignore[arg-type]


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
    seen: dict[str, int] = {}  # e164 -> line imported from this file
    size = batch_rows or BATCH_ROWS
    batch: list[_Checked] = []
    batch_started = time.monotonic()
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # skip leading blank lines
        if header is None:
            raise ImportFileError(_("The file is empty; the first row must name the columns."))
        columns = _columns(header)
        start = reader.line_num + 1
        for cells in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            batch.append(_check_row(columns, cells, line, now, region))
            if len(batch) >= size or time.monotonic() - batch_started >= BATCH_SECONDS:
                _write_batch(session, batch, seen, report)
                if batch_rows is not None:
                    _commit(session, report, line, committed)
                batch, batch_started = [], time.monotonic()
        if batch:
            _write_batch(session, batch, seen, report)
            if batch_rows is not None:
                _commit(session, report, reader.line_num, committed)
    except csv.Error as exc:
        raise ImportFileError(
            _("Line {line}: malformed CSV ({reason}).").format(line=reader.line_num, reason=exc)
        ) from None
    if batch_rows is not None and report.imported:
        # Committed: the planner's statistics see the new rows (a caller that keeps the
        # transaction open, batch_rows=None, refreshes them after its own commit).
        refresh_statistics(session.get_bind(), tables=IMPORTED_TABLES)  # type: ignore[arg-type]
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


@dataclass(frozen=True)
class _Checked:
    """One row of the file after the customer rules, before the database is asked."""

    line: int
    shown_name: str
    shown_phone: str
    e164: str  # "" when the rules refused the row
    values: dict[str, Any] | None  # the customer's columns; None when the rules refused it
    errors: dict[str, str]  # what the customer rules refused
    extra: dict[str, str]  # checks of the file the customer rules do not make

    def problem(self, reason: str) -> RowProblem:
        return RowProblem(self.line, reason, self.shown_name, self.shown_phone)


def _check_row(
    columns: dict[str, int], cells: list[str], line: int, now: datetime, region: str
) -> _Checked:
    def get(key: str) -> str:
        index = columns.get(key)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    name, phone_text = get("name"), get("phone")
    shown_name, shown_phone = name[:200], phone_text[:40]  # a 1 MB field is not echoed back
    extra: dict[str, str] = {}
    language = get("language")
    lang = _LANGUAGE_ALIASES.get(language.lower()) if language else "en"
    if lang is None:
        extra["language"] = _("Language must be one of: {choices}.").format(
            choices=", ".join(LANGUAGES)
        )
    occupation = get("occupation")
    if len(occupation) > 120:
        extra["occupation"] = _("Occupation is too long (120 characters at most).")
    until: date | None = None
    if get("member_until"):
        try:
            until = date.fromisoformat(get("member_until"))
        except ValueError:
            extra["member_until"] = _(
                "The membership's last day must be a date like 2027-03-31."
            )
    try:
        e164, values = new_customer_row(
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
    except ValidationError as exc:
        return _Checked(line, shown_name, shown_phone, "", None, exc.errors, extra)
    values["member_until"] = until
    return _Checked(line, shown_name, shown_phone, e164, values, {}, extra)


def _write_batch(
    session: Session, batch: list[_Checked], seen: dict[str, int], report: ImportReport
) -> None:
    """Judge a batch in file order against the numbers on file and the lines imported so
    far, insert its good rows in bulk, report its bad ones. The verdicts are those of a row
    by row import: a row the rules refuse is an error; a number on file is a duplicate (an
    error when the file's own checks refused the row too); else the file's own checks."""
    # Core on the session's connection: the ORM's per-row work is not needed here.
    # SQLite: the write lock at BEGIN (a read first could not wait for it afterwards).
    conn = session.connection(execution_options=None if session.in_transaction() else WRITE)
    numbers = [row.e164 for row in batch if row.values is not None]
    on_file: dict[str, int] = {}
    if numbers:
        on_file = dict(conn.execute(_ON_FILE, {"numbers": numbers}).all())
    new: dict[str, _Checked] = {}  # e164 -> the row that brings it, in file order
    for row in batch:
        if row.values is not None and not row.extra:
            if row.e164 not in on_file and row.e164 not in new:
                new[row.e164] = row
    earlier = set(on_file)  # on file before this batch

    def duplicate(row: _Checked) -> bool:  # was its number on file when its line came?
        return row.e164 in earlier or (row.e164 in new and new[row.e164].line < row.line)

    if new:
        sqlite = conn.dialect.name == "sqlite"
        statement = _INSERT_CUSTOMERS["sqlite" if sqlite else ""]
        ids = conn.execute(statement, [row.values for row in new.values()]).scalars().all()
        on_file.update(zip(new, sorted(ids) if sqlite else ids, strict=True))
        conn.execute(_INSERT_PHONES, [{"customer_id": on_file[e164], "e164": e164} for e164 in new])
    for row in batch:
        if row.values is None:
            report.errors.append(row.problem(_reason({**row.errors, **row.extra})))
        elif new.get(row.e164) is row:
            seen[row.e164] = row.line
            report.imported += 1
        elif not duplicate(row):  # refused by the file's own checks only
            report.errors.append(row.problem(_reason(row.extra)))
        elif row.extra:
            on_file_as = DuplicatePhone(row.e164, on_file[row.e164]).errors
            report.errors.append(row.problem(_reason({**on_file_as, **row.extra})))
        else:
            first = seen.get(row.e164)
            reason = (
                _("phone: {number} already appears on line {line} of this file.").format(
                    number=row.e164, line=first
                )
                if first is not None
                else _("phone: {number} is already on file (customer #{id}).").format(
                    number=row.e164, id=on_file[row.e164]
                )
            )
            report.duplicates.append(row.problem(reason))


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
