"""Smoke test of an installed seat, run by .ci/run with the separate venv's python from a
folder outside the checkout: the shipped scripts and policies come from the installed
package, a call opens on the real screens with the shipped script and a scripted call is
saved, and the shipped complaint policy is the one in force.

Usage: python smoke.py DATABASE_FILE   (a database seeded by `seat demo`)
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sqlalchemy import text

import seat
from seat import preflight, sla
from seat.app import make_app
from seat.clock import SystemClock
from seat.config import DATA_DIR, load_settings, sqlite_url
from seat.db import make_engine
from seat.tools.demo import DEMO_CALLERS
from seat.phone import display
from seat.screens.calls.call import CallScreen
from seat.screens.desk import DeskScreen


def check(ok: bool, what: str) -> None:
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        raise SystemExit(1)


async def until(pilot, ok: Callable[[], bool], seconds: float = 20.0) -> bool:  # noqa: ANN001
    """Wait (without a timed assertion) until the screen got there, at most `seconds`."""
    for __ in range(int(seconds / 0.1)):
        if ok():
            return True
        await pilot.pause(0.1)
    return ok()


async def take_a_call(app) -> None:  # noqa: ANN001 - SeatApp
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: bool(app.screen.query("#agents OptionList, OptionList")))
        await pilot.pause(0.5)
        await pilot.press("enter")  # the demo desk: the first agent, no password
        check(await until(pilot, lambda: isinstance(app.screen, DeskScreen)), "the desk opens")
        await pilot.press("n")
        check(await until(pilot, lambda: isinstance(app.screen, CallScreen)), "n opens a call")
        screen = app.screen
        await pilot.press(*display(DEMO_CALLERS[0]), "enter")
        await until(pilot, lambda: screen.state.customer_id is not None)
        state = screen.state
        check(state.script.id == "inbound" and bool(state.script.stages),
              f"the call reads the shipped inbound script ({state.script.source})")  # fmt: skip
        check(state.customer_id == 1, f"{display(DEMO_CALLERS[0])} is a demo customer")
        await pilot.press("escape", "y")  # leave it without saving: no draft is left
        check(await until(pilot, lambda: isinstance(app.screen, DeskScreen)), "back at the desk")


def main() -> int:
    database = Path(sys.argv[1]).resolve()
    package = Path(seat.__file__).resolve().parent
    check("site-packages" in package.parts, f"seat is the installed one: {package}")
    check(DATA_DIR.resolve() == package / "data", f"shipped data inside the package: {DATA_DIR}")
    settings = load_settings().with_database(sqlite_url(database))
    settings = replace(settings, schedule_on_start=False)
    check(preflight.check(settings) == [], "inbound script and every policy load at start-up")
    policy = sla.load_policy(settings)
    check(Path(policy.source).resolve() == package / "data" / "policy" / "complaints.toml",
          f"the shipped complaint policy is in force: {policy.source}")  # fmt: skip
    check(bool(policy.category_budgets) and bool(policy.levels),
          "it has category budgets and customer levels, not the built-in defaults")  # fmt: skip
    engine = make_engine(settings.database_url)
    app = make_app(settings=settings, clock=SystemClock(), engine=engine, demo=True)
    check(not app.desk.script_problems, f"no script rejected: {app.desk.script_problems}")
    asyncio.run(take_a_call(app))
    desk = app.desk
    agent = desk.sign_in("li.na")
    state = desk.new_call(agent_id=agent.id, customer_id=1, from_number=DEMO_CALLERS[0])
    state.values["need_category"] = "inquiry"
    while not state.in_wrapup:
        problems = state.advance(desk.now())
        check(not problems, f"stage {state.stage.id} accepts the call: {problems}")
    state.outcome, state.notes = "resolved", "smoke test"
    call_id = desk.save_call(state)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT script, customer_id, outcome FROM call WHERE id = :id"), {"id": call_id}
        ).one()
    check(tuple(row) == ("inbound", 1, "resolved"), f"call #{call_id} saved, shipped script")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
