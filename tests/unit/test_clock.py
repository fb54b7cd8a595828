"""parse_when: the one way a typed time ("+2h", "15:00", "2026-11-24 10:30") becomes an
instant, in the desk's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from seat.clock import parse_when
from tests.conftest import NOW

SHANGHAI = "Asia/Shanghai"


# -- parse_when -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+2h", NOW + timedelta(hours=2)),
        ("+30m", NOW + timedelta(minutes=30)),
        ("+1d", NOW + timedelta(days=1)),
        ("+1.5h", NOW + timedelta(minutes=90)),
        ("+2H", NOW + timedelta(hours=2)),
        ("  +2h  ", NOW + timedelta(hours=2)),
        # NOW is 10:00 in Shanghai (UTC+8).
        ("15:00", datetime(2026, 11, 23, 7, 0, tzinfo=UTC)),
        ("10:30", datetime(2026, 11, 23, 2, 30, tzinfo=UTC)),
        ("9:05", datetime(2026, 11, 23, 1, 5, tzinfo=UTC)),
        ("2026-11-24 10:30", datetime(2026, 11, 24, 2, 30, tzinfo=UTC)),
        ("2026-11-24T10:30", datetime(2026, 11, 24, 2, 30, tzinfo=UTC)),
        ("2026-11-24 07:30", datetime(2026, 11, 23, 23, 30, tzinfo=UTC)),  # the day before in UTC
        ("2026-11-24 10:30+00:00", datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),  # explicit zone
    ],
)
def test_parse_when(text, expected):
    got = parse_when(text, now=NOW, tz=SHANGHAI)
    assert got == expected
    assert got.utcoffset() == timedelta(0)


def test_parse_when_accepts_a_zone_object():
    got = parse_when("2026-11-24 10:30", now=NOW, tz=ZoneInfo(SHANGHAI))
    assert got == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)


def test_parse_when_uses_the_local_day_for_hh_mm():
    """At 23:30 UTC it is already tomorrow in Shanghai: '09:00' is that local morning."""
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 07:30 on the 24th in Shanghai
    assert parse_when("09:00", now=late, tz=SHANGHAI) == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "tomorrow",
        "soon",
        "+",
        "+h",
        "+2",
        "+2x",
        "+two h",
        "+infh",
        "+nanh",
        "+1e9d",
        "+99999999d",
        "25:00",
        "24:00",
        "10:60",
        "10:",
        ":30",
        "1:2:3",
        "12345",
        "2026-13-01 10:00",
        "2026-02-30 10:00",
        "24/11/2026 10:30",
        "0001-01-01 00:00",
    ],
)
def test_parse_when_rejects_garbage_with_a_value_error(text):
    with pytest.raises(ValueError) as info:
        parse_when(text, now=NOW, tz=SHANGHAI)
    message = str(info.value)
    assert "+2h" in message or "+1d" in message  # tells the agent what to type
