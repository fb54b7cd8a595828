"""Tables out: csv, json, xlsx or plain text, to standard output or a file."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

FORMATS = ("csv", "json", "xlsx", "txt")


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    meta: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_csv(tables: Sequence[Table]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for i, table in enumerate(tables):
        if len(tables) > 1:
            if i:
                writer.writerow([])
            writer.writerow([f"# {table.title}"])
        writer.writerow(table.headers)
        writer.writerows([[_plain(v) for v in row] for row in table.rows])
    return buf.getvalue()


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
        cells = [[str(_plain(v)) if v is not None else "" for v in row] for row in table.rows]
        widths = [
            max([cell_len(h)] + [cell_len(r[i]) for r in cells])
            for i, h in enumerate(table.headers)
        ]

        out += [table.title, "=" * cell_len(table.title), _pad(table.headers, widths)]
        out.append("  ".join("-" * w for w in widths))
        out += [_pad(r, widths).rstrip() for r in cells]
        out.append("")
    return "\n".join(out)


def _pad(values: list[str], widths: list[int]) -> str:
    """Columns padded by terminal cell width, so CJK text lines up."""
    from rich.cells import cell_len

    return "  ".join(v + " " * (w - cell_len(v)) for v, w in zip(values, widths, strict=False))


def to_xlsx(tables: Sequence[Table], path: Path | None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for table in tables:
        ws = wb.create_sheet(title=table.title[:31] or "Sheet")
        ws.append(table.headers)
        for row in table.rows:
            ws.append([v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write(tables: Sequence[Table], fmt: str, output: Path | None) -> None:
    """Write tables as `fmt` to `output`, or to standard output when no file is given."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if fmt == "xlsx":
        data = to_xlsx(tables, output)
        if output:
            output.write_bytes(data)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return
    text = {"csv": to_csv, "json": to_json, "txt": to_txt}[fmt](tables)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
