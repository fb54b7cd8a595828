"""App-level behaviour: sign-in, the command palette, rejected scripts, storage errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlmodel import Session, select

from seat.app import make_app
from seat.desk import StorageError
from seat.models import Agent, Call
from seat.screens.agent_picker import AgentPickerScreen
from seat.screens.call import CallScreen
from seat.screens.desk import DeskScreen
from tests.ui.helpers import settle


async def test_asks_who_is_sitting_and_signs_in(make_seat, engine, world):
    app = make_seat(agent=None)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AgentPickerScreen)
        await pilot.press("tab", *"Bad Login!", "enter")
        await settle(pilot)
        assert "login" in str(app.screen.query_one("#login-error").render()).lower()
        await pilot.press(*["backspace"] * 10, *"zhou.qi", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.agent.name == "zhou.qi" and app.agent.display_name == "Zhou Qi"
    with Session(engine) as s:
        assert s.exec(select(Agent).where(Agent.name == "zhou.qi")).one()


async def test_pick_existing_agent_from_list(make_seat, world):
    app = make_seat(agent=None)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("enter")  # first in the list: li.na
        await settle(pilot)
        assert app.agent.name == "li.na"


async def test_palette_lists_the_screen_actions(make_seat, world):
    app = make_seat()
    async with app.run_test() as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Take call (n / f2)" in titles
        assert any(t.startswith("Find") for t in titles)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"take call", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        call_titles = [c.title for c in app.get_system_commands(app.screen)]
        # Before a number is looked up, only what works is offered.
        assert not any(t.startswith("Next") for t in call_titles)
        assert any(t.startswith("Abandon") for t in call_titles)


async def test_broken_script_is_reported_and_others_load(settings, clock, engine, world, tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shipped = Path(__file__).resolve().parents[2] / "data" / "scripts"
    for f in shipped.glob("*.toml"):
        (scripts / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (scripts / "broken.toml").write_text("[script]\nid = 'x'\n", encoding="utf-8")
    notes = []
    app = make_app(settings=replace(settings, scripts_dir=scripts), clock=clock, agent="li.na",
                   engine=engine)
    app.notify = lambda message, **kw: notes.append((message, kw))  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    assert set(app.desk.scripts) == {"inbound", "callback"}
    assert any("broken.toml" in m and kw.get("severity") == "error" for m, kw in notes)


async def test_busy_database_keeps_the_wrapup_and_retry_saves(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter", "f2")
        await settle(pilot)
        await pilot.press("enter", "down", "enter")  # inquiry
        for __ in range(3):
            await pilot.press("f2")
            await settle(pilot)
        await pilot.press("tab", *"Asked about opening hours")
        real_save = app.desk.save_call

        def busy(state):
            raise StorageError("The database is busy; nothing was lost. Try saving again.")

        app.desk.save_call = busy
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        assert "busy" in str(screen.query_one("#wrapup-error").render())
        assert screen.query_one("#notes").text == "Asked about opening hours"
        app.desk.save_call = real_save
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        assert s.exec(select(Call)).one().notes == "Asked about opening hours"


async def test_seat_runs_the_callback_scheduler_on_start(settings, clock, engine, world,
                                                         monkeypatch):
    import asyncio

    from sqlmodel import func

    from seat.models import Callback

    with Session(engine) as s:
        before = s.exec(select(func.count()).select_from(Callback)).one()
    monkeypatch.setattr("seat.app.START_SCHEDULER_AFTER", 0.05)
    app = make_app(settings=replace(settings, schedule_on_start=True), clock=clock,
                   agent="li.na", engine=engine)
    async with app.run_test() as pilot:
        await settle(pilot)
        await asyncio.sleep(0.2)
        await settle(pilot)
    with Session(engine) as s:
        keys = s.exec(select(Callback.source_key).where(Callback.source_key.is_not(None))).all()
        after = s.exec(select(func.count()).select_from(Callback)).one()
    # Wang Fang (VIP) has a birthday on 11-30: the rules schedule her greeting.
    assert any(k.startswith("birthday:") for k in keys)
    assert after > before
