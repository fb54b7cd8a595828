"""Build seats the way the command line does (make_app), with a fixed clock; a faster Pilot."""

from __future__ import annotations

import asyncio
from time import monotonic, process_time

import pytest
import textual._wait
import textual.app
import textual.pilot
import textual.screen
from textual.reactive import reactive
from textual.widgets import Input, TextArea

from seat.app import SeatApp, make_app
from tests.ui.helpers import TEXTUAL_WAIT_FOR_IDLE

STEP = 0.005


async def _wait_for_idle(min_sleep: float = STEP, max_sleep: float = 1) -> None:
    """Textual's wait_for_idle in 5 ms steps instead of 20 ms, and harder to fool.

    Pilot waits for the app to go idle after every key: it sleeps a step and calls the
    process idle when it used almost no CPU meanwhile (under 5 % of the step). Most of a long
    walk's wall time was those 20 ms sleeps, twice per key. Shorter steps alone let a starved
    process on a loaded machine pass for idle (a key reached the call screen before the
    dropdown it was meant for had opened), so here a step counts as quiet only if the sleep
    also woke on time (the process was not waiting for a core); and the screen repaints as
    soon as it can (below), so no repaint is pending through a quiet step. Pilot tests that
    need a worker's result still wait for it (tests.ui.helpers.settle).
    """
    start = monotonic()
    while True:
        cpu, before = process_time(), monotonic()
        await asyncio.sleep(STEP)
        now = monotonic()
        if now - start >= max_sleep:
            return
        on_time = now - before < STEP * 2
        if on_time and process_time() - cpu < STEP / 20 and now - start > min_sleep:
            return


# The screen repaints at most 60 times a second: work that waits for the next repaint
# (call_after_refresh, a dropdown opening) could leave the app quiet for up to 17 ms, longer
# than a step. In tests the screen repaints as soon as it can.
textual.screen.UPDATE_PERIOD = 0.002  # type: ignore[misc]
# Cursors never blink in tests, so a snapshot or a screen read never catches one half-way.
for _widget in (Input, TextArea):
    _steady = reactive(False, init=False)
    _steady.__set_name__(_widget, "cursor_blink")
    _widget.cursor_blink = _steady  # type: ignore[assignment]

# Pilot and App import the function by name: replace it where they look it up (helpers
# kept Textual's own for the moment a snapshot is taken).
assert TEXTUAL_WAIT_FOR_IDLE is not _wait_for_idle
textual._wait.wait_for_idle = _wait_for_idle
textual.pilot.wait_for_idle = _wait_for_idle  # type: ignore[attr-defined]
textual.app.wait_for_idle = _wait_for_idle  # type: ignore[attr-defined]


@pytest.fixture
def make_seat(settings, clock, engine):
    def build(agent: str | None = "li.na", **overrides) -> SeatApp:
        return make_app(settings=settings, clock=clock, agent=agent, engine=engine, **overrides)

    return build
