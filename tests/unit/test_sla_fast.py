"""The running-total arithmetic answers exactly as the day-by-day walk it replaced.

`sla.deadline` and `sla.elapsed` read counting time off running totals; `_deadline_walk` and
`_elapsed_walk` are the original walk, kept as the reference (and the fallback for calendars
the totals cannot index). Every case compares the two to the microsecond, ValueError
included: weekends, holidays, lunch breaks, pauses (overlapping, open, zero-length, across
weekends), across months and years, and daylight-saving zones.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from seat import sla

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

HOLIDAYS = frozenset(
    {date(2026, 10, d) for d in range(1, 8)}
    | {date(2026, 12, 25), date(2027, 1, 1), date(2027, 2, 16), date(2026, 11, 30)}
)
CALENDARS = {
    "office": sla.Calendar(
        zone=SH,
        hours=(
            *[sla.parse_hours("09:00-12:00, 13:00-18:00")] * 5,
            sla.parse_hours("09:00-12:00"),
            (),
        ),
        holidays=HOLIDAYS,
    ),
    "weekdays": sla.Calendar(zone=SH),
    "adjacent": sla.Calendar(
        zone=SH,
        hours=tuple(sla.parse_hours("00:00-12:00, 12:00-24:00") for __ in range(7)),
        holidays=frozenset({date(2026, 11, 25)}),
    ),
    "tuesdays": sla.Calendar(
        zone=SH, hours=((), sla.parse_hours("10:00-11:00"), (), (), (), (), ())
    ),
    "berlin": sla.Calendar(
        zone=BERLIN,
        hours=(*[sla.parse_hours("08:00-12:30, 13:30-17:00")] * 5, (), ()),
        holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}),
    ),
    # A window that opens inside the hour the spring jump skips ends, in UTC, before it
    # opens: the totals refuse that and the walk answers; the comparison still holds.
    "new_york_nights": sla.Calendar(
        zone=NEW_YORK, hours=tuple(sla.parse_hours("00:30-02:00, 02:30-03:15") for __ in range(7))
    ),
    "every_hour": None,
}
ZONES = {"every_hour": SH}


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


def outcome(fn):
    try:
        return fn()
    except ValueError as exc:
        return ("ValueError", str(exc))


def both_deadline(start, budget, calendar, pauses, zone):
    fast = outcome(lambda: sla.deadline(start, budget, calendar=calendar, pauses=pauses, zone=zone))
    zone = calendar.zone if calendar else zone
    slow = outcome(lambda: sla._deadline_walk(start, budget, calendar, pauses, zone))
    return fast, slow


def both_elapsed(start, end, calendar, pauses, zone):
    fast = sla.elapsed(start, end, calendar=calendar, pauses=pauses, zone=zone)
    zone_ = calendar.zone if calendar else zone
    slow = sla._elapsed_walk(start, end, calendar, pauses, zone_) if end > start else timedelta(0)
    return fast, slow


HAND_PICKED = [
    # (calendar, start, budget h, pauses, end)
    ("office", sh(2026, 11, 23, 10), 2, [], sh(2026, 11, 24, 10)),
    ("office", sh(2026, 11, 27, 17), 2, [], sh(2026, 11, 30, 12)),  # Friday -> holiday Monday
    ("office", sh(2026, 9, 30, 17), 2, [], sh(2026, 10, 9, 10)),  # National Day week
    ("office", sh(2026, 12, 24, 17, 30), 1, [], sh(2026, 12, 28)),  # Christmas on a Friday
    ("office", sh(2026, 12, 31, 11), 40, [], sh(2027, 1, 15)),  # across the year
    ("office", sh(2026, 11, 28, 11), 2, [(sh(2026, 11, 28, 11, 30), sh(2026, 12, 1, 10))],
     sh(2026, 12, 2)),  # a pause across the weekend and a holiday
    ("office", sh(2026, 11, 23, 10), 8,
     [(sh(2026, 11, 23, 11), sh(2026, 11, 23, 15)),
      (sh(2026, 11, 23, 14), sh(2026, 11, 24, 9, 30))],
     sh(2026, 11, 26)),  # overlapping pauses
    ("office", sh(2026, 11, 23, 10), 8, [(sh(2026, 11, 23, 8), sh(2026, 11, 23, 11))],
     sh(2026, 11, 24)),  # a pause that began before the clock
    ("office", sh(2026, 11, 23, 10), 8, [(sh(2026, 11, 23, 11), sh(2026, 11, 23, 11))],
     sh(2026, 11, 24)),  # a zero-length pause
    ("office", sh(2026, 11, 23, 10), 8, [(sh(2026, 11, 23, 10), sh(2026, 11, 23, 12))],
     sh(2026, 11, 24)),  # a pause from the very start
    ("office", sh(2026, 11, 23, 10), 8, [(sh(2026, 11, 23, 15), sh(2026, 11, 23, 12))],
     sh(2026, 11, 24)),  # a pause that ends before it starts (bad data): the walk's answer
    ("office", sh(2026, 11, 23, 10), 3, [(sh(2026, 11, 23, 13), sh(2026, 11, 23, 13, 30))],
     sh(2026, 11, 23, 13)),  # deadline exactly at a pause
    ("office", sh(2026, 11, 23, 9), 3, [], sh(2026, 11, 23, 12)),  # exactly a window's end
    ("adjacent", sh(2026, 11, 23, 6), 6, [], sh(2026, 11, 23, 12)),  # noon between windows
    ("adjacent", sh(2026, 11, 24, 20), 10, [], sh(2026, 11, 27)),  # over a holiday
    ("tuesdays", sh(2026, 11, 23, 10), 5, [], sh(2027, 1, 1)),  # one hour a week
    ("weekdays", sh(2026, 11, 23, 10), 24 * 30, [], sh(2027, 3, 1)),  # months of office days
    ("berlin", datetime(2026, 3, 27, 16, tzinfo=BERLIN).astimezone(UTC), 8, [],
     datetime(2026, 3, 31, tzinfo=BERLIN).astimezone(UTC)),  # spring forward
    ("berlin", datetime(2026, 10, 23, 16, tzinfo=BERLIN).astimezone(UTC), 8, [],
     datetime(2026, 10, 28, tzinfo=BERLIN).astimezone(UTC)),  # fall back
    ("new_york_nights", datetime(2026, 3, 7, 2, tzinfo=NEW_YORK).astimezone(UTC), 5, [],
     datetime(2026, 3, 10, tzinfo=NEW_YORK).astimezone(UTC)),
    ("new_york_nights", datetime(2026, 10, 31, 2, tzinfo=NEW_YORK).astimezone(UTC), 5, [],
     datetime(2026, 11, 3, tzinfo=NEW_YORK).astimezone(UTC)),
    ("every_hour", sh(2026, 11, 23, 10), 24, [], sh(2026, 11, 24, 12)),
    ("every_hour", sh(2026, 11, 23, 10), 48, [(sh(2026, 11, 24), sh(2026, 11, 26))],
     sh(2026, 11, 27)),
    ("every_hour", sh(2026, 1, 1), 24 * 1000, [], sh(2029, 1, 1)),  # past the walk's limit
    ("every_hour", sh(2026, 1, 1), 24 * 1200, [], sh(2030, 1, 1)),  # no deadline at all
]  # fmt: skip


@pytest.mark.parametrize(("name", "start", "hours", "pauses", "end"), HAND_PICKED)
def test_hand_picked_cases_match_the_walk(name, start, hours, pauses, end):
    calendar, zone = CALENDARS[name], ZONES.get(name)
    budget = timedelta(hours=hours)
    fast, slow = both_deadline(start, budget, calendar, pauses, zone)
    assert fast == slow
    fast, slow = both_elapsed(start, end, calendar, pauses, zone)
    assert fast == slow


def random_case(rng: random.Random):
    name = rng.choice(list(CALENDARS))
    zone = (CALENDARS[name] or sla.Calendar(ZONES.get(name, SH))).zone
    base = datetime(2026, 1, 1, tzinfo=zone) + timedelta(minutes=rng.randrange(0, 2 * 365 * 1440))
    start = base.astimezone(UTC)
    if rng.random() < 0.2:
        start = start.replace(second=rng.randrange(60), microsecond=rng.randrange(10**6))
    budget = rng.choice(
        [timedelta(minutes=1), timedelta(hours=1), timedelta(hours=4), timedelta(hours=8),
         timedelta(hours=24), timedelta(hours=40), timedelta(days=3), timedelta(days=7),
         timedelta(days=30), timedelta(minutes=rng.randrange(1, 20000))]
    )  # fmt: skip
    pauses = []
    at = start - timedelta(hours=rng.randrange(0, 48))
    for __ in range(rng.choice([0, 0, 1, 2, 3, 5])):
        at += timedelta(minutes=rng.randrange(0, 5000))
        length = timedelta(minutes=rng.choice([0, 5, 60, 600, 3000, rng.randrange(1, 9000)]))
        pauses.append((at, at + length))
        if rng.random() < 0.3:  # overlapping with the next one
            at -= timedelta(minutes=rng.randrange(0, 600))
    rng.shuffle(pauses)
    end = start + timedelta(minutes=rng.randrange(-60, 90 * 1440))
    return name, start, budget, pauses, end


@pytest.mark.parametrize("seed", range(400))
def test_random_cases_match_the_walk(seed):
    name, start, budget, pauses, end = random_case(random.Random(seed))
    calendar, zone = CALENDARS[name], ZONES.get(name, SH)
    assert both_deadline(start, budget, calendar, pauses, zone)[0] == both_deadline(
        start, budget, calendar, pauses, zone
    )[1]
    fast, slow = both_elapsed(start, end, calendar, pauses, zone)
    assert fast == slow
    # clock() puts the two together, with an open pause running to `now`
    waiting = start + (end - start) / 2 if seed % 3 == 0 and end > start else None
    if waiting is not None:
        kwargs = dict(started_at=start, budget=budget, now=end, calendar=calendar, pauses=pauses,
                      waiting_since=waiting, zone=zone)  # fmt: skip
        holes = [*pauses, (waiting, end)]
        zone_ = calendar.zone if calendar else zone
        state = outcome(lambda: sla.clock("solution", **kwargs))
        walked = outcome(lambda: sla._deadline_walk(start, budget, calendar, holes, zone_))
        if isinstance(walked, tuple):
            assert state == walked  # both: no deadline within three years
        else:
            assert state.deadline == walked
            assert state.used == sla._elapsed_walk(start, end, calendar, holes, zone_)


@pytest.mark.parametrize("name", ["office", "weekdays", "adjacent", "tuesdays", "berlin"])
def test_regular_calendars_take_the_running_totals(name):
    """The comparison above is only worth something if the fast path really answers."""
    calendar = CALENDARS[name]
    start = sh(2026, 11, 23, 10)
    assert sla._deadline_fast(start, timedelta(hours=30), calendar, [], calendar.zone)
    assert sla._elapsed_fast(start, sh(2027, 2, 1), calendar, [], calendar.zone)


def test_a_daylight_saving_jump_inside_opening_hours_falls_back_to_the_walk():
    calendar = CALENDARS["new_york_nights"]
    start = datetime(2026, 3, 1, tzinfo=NEW_YORK).astimezone(UTC)
    with pytest.raises(sla._Irregular):
        sla._deadline_fast(start, timedelta(hours=100), calendar, [], calendar.zone)


@pytest.mark.parametrize("name", ["office", "weekdays", "tuesdays", "berlin"])
def test_indexing_earlier_days_keeps_every_total_handed_out(name):
    """Another worker thread may index days before the ones a timeline counts from: totals
    already handed out (a timeline's zero) must stay valid."""
    totals = sla._WindowTotals(CALENDARS[name])
    later = datetime(2026, 11, 23, 2, tzinfo=UTC)
    at = later + timedelta(days=3, hours=5)
    zero, upto = totals.total(later), totals.total(at)
    for back in (10, 100, 400):  # earlier and earlier complaints
        totals.total(later - timedelta(days=back))
        assert totals.total(later) == zero
        assert totals.total(at) == upto
    fresh = sla._WindowTotals(CALENDARS[name])
    assert fresh.total(at) - fresh.total(later) == upto - zero
    assert totals.instant(zero + (upto - zero)) == fresh.instant(fresh.total(at))
