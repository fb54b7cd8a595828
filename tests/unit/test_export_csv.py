"""The csv writer works column by column, each distinct value made once: the text is the
one a cell-by-cell writer makes, whatever the mix of values in a column."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from seat import export
from seat.export import Table, to_csv, write, write_csv
from seat.textguard import FORBIDDEN, _sqlite_text, clean, texts_of


def _cell_by_cell(tables: list[Table]) -> str:
    """What the csv writer wrote before it went column by column: every cell on its own."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for i, table in enumerate(tables):
        if len(tables) > 1:
            if i:
                writer.writerow([])
            writer.writerow([f"# {table.title}"])
        writer.writerow(table.headers)
        for row in table.rows:
            cells = []
            for v in row:
                if isinstance(v, datetime | date):
                    v = v.isoformat()
                if isinstance(v, str):
                    v = export.neutral(clean(v)).replace("\r\n", "\n").replace("\r", "\n")
                cells.append(v)
            writer.writerow(cells)
    return buf.getvalue()


class StatusWord(StrEnum):
    OPEN = "open"
    ODD = "=odd"


AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))
AMBIGUOUS = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York"))
COLUMNS = {
    "numbers": [1, 2, None, 3],
    "one, 1.0 and True": [1, 1.0, True, None, 0, False, 0.0],
    "words": ["Wang Fang", "=1+1", "Wang Fang", None, "a\r\nb", "张敏", "-2"],
    "words and numbers": ["3", 3, None, "x", 2.5],
    "words, 1, 1.0 and True": ["x", 1, 1.0, True, None, "x"],
    "one instant in two zones": [AT, AT.astimezone(SHANGHAI), AT, None],
    "times in one zone": [AT, AT + timedelta(minutes=1), AT, None],
    "dates": [date(2026, 11, 23), None, date(2026, 11, 23)],
    "times, dates and nothing": [AT, date(2026, 11, 23), None, AT.astimezone(SHANGHAI), AT],
    "words only, and nothing": ["Wang Fang", None, "", "张敏", "Wang Fang"],
    "words a spreadsheet or a terminal would misread": [
        "\t=x", "＝1", "＋1", "－1", "＠x", "+86 138 0013 8000", "+8613800138000", "-2.5", "@x",
        "\x1bname", "a\u202eb", "\u2066x", "", "a\nb", "\r", "\r=1", "a\x85b", "x\x7f",
        "full\u3000width", "line\u2028break", "\u00a0-1", " =1", None, "ok", "\x1b=1",
    ],
    # Many printable words, then one the writer must mend (a column need not be looked at
    # word by word only when none needs it)
    "plain words, then a formula": [f"name {i}" for i in range(40)] + [None, "=1+1"],
    "plain words, then an unprintable one": [f"name {i}" for i in range(40)] + ["a\x1bb"],
    "plain words, then a line break": ["", *(f"name {i}" for i in range(40)), "a\r\nb", None],
    "plain words, then a full-width formula": [f"name {i}" for i in range(40)] + ["＝1"],
    "plain words and empty ones": [f"name {i}" for i in range(40)] + ["", None, ""],
    # times shared by many lines (each object's text made once): equal ones printing apart
    "either fold of an ambiguous hour": [AMBIGUOUS, AMBIGUOUS.replace(fold=1), AMBIGUOUS, None]
    + [AMBIGUOUS.replace(fold=1)] * 3 + [AMBIGUOUS] * 3,
    "one instant in two zones, shared": [AT, AT.astimezone(SHANGHAI)] * 5 + [None, AT],
    "words and a word-like enum": ["open", StatusWord.OPEN, "=x", StatusWord.ODD, None],
    "empty": [],
    # lines joined without the writer when no cell is quoted: these have it quote one
    "words with the delimiter and quotes": ["a,b", 'say "hi"', "plain", None, "x", '"'],
    "words with a NUL": ["a\x00b", "ok", None],
    "numbers of every kind": [1, -0.0, float("nan"), float("inf"), 10**30, 1e100, True, None],
    "floats only": [0.1, 1e-7, -0.0, 2.5, float("-inf")],
    "true and false only": [True, False, True],
    "big and negative whole numbers": [-1, 0, 10**40, -(10**20)],
    "whole numbers and blanks, repeated": [None, -3, 10**30, None, 7, 7, 0, None, -(10**20)],
}


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_a_column_comes_out_as_cell_by_cell(name):
    values = COLUMNS[name]
    table = Table("t", ["A", "B"], [[v, i] for i, v in enumerate(values)])
    other = Table("u", ["C"], [[v] for v in reversed(values)])
    assert to_csv([table]) == _cell_by_cell([table])
    assert to_csv([table, other]) == _cell_by_cell([table, other])


def test_lines_joined_without_the_writer_are_the_writers(monkeypatch):
    """Chunks whose cells need no quoting are joined by commas, not written by the csv
    writer: the same text, whatever the mix, in chunks that take either way."""
    import random

    monkeypatch.setattr(export, "CSV_CHUNK", 7)
    rng = random.Random(14)
    pool = ["Wang Fang", "张敏", "", "a,b", '"q"', "x\ny", "\r", "=1", "-2", " lead", "t\tab",
            "ok", "\x00", "＝1", "a\u2028b"]  # fmt: skip
    joined = []
    real = export._unquoted
    monkeypatch.setattr(export, "_unquoted", lambda *a: joined.append(real(*a)) or joined[-1])
    for rare in (0.0, 0.02, 0.3):
        rows = [
            [i, rng.choice(pool[:2] + pool[11:12]) if rng.random() > rare else rng.choice(pool),
             rng.choice([None, i, 2.5, True]) if rng.random() < rare else i * 3,
             AT + timedelta(minutes=i), None if i % 3 else "n", rng.choice(["", "v", None])]
            for i in range(200)
        ]  # fmt: skip
        tables = [Table("t", ["A", "B", "C", "D", "E", "F"], rows), Table("o", ["Z"], [[""]])]
        assert to_csv(tables) == _cell_by_cell(tables)
    assert any(t is not None for t in joined) and any(t is None for t in joined)


def test_ragged_rows_and_many_chunks(monkeypatch):
    monkeypatch.setattr(export, "CSV_CHUNK", 3)
    rows = [[i, f"name {i % 4}", AT + timedelta(hours=i % 5)] for i in range(20)]
    ragged = Table("r", ["A", "B"], [[1], [2, "x", None], ["=y"]])
    tables = [Table("t", ["A", "B", "C"], rows), ragged, Table("e", ["Z"], [])]
    assert to_csv(tables) == _cell_by_cell(tables)


def test_write_streams_csv_to_a_file_or_standard_output(tmp_path: Path, capsys):
    tables = [Table("t", ["A", "B"], [[1, "Wang Fang"], [2, "=1+1"]])]
    write(tables, "csv", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == to_csv(tables)
    write(tables, "csv", None)
    assert capsys.readouterr().out == to_csv(tables)
    buf = io.StringIO()
    write_csv(tables, buf)
    assert buf.getvalue() == to_csv(tables)


def test_every_forbidden_character_is_unprintable():
    """Reads and csv cells leave a printable text as it is: that is only right while no
    character the guard removes is printable."""
    forbidden = [chr(c) for c in range(0x10000) if FORBIDDEN.match(chr(c))]
    assert len(forbidden) > 60
    assert not any(c.isprintable() for c in forbidden)


@pytest.mark.parametrize(
    "text",
    ["Wang Fang", "张敏", "", "a\nb\tc", "\x1b[31mred", "a\u202eb", "x\x7f\x85y", "\u3000 wide",
     "line\u2028break"],
)  # fmt: skip
def test_a_text_read_from_sqlite_is_cleaned_as_before(text):
    assert _sqlite_text(text.encode()) == clean(text)
    assert _sqlite_text(b"bad \xff byte") == "bad \ufffd byte"


@pytest.mark.parametrize(
    "values",
    [
        [b"Wang Fang", "张敏".encode(), b""],
        [b"Wang Fang", b"\x1b[31mred", "a\u202eb".encode(), b"a\nb"],
        [b"ok", b"bad \xff byte", "张敏".encode()],
        [b"ok", None, b"x\x7f\x85y"],
        [None, b"bad \xff byte", b"\x1b]0;title\x07", None],
        [],
    ],
)
def test_texts_read_as_blobs_are_what_the_connection_reads(values):
    """textguard.texts_of (a column read with CAST(x AS BLOB), made text at once) gives
    what the seat's SQLite connections give value by value."""
    assert texts_of(values) == [None if v is None else _sqlite_text(v) for v in values]
