"""The complaint classification report: counts, percentiles, breaches; the command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from seat import agents, complaints, sla
from seat.cli import main
from seat.config import DATA_DIR
from seat.reports import complaints as report
from tests.conftest import NOW

POLICY = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [([], 90, None), ([5.0], 90, 5.0), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9),
     ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90, 10), ([3, 1, 2], 50, 2)],
)  # fmt: skip
def test_percentile_nearest_rank(values, p, expected):
    assert report.percentile([float(v) for v in values], p) == expected


def seed(engine, world) -> dict[str, int]:
    """Four complaints in November 2026 and one in October, at known times."""
    with Session(engine, expire_on_commit=False) as s:
        boss = agents.ensure_agent(session=s, name="zhao.lei", role="supervisor").id
        li = world["li"]

        def new(customer: str, at) -> int:
            c = complaints.create_complaint(
                session=s, now=at, customer_id=world[customer], owner_id=li,
                what_happened="x", customer_wants="y",
            )  # fmt: skip
            return c.id

        def run(cid, at, **steps):
            if "accept" in steps:
                complaints.accept(session=s, complaint_id=cid, actor_id=li,
                                  now=at + steps["accept"], department="After-sales",
                                  reply_text="We are on it.", category=steps.get("category"),
                                  policy=POLICY)  # fmt: skip
            if "solution" in steps:
                complaints.investigate(session=s, complaint_id=cid, actor_id=li,
                                       now=at + steps["solution"], cause=steps["cause"],
                                       responsible_person="Zhou", department="After-sales",
                                       policy=POLICY)  # fmt: skip
                complaints.propose(session=s, complaint_id=cid, actor_id=li,
                                   now=at + steps["solution"], solution_options="Fix it")
                complaints.approve(session=s, complaint_id=cid, actor_id=boss,
                                   now=at + steps["solution"], chosen_solution="Fix it")

        start = NOW - timedelta(days=10)  # 2026-11-13, a Friday
        ids = {}
        ids["fast"] = new("min", start)  # gold: reply 12 h, solution 48 h
        run(ids["fast"], start, accept=2 * H, solution=10 * H, category="repair_installation",
            cause="installation_error")  # fmt: skip
        ids["slow"] = new("tom", start)  # ordinary: reply 24 h, solution 48 h
        run(ids["slow"], start, accept=30 * H, solution=40 * H, category="repair_installation",
            cause="installation_error")  # fmt: skip
        ids["vip"] = new("fang", start)  # VIP: reply 4 h, solution 24 h
        run(ids["vip"], start, accept=1 * H, category="delivery")
        ids["open"] = new("tom", NOW - 2 * H)  # nothing done yet, nothing breached
        ids["october"] = new("tom", NOW - timedelta(days=40))
        invalid = new("min", NOW - timedelta(days=41))
        complaints.judge_invalid(session=s, complaint_id=invalid, actor_id=li,
                                 now=NOW - timedelta(days=41) + 3 * H, invalid_reason="Not ours",
                                 reply_text="Sold by another shop.", policy=POLICY)  # fmt: skip
        ids["invalid"] = invalid
        s.commit()
    return ids


def by_key(table) -> dict[tuple[str, str], list]:
    return {(row[0], row[1]): row[2:] for row in table.rows}


def test_classification_table(engine, settings, world):
    seed(engine, world)
    with Session(engine) as s:
        tables = report.tables(session=s, date_from=date(2026, 10, 1),
                               date_to=date(2026, 11, 30), settings=settings, now=NOW)  # fmt: skip
    first, months, unsatisfied, suggestions = tables
    assert unsatisfied.title == "Unsatisfied callbacks"  # the loops (tests/unit/test_loops)
    assert suggestions.title == "Suggestions"  # the register's count (tests/unit/test_suggestions)
    assert first.headers == report.HEADERS
    rows = by_key(first)
    # count, open, closed, invalid, reply med, reply p90, solution med, solution p90, breached %
    assert rows[("All", "all complaints")] == [6, 5, 0, 1, 2.5, 30.0, 25.0, 40.0, 66.7]
    assert rows[("Category", "Repair / installation 维修安装")] == [
        2, 2, 0, 0, 16.0, 30.0, 25.0, 40.0, 50.0
    ]
    assert rows[("Category", "Delivery 送货")][:2] == [1, 1]
    assert rows[("Category", "(not classified)")][0] == 3
    assert rows[("Cause", "Installation error 安装问题")][0] == 2
    assert rows[("Cause", "(no cause yet)")][0] == 4
    assert rows[("Department", "After-sales")][0] == 3
    assert rows[("Level", "Level 1")] == [1, 1, 0, 0, 1.0, 1.0, None, None, 100.0]
    assert rows[("Level", "Level 3")][0] == 3
    assert rows[("Month", "2026-10")][0] == 2 and rows[("Month", "2026-11")][0] == 4
    # Breached (4 of 6): the slow reply (30 h of 24), the VIP still without a solution
    # (24 h), the October one never answered, and the invalid one whose follow-up callback
    # (7 days) was never made.
    assert [r[1] for r in first.rows if r[0] == "Level"] == ["Level 1", "Level 2", "Level 3"]
    assert first.meta["from"] == date(2026, 10, 1)
    assert first.meta["policy"].endswith("complaints.toml")

    assert months.headers[0] == "Month" and months.headers[-1] == "Total"
    assert months.headers[1] == "Product quality 产品质量"
    assert "(not classified)" in months.headers
    m = {row[0]: row[1:] for row in months.rows}
    assert m["2026-10"][-1] == 2 and m["2026-11"][-1] == 4 and m["Total"][-1] == 6
    repair = months.headers.index("Repair / installation 维修安装") - 1
    assert m["2026-11"][repair] == 2


def test_date_range_is_local_and_inclusive(engine, settings, world):
    seed(engine, world)
    with Session(engine) as s:
        only_october = report.tables(session=s, date_from=date(2026, 10, 1),
                                     date_to=date(2026, 10, 31), settings=settings, now=NOW)
        nothing = report.tables(session=s, date_from=date(2025, 1, 1),
                                date_to=date(2025, 1, 31), settings=settings, now=NOW)
    # fmt: skip
    assert by_key(only_october[0])[("All", "all complaints")][0] == 2
    assert by_key(nothing[0])[("All", "all complaints")] == [0, 0, 0, 0] + [None] * 5
    assert nothing[1].rows == [["Total", *[0] * (len(nothing[1].headers) - 2), 0]]


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_command_line_export(engine, db_url, world, tmp_path, capsys, fmt, monkeypatch):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none.toml"))
    seed(engine, world)
    db = db_url.removeprefix("sqlite:///")
    out = tmp_path / f"complaints.{fmt}"
    argv = ["report", "complaints", "--from", "2026-10-01", "--to", "2026-11-30",
            "--format", fmt, "--db", db, "--output", str(out)]  # fmt: skip
    assert main(argv) == 0
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
        assert rows[0] == ["# Complaint classification"]
        assert rows[1] == report.HEADERS
        assert rows[2][:3] == ["All", "all complaints", "6"]
        assert ["# By month and category"] in rows
    elif fmt == "json":
        doc = json.loads(out.read_text(encoding="utf-8"))
        first = doc["Complaint classification"]
        assert first["rows"][0]["Complaints"] == 6
        assert first["meta"]["from"] == "2026-10-01"
        assert doc["By month and category"]["rows"][-1]["Month"] == "Total"
    else:
        wb = load_workbook(out)
        assert wb.sheetnames == [
            "Complaint classification", "By month and category", "Unsatisfied callbacks",
            "Suggestions",
        ]
        ws = wb["Complaint classification"]
        assert [c.value for c in ws[1]] == report.HEADERS
        assert ws["C2"].value == 6


def test_command_line_to_standard_output(engine, db_url, world, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none.toml"))
    seed(engine, world)
    db = db_url.removeprefix("sqlite:///")
    assert main(["report", "complaints", "--from", "2026-11-01", "--to", "2026-11-30",
                 "--db", db]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert text.startswith("# Complaint classification\n")
    assert "All,all complaints,4," in text
