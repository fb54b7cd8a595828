"""The floor's roles by keys: a quality inspector reads every complaint but is offered no move,
no call and no reveal; a shift lead approves a proposal like a supervisor."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session
from textual.widgets._footer import FooterKey

from seat import agents
from seat.models import Complaint, Role
from seat.screens.calls.find_customer import FindCustomerScreen
from seat.screens.complaints.complaint import ComplaintScreen
from seat.screens.complaints.forms import ApproveForm
from seat.screens.complaints.list import ComplaintListScreen
from seat.screens.desk import DeskScreen, welcome
from tests.conftest import NOW
from tests.ui.helpers import settle
from tests.unit.complaint_steps import open_complaint, walk


def people(engine, world) -> dict[str, int]:
    with Session(engine) as s:
        ids = {
            login: agents.ensure_agent(session=s, name=login, display_name=name, role=role).id
            for login, name, role in (
                ("zhao.lei", "Zhao Lei", Role.SUPERVISOR),
                ("sun.li", "Sun Li", Role.SHIFT_LEAD),
                ("qian.yu", "Qian Yu", Role.QUALITY),
            )
        }
        s.commit()
        found = {**world, "boss": ids["zhao.lei"]}
        intake = open_complaint(s, found, at=NOW - timedelta(hours=3))
        proposed = open_complaint(s, found, customer="fang", at=NOW - timedelta(hours=3))
        walk(s, found, proposed, "proposed", start=NOW - timedelta(hours=3),
             step=timedelta(minutes=10))  # fmt: skip
    return {**found, "intake": intake, "proposed": proposed}


def footer_keys(app) -> set[str]:
    return {k.key for k in app.screen.query(FooterKey)}


def status(engine, cid: int) -> tuple[str, int]:
    with Session(engine) as s:
        c = s.get(Complaint, cid)
        return c.status, c.version


async def test_a_quality_inspector_reads_but_moves_nothing(make_seat, engine, world):
    people(engine, world)
    app = make_seat(agent="qian.yu")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        desk = app.screen
        assert isinstance(desk, DeskScreen)
        assert not desk.check_action("new_call", ()) and "n" not in footer_keys(app)
        assert " n " not in welcome(app.agent).plain and "take a call" not in welcome(
            app.agent).plain  # fmt: skip
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintListScreen)
        await pilot.press("a")  # every agent's open complaints: a quality inspector reads them
        await settle(pilot)
        assert app.screen.total == 2
        await pilot.press("enter")
        await settle(pilot)
        page = app.screen
        assert isinstance(page, ComplaintScreen)
        cid = page.complaint_id
        before = status(engine, cid)
        for action in ("accept", "invalid", "escalate", "approve", "close_case"):
            assert not page.check_action(action, ()), action
        assert not ({"v", "x", "e", "a", "p"} & footer_keys(app))
        await pilot.press("v")
        await settle(pilot)
        assert app.screen is page and status(engine, cid) == before
        assert any("A quality inspector may not move a complaint" in n.message
                   for n in app._notifications)  # fmt: skip
        await pilot.press("h")  # the library is for reading: open to everyone
        await settle(pilot)
        assert type(app.screen).__name__ == "CaseLibraryScreen"
        await pilot.press("escape")
        await settle(pilot)
        app.push_screen(FindCustomerScreen())
        await settle(pilot)
        assert not app.screen.role_allows("reveal")
        assert not app.screen.check_action("reveal", ())


async def test_a_shift_lead_approves_a_proposal(make_seat, engine, world):
    ids = people(engine, world)
    app = make_seat(agent="sun.li")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.check_action("new_call", ())
        app.push_screen(ComplaintScreen(ids["proposed"]))
        await settle(pilot)
        assert app.screen.check_action("approve", ()) and "a" in footer_keys(app)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ApproveForm)
