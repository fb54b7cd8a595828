"""Unsatisfied callbacks close the loop, by keys (issue 20 part 6): an unsatisfied answer
opens the complaint form with the customer's words and links the complaint to the callback;
declining it asks why not; the complaint page shows the loop and a supervisor closes it."""

from __future__ import annotations

import io

from rich.console import Console
from sqlmodel import Session, select

from seat import agents, complaints, loops
from seat.models import Callback, Complaint, ComplaintLoop
from seat.screens.calls.call import CallScreen
from seat.screens.calls.forms import ComplaintForm
from seat.screens.complaints.complaint import ComplaintScreen
from seat.screens.complaints.forms import CloseLoopForm
from seat.screens.complaints.stats import ComplaintStatsScreen
from seat.screens.desk import DeskScreen
from tests.conftest import NOW
from tests.ui.helpers import choose, settle


async def _to_callback(pilot, app, world) -> None:
    """Walk the queue with the arrow keys to Wang Fang's overdue satisfaction callback."""
    await pilot.press("s")
    options = app.screen.query_one("#sidebar-list")
    target = options.get_option_index(f"cb:1:{world['fang']}")
    for __ in range(20):
        if options.highlighted == target:
            break
        await pilot.press("down")
    assert options.highlighted == target


async def _unsatisfied(pilot, app, world) -> CallScreen:
    """Start the callback, answer unsatisfied with a score of 1, say what was not right and
    go on (F2): the complaint form opens with those words."""
    await _to_callback(pilot, app, world)
    await pilot.press("enter")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, CallScreen) and screen.state.callback_id == 1
    await pilot.press("f2")  # opening -> satisfaction
    await settle(pilot)
    await choose(pilot, "unsatisfied")
    await pilot.press("tab")
    await choose(pilot, "1")
    await pilot.press("f2")
    await settle(pilot)
    assert screen.state.stage.id == "improve"
    await pilot.press(*"The technician left a mess")
    await pilot.press("f2")  # -> the complaint form, with the customer's words
    await settle(pilot)
    assert isinstance(app.screen, ComplaintForm)
    return screen


async def test_an_unsatisfied_callback_opens_a_complaint_linked_to_it(
    make_seat, engine, clock, world
):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        screen = await _unsatisfied(pilot, app, world)
        assert "The technician left a mess" in app.screen.value("what_happened")
        await pilot.press("tab", *"Come back and clean up", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen and screen.state.stage.id == "close_unsatisfied"
        await pilot.press("f2")  # -> wrap-up: a complaint was opened, nothing more is asked
        await settle(pilot)
        assert not screen.query_one("#why-no-complaint").display
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)

    with Session(engine) as s:
        complaint = s.exec(select(Complaint)).one()
        loop = s.exec(select(ComplaintLoop)).one()
        assert (loop.complaint_id, loop.callback_id, loop.status) == (complaint.id, 1, "open")
        assert "The technician left a mess" in complaint.what_happened
        callback = s.get(Callback, 1)
        assert (callback.status, callback.score, callback.no_complaint_reason) == ("done", 1, None)
        assert loop.opened_at == NOW


async def test_declining_the_complaint_asks_why_not(make_seat, engine, clock, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        screen = await _unsatisfied(pilot, app, world)
        await pilot.press("escape")  # no complaint
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("f2")  # -> wrap-up
        await settle(pilot)
        assert screen.query_one("#why-no-complaint").display
        await pilot.press("ctrl+s")  # no reason: refused at the field
        await settle(pilot)
        assert app.screen is screen
        assert screen.focused is screen.query_one("#sf-no_complaint_reason")
        await pilot.press(*"Customer will write to the shop himself", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)

    with Session(engine) as s:
        assert s.exec(select(Complaint)).all() == []
        assert s.exec(select(ComplaintLoop)).all() == []
        callback = s.get(Callback, 1)
        assert (callback.status, callback.no_complaint_reason) == (
            "done", "Customer will write to the shop himself",
        )  # fmt: skip


def _complaint_in_a_loop(engine, world) -> int:
    """A complaint opened on an unsatisfied callback (the loop open), as the call leaves it."""
    with Session(engine, expire_on_commit=False) as s:
        cb = s.get(Callback, 1)
        c = complaints.create_complaint(
            session=s, now=NOW, customer_id=world["fang"], owner_id=world["li"],
            what_happened="The technician left a mess", customer_wants="Clean up",
        )  # fmt: skip
        loops.open_loop(session=s, complaint_id=c.id, callback=cb, agent_id=world["li"], now=NOW)
        s.commit()
        return c.id


async def test_the_complaint_page_shows_the_loop_and_a_supervisor_closes_it(
    make_seat, engine, world
):
    cid = _complaint_in_a_loop(engine, world)
    with Session(engine) as s:
        agents.ensure_agent(session=s, name="zhao.lei", display_name="Zhao Lei",
                            role="supervisor")  # fmt: skip
        s.commit()
    agent = make_seat()
    async with agent.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        agent.push_screen(ComplaintScreen(cid))
        await settle(pilot)
        page = agent.screen
        assert "loop open" in str(page.query_one("#cp-title").render())
        assert "unsatisfied on callback #1" in _text(page)
        await pilot.press("l")  # an agent: refused, nothing changes
        await settle(pilot)
        assert agent.screen is page
        assert any("Only a supervisor can" in n.message for n in agent._notifications)
    chief = make_seat(agent="zhao.lei")
    async with chief.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        chief.push_screen(ComplaintScreen(cid))
        await settle(pilot)
        page = chief.screen
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(chief.screen, CloseLoopForm)
        await pilot.press("ctrl+s")  # no reason: refused
        await settle(pilot)
        assert isinstance(chief.screen, CloseLoopForm)
        await pilot.press(*"Customer moved abroad; agreed by phone", "ctrl+s")
        await settle(pilot)
        assert chief.screen is page
        assert "closed" in _text(page) and "Customer moved abroad" in _text(page)
        assert "loop open" not in str(page.query_one("#cp-title").render())

    with Session(engine) as s:
        loop = s.exec(select(ComplaintLoop)).one()
        assert (loop.status, loop.close_reason) == (
            "closed", "Customer moved abroad; agreed by phone",
        )  # fmt: skip


def _text(page) -> str:
    """The complaint page's details as plain text."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(page.query_one("#cp-details").content)
    return console.export_text()


async def test_the_complaint_statistics_count_the_open_loops(make_seat, engine, world):
    _complaint_in_a_loop(engine, world)
    app = make_seat()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ComplaintStatsScreen())
        await settle(pilot)
        summary = str(app.screen.query_one("#st-summary").render())
        assert "1 complaint registered · 1 unsatisfied loop open" in summary
