"""App-level behaviour: sign-in, the command palette, rejected scripts, storage errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlmodel import Session, select

from seat import agents
from seat.app import make_app
from seat.callbacks import DEFAULT_SCRIPTS, joint_kinds_of
from seat.models import Agent, Call
from seat.screens.agent_picker import AgentPickerScreen
from seat.screens.calls.call import CallScreen
from seat.screens.desk import DeskScreen
from seat.services import StorageError
from tests.ui.helpers import choose, settle


async def test_asks_who_is_sitting_and_signs_in_with_a_password(make_seat, engine, world):
    from seat import identity
    from seat.models import SignInEvent

    with Session(engine) as s:
        identity.set_password(session=s, agent_id=world["li"], password="lina-secret-1")
        s.commit()
    app = make_seat(agent=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AgentPickerScreen)
        # A login nobody has is refused, never created.
        await pilot.press("tab", *"mallory.x", "tab", *"whatever1", "enter")
        await settle(pilot)
        assert "wrong login or password" in str(
            app.screen.query_one("#login-error").render()).lower()  # fmt: skip
        # Li Na from the list, a wrong password, then the right one.
        await pilot.press("shift+tab", "shift+tab", "home", "enter")
        await settle(pilot)
        assert app.screen.query_one("#login").value == "li.na"
        await pilot.press(*"not-her-password", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AgentPickerScreen)
        assert app.screen.query_one("#password").value == ""
        await pilot.press(*"lina-secret-1", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.agent.name == "li.na"
    with Session(engine) as s:
        assert s.exec(select(Agent).where(Agent.name == "mallory.x")).first() is None
        events = s.exec(select(SignInEvent).order_by(SignInEvent.id))
        outcomes = [(e.login, e.outcome) for e in events]
    assert outcomes == [("mallory.x", "unknown"), ("li.na", "wrong_password"), ("li.na", "ok")]


async def test_five_wrong_passwords_lock_the_login(make_seat, engine, world):
    from seat import identity
    from seat.models import Agent as AgentRow

    with Session(engine) as s:
        identity.set_password(session=s, agent_id=world["li"], password="lina-secret-1")
        s.commit()
    app = make_seat(agent=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", *"li.na", "tab")
        for n in range(identity.MAX_FAILURES):
            await pilot.press(*f"wrong-{n}-pass", "enter")
            await settle(pilot)
        await pilot.press(*"lina-secret-1", "enter")  # right, but too late
        await settle(pilot)
        assert isinstance(app.screen, AgentPickerScreen)
        assert "locked until" in str(app.screen.query_one("#login-error").render())
    with Session(engine) as s:
        assert s.get(AgentRow, world["li"]).locked_until is not None


async def test_a_new_database_creates_its_first_supervisor(settings, clock, engine):
    from seat import identity

    app = make_app(settings=settings, clock=clock, engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AgentPickerScreen)
        await pilot.press(*"zhao.lei", "enter", *"Zhao Lei", "enter", *"boss-pass-1", "enter",
                          *"boss-pass-2", "enter")  # fmt: skip
        await settle(pilot)
        assert "differ" in str(app.screen.query_one("#login-error").render())
        await pilot.press(*"boss-pass-1", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.agent.role == "supervisor"
    with Session(engine) as s:
        boss = s.exec(select(Agent).where(Agent.name == "zhao.lei")).one()
        assert boss.role == "supervisor" and boss.display_name == "Zhao Lei"
        who = identity.authenticate(session=s, login="zhao.lei", password="boss-pass-1",
                                    now=clock.now(), via="test")  # fmt: skip
        assert who.supervisor


async def test_the_demo_desk_needs_no_password_and_says_demo_everywhere(settings, clock, engine,
                                                                       world):  # fmt: skip
    from seat.app import DemoBadge

    app = make_app(settings=settings, clock=clock, engine=engine, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.query(DemoBadge)
        assert not app.screen.query_one("#password").display
        await pilot.press("enter")  # the first in the list, no password
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.screen.query(DemoBadge)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen) and app.screen.query(DemoBadge)


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
    loaded = {sid for sid in app.desk.scripts if not joint_kinds_of(sid)}  # not composed
    assert loaded == {"inbound", *dict(DEFAULT_SCRIPTS).values()}
    assert any("broken.toml" in m and kw.get("severity") == "error" for m, kw in notes)


async def test_busy_database_keeps_the_wrapup_and_retry_saves(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter", "f2")
        await settle(pilot)
        await choose(pilot, "inquiry")
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


async def test_an_open_seat_takes_up_the_next_day_and_never_runs_two_days_at_once(
        settings, clock, engine, world, monkeypatch):
    # The rules run at a seat's start and then at every check (RULES_CHECK_EVERY): a seat
    # left open past midnight runs the new day; a check while a run is still stepping leaves
    # it to go on (a second run would cancel the first: exclusive workers).
    import asyncio
    import time
    from datetime import timedelta

    from seat import callbacks
    from seat.models import DailyJob

    made: list[object] = []
    real = callbacks.DayRun

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

        def step(self) -> bool:
            time.sleep(0.02)  # a day's run takes a while: the check comes in the middle
            return super().step()

    monkeypatch.setattr(callbacks, "DayRun", Counted)
    monkeypatch.setattr("seat.app.START_SCHEDULER_AFTER", 0.05)
    monkeypatch.setattr("seat.app.RULES_CHECK_EVERY", 3600.0)  # the test calls the check
    app = make_app(settings=replace(settings, schedule_on_start=True), clock=clock,
                   agent="li.na", engine=engine)

    def done_on() -> object:
        with Session(engine) as s:
            return s.exec(select(DailyJob.done_on).where(
                DailyJob.name == "callback_rules")).one()

    async with app.run_test() as pilot:
        for __ in range(100):
            await asyncio.sleep(0.05)
            if app.workers and all(w.is_finished for w in app.workers
                                   if w.group == "scheduler") and made:
                break
        first = done_on()
        assert first is not None and len(made) == 1
        clock.advance(days=1)
        app._check_rules()
        for __ in range(100):
            await asyncio.sleep(0.01)
            if len(made) == 2 and made[-1].steps >= 2:  # type: ignore[attr-defined]
                break
        app._check_rules()  # the run is still stepping: left to go on, no second run
        for __ in range(100):
            await asyncio.sleep(0.05)
            if all(w.is_finished for w in app.workers if w.group == "scheduler"):
                break
        await settle(pilot)
        assert len(made) == 2
        assert done_on() == first + timedelta(days=1)  # type: ignore[operator]


async def test_the_demo_sign_in_names_demo_callers_that_are_on_file(settings, clock, engine):
    from textual.widgets import Label

    from seat import phone
    from seat.tools import demo

    demo.seed(engine, customers=20, calls=0, now=clock.now())
    app = make_app(settings=settings, clock=clock, engine=engine, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = str(app.screen.query_one("#demo-callers", Label).render())
        assert [phone.display(e164) in shown for e164 in demo.DEMO_CALLERS] == [True] * 3
        await pilot.press("enter")  # the first agent, no password
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*phone.display(demo.DEMO_CALLERS[1]), "enter")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        assert app.screen.state.customer_id == 2  # the number the sign-in screen named


async def test_the_greeting_line_is_cut_with_a_mark_at_80_columns(make_seat, world, settings):
    # At 80 columns the line ran out of room and read "... · Seat Home Servic" (the Label
    # took its text's width and the column clipped it, so its '…' never showed).
    from rich.cells import cell_len

    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hello = app.screen.query_one("#hello")
        main = app.screen.query_one("#main")
        assert hello.outer_size.width == main.content_size.width
        line = hello.render().plain
        assert line.startswith("Li Na · ") and line.endswith("…")
        assert settings.company not in line and cell_len(line) == hello.content_size.width
    async with make_seat().run_test(size=(160, 24)) as pilot:
        await settle(pilot)
        assert pilot.app.screen.query_one("#hello").render().plain.endswith(settings.company)


async def test_the_sign_in_list_names_every_role_but_the_agents(make_seat, engine, world):
    """A shift lead and a quality inspector are named in the list as the supervisor is."""
    with Session(engine) as s:
        for agent_id, role in ((world["li"], "quality"), (world["wang"], "shift_lead")):
            agent = s.get(Agent, agent_id)
            agent.role = role
            s.add(agent)
        agents.ensure_agent(session=s, name="zhao.lei", role="supervisor")
        agents.ensure_agent(session=s, name="chen.jie")
        s.commit()
    app = make_seat(agent=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AgentPickerScreen)
        options = app.screen.query_one("OptionList")
        prompts = {
            options.get_option_at_index(i).id: str(options.get_option_at_index(i).prompt)
            for i in range(options.option_count)
        }
    assert prompts["li.na"].endswith("(li.na, quality inspector)")
    assert prompts["wang.wei"].endswith("(wang.wei, shift lead)")
    assert prompts["zhao.lei"].endswith("(zhao.lei, supervisor)")
    assert all("," not in p for login, p in prompts.items()
               if login not in ("li.na", "wang.wei", "zhao.lei"))  # fmt: skip


async def test_the_greeting_line_ends_in_an_ellipsis_when_cut(settings, clock, engine, world):
    """At 80 columns a long company name is cut with "…", not in the middle of a word."""
    long_name = replace(settings, company="Seat Home Service Shanghai Pudong Branch Office")
    app = make_app(settings=long_name, clock=clock, agent="li.na", engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hello = app.screen.query_one("#hello")
        line = "".join(s.text for s in hello.render_line(0)).rstrip()
        assert hello.region.right <= app.screen.query_one("#main").region.right
        assert line.endswith("…"), line
