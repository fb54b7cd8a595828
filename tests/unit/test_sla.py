"""Deadline arithmetic: business hours, weekends, holidays, pauses; the policy and its overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from seat import sla
from seat.config import DATA_DIR, Settings

SH = ZoneInfo("Asia/Shanghai")
OFFICE = sla.Calendar(
    zone=SH,
    hours=(
        *[sla.parse_hours("09:00-12:00, 13:00-18:00")] * 5,  # Mon-Fri, 8 h a day
        sla.parse_hours("09:00-12:00"),  # Sat morning
        (),  # Sun closed
    ),
    holidays=frozenset({date(2026, 10, d) for d in range(1, 8)} | {date(2026, 12, 25)}),
)


def sh(*args: int) -> datetime:
    """A Shanghai wall-clock time as a UTC instant."""
    return datetime(*args, tzinfo=SH).astimezone(UTC)


# -- deadlines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (sh(2026, 11, 23, 10, 0), 2, sh(2026, 11, 23, 12, 0)),  # Monday morning
        (sh(2026, 11, 23, 11, 30), 1, sh(2026, 11, 23, 13, 30)),  # across lunch
        (sh(2026, 11, 23, 7, 0), 1, sh(2026, 11, 23, 10, 0)),  # before opening
        (sh(2026, 11, 23, 17, 0), 2, sh(2026, 11, 24, 10, 0)),  # overnight
        (sh(2026, 11, 23, 20, 0), 8, sh(2026, 11, 24, 18, 0)),  # after closing
        (sh(2026, 11, 27, 17, 0), 2, sh(2026, 11, 28, 10, 0)),  # Friday -> Saturday morning
        (sh(2026, 11, 28, 11, 0), 2, sh(2026, 11, 30, 10, 0)),  # weekend: Sat -> Mon
        (sh(2026, 11, 29, 15, 0), 1, sh(2026, 11, 30, 10, 0)),  # Sunday counts nothing
        (sh(2026, 9, 30, 17, 0), 2, sh(2026, 10, 8, 10, 0)),  # National Day week
        (sh(2026, 12, 24, 17, 30), 1, sh(2026, 12, 26, 9, 30)),  # a holiday on a Friday
        (sh(2026, 11, 23, 10, 0), 24, sh(2026, 11, 26, 10, 0)),  # 24 business hours = 3 days
    ],
)
def test_business_deadline(start, hours, expected):
    assert sla.deadline(start, timedelta(hours=hours), calendar=OFFICE) == expected
    assert sla.elapsed(start, expected, calendar=OFFICE) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (sh(2026, 11, 23, 10, 0), sh(2026, 11, 23, 10, 0), 0),
        (sh(2026, 11, 23, 12, 0), sh(2026, 11, 23, 13, 0), 0),  # lunch does not count
        (sh(2026, 11, 27, 18, 0), sh(2026, 11, 30, 9, 0), 3),  # Sat morning only
        (sh(2026, 9, 30, 9, 0), sh(2026, 10, 8, 9, 0), 8),  # holidays do not count
        (sh(2026, 11, 23, 10, 0), sh(2026, 11, 23, 9, 0), 0),  # end before start
    ],
)
def test_business_elapsed(start, end, hours):
    assert sla.elapsed(start, end, calendar=OFFICE) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("pauses", "budget_h", "expected"),
    [
        ([], 24, sh(2026, 11, 24, 20, 0)),
        # Waiting on the customer from 22:00 to 02:00 across midnight: 4 h more.
        ([(sh(2026, 11, 23, 22, 0), sh(2026, 11, 24, 2, 0))], 24, sh(2026, 11, 25, 0, 0)),
        # Two pauses, one before and one across midnight.
        (
            [
                (sh(2026, 11, 23, 21, 0), sh(2026, 11, 23, 21, 30)),
                (sh(2026, 11, 23, 23, 30), sh(2026, 11, 24, 1, 0)),
            ],
            24,
            sh(2026, 11, 24, 22, 0),
        ),
        # A pause that began before the clock started only counts from the start.
        ([(sh(2026, 11, 23, 19, 0), sh(2026, 11, 23, 21, 0))], 2, sh(2026, 11, 23, 23, 0)),
    ],
)
def test_wall_clock_deadline_with_pauses(pauses, budget_h, expected):
    start = sh(2026, 11, 23, 20, 0)
    budget = timedelta(hours=budget_h)
    assert sla.deadline(start, budget, pauses=pauses) == expected
    assert sla.elapsed(start, expected, pauses=pauses) == budget


def test_business_pause_across_midnight():
    # Waiting from Monday 17:00 to Tuesday 10:00: one business hour each side is lost.
    start = sh(2026, 11, 23, 9, 0)
    pause = [(sh(2026, 11, 23, 17, 0), sh(2026, 11, 24, 10, 0))]
    assert sla.elapsed(start, sh(2026, 11, 24, 12, 0), calendar=OFFICE, pauses=pause) == (
        timedelta(hours=9)
    )
    assert sla.deadline(start, timedelta(hours=9), calendar=OFFICE, pauses=pause) == sh(
        2026, 11, 24, 12, 0
    )


def test_daylight_saving_change_keeps_local_opening_hours():
    london = ZoneInfo("Europe/London")
    cal = sla.Calendar(zone=london, hours=OFFICE.hours)
    start = datetime(2026, 3, 27, 17, 0, tzinfo=london)  # Friday before the clocks change
    # 1 h on Friday, 3 h on Saturday (still GMT), clocks change on Sunday, 1 h on Monday.
    got = sla.deadline(start, timedelta(hours=5), calendar=cal)
    assert got == datetime(2026, 3, 30, 10, 0, tzinfo=london)
    assert got.astimezone(UTC).hour == 9  # 10:00 BST


def test_closed_calendar_has_no_deadline():
    cal = sla.Calendar(zone=SH, hours=((),) * 7)
    with pytest.raises(ValueError, match="no deadline"):
        sla.deadline(sh(2026, 11, 23, 9, 0), timedelta(hours=1), calendar=cal)


# -- clocks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used_h", "state"),
    [(0, "ok"), (17.9, "ok"), (18, "amber"), (23.9, "amber"), (24, "red"), (30, "red")],
)
def test_clock_bands(used_h, state):
    start = sh(2026, 11, 23, 10, 0)
    c = sla.clock(
        "first_reply", started_at=start, budget=timedelta(hours=24),
        now=start + timedelta(hours=used_h),
    )  # fmt: skip
    assert c.state == state
    assert c.breached is (state == "red")
    assert c.left == timedelta(hours=24 - used_h)
    assert c.deadline == start + timedelta(hours=24)


def test_clock_paused_while_waiting_moves_its_deadline():
    start = sh(2026, 11, 23, 10, 0)
    now = sh(2026, 11, 23, 20, 0)
    c = sla.clock(
        "solution", started_at=start, budget=timedelta(hours=48), now=now,
        pauses=[(sh(2026, 11, 23, 11, 0), sh(2026, 11, 23, 12, 0))],
        waiting_since=sh(2026, 11, 23, 18, 0),
    )  # fmt: skip
    assert c.paused and c.running
    assert c.used == timedelta(hours=7)  # 10 h minus 1 h paused minus 2 h waiting so far
    assert c.deadline == start + timedelta(hours=48 + 1 + 2)


def test_stopped_clock_is_met_or_late():
    start = sh(2026, 11, 23, 10, 0)
    met = sla.clock(
        "first_reply", started_at=start, budget=timedelta(hours=4),
        stopped_at=start + timedelta(hours=3), now=start + timedelta(days=3),
    )  # fmt: skip
    late = sla.clock(
        "first_reply", started_at=start, budget=timedelta(hours=4),
        stopped_at=start + timedelta(hours=5), now=start + timedelta(days=3),
    )  # fmt: skip
    assert not met.running and not met.breached and met.used == timedelta(hours=3)
    assert not late.running and late.breached


def test_most_urgent_picks_the_running_clock_nearest_its_budget():
    start = sh(2026, 11, 23, 10, 0)
    now = start + timedelta(hours=20)
    reply = sla.clock("first_reply", started_at=start, budget=timedelta(hours=24), now=now)
    solution = sla.clock("solution", started_at=start, budget=timedelta(hours=48), now=now)
    done = sla.clock(
        "first_reply", started_at=start, budget=timedelta(hours=1), now=now, stopped_at=now
    )
    assert sla.most_urgent([solution, reply, done]) is reply
    assert sla.most_urgent([done]) is None


@pytest.mark.parametrize(
    ("span", "text"),
    [(timedelta(minutes=5), "5m"), (timedelta(hours=5, minutes=20), "5h20"),
     (timedelta(hours=-3), "3h00"), (timedelta(days=3, hours=4), "3d04h")],
)  # fmt: skip
def test_format_span(span, text):
    assert sla.format_span(span) == text


# -- the policy -----------------------------------------------------------------------------


@pytest.fixture
def shipped() -> sla.Policy:
    return sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")


@pytest.mark.parametrize(
    ("level", "category", "first_reply_h", "solution_h", "callback_d", "business"),
    [
        (3, None, 24, 48, 7, False),  # the defaults of the handbook
        (2, None, 12, 48, 7, False),
        (1, None, 4, 24, 3, False),  # VIP and diamond: stricter, 7x24
        (3, "safety", 2, 24, 7, False),
        (2, "safety", 2, 24, 7, False),  # the stricter of level and category
        (3, "product_quality", 24, 40, 7, True),  # office hours of the quality lab
        (1, "product_quality", 4, 24, 3, False),  # a VIP is never on office hours
        (3, "unknown", 24, 48, 7, False),
    ],
)
def test_shipped_policy_overrides(
    shipped, level, category, first_reply_h, solution_h, callback_d, business
):
    b = shipped.budgets(level=level, category=category)
    assert b.first_reply == timedelta(hours=first_reply_h)
    assert b.solution == timedelta(hours=solution_h)
    assert b.callback == timedelta(days=callback_d)
    assert b.business_hours is business
    assert (b.follow_up_every, b.follow_up_min) == (timedelta(days=7), 3)


def test_shipped_policy_calendar_and_lists(shipped):
    cal = shipped.calendar
    assert cal.zone == SH
    assert date(2026, 10, 1) in cal.holidays
    assert cal.windows(date(2026, 10, 1)) == []
    assert cal.windows(date(2026, 11, 29)) == []  # Sunday
    assert cal.windows(date(2026, 11, 23))[0] == (sh(2026, 11, 23, 9, 0), sh(2026, 11, 23, 12))
    assert shipped.amber_at == 0.75
    assert shipped.category_label("safety").startswith("Safety")
    assert shipped.category("product_quality").department == "Product owner"
    assert shipped.cause_label("product_defect").startswith("Product defect")
    assert shipped.cause_label("gone") == "gone"


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ("colour = 1", "colour: unknown key"),
        ("[budgets]\nfirst_reply_hours = -1", "budgets.first_reply_hours"),
        ("[budgets]\nreply_hours = 3", "unknown key 'reply_hours'"),
        ("[budgets]\nbusiness_hours = 'yes'", "not true or false"),
        ("[levels.4]\nfirst_reply_hours = 1", "levels are tables named 1, 2 or 3"),
        ("[categories.x]\ndepartment = 'y'", "a category needs a label"),
        ("[calendar]\ntimezone = 'Mars/Base'", "unknown time zone"),
        ("[calendar.hours]\nmon = '18:00-09:00'", "ends before it starts"),
        ("[calendar.hours]\nmon = '9-18'", "is not like 09:00-18:00"),
        ("[calendar.hours]\nfunday = '09:00-18:00'", "calendar.hours.funday"),
        ("[calendar]\nholidays = ['2026-13-01']", "is not a date"),
        ("[budgets]\nbusiness_hours = true\n[calendar.hours]\nmon = ''", "no day has opening"),
        ("amber_at = 1.5", "amber_at"),
        ("[budgets", "not valid TOML"),
    ],
)
def test_bad_policy_is_refused_naming_file_and_problem(tmp_path, toml, problem):
    path = tmp_path / "complaints.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(sla.PolicyError) as exc:
        sla.read_policy(path, default_zone="Asia/Shanghai")
    assert str(path) in str(exc.value)
    assert problem in str(exc.value)


def test_deployment_copy_overrides_the_shipped_policy(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "config.toml"))
    settings = Settings()
    assert sla.load_policy(settings).budgets(level=3, category=None).first_reply == timedelta(
        hours=24
    )
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "complaints.toml").write_text(
        "[budgets]\nfirst_reply_hours = 8\n", encoding="utf-8"
    )
    policy = sla.load_policy(settings)
    assert policy.source == str(tmp_path / "policy" / "complaints.toml")
    assert policy.budgets(level=3, category=None).first_reply == timedelta(hours=8)


def test_missing_policy_file_is_named_never_a_silent_handbook(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "config.toml"))
    with pytest.raises(sla.PolicyError) as err:
        sla.load_policy(Settings(policy_dir=Path(tmp_path / "nowhere")))
    assert str(tmp_path / "nowhere" / "complaints.toml") in str(err.value)
    assert "cannot be read" in str(err.value)
