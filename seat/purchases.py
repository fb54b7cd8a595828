"""Purchases: what the card shows of them, and `seat purchases import FILE.csv`.

A purchase row is one line of an order. The import reads a UTF-8 CSV with a header row
(column names case-insensitive, extra columns ignored):

- `phone` or `customer` (the customer number, `123` or `#123`): who bought; one is required;
- `date` (YYYY-MM-DD, the desk's local day, or an ISO time): when; required;
- `order` (or `order_no`): the order number; required;
- `product` (or `item`): what; required;
- `category`, `quantity` (default 1), `amount` (default 0), `store`;
- `delivered` (or `delivery`, `delivery_date`): the delivery day where known; the new-buyer
  callback falls due 7-10 days after it (seat.callbacks);
- `line`: the line of the order; without it the order's lines are numbered in file order.

The error discipline is the customer import's (seat.importer): a bad row is reported with its
line number in the file (the header is line 1) and its reason and leaves nothing behind; the
good rows are imported; an order line already on file (order number and line) is reported as
a duplicate and left as it is, so importing the same file again changes nothing. Rows go in
batches of BATCH_ROWS, each batch one short write transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, insert, select, tuple_
from sqlalchemy.engine import Connection
from sqlmodel import Session

from seat import phone
from seat.db import WRITE, refresh_statistics
from seat.i18n import N_, _, ngettext
from seat.models import Customer, PhoneNumber, Purchase
from seat.textguard import check_text

BATCH_ROWS = 500
FIELD_LIMIT = 2**31 - 1
CARD_LINES = 3
"""The last purchases the card shows."""
YEAR = timedelta(days=365)
_COLUMNS = {
    "phone": "phone",
    "customer": "customer",
    "customer_no": "customer",
    "customer number": "customer",
    "date": "date",
    "order": "order",
    "order_no": "order",
    "order number": "order",
    "line": "line",
    "product": "product",
    "item": "product",
    "category": "category",
    "quantity": "quantity",
    "amount": "amount",
    "store": "store",
    "delivered": "delivered",
    "delivery": "delivered",
    "delivery_date": "delivered",
    "delivery date": "delivered",
}
REQUIRED = ("date", "order", "product")
_PURCHASE: Table = Purchase.__table__  # type: ignore[assignment]


# -- the card -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseLine:
    purchased_at: datetime
    order_no: str
    item: str
    category: str | None
    quantity: float
    amount: float
    store: str | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class PurchaseSummary:
    """The customer's last purchases and their totals, over 12 months and over all time."""

    last: tuple[PurchaseLine, ...] = ()
    count_12m: int = 0
    spend_12m: float = 0.0
    count_total: int = 0
    spend_total: float = 0.0


_LAST = (
    select(
        Purchase.purchased_at, Purchase.order_no, Purchase.item, Purchase.category,
        Purchase.quantity, Purchase.amount, Purchase.store, Purchase.delivered_at,
    )
    .where(Purchase.customer_id == bindparam("customer_id"))
    .order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
    .limit(bindparam("lines"))
)  # fmt: skip
_TOTALS = select(
    func.count(),
    func.coalesce(func.sum(Purchase.amount), 0.0),
    func.count().filter(Purchase.purchased_at >= bindparam("since")),
    func.coalesce(func.sum(Purchase.amount).filter(Purchase.purchased_at >= bindparam("since")), 0),
).where(Purchase.customer_id == bindparam("customer_id"))


def summary(
    conn: Connection, *, customer_id: int, now: datetime, lines: int = CARD_LINES
) -> PurchaseSummary:
    """What the card shows of a customer's purchases (two indexed reads)."""
    last = tuple(
        PurchaseLine(*r)
        for r in conn.execute(_LAST, {"customer_id": customer_id, "lines": lines})
    )
    if not last:
        return PurchaseSummary()
    count, spend, count_12m, spend_12m = conn.execute(
        _TOTALS, {"customer_id": customer_id, "since": now - YEAR}
    ).one()
    return PurchaseSummary(
        last=last,
        count_12m=int(count_12m),
        spend_12m=float(spend_12m),
        count_total=int(count),
        spend_total=float(spend),
    )


# -- the import -----------------------------------------------------------------------------


class PurchaseFileError(ValueError):
    """The file as a whole cannot be imported (no header, wrong encoding, broken CSV)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str


@dataclass
class PurchaseImportReport:
    imported: int = 0
    duplicates: list[RowProblem] = field(default_factory=list)
    errors: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, Any]  # the purchase's columns but customer_id
    e164: str | None
    customer_no: int | None


def import_csv(
    *,
    session: Session,
    path: Path,
    now: datetime,
    zone: str,
    region: str = "CN",
    batch_rows: int | None = BATCH_ROWS,
    committed: Callable[[PurchaseImportReport, int], None] | None = None,
) -> PurchaseImportReport:
    """Import the purchases of a CSV file; see the module docstring for the format. With
    `batch_rows=None` nothing is committed and the caller decides."""
    content = _read(path)
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    report = PurchaseImportReport()
    seen: dict[tuple[str, int], int] = {}  # (order, line) -> the file line that brought it
    lines_of: dict[str, int] = {}  # order -> lines numbered so far (no `line` column)
    tz = ZoneInfo(zone)
    batch: list[_Row] = []
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise PurchaseFileError(
                _("The file is empty; the first row must name the columns.")
            )
        columns = _header(header)
        start = reader.line_num + 1
        for cells in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            row = _check(columns, cells, line, now, tz, region, lines_of, report)
            if row is not None:
                batch.append(row)
            if len(batch) >= (batch_rows or BATCH_ROWS):
                _write(session, batch, seen, report)
                if batch_rows is not None:
                    _commit(session, report, line, committed)
                batch = []
        if batch:
            _write(session, batch, seen, report)
        if batch_rows is not None:
            _commit(session, report, reader.line_num, committed)
    except csv.Error as exc:
        raise PurchaseFileError(
            _("Line {line}: malformed CSV ({reason}).").format(line=reader.line_num, reason=exc)
        ) from None
    report.errors.sort(key=lambda p: p.line)  # the file's checks and the database's, in order
    if batch_rows is not None and report.imported:
        refresh_statistics(session.get_bind(), tables=("purchase",))  # type: ignore[arg-type]
    return report


def _read(path: Path) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PurchaseFileError(
            _("Cannot read {path}: {reason}.").format(path=path, reason=exc.strerror or exc)
        ) from None
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PurchaseFileError(
            _(
                "{name} is not UTF-8 text (bad byte on line {line}); "
                'save it as "CSV UTF-8" (GBK/ANSI files are not read) and try again.'
            ).format(name=Path(path).name, line=line)
        ) from None
    if "\x00" in content:
        raise PurchaseFileError(_("{name} is not a text file.").format(name=Path(path).name))
    return content


def _commit(
    session: Session,
    report: PurchaseImportReport,
    line: int,
    committed: Callable[[PurchaseImportReport, int], None] | None,
) -> None:
    session.commit()
    if committed is not None:
        committed(report, line)


def _header(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _COLUMNS.get(title.strip().lower())
        if key is not None and key not in columns:
            columns[key] = index
    missing = [c for c in REQUIRED if c not in columns]
    if "phone" not in columns and "customer" not in columns:
        missing.insert(0, "phone|customer")
    if missing:
        found = ", ".join(h.strip() for h in header if h.strip()) or _("nothing")
        raise PurchaseFileError(
            ngettext(
                "The header row must have the column {missing}; found: {found}.",
                "The header row must have the columns {missing}; found: {found}.",
                len(missing),
            ).format(missing=", ".join(missing), found=found)
        )
    return columns


def parse_day(text: str, tz: ZoneInfo) -> datetime:
    """A day (YYYY-MM-DD: noon, the desk's local time) or an ISO time, as an aware UTC time;
    ValueError when it is neither."""
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime.combine(day, time(12), tzinfo=tz).astimezone(UTC)
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    return at.astimezone(UTC)


def _number(text: str, default: float) -> float:
    if not text:
        return default
    value = float(text.replace(",", "").replace("¥", "").replace("￥", ""))
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def _check(
    columns: dict[str, int],
    cells: list[str],
    line: int,
    now: datetime,
    tz: ZoneInfo,
    region: str,
    lines_of: dict[str, int],
    report: PurchaseImportReport,
) -> _Row | None:
    def get(key: str) -> str:
        index = columns.get(key)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    errors: dict[str, str] = {}
    e164: str | None = None
    customer_no: int | None = None
    phone_text, number_text = get("phone"), get("customer")
    if number_text:
        try:
            customer_no = int(number_text.lstrip("#"))
        except ValueError:
            errors["customer"] = _("{text!r} is not a customer number.").format(
                text=number_text[:40]
            )
    elif phone_text:
        try:
            e164 = phone.normalise(phone_text, region)
        except phone.PhoneError as exc:
            errors["phone"] = str(exc)
    else:
        errors["customer"] = _("A phone number or a customer number is required.")
    purchased: datetime | None = None
    try:
        purchased = parse_day(get("date"), tz)
    except ValueError:
        errors["date"] = _("{text!r} is not a date like 2026-11-23.").format(text=get("date")[:40])
    else:
        if purchased > now + timedelta(days=1):
            errors["date"] = _("The date is in the future.")
    delivered: datetime | None = None
    if get("delivered"):
        try:
            delivered = parse_day(get("delivered"), tz)
        except ValueError:
            errors["delivered"] = _("{text!r} is not a date like 2026-11-23.").format(
                text=get("delivered")[:40]
            )
        else:
            if purchased is not None and delivered.date() < purchased.date() - timedelta(days=1):
                errors["delivered"] = _("Delivered before it was bought.")
            elif delivered > now + timedelta(days=1):
                errors["delivered"] = _("The delivery date is in the future.")
    order = check_text(errors, "order", get("order"), N_("Order number"), 40, one_line=True)
    item = check_text(errors, "product", get("product"), N_("Product"), 200, one_line=True)
    category = check_text(
        errors, "category", get("category"), N_("Category"), 80, required=False, one_line=True
    )
    store = check_text(
        errors, "store", get("store"), N_("Store"), 120, required=False, one_line=True
    )
    quantity = amount = 0.0
    try:
        quantity = _number(get("quantity"), 1.0)
        if quantity <= 0:
            errors["quantity"] = _("The quantity must be more than 0.")
    except ValueError:
        errors["quantity"] = _("{text!r} is not a number.").format(text=get("quantity")[:40])
    try:
        amount = _number(get("amount"), 0.0)
        if amount < 0:
            errors["amount"] = _("The amount cannot be negative.")
    except ValueError:
        errors["amount"] = _("{text!r} is not a number.").format(text=get("amount")[:40])
    line_no: int | None = None
    if get("line"):
        try:
            line_no = int(get("line"))
            if line_no < 1:
                raise ValueError
        except ValueError:
            errors["line"] = _("The order line must be a whole number from 1.")
    if line_no is None and "line" not in errors and "order" not in errors:
        # Numbered whatever else is wrong with the row: the same file numbers the same way
        # when it comes again with its bad rows mended.
        line_no = lines_of[order] = lines_of.get(order, 0) + 1
    if errors:
        report.errors.append(RowProblem(line, _reason(errors)))
        return None
    return _Row(
        line,
        {
            "order_no": order,
            "line_no": line_no,
            "item": item,
            "category": category or None,
            "quantity": quantity,
            "amount": round(amount, 2),
            "store": store or None,
            "purchased_at": purchased,
            "delivered_at": delivered,
        },
        e164,
        customer_no,
    )


_BY_PHONE = select(PhoneNumber.e164, PhoneNumber.customer_id).where(
    PhoneNumber.e164.in_(bindparam("numbers", expanding=True))
)
_CUSTOMERS = select(Customer.id).where(Customer.id.in_(bindparam("ids", expanding=True)))
_TIERS = select(Customer.id, Customer.tier).where(
    Customer.id.in_(bindparam("ids", expanding=True))
)


def _write(
    session: Session, batch: list[_Row], seen: dict[tuple[str, int], int],
    report: PurchaseImportReport,
) -> None:  # fmt: skip
    """Find the batch's customers and the order lines already on file (a few SELECTs), insert
    the new lines in one executemany, report the rest."""
    conn = session.connection(execution_options=None if session.in_transaction() else WRITE)
    numbers = sorted({r.e164 for r in batch if r.e164})
    by_phone: dict[str, int] = (
        dict(conn.execute(_BY_PHONE, {"numbers": numbers}).all())  # type: ignore[arg-type]
        if numbers else {}
    )  # fmt: skip
    ids = sorted({r.customer_no for r in batch if r.customer_no is not None})
    known = set(conn.execute(_CUSTOMERS, {"ids": ids}).scalars()) if ids else set()
    keys = sorted({(r.values["order_no"], r.values["line_no"]) for r in batch})
    on_file: set[tuple[str, int]] = set()
    for i in range(0, len(keys), 400):
        chunk = keys[i : i + 400]
        on_file.update(
            (o, n)
            for o, n in conn.execute(
                select(Purchase.order_no, Purchase.line_no).where(
                    tuple_(Purchase.order_no, Purchase.line_no).in_(chunk)
                )
            ).all()
        )
    new: list[dict[str, Any]] = []
    for row in batch:
        if row.customer_no is not None:
            customer_id = row.customer_no if row.customer_no in known else None
            if customer_id is None:
                report.errors.append(RowProblem(row.line, _reason(
                    {"customer": _("Customer #{id} is not on file.").format(id=row.customer_no)}
                )))  # fmt: skip
                continue
        else:
            customer_id = by_phone.get(row.e164 or "")
            if customer_id is None:
                report.errors.append(RowProblem(row.line, _reason(
                    {"phone": _("No customer has the number {number}.").format(number=row.e164)}
                )))  # fmt: skip
                continue
        key = (row.values["order_no"], row.values["line_no"])
        if key in seen:
            report.duplicates.append(RowProblem(row.line, _(
                "order {order} line {n} already appears on line {line} of this file."
            ).format(order=key[0], n=key[1], line=seen[key])))  # fmt: skip
            continue
        if key in on_file:
            report.duplicates.append(RowProblem(row.line, _(
                "order {order} line {n} is already on file."
            ).format(order=key[0], n=key[1])))  # fmt: skip
            continue
        seen[key] = row.line
        new.append({**row.values, "customer_id": customer_id})
    if new:
        # With the customer's tier (the copy migration 0035 keeps): read when it is written.
        tiers: dict[int, str] = dict(
            conn.execute(  # type: ignore[arg-type]
                _TIERS, {"ids": sorted({r["customer_id"] for r in new})}
            ).all()
        )
        for r in new:
            r["customer_tier"] = tiers.get(r["customer_id"])
        conn.execute(insert(_PURCHASE), new)
        report.imported += len(new)


def _reason(errors: dict[str, str]) -> str:
    return "; ".join(f"{key}: {message}" for key, message in errors.items())


def format_report(report: PurchaseImportReport) -> str:
    """One line per problem in file order, then a summary line."""
    problems = sorted(report.errors + report.duplicates, key=lambda p: p.line)
    lines = [_("line {line}: {reason}").format(line=p.line, reason=p.reason) for p in problems]
    imported = ngettext("Imported {n} purchase", "Imported {n} purchases", report.imported)
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
