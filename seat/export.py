"""Tables out: csv, json, xlsx or plain text, to standard output or a file.

A table's `title` and `headers` are English and stable: they are the keys of the csv and
json formats, which scripts read. People read txt and xlsx, which show `shown_title` and
`shown_headers` in the seat's language.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from seat.i18n import _
from seat.textguard import clean, shown

FORMATS = ("csv", "json", "xlsx", "txt")
# What a spreadsheet reads as the start of a formula (OWASP "CSV injection"), with the
# full-width forms some locales accept too.
FORMULA_START = frozenset("=+-@\t\r＝＋－＠")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_PHONE = re.compile(r"\+\d{1,3}( ?\d){4,14}")


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    caption: str = ""
    """The title as people read it, when it is not simply the translated `title`."""
    label_columns: tuple[int, ...] = ()
    """Columns whose text cells are N_-marked labels ("Total", "All"): translated for people."""

    @property
    def shown_title(self) -> str:
        return self.caption or (_(self.title) if self.title else "")

    @property
    def shown_headers(self) -> list[str]:
        """The headers in the current language (they are N_-marked English)."""
        return [_(h) if h else h for h in self.headers]

    @property
    def shown_rows(self) -> list[list[Any]]:
        """The rows with the label columns in the current language."""
        if not self.label_columns:
            return self.rows
        return [
            [
                _(v) if i in self.label_columns and isinstance(v, str) and v else v
                for i, v in enumerate(row)
            ]
            for row in self.rows
        ]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def neutral(text: str) -> str:
    """A text cell no spreadsheet takes for a formula: a leading =, +, -, @, tab or CR gets a
    leading apostrophe. A number ("-2.5") or a phone number ("+8613800138000",
    "+86 138 0013 8000") is data and stays as it is: digits, spaces and one sign call nothing.
    """
    if text[:1] in FORMULA_START and not (_NUMBER.fullmatch(text) or _PHONE.fullmatch(text)):
        return "'" + text
    return text


def _csv_cell(value: Any) -> Any:
    value = _plain(value)
    if not isinstance(value, str):
        return value
    # A CR is a line break to a spreadsheet, but the csv module (lines end in "\n" here)
    # leaves a cell holding only a CR unquoted: the row would break in two.
    return neutral(clean(value)).replace("\r\n", "\n").replace("\r", "\n")


def to_csv(tables: Sequence[Table]) -> str:
    buf = io.StringIO()
    write_csv(tables, buf)
    return buf.getvalue()


_AS_IS = frozenset({int, float, bool, type(None)})
"""Cells the csv module writes as they are."""
_NUMBERS = frozenset({int, float, bool})


def _csv_column(
    values: tuple[Any, ...], done: dict[Any, Any], unquoted: set[int] | None = None,
    kinds_of: dict[int, set[type]] | None = None,
) -> Sequence[Any]:
    """A column's cells for the csv writer: words that need nothing go out as they are,
    times as their isoformat; any other value is made once (`done`: a whole report's words,
    which repeat) and looked up by value in C (`map`), not cell by cell in Python: a year's
    report is hundreds of thousands of cells. A column of texts that go out as they are and
    that the writer would not quote either (no delimiter or quote in them: the line breaks
    are unprintable) gets its id in `unquoted`, so that `_unquoted` need not join it again;
    a column that goes out as it is gets its cells' types in `kinds_of`, by its id."""
    kinds = set(map(type, values))
    if kinds <= _AS_IS:
        if kinds_of is not None:  # only of `values` returned (alive while its id is a key)
            kinds_of[id(values)] = kinds
        return values
    if kinds <= _TEXT:
        # A printable text not starting like a formula goes out as it is (nothing to clean,
        # no line break to mend: every forbidden character is unprintable); most words do.
        start = FORMULA_START
        # Most columns need nothing at all: every text printable (the joined text, one pass
        # in C) and none starting like a formula (the first characters, looked up in C).
        texts = values if type(None) not in kinds else tuple(filter(None, values))
        joined = "".join(texts)
        # (No formula character anywhere in the joined text: none starts with one, found
        # without a first character made of every text.)
        if _printable(joined) and (
            not any(c in joined for c in start) or start.isdisjoint(map(_FIRST, texts))
        ):
            if unquoted is not None and "," not in joined and '"' not in joined:
                unquoted.add(id(values))
            if kinds_of is not None:
                kinds_of[id(values)] = kinds
            return values
        distinct = set(values)
        if len(distinct) * 4 < len(values):  # a column of few words (tiers, kinds): each once
            words = {
                v: v if v is None or (v.isprintable() and v[:1] not in start)
                else done.get(v) or _cell(done, v)
                for v in distinct
            }  # fmt: skip
            return list(map(words.__getitem__, values))
        return [
            v if v is None or (v.isprintable() and v[:1] not in start)
            else done.get(v) or _cell(done, v)
            for v in values
        ]  # fmt: skip
    if kinds <= _TIMES:  # a time's or date's text: digits first, nothing to clean
        # Each object's text made once where lines share their time objects (a report's
        # lines of one day or minute): by identity, as equal times can print apart (one
        # instant in two zones, either fold of an ambiguous hour).
        # (each alive in `values` while its id is a key; made in C, not a Python loop)
        objects = dict(zip(map(id, values), values, strict=True))
        if len(objects) * 4 > len(values) * 3:  # mostly distinct: each made as it comes
            if len(kinds) == 1 and datetime in kinds:  # called from C, no Python per cell
                return list(map(datetime.isoformat, values))
            return [v if v is None else v.isoformat() for v in values]
        if len(kinds) == 1 and datetime in kinds:
            texts = dict(zip(objects, map(datetime.isoformat, objects.values()), strict=True))
        else:
            texts = {k: v if v is None else v.isoformat() for k, v in objects.items()}
        return list(map(texts.__getitem__, map(id, values)))
    zones = {v.tzinfo for v in values if type(v) is datetime} if datetime in kinds else ()
    if len(zones) > 1 or len(kinds & _NUMBERS) > 1:
        # Equal keys that print apart: one instant in two zones, 1 / 1.0 / True.
        return [_csv_cell(v) if type(v) is not str else done.get(v) or _cell(done, v)
                for v in values]  # fmt: skip
    cells = {v: v if type(v) in _AS_IS else done.get(v) or _cell(done, v) for v in set(values)}
    return list(map(cells.__getitem__, values))


_TEXT = frozenset({str, type(None)})
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))
"""The ASCII characters str.isprintable takes as printable."""


def _printable(text: str) -> bool:
    """str.isprintable, a few times faster on ASCII text: no byte outside 0x20-0x7e left by
    translate (a year's callbacks report joins millions of characters of reasons, kinds
    and tiers), instead of a lookup per character."""
    if text.isascii():
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII)
    return text.isprintable()


_FIRST = itemgetter(slice(0, 1))
"""A text's first character ("" for an empty text)."""
_TIMES = frozenset({datetime, date, type(None)})


def _cell(done: dict[Any, Any], value: Any) -> Any:
    found = done[value] = _csv_cell(value)
    return found


CSV_CHUNK = 4096
"""Rows made into text together before they go out: one write each, not one a row."""


def write_csv(tables: Sequence[Table], out: TextIO) -> None:
    """The tables as csv, written to `out` a chunk of rows at a time (never the whole text
    at once: a year's report is tens of megabytes)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")

    def flush() -> None:
        out.write(buf.getvalue())
        buf.seek(0)
        buf.truncate()

    done: dict[Any, Any] = {}  # a report repeats its words: each is made once
    for i, table in enumerate(tables):
        if len(tables) > 1:
            if i:
                writer.writerow([])
            writer.writerow([f"# {table.title}"])
        writer.writerow(table.headers)
        if not table.rows:
            continue
        widths = set(map(len, table.rows))  # in C: a year's report is 130,000 rows
        width = max(widths)
        if len(widths) > 1:  # ragged: each row as it is
            writer.writerows([[*_csv_column(tuple(row), done)] for row in table.rows])
            flush()
            continue
        for start in range(0, len(table.rows), CSV_CHUNK):
            rows = table.rows[start : start + CSV_CHUNK]
            # By the ids of the columns alive in `columns`, returned as they came:
            plain: set[int] = set()  # text columns needing no quoting
            kinds_of: dict[int, set[type]] = {}  # their cells' types
            columns = [
                _csv_column(column, done, plain, kinds_of) for column in zip(*rows, strict=True)
            ]
            texts = _unquoted(columns, plain, kinds_of) if width > 1 else None
            if texts is None:
                writer.writerows(zip(*columns, strict=True))
            else:  # what the writer makes of them, joined in C without its per-cell work
                buf.write("\n".join(map(",".join, zip(*texts, strict=True))))
                buf.write("\n")
            flush()
    flush()


_QUOTED = ",\"\r\n\0"
"""Characters that have the csv writer quote a cell (the delimiter, the quote, a line
break; NUL, which it has never had to write here, goes to the writer too)."""
_INT_OR_NONE = frozenset({int, type(None)})
_AS_TEXT = {str: None, int: str, bool: str, float: repr, type(None): None}
"""The cells a line can be joined from, and how the csv writer makes each one text (a
float by repr, any other by str, None as nothing)."""


def _unquoted(
    columns: Sequence[Sequence[Any]], plain: AbstractSet[int] = frozenset(),
    kinds_of: dict[int, set[type]] | None = None,
) -> list[Sequence[str]] | None:
    """The columns' cells as the csv writer writes them, when none of them is quoted (a
    line is then its cells joined by commas): the texts, or None when a cell needs quoting
    or is of another type (the writer writes those lines). For rows of two cells or more
    (the writer quotes a row of one empty cell). `plain`: the ids of text columns already
    known to need no quoting (`_csv_column`), not searched again; `kinds_of`: the types of
    the cells of columns by their ids, where already known."""
    known = kinds_of or {}
    out: list[Sequence[str]] = []
    for column in columns:
        kinds = known.get(id(column)) or set(map(type, column))
        if not kinds <= _AS_TEXT.keys():
            return None
        if kinds <= _TEXT:
            texts: Sequence[str] = (
                column if type(None) not in kinds else ["" if v is None else v for v in column]
            )
            if id(column) not in plain:
                joined = "".join(texts)
                if any(c in joined for c in _QUOTED):
                    return None
        elif len(kinds) == 1:  # numbers of one type
            texts = list(map(_AS_TEXT[next(iter(kinds))] or str, column))  # type: ignore[arg-type]
        elif kinds == _INT_OR_NONE:  # whole numbers and blanks (ids of some lines): by value
            distinct = set(column)
            distinct.discard(None)
            cells: dict[Any, str] = dict(zip(distinct, map(str, distinct), strict=True))
            cells[None] = ""
            texts = list(map(cells.__getitem__, column))
        else:  # numbers of several types, texts and None: cell by cell
            texts = ["" if v is None else v if type(v) is str else _AS_TEXT[type(v)](v)  # type: ignore[misc]
                     for v in column]  # fmt: skip
            joined = "".join(texts)
            if any(c in joined for c in _QUOTED):
                return None
        out.append(texts)
    return out


def to_json(tables: Sequence[Table]) -> str:
    doc = {
        t.title: {
            **({"meta": {k: _plain(v) for k, v in t.meta.items()}} if t.meta else {}),
            "rows": [dict(zip(t.headers, map(_plain, row), strict=False)) for row in t.rows],
        }
        for t in tables
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


def to_txt(tables: Sequence[Table]) -> str:
    from rich.cells import cell_len

    out: list[str] = []
    for table in tables:
        cells = [  # one line a cell: a line break or tab in a note would tear the columns
            [shown(str(_plain(v))) if v is not None else "" for v in row]
            for row in table.shown_rows
        ]
        headers = table.shown_headers
        widths = [
            max([cell_len(h)] + [cell_len(r[i]) for r in cells]) for i, h in enumerate(headers)
        ]
        title = table.shown_title
        out += [title, "=" * cell_len(title), _pad(headers, widths)]
        out.append("  ".join("-" * w for w in widths))
        out += [_pad(r, widths).rstrip() for r in cells]
        out.append("")
    return "\n".join(out)


def to_pages(tables: Sequence[Table]) -> str:
    """Plain text, one table a page: a form feed between tables (a printer starts a new page)."""
    return "\f\n".join(to_txt([table]) for table in tables)


def _pad(values: list[str], widths: list[int]) -> str:
    """Columns padded by terminal cell width, so CJK text lines up."""
    from rich.cells import cell_len

    return "  ".join(v + " " * (w - cell_len(v)) for v, w in zip(values, widths, strict=False))


def to_xlsx(tables: Sequence[Table], path: Path | None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for table in tables:
        ws = wb.create_sheet(title=_sheet_name(table.shown_title) or "Sheet")
        ws.append(table.shown_headers)
        for row in table.shown_rows:
            ws.append([_xlsx_value(v) for v in row])
            for cell in ws[ws.max_row]:
                if cell.data_type == "f":  # "=HYPERLINK(…)" from a customer's name: text
                    cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # xlsx has no zones; the tables give local times
    if isinstance(value, str):
        return clean(value)  # openpyxl refuses control characters (and Excel would too)
    return value


def _sheet_name(title: str) -> str:
    # Excel refuses these characters in a sheet name and cuts it at 31.
    return "".join("_" if c in "[]:*?/\\" else c for c in title)[:31]


def write(
    tables: Sequence[Table], fmt: str, output: Path | None, *, pages: bool = False
) -> None:
    """Write tables as `fmt` to `output`, or to standard output when no file is given
    (`pages`: txt puts each table on a page of its own, seat.export.to_pages)."""
    if fmt not in FORMATS:
        raise ValueError(
            _("Unknown format {format!r}; use one of {formats}.").format(
                format=fmt, formats=", ".join(FORMATS)
            )
        )
    if fmt == "xlsx":
        data = to_xlsx(tables, output)
        if output:
            output.write_bytes(data)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return
    if fmt == "csv":  # written as it is made: a year's report is tens of megabytes
        if output:
            with output.open("w", encoding="utf-8", newline="") as f:
                write_csv(tables, f)
        else:
            write_csv(tables, sys.stdout)
        return
    text = {"json": to_json, "txt": to_pages if pages else to_txt}[fmt](tables)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
