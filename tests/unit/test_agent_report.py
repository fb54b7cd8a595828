"""`seat report agents`: each agent's figures over a range, by day, week and month."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from seat import i18n, repeats
from seat.cli import main
from seat.clock import SystemClock
from seat.models import Call
from seat.reports import REPORTS
from tests.conftest import NOW

FROM, TO = date(2026, 11, 9), date(2026, 11, 22)
TITLES = ["Agent figures", "Agent figures by day", "Agent figures by week",
          "Agent figures by month"]  # fmt: skip


@pytest.fixture
def busy(engine, world) -> None:
    """Two weeks of li.na's calls, a repeat caller among them."""
    with Session(engine) as s:
        for day in range(0, 14, 2):
            at = datetime(2026, 11, 9, 1, tzinfo=UTC) + timedelta(days=day)
            call = Call(agent_id=world["li"], customer_id=world["fang"], started_at=at,
                        from_number="+8613800138000", need_category="repair",
                        wrapup_at=at + timedelta(minutes=4), ended_at=at + timedelta(minutes=5),
                        satisfaction=5 if day % 4 else 3)  # fmt: skip
            s.add(call)
            s.flush()
            repeats.mark(session=s, call=call)
        s.commit()


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(SystemClock, "now", lambda self: NOW)
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none.toml"))


def _argv(db_url: str, fmt: str, *extra: str) -> list[str]:
    return ["report", "agents", "--from", str(FROM), "--to", str(TO), "--format", fmt,
            "--db", db_url.removeprefix("sqlite:///"), *extra]  # fmt: skip


def test_agents_is_a_report() -> None:
    assert "agents" in REPORTS


@pytest.mark.parametrize("fmt", ["csv", "json", "txt"])
def test_standard_output_without_output(db_url, busy, capsys, fixed_now, fmt: str) -> None:
    assert main(_argv(db_url, fmt)) == 0
    text = capsys.readouterr().out
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["# Agent figures"] and rows[1][:3] == ["Agent", "Name", "Calls"]
        li = next(r for r in rows if r[0] == "li.na")
        assert li[2:5] == ["7", "240", "60"]
    elif fmt == "json":
        doc = json.loads(text)
        assert list(doc) == TITLES
        li = next(r for r in doc["Agent figures"]["rows"] if r["Agent"] == "li.na")
        # Seven calls two days apart from one number about one need: only the last resolved.
        assert (li["Calls"], li["FCR judged"], li["FCR %"]) == (7, 7, 14.3)
        assert (li["Satisfied %"], li["Avg score"]) == (42.9, 3.86)
        assert [r["Calls"] for r in doc["Agent figures by week"]["rows"]] == [4, 3]
    else:
        assert text.startswith("Agent figures\n")
        assert "Agent figures by month" in text


def test_xlsx_to_a_file(db_url, busy, tmp_path, fixed_now) -> None:
    out = tmp_path / "agents.xlsx"
    assert main(_argv(db_url, "xlsx", "--output", str(out))) == 0
    book = load_workbook(out)
    assert book.sheetnames == TITLES
    assert [c.value for c in book["Agent figures by day"][1]][:4] == [
        "Day", "Agent", "Name", "Calls"
    ]


def test_in_chinese_people_read_chinese_headings(db_url, busy, capsys, fixed_now) -> None:
    try:
        assert main(["--lang", "zh_CN", *_argv(db_url, "txt")]) == 0
    finally:
        i18n.set_language("en")
    text = capsys.readouterr().out
    assert text.startswith("坐席绩效\n") and "首次解决率 %" in text
