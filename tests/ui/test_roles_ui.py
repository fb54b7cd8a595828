"""Keys by role: an agent is not offered a supervisor's key (footer, key card, palette), pressing
it anyway changes nothing and says why; a supervisor uses the same key."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from textual.widgets._footer import FooterKey

from seat import agents, complaints
from seat.models import Role, WorkOrder, WorkOrderEvent
from seat.screens.complaints.complaint import ComplaintScreen
from seat.screens.complaints.list import ComplaintListScreen
from seat.screens.desk import DeskScreen
from seat.screens.work_orders.work_order import WorkOrderScreen
from tests.conftest import NOW
from tests.ui.helpers import choose, settle


def make_boss(engine) -> int:
    with Session(engine) as s:
        boss = agents.ensure_agent(session=s, name="zhao.lei", role=Role.SUPERVISOR)
        s.commit()
        return boss.id


def footer_keys(app) -> set[str]:
    """The keys the footer shows now."""
    return {k.key for k in app.screen.query(FooterKey)}


def palette(app) -> list[str]:
    return [c.title for c in app.get_system_commands(app.screen)]


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def order_row(engine, wo_id: int) -> tuple[int | None, list[str]]:
    with Session(engine) as s:
        wo = s.get(WorkOrder, wo_id)
        actions = s.exec(
            select(WorkOrderEvent.action).where(WorkOrderEvent.work_order_id == wo_id)
        ).all()
        return wo.assignee_id, list(actions)


async def open_first_order(pilot) -> WorkOrderScreen:
    """Desk -> w (the list) -> Enter on the first order."""
    await pilot.press("w")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WorkOrderScreen)
    return screen


async def test_an_agent_cannot_reassign_a_work_order_by_keys(make_seat, engine, world):
    make_boss(engine)
    app = make_seat()  # li.na, an agent
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = await open_first_order(pilot)
        before = order_row(engine, detail.work_order_id)
        assert "g" not in footer_keys(app) and "u" in footer_keys(app)
        assert not any(t.startswith("Reassign") for t in palette(app))
        await pilot.press("g")
        await settle(pilot)
        assert app.screen is detail  # no form opened
        assert order_row(engine, detail.work_order_id) == before
        assert "Only a supervisor can reassign a work order; ask your shift lead." in notes(app)


async def test_a_supervisor_reassigns_a_work_order_by_keys(make_seat, engine, world):
    make_boss(engine)
    app = make_seat(agent="zhao.lei")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = await open_first_order(pilot)
        before, __ = order_row(engine, detail.work_order_id)
        assert "g" in footer_keys(app)
        assert any(t.startswith("Reassign") for t in palette(app))
        await pilot.press("g")
        await settle(pilot)
        assert app.screen is not detail  # the reassign form
        await choose(pilot, "Wang Wei")  # the new assignee
        await pilot.press("tab", *"Covering the shift", "ctrl+s")
        await settle(pilot)
        assert app.screen is detail
    after, actions = order_row(engine, detail.work_order_id)
    assert after != before and actions[-1] == "reassign"


@pytest.mark.parametrize(("agent", "shown"), [("li.na", False), ("zhao.lei", True)])
async def test_the_desk_offers_the_wallboard_to_supervisors_only(make_seat, engine, world,
                                                                 agent, shown):
    make_boss(engine)
    app = make_seat(agent=agent)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        card = str(app.screen.query_one("#keys").render())
        assert ("wallboard" in card) is shown
        assert "trends" in card and "quit" in card  # the other keys stay
        assert ("v" in app.screen.active_bindings) is shown
        assert any(t.startswith("Wallboard") for t in palette(app)) is shown
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen) is not shown


@pytest.mark.parametrize(("agent", "shown"), [("li.na", False), ("zhao.lei", True)])
async def test_supervisor_moves_and_scopes_hidden_from_an_agent(make_seat, engine, world,
                                                                agent, shown):
    make_boss(engine)
    with Session(engine) as s:
        c = complaints.create_complaint(
            session=s, now=NOW, customer_id=world["min"], owner_id=world["li"],
            what_happened="Washer leaks", customer_wants="A new washer",
        )  # fmt: skip
        complaints.accept(session=s, complaint_id=c.id, actor_id=world["li"], now=NOW,
                          department="Service", reply_text="We are on it")
        complaints.investigate(session=s, complaint_id=c.id, actor_id=world["li"], now=NOW,
                               cause="installation_error", responsible_person="Zhou Qiang",
                               department="Service")
        complaints.propose(session=s, complaint_id=c.id, actor_id=world["li"], now=NOW,
                           solution_options="A new washer")
        s.commit()
        cid = c.id
    app = make_seat(agent=agent)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintListScreen)
        assert ("a" in footer_keys(app)) is shown  # mine / all
        app.push_screen(ComplaintScreen(cid))
        await settle(pilot)
        keys = footer_keys(app)
        assert ("a" in keys) is shown and ("b" in keys) is shown  # approve, send back
        assert "p" in keys  # a revised proposal: anyone


@pytest.mark.parametrize(("agent", "shown"), [("li.na", False), ("zhao.lei", True)])
async def test_the_complaint_lists_hint_offers_the_scopes_to_supervisors_only(
    make_seat, engine, world, agent, shown
):
    make_boss(engine)
    app = make_seat(agent=agent)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        hint = str(app.screen.query_one("#cl-help").render())
        assert ("mine/all" in hint) is shown
        assert "Enter opens" in hint
