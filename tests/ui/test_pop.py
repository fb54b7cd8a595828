"""Screen pop: `seat pop` in another process makes a running seat show the caller."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from dataclasses import replace

from sqlmodel import Session, select

from seat.app import make_app
from seat.cti_server import CtiServer
from seat.models import Agent, Call, Presence, ScreenPop
from seat.screens.calls.call import CallScreen
from seat.screens.calls.customer_form import NewCustomerScreen
from seat.screens.desk import DeskScreen
from tests.ui.helpers import choose, settle


def pop(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seat", "pop", *args, "--db", db_url],
        capture_output=True,
        text=True,
        timeout=60,
    )


async def wait_for(pilot, predicate, seconds: float = 10.0) -> bool:
    for __ in range(int(seconds / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
        await pilot.pause()
    return predicate()


async def test_pop_from_another_process_shows_the_caller(settings, clock, engine, db_url, world):
    app = make_app(
        settings=replace(settings, pop_poll_seconds=0.1), clock=clock, agent="li.na", engine=engine
    )
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        done = pop(db_url, "+86 138-0013-8000", "--agent", "li.na")
        assert done.returncode == 0, done.stderr
        assert "pop #" in done.stdout
        assert await wait_for(pilot, lambda: isinstance(app.screen, CallScreen))
        await settle(pilot)
        screen = app.screen
        assert screen.state.from_number == "+8613800138000"
        assert screen.state.customer_id == world["fang"]
        assert "Wang Fang" in screen.query_one("#card").border_title
        assert screen.state.stage.phase == "greeting"  # ready to start the script
    with Session(engine) as s:
        row = s.exec(select(ScreenPop)).one()
        assert row.claimed_by_id == world["li"] and row.claimed_at is not None
        assert s.exec(select(Presence)).all() == []  # the seat left when it closed


async def test_pop_of_unknown_number_offers_the_new_customer_form(
    settings, clock, engine, db_url, world
):
    app = make_app(
        settings=replace(settings, pop_poll_seconds=0.1), clock=clock, agent="li.na", engine=engine
    )
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        assert pop(db_url, "139 8765 4321").returncode == 0  # no agent named: any free seat
        assert await wait_for(pilot, lambda: isinstance(app.screen, NewCustomerScreen))
        assert app.screen.value("phone") == "139 8765 4321"


async def test_a_seat_on_a_call_does_not_take_a_pop(settings, clock, engine, db_url, world):
    app = make_app(
        settings=replace(settings, pop_poll_seconds=0.1), clock=clock, agent="li.na", engine=engine
    )
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        call = app.screen
        assert pop(db_url, "139 1234 5678").returncode == 0
        await asyncio.sleep(0.6)
        await pilot.pause()
        assert app.screen is call
    with Session(engine) as s:
        assert s.exec(select(ScreenPop)).one().claimed_at is None


def test_pop_refuses_bad_input(db_url, world):
    bad = pop(db_url, "hello")
    assert bad.returncode == 2 and "digits" in bad.stderr
    nobody = pop(db_url, "13800138000", "--agent", "nobody")
    assert nobody.returncode == 2 and "no agent" in nobody.stderr


async def test_a_withheld_number_opens_the_call_asking_for_it(
    settings, clock, engine, db_url, world
):
    app = make_app(
        settings=replace(settings, pop_poll_seconds=0.1), clock=clock, agent="li.na", engine=engine
    )
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        done = pop(db_url, "sip:anonymous@anonymous.invalid", "--agent", "li.na")
        assert done.returncode == 0, done.stderr
        assert await wait_for(pilot, lambda: isinstance(app.screen, CallScreen))
        await settle(pilot)
        screen = app.screen
        assert screen.state.from_number is None and screen.state.customer_id is None
        assert screen.query_one("#number").has_focus  # the agent asks the caller
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        assert screen.state.customer_id == world["fang"]
    with Session(engine) as s:
        assert s.exec(select(ScreenPop)).one().e164 == ""


async def test_the_heartbeat_says_desk_call_or_wrap_up(settings, clock, engine, world):
    """The presence board's state: a call screen says "call" or "wrapup" (CallScreen.presence),
    anything else is the desk."""
    app = make_app(settings=settings, clock=clock, agent="li.na", engine=engine)

    async def beat() -> str:
        app.beat()
        await settle(pilot)
        with Session(engine) as s:
            return s.exec(select(Presence)).one().state

    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        assert await beat() == "desk"
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        assert await beat() == "call"
        app.screen.state.in_wrapup = True  # what the last stage's Next does
        assert await beat() == "wrapup"
        app.push_screen(NewCustomerScreen())  # a form over the call: still on the call
        await settle(pilot)
        assert await beat() == "wrapup"


async def test_a_pop_check_while_the_seat_closes_is_harmless(settings, clock, engine, world):
    """The pop timer can tick after the screens are gone (Textual closes them before it stops
    the timers): that tick looks for no call instead of ending the seat on an error."""
    app = make_app(settings=settings, clock=clock, agent="li.na", engine=engine)
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
    assert app.screen_stack == []  # as while it closes
    app._check_pops()  # no ScreenStackError


async def test_a_phone_system_call_pops_on_the_right_seat_with_its_call_id(
    settings, clock, engine, world
):
    """`seat cti serve` over real HTTP: a call for wang.wei's extension does not ring li.na's
    seat; the next, for li.na's, does; the saved call keeps the phone system's call id and
    the answer time it reported."""
    with Session(engine) as s:
        for agent_id, ext in ((world["li"], "201"), (world["wang"], "202")):
            agent = s.get(Agent, agent_id)
            agent.extension = ext
            s.add(agent)
        s.commit()
    server = CtiServer(("127.0.0.1", 0), engine=engine, token="t" * 20, region="CN",
                       now=clock.now)  # fmt: skip
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def post(**fields: str) -> dict:
        url = f"http://127.0.0.1:{server.server_address[1]}/cti/{'t' * 20}"
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(url, data=data, timeout=30) as got:
            return json.loads(got.read())

    app = make_app(
        settings=replace(settings, pop_poll_seconds=0.1), clock=clock, agent="li.na", engine=engine
    )
    try:
        async with app.run_test(size=(100, 34)) as pilot:
            await settle(pilot)
            wang = post(event="newCall", callId="pbx-7", user="202", **{"from": "13912345678"})
            assert wang["agent"] == world["wang"]
            await asyncio.sleep(0.5)
            await pilot.pause()
            assert isinstance(app.screen, DeskScreen)  # wang.wei's call: not this seat's
            post(event="newCall", callId="pbx-8", user="201", **{"from": "13800138000"})
            assert await wait_for(pilot, lambda: isinstance(app.screen, CallScreen))
            await settle(pilot)
            screen = app.screen
            assert screen.state.call_ref == "pbx-8"
            assert screen.state.customer_id == world["fang"]
            post(event="answer", callId="pbx-8", user="201")
            await pilot.press("f2")
            await settle(pilot)
            await choose(pilot, "inquiry")
            for __ in range(3):
                await pilot.press("f2")
                await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, DeskScreen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    with Session(engine) as s:
        call = s.exec(select(Call)).one()
        assert call.call_ref == "pbx-8" and call.agent_id == world["li"]
        assert call.answered_at == clock.now()
        pops = {p.call_ref: p for p in s.exec(select(ScreenPop)).all()}
        assert pops["pbx-8"].claimed_by_id == world["li"]
        assert pops["pbx-7"].claimed_at is None and pops["pbx-7"].agent_id == world["wang"]
