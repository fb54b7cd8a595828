"""`seat report summary`: the statistics screen's numbers, by day and by week, for spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from seat import i18n, trends
from seat.cli import main
from seat.clock import SystemClock
from seat.models import Call, Callback, Complaint
from seat.reports import REPORTS, summary
from tests.conftest import NOW

FROM, TO = date(2026, 11, 9), date(2026, 11, 22)
TITLES = [
    "Calls by day", "Complaints by category by day", "Callback completion by day",
    "Satisfaction by day", "Calls by week", "Complaints by category by week",
    "Callback completion by week", "Satisfaction by week",
]  # fmt: skip


@pytest.fixture
def busy(engine, world) -> None:
    """Two weeks of calls, complaints and callbacks, some on every other day."""
    with Session(engine) as s:
        for day in range(0, 14, 2):
            at = datetime(2026, 11, 9, 1, tzinfo=UTC) + timedelta(days=day)
            for n in range(day % 5 + 1):
                s.add(Call(agent_id=world["li"], customer_id=world["fang"],
                           started_at=at + timedelta(minutes=20 * n),
                           ended_at=at + timedelta(minutes=20 * n + 3 + n),
                           satisfaction=(n % 5) + 1 if n % 2 else None))  # fmt: skip
            s.add(Complaint(customer_id=world["min"], owner_id=world["li"], what_happened="x",
                            customer_wants="y", created_at=at,
                            category=("delivery", "safety", None)[day % 3]))  # fmt: skip
            s.add(Callback(customer_id=world["tom"], owner_id=world["wang"], reason="r",
                           due_at=at, created_at=at - timedelta(days=2),
                           status="done" if day % 4 else "open"))  # fmt: skip
        s.commit()


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The command line's clock at NOW, and no config file of this machine."""
    monkeypatch.setattr(SystemClock, "now", lambda self: NOW)
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none.toml"))


def test_summary_is_a_report() -> None:
    assert "summary" in REPORTS


def test_report_numbers_are_the_trends_numbers(session, settings, busy) -> None:
    got = summary.tables(session=session, date_from=FROM, date_to=TO, settings=settings, now=NOW)
    assert [t.title for t in got] == TITLES
    for i, step in enumerate(trends.Step):
        data = trends.load(
            session=session, date_from=FROM, date_to=TO, step=step, settings=settings, now=NOW
        )
        calls, complaints, callbacks, scores = got[4 * i : 4 * i + 4]
        points = data.calls
        assert [r[1:] for r in calls.rows[:-1]] == [[p.calls, p.avg_seconds] for p in points]
        assert [r[1:-1] for r in complaints.rows[:-1]] == [
            list(p.counts) for p in data.complaints.points
        ]
        assert [r[1:] for r in callbacks.rows[:-1]] == [
            [p.due, p.done, p.percent] for p in data.callbacks
        ]
        assert [r[1:] for r in scores.rows[:-1]] == [
            [p.scored, p.average] for p in data.satisfaction
        ]
    # And the numbers are right: 1+3+5+2+4+1+3 calls on the even days of the fortnight.
    assert got[0].rows[-1][:2] == ["Total", 19]
    assert got[4].rows == [[date(2026, 11, 9), 11, got[4].rows[0][2]],
                           [date(2026, 11, 16), 8, got[4].rows[1][2]],
                           ["Total", 19, got[0].rows[-1][2]]]  # fmt: skip
    assert got[1].headers == [
        "Day",
        "Delivery 送货",
        "Safety 安全隐患",
        "(not classified)",
        "Total",
    ]
    assert got[1].rows[-1] == ["Total", 3, 2, 2, 7]
    assert got[2].rows[-1] == ["Total", 7, 3, 42.9]


@pytest.mark.parametrize(
    ("first", "last", "zone"),
    [
        (FROM, TO, "Asia/Shanghai"),
        (date(2026, 11, 11), date(2026, 11, 20), "Asia/Shanghai"),  # cut weeks at both ends
        (date(2026, 3, 1), date(2026, 11, 30), "Europe/Berlin"),  # summer time, >200 days
        (date(2026, 11, 22), date(2026, 11, 22), "UTC"),
    ],
)
def test_weeks_folded_from_days_are_the_weeks_read(session, settings, busy, first, last, zone):
    """The report reads the days once and folds them into weeks (trends.regroup): exactly
    what reading by week gives, to the last bit of the summed seconds."""
    local = replace(settings, local_timezone=zone)
    days = trends.load(session=session, date_from=first, date_to=last, step=trends.Step.DAY,
                       settings=local, now=NOW)  # fmt: skip
    weeks = trends.load(session=session, date_from=first, date_to=last, step=trends.Step.WEEK,
                        settings=local, now=NOW)  # fmt: skip
    assert trends.regroup(days, trends.Step.WEEK) == weeks
    assert trends.regroup(days, trends.Step.DAY) == days


def test_xlsx_has_a_sheet_per_table(db_url, busy, tmp_path, fixed_now) -> None:
    out = tmp_path / "summary.xlsx"
    db = db_url.removeprefix("sqlite:///")
    argv = ["report", "summary", "--from", str(FROM), "--to", str(TO), "--format", "xlsx",
            "--db", db, "--output", str(out)]  # fmt: skip
    assert main(argv) == 0
    book = load_workbook(out)
    assert book.sheetnames == [t[:31] for t in TITLES]
    calls = book["Calls by day"]
    assert [c.value for c in calls[1]] == ["Day", "Calls", "Avg handling s"]
    assert calls.max_row == 1 + 14 + 1
    assert [c.value for c in calls[calls.max_row]][:2] == ["Total", 19]
    weekly = book["Callback completion by week"]
    assert [c.value for c in weekly[1]] == ["Week of", "Due", "Done", "Done %"]


@pytest.mark.parametrize("fmt", ["csv", "json", "txt"])
def test_standard_output_without_output(db_url, busy, capsys, fixed_now, fmt: str) -> None:
    db = db_url.removeprefix("sqlite:///")
    argv = ["report", "summary", "--from", str(FROM), "--to", str(TO), "--format", fmt,
            "--db", db]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["# Calls by day"] and rows[1] == ["Day", "Calls", "Avg handling s"]
        assert ["Total", "19", rows[16][2]] == rows[16]
    elif fmt == "json":
        doc = json.loads(text)
        assert list(doc) == TITLES
        assert doc["Calls by week"]["rows"][-1]["Calls"] == 19
        assert doc["Calls by week"]["meta"]["from"] == "2026-11-09"
    else:
        assert text.startswith("Calls by day\n")
        assert "Satisfaction by week" in text


def test_xlsx_to_standard_output(db_url, busy, capsysbinary, fixed_now) -> None:
    db = db_url.removeprefix("sqlite:///")
    argv = ["report", "summary", "--from", str(FROM), "--to", str(TO), "--format", "xlsx",
            "--db", db]  # fmt: skip
    assert main(argv) == 0
    data = capsysbinary.readouterr().out
    assert load_workbook(io.BytesIO(data)).sheetnames[0] == "Calls by day"


@pytest.fixture
def chinese_afterwards() -> Iterator[None]:
    """`--lang zh_CN` on the command line switches the process; English again afterwards."""
    try:
        yield
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_machine_formats_keep_english_keys_in_chinese(
    db_url, busy, capsys, fixed_now, chinese_afterwards, fmt: str
) -> None:
    db = db_url.removeprefix("sqlite:///")
    argv = ["--lang", "zh_CN", "report", "summary", "--from", str(FROM), "--to", str(TO),
            "--format", fmt, "--db", db]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["# Calls by day"] and rows[1] == ["Day", "Calls", "Avg handling s"]
        assert rows[16][:2] == ["Total", "19"]
    else:
        doc = json.loads(text)
        assert list(doc) == TITLES
        total = doc["Calls by week"]["rows"][-1]
        assert list(total) == ["Week of", "Calls", "Avg handling s"]
        assert total["Week of"] == "Total" and total["Calls"] == 19
        # Category keys are the policy's base labels, whatever the language.
        assert list(doc["Complaints by category by day"]["rows"][0]) == [
            "Day", "Delivery 送货", "Safety 安全隐患", "(not classified)", "Total"]  # fmt: skip


def test_people_read_chinese_in_txt_and_xlsx(
    db_url, busy, capsys, fixed_now, chinese_afterwards, tmp_path
) -> None:
    db = db_url.removeprefix("sqlite:///")
    argv = ["--lang", "zh_CN", "report", "summary", "--from", str(FROM), "--to", str(TO),
            "--db", db, "--format"]  # fmt: skip
    assert main([*argv, "txt"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["每日通话量", "=" * 10]  # underlined by cell width
    assert lines[2].split() == ["日期", "通话量", "平均处理秒数"]
    assert "合计" in lines[3 + 15] and "19" in lines[3 + 15]
    out = tmp_path / "summary.xlsx"
    assert main([*argv, "xlsx", "--output", str(out)]) == 0
    book = load_workbook(out)
    measures = ("通话量", "投诉分类统计", "回访完成率", "满意度")
    assert book.sheetnames == [f"{step}{m}" for step in ("每日", "每周") for m in measures]
    complaints = book["每日投诉分类统计"]
    # Categories in the policy's Chinese labels (label_zh_CN), "Total" from the catalogue.
    assert [c.value for c in complaints[1]] == ["日期", "送货", "安全隐患", "（未分类）", "合计"]
    assert [c.value for c in complaints[complaints.max_row]] == ["合计", 3, 2, 2, 7]
