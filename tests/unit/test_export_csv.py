"""The csv writer works column by column, each distinct value made once: the text is the
one a cell-by-cell writer makes, whatever the mix of values in a column."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from seat import export
from seat.export import Table, to_csv, write, write_csv
from seat.textguard import clean


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


AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))
COLUMNS = {
    "numbers": [1, 2, None, 3],
    "one, 1.0 and True": [1, 1.0, True, None, 0, False, 0.0],
    "words": ["Wang Fang", "=1+1", "Wang Fang", None, "a\r\nb", "张敏", "-2"],
    "words and numbers": ["3", 3, None, "x", 2.5],
    "words, 1, 1.0 and True": ["x", 1, 1.0, True, None, "x"],
    "one instant in two zones": [AT, AT.astimezone(SHANGHAI), AT, None],
    "times in one zone": [AT, AT + timedelta(minutes=1), AT, None],
    "dates": [date(2026, 11, 23), None, date(2026, 11, 23)],
    "empty": [],
}


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_a_column_comes_out_as_cell_by_cell(name):
    values = COLUMNS[name]
    table = Table("t", ["A", "B"], [[v, i] for i, v in enumerate(values)])
    other = Table("u", ["C"], [[v] for v in reversed(values)])
    assert to_csv([table]) == _cell_by_cell([table])
    assert to_csv([table, other]) == _cell_by_cell([table, other])


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
