"""Make-up working days (调休): the calendar, the shipped 2026 schedule, `seat policy calendar`,
the warnings when a year has no entries."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from seat import holiday_calendar, sla
from seat.cli import main
from seat.config import DATA_DIR

SH = ZoneInfo("Asia/Shanghai")
MAKE_UP_2026 = [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                date(2026, 9, 20), date(2026, 10, 10)]  # fmt: skip


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


@pytest.fixture(scope="module")
def calendar() -> sla.Calendar:
    policy = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")
    return policy.calendar


def test_shipped_2026_schedule_has_the_six_make_up_days_and_the_official_holidays(calendar):
    holidays, workdays = calendar.entries(2026)
    assert workdays == MAKE_UP_2026
    assert len(holidays) == 33
    assert {date(2026, 2, 15), date(2026, 2, 23), date(2026, 10, 1), date(2026, 10, 7)} <= set(
        holidays
    )


@pytest.mark.parametrize("day", MAKE_UP_2026)
def test_a_make_up_day_has_a_normal_workday_s_hours(calendar, day):
    assert day.weekday() >= 5
    assert calendar.windows(day) == [
        (sh(day.year, day.month, day.day, 9), sh(day.year, day.month, day.day, 12)),
        (sh(day.year, day.month, day.day, 13), sh(day.year, day.month, day.day, 18)),
    ]


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # The case: Fri 17:00 + 40 business hours: Fri 1, Sat 3, Sun 9-20 (make-up) 8,
        # Mon-Wed 24, Thu 4 -> Thu 14:00, before the Mid-Autumn holiday (not 4 days later).
        (sh(2026, 9, 18, 17), 40, sh(2026, 9, 24, 14)),
        (sh(2026, 9, 18, 17), 9, sh(2026, 9, 20, 15)),  # lands on the make-up Sunday
        (sh(2026, 9, 30, 17), 2, sh(2026, 10, 8, 10)),  # National Day week closed
        (sh(2026, 10, 9, 17), 2, sh(2026, 10, 10, 10)),  # Fri -> the make-up Sat, full day
        (sh(2026, 10, 10, 16), 4, sh(2026, 10, 12, 11)),  # Sat 10-10 counts until 18:00
        (sh(2026, 2, 13, 17), 5, sh(2026, 2, 14, 14)),  # Spring Festival: Sat 2-14 works
        (sh(2026, 2, 14, 17), 2, sh(2026, 2, 24, 10)),  # 2-15..2-23 closed
        (sh(2026, 2, 27, 17), 4, sh(2026, 2, 28, 12)),  # Sat 2-28 works
        (sh(2026, 2, 28, 17), 2, sh(2026, 3, 2, 10)),  # then Sunday is closed again
    ],
)
def test_business_deadline_across_spring_festival_and_national_day(
    calendar, start, hours, expected
):
    assert sla.deadline(start, timedelta(hours=hours), calendar=calendar) == expected


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (sh(2026, 9, 19, 0), sh(2026, 9, 21, 0), 3 + 8),  # Sat morning + make-up Sunday
        (sh(2026, 2, 14, 0), sh(2026, 2, 24, 0), 8),  # only the make-up Saturday counts
        (sh(2026, 10, 1, 0), sh(2026, 10, 11, 0), 3 * 8),  # Thu 10-08, Fri 10-09, Sat 10-10
    ],
)
def test_business_elapsed_counts_make_up_days(calendar, start, end, hours):
    assert sla.elapsed(start, end, calendar=calendar) == timedelta(hours=hours)


def test_walk_and_running_totals_agree_on_make_up_days(calendar):
    start = sh(2026, 9, 18, 17)
    budget = timedelta(hours=40)
    fast = sla.deadline(start, budget, calendar=calendar)
    walk = sla._deadline_walk(start, budget, calendar, (), SH)
    assert fast == walk


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ("[calendar]\nworkdays = ['2026-09-21']", "list only make-up working days"),
        ("[calendar]\nworkdays = ['2026-09-20']\nholidays = ['2026-09-20']", "also listed"),
        ("[calendar]\nworkdays = '2026-09-20'", "must be a list"),
        ("[calendar]\nworkday_hours = '9-18'", "calendar.workday_hours"),
        ("[calendar]\nworkdays = ['2026-09-20']\n[calendar.hours]\nmon = ''", "workday_hours"),
    ],
)
def test_bad_workdays_are_refused(tmp_path, toml, problem):
    path = tmp_path / "complaints.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(sla.PolicyError) as exc:
        sla.read_policy(path, default_zone="Asia/Shanghai")
    assert problem in str(exc.value)


def test_workday_hours_may_be_set(tmp_path):
    path = tmp_path / "complaints.toml"
    path.write_text(
        "[calendar]\nworkdays = [2026-09-20]\nworkday_hours = '08:30-17:30'", encoding="utf-8"
    )
    cal = sla.read_policy(path, default_zone="Asia/Shanghai").calendar
    assert cal.windows(date(2026, 9, 20)) == [(sh(2026, 9, 20, 8, 30), sh(2026, 9, 20, 17, 30))]


@pytest.mark.parametrize(
    ("today", "missing"),
    [(date(2026, 6, 1), []), (date(2027, 6, 1), [2028]), (date(2028, 1, 1), [2028, 2029])],
)
def test_years_without_entries_warn(calendar, today, missing):
    assert calendar.years_without_entries(today) == missing
    warnings = sla.calendar_warnings(calendar, today, source="complaints.toml")
    assert [str(y) in w for y, w in zip(missing, warnings, strict=True)] == [True] * len(missing)


def test_policy_calendar_json_is_exactly_the_effective_calendar(capsys):
    assert main(["policy", "calendar", "--year", "2026", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["year", "holidays", "workdays"]
    assert out["year"] == 2026
    assert out["workdays"] == [d.isoformat() for d in MAKE_UP_2026]
    assert "2026-10-01" in out["holidays"]


def test_generate_china_2026_matches_the_shipped_calendar(calendar, capsys):
    pytest.importorskip("chinese_calendar")
    assert main(["policy", "calendar", "--year", "2026", "--generate"]) == 0
    out = capsys.readouterr().out
    parsed = sla.parse_policy(tomllib.loads(out), source="generated", default_zone="Asia/Shanghai")
    assert parsed.calendar.entries(2026) == calendar.entries(2026)


def test_generate_other_region_from_holidays():
    pytest.importorskip("holidays")
    year = holiday_calendar.generate(2026, "DE-BY")
    assert date(2026, 12, 25) in year.holidays and year.workdays == ()
    assert json.loads(year.as_json())["year"] == 2026


def test_generate_without_the_extra_says_how_to_install(monkeypatch, capsys):
    real = holiday_calendar.importlib.import_module

    def missing(name: str, *args, **kwargs):
        if name in ("chinese_calendar", "holidays"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(holiday_calendar.importlib, "import_module", missing)
    assert main(["policy", "calendar", "--year", "2026", "--generate"]) == 2
    assert "pip install 'seat[calendar]'" in capsys.readouterr().err


def test_db_check_warns_about_a_year_without_calendar(tmp_path, monkeypatch, capsys):
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "complaints.toml").write_text("[calendar]\nholidays = []\n", encoding="utf-8")
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "config.toml"))
    (tmp_path / "config.toml").write_text(f"policy_dir = '{policy}'\n", encoding="utf-8")
    db = tmp_path / "desk.db"
    assert main(["--db", str(db), "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--db", str(db), "db", "check"]) == 0
    out = capsys.readouterr().out
    assert "warning:" in out and "no holidays or working days" in out
