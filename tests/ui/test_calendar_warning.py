"""The seat warns at start when this year's or next year's business calendar is missing."""

from __future__ import annotations

from datetime import UTC, datetime

from seat.app import make_app
from seat.clock import FixedClock
from seat.screens.desk import DeskScreen
from tests.ui.helpers import settle


async def test_a_year_without_calendar_is_a_warning_on_the_desk(settings, engine, world):
    # The shipped calendar lists 2026 (and New Year 2027): in 2028 neither year has entries.
    app = make_app(settings=settings, clock=FixedClock(datetime(2028, 3, 1, 2, tzinfo=UTC)),
                   agent="li.na", engine=engine)  # fmt: skip
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        warned = [n for n in app._notifications if n.title == "Business calendar"]
        assert [("2028" in n.message, "2029" in n.message) for n in warned] == [
            (True, False), (False, True)
        ]


async def test_no_warning_while_the_calendar_covers_this_year_and_next(make_seat, world):
    app = make_seat()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert not [n for n in app._notifications if n.title == "Business calendar"]
