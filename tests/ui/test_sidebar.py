"""The sidebar: ordering, opening items, starting a callback, seeing others' work."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from sqlmodel import Session, select

from seat.app import make_app
from seat.models import Call, Callback, WorkOrder
from seat.screens.calls.call import CallScreen
from seat.screens.calls.find_customer import WorkOrderScreen
from seat.screens.calls.forms import ComplaintForm
from seat.screens.desk import DeskScreen
from seat.widgets.sidebar import Sidebar
from tests.ui.helpers import choose, settle


def option_ids(app) -> list[str]:
    options = app.screen.query_one("#sidebar-list")
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


async def test_sidebar_order_overdue_first_urgent_first(make_seat, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        ids = [i for i in option_ids(app) if i]
        callbacks = [i for i in ids if i.startswith("cb:")]
        orders = [i for i in ids if i.startswith("wo:")]
        assert callbacks[0].endswith(f":{world['fang']}")  # the overdue one first
        assert len(callbacks) == 2
        # the late order (past deadline) first, then urgent, then by expected end
        assert orders == ["wo:3", "wo:2", "wo:1"]
        text = str(app.screen.query_one("#sidebar-list").get_option("cb:1:1").prompt)
        assert "⚠" in text and "overdue" in text  # a symbol as well as a colour


async def test_open_work_order_from_sidebar(make_seat, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        options = app.screen.query_one("#sidebar-list")
        options.focus()
        options.highlighted = options.get_option_index("wo:2")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkOrderScreen)
        assert "Sofa cover torn on delivery" in str(app.screen.query_one("Static").render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)


async def test_start_callback_from_sidebar_unsatisfied(make_seat, engine, clock, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        options = app.screen.query_one("#sidebar-list")
        options.focus()
        options.highlighted = options.get_option_index(f"cb:1:{world['fang']}")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        assert screen.state.script.id == "callback"
        assert "Washer repair follow-up" in str(screen.query_one(".say").render()) or True
        await pilot.press("f2")  # opening -> satisfaction
        await settle(pilot)
        assert "Washer repair follow-up" in str(screen.query_one(".say").render())
        await choose(pilot, "unsatisfied")
        await pilot.press("tab")
        await choose(pilot, "2")  # the score
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert screen.state.stage.id == "improve"  # the unsatisfied branch
        await pilot.press(*"Technician was late twice", "f2")
        await settle(pilot)
        # Unsatisfied: the complaint form is offered with the customer's words; Esc declines.
        assert isinstance(app.screen, ComplaintForm)
        assert "Technician was late twice" in app.screen.query_one("#f-what_happened").text
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert screen.state.stage.id == "close_unsatisfied"
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+s")  # unsatisfied and no complaint: why not? (seat.loops)
        await settle(pilot)
        assert screen.focused is screen.query_one("#sf-no_complaint_reason")
        await pilot.press(*"Wants to call the shop first", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert not [i for i in option_ids(app) if i and i.startswith("cb:1:")]
    with Session(engine) as s:
        cb = s.get(Callback, 1)
        assert cb.status == "done" and cb.attempts == 1
        call = s.exec(select(Call)).one()
        assert call.callback_id == 1 and call.direction == "outbound"
        assert call.satisfaction == 2
        assert cb.no_complaint_reason == "Wants to call the shop first"
        assert "Technician was late twice" in call.notes


async def test_work_assigned_by_another_seat_appears(settings, clock, engine, world):
    fast = replace(settings, refresh_seconds=0.2)
    mine = make_app(settings=fast, clock=clock, agent="li.na", engine=engine)
    other = make_app(settings=fast, clock=clock, agent="wang.wei", engine=engine)
    async with mine.run_test(size=(100, 34)) as me, other.run_test(size=(100, 34)) as them:
        await settle(me)
        await settle(them)
        assert "wo:4" not in option_ids(mine)
        # The other seat takes a call and dispatches an urgent order to Li Na.
        await them.press("n")
        await settle(them)
        await them.press(*"139 1234 5678", "enter", "f6")
        await settle(them)
        await them.press("tab", *"Gas smell near the cooker", "tab")
        await choose(them, "Li Na")
        await them.press("tab", "space", "tab", *"+2h", "ctrl+s")
        await settle(them)
        assert isinstance(other.screen, CallScreen)
        for __ in range(30):
            await asyncio.sleep(0.1)
            await me.pause()
            if "wo:4" in option_ids(mine):
                break
        ids = [i for i in option_ids(mine) if i and i.startswith("wo:")]
        # after the late order (past deadline), among the urgent ones
        assert ids[0] == "wo:3" and ids.index("wo:4") < ids.index("wo:1")
        assert "URGENT" in str(mine.screen.query_one(Sidebar).query_one("#sidebar-list")
                               .get_option("wo:4").prompt)
    with Session(engine) as s:
        wo = s.get(WorkOrder, 4)
        assert wo.assignee_id == world["li"] and wo.urgent
        assert wo.due_at - clock.now() == timedelta(hours=2)


async def test_callback_not_answered_stays_open(make_seat, engine, clock, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        options = app.screen.query_one("#sidebar-list")
        options.focus()
        options.highlighted = options.get_option_index(f"cb:1:{world['fang']}")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        await pilot.press("f8")
        await settle(pilot)
        assert screen.state.in_wrapup and screen.state.outcome == "no_answer"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert f"cb:1:{world['fang']}" in option_ids(app)  # still to do
    with Session(engine) as s:
        cb = s.get(Callback, 1)
        assert cb.status == "open" and cb.attempts == 1
        call = s.exec(select(Call)).one()
        assert call.outcome == "no_answer" and call.callback_id == 1
        assert call.discovery_at is None  # never got past the opening


async def test_late_order_clocks_are_counted_and_open_the_order(make_seat, engine, clock, world):
    from seat import workorders
    from tests.conftest import NOW

    with Session(engine) as s:  # two of Li Na's orders, opened 8 days ago, untouched
        ids = [
            workorders.create_order(
                session=s, now=NOW - timedelta(days=8), customer_id=world["fang"],
                created_by_id=world["wang"],
                draft=workorders.WorkOrderDraft(
                    kind="service_request", short_text=f"Fridge noise {n}", reporter="Fang",
                    assignee_id=world["li"], due_at=NOW + timedelta(days=3),
                    service_type="repair",
                ),
            ).id
            for n in (1, 2)
        ]  # fmt: skip
        s.commit()
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(Sidebar)._data
        assert (view.counts.clocks_on_site, view.counts.clocks_follow_up) == (2, 2)
        listed = [i for i in option_ids(app) if i and i.startswith("wc:")]
        assert sorted(listed) == sorted(f"wc:{i}" for i in ids)
        options = app.screen.query_one("#sidebar-list")
        header = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
                  if "Order clocks late" in str(options.get_option_at_index(i).prompt)]
        assert header and "Order clocks late 4" in header[0]
        assert "on site 2 · reply 0\n  follow-up 2" in header[0]
        options.focus()
        options.highlighted = options.get_option_index(listed[0])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkOrderScreen)
        assert app.screen.work_order_id == int(listed[0].removeprefix("wc:"))
