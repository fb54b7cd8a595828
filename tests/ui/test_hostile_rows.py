"""Rows another tool wrote straight into the database, with terminal escape sequences in
them, never reach the terminal: not on the screens, not from the commands (issue 16 #9)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from seat.cli import main
from tests.ui.helpers import settle

ESC_NAME = "Wang\x1b]0;pwned\x07 Fang\x1b[2J\x9b31m"
ESC_ADDRESS = "88 Nanjing Rd\x1b[1A\x1b[2K\x1bc"
ESC_TEXT = "Fridge\x1b[8m hidden\x1b[0m\x90q\x9c"
CONTROLS = ("\x1b", "\x9b", "\x07", "\x90", "\x9c", "\x1b]")


@pytest.fixture
def hostile(engine, world):
    """Raw SQL, as another tool would write it: the seat's write guard never sees it."""
    with engine.begin() as c:
        c.execute(text("UPDATE customer SET name = :n, address = :a WHERE id = :id"),
                  {"n": ESC_NAME, "a": ESC_ADDRESS, "id": world["fang"]})  # fmt: skip
        c.execute(text("UPDATE work_order SET short_text = :t, service_address = :a"),
                  {"t": ESC_TEXT, "a": ESC_ADDRESS})  # fmt: skip
        c.execute(text("UPDATE callback SET reason = :t"), {"t": ESC_TEXT})
        c.execute(text("UPDATE agent SET display_name = :n WHERE name = 'li.na'"),
                  {"n": "Li\x1b]2;owned\x07 Na"})  # fmt: skip
    return world


def _clean(out: str) -> bool:
    return not any(c in out for c in CONTROLS)


def test_what_is_read_back_has_no_control_characters(engine, hostile):
    with engine.connect() as c:
        name, address = c.execute(
            text("SELECT name, address FROM customer WHERE id = :id"), {"id": hostile["fang"]}
        ).one()
    assert name == "Wang]0;pwned Fang[2J31m"  # visible text kept, controls gone
    assert address == "88 Nanjing Rd[1A[2Kc"


async def test_desk_and_call_screens_show_no_escape(make_seat, hostile):
    app = make_seat()
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        desk = app.export_screenshot()
        assert "Fridge" in desk and _clean(desk)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        call = app.export_screenshot()
        assert "pwned" in call and "Nanjing" in call  # the caller's card is on screen
        assert _clean(call)


def _run(argv: list[str], capsys) -> str:
    assert main(argv) == 0, argv
    out = capsys.readouterr()
    return out.out + out.err


@pytest.mark.parametrize("fmt", ["txt", "csv", "json"])
@pytest.mark.parametrize("report", ["complaints", "callbacks", "summary"])
def test_reports_print_no_escape(report, fmt, db_url, hostile, capsys, cli_token):
    cli_token(db_url)
    out = _run(["report", report, "--from", "2026-11-01", "--to", "2026-11-30",
                "--format", fmt, "--db", db_url], capsys)  # fmt: skip
    assert _clean(out)


@pytest.mark.parametrize("fmt", ["txt", "csv"])
def test_workplan_prints_no_escape(fmt, db_url, hostile, capsys, cli_token):
    cli_token(db_url)
    out = _run(["workplan", "--date", "2026-11-24", "--assignee", "li.na", "--format", fmt,
                "--db", db_url], capsys)  # fmt: skip
    assert "Fridge" in out and "pwned" in out and _clean(out)


@pytest.mark.parametrize("as_json", [False, True])
def test_customers_find_prints_no_escape(as_json, db_url, hostile, capsys, cli_token):
    cli_token(db_url)
    out = _run(["customers", "find", "13800138000", *(["--json"] if as_json else []),
                "--db", db_url], capsys)  # fmt: skip
    assert "Wang]0;pwned Fang[2J31m" in out and _clean(out)
