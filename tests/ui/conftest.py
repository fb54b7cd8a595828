"""Build seats the way the command line does (make_app), with a fixed clock."""

from __future__ import annotations

import pytest
import textual._wait

from seat.app import SeatApp, make_app

# Pilot waits for the app to go idle after every key (textual._wait.wait_for_idle: sleep,
# then compare CPU time with wall time) in steps of 20 ms, twice per key: most of a long
# walk's wall time was that sleeping. Steps of 5 ms with the same idle ratio (CPU under 5 %
# of the step) keep the same meaning of "idle" and halve the shift test. Pilot tests that
# need a worker's result wait for it explicitly (tests.ui.helpers.settle).
textual._wait.SLEEP_GRANULARITY = 0.005
textual._wait.SLEEP_IDLE = textual._wait.SLEEP_GRANULARITY / 20


@pytest.fixture
def make_seat(settings, clock, engine):
    def build(agent: str | None = "li.na", **overrides) -> SeatApp:
        return make_app(settings=settings, clock=clock, agent=agent, engine=engine, **overrides)

    return build
