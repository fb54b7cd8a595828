"""Work orders driven by keys across seats, then read back from the database."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import timedelta

from rich.console import Console
from sqlmodel import Session, func, select

from seat import agents, workorders
from seat.app import make_app
from seat.models import Role, WorkOrder, WorkOrderEvent, WorkOrderLine
from seat.screens.calls.call import CallScreen
from seat.screens.desk import DeskScreen
from seat.screens.work_orders.list import WorkOrderListScreen
from seat.screens.work_orders.work_order import WorkOrderForm, WorkOrderScreen
from seat.screens.work_orders.workplan import WorkPlanScreen
from tests.conftest import NOW
from tests.ui.helpers import choose, settle


def shown(widget) -> str:
    """The text a Static shows, whatever renderable it holds."""
    console = Console(width=120, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


def option_ids(app) -> list[str]:
    options = app.screen.query_one("#sidebar-list")
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


async def wait_for(pilot, condition, tries: int = 40) -> None:
    for __ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.1)
        await pilot.pause()
    assert condition()


async def step(pilot, key: str, *typed: str) -> None:
    """Press a status key on the detail screen, fill its little form, save."""
    await pilot.press(key)
    await settle(pilot)
    await pilot.press(*typed, "ctrl+s")
    await settle(pilot)


def make_boss(engine) -> int:
    with Session(engine) as s:
        boss = agents.ensure_agent(session=s, name="zhao.lei", role=Role.SUPERVISOR)
        s.commit()
        return boss.id


async def test_urgent_order_from_a_call_walked_to_closed_across_seats(
    settings, clock, engine, world
):
    boss_id = make_boss(engine)
    fast = replace(settings, refresh_seconds=0.2)
    desk = make_app(settings=fast, clock=clock, agent="wang.wei", engine=engine)
    tech = make_app(settings=fast, clock=clock, agent="li.na", engine=engine)
    lead = make_app(settings=fast, clock=clock, agent="zhao.lei", engine=engine)
    async with (
        desk.run_test(size=(100, 34)) as them,
        tech.run_test(size=(100, 34)) as me,
        lead.run_test(size=(100, 34)) as boss,
    ):
        for pilot in (them, me, boss):
            await settle(pilot)
        assert "wo:4" not in option_ids(tech)

        # Wang Wei takes 张敏's call and fills the whole form.
        await them.press("n")
        await settle(them)
        await them.press(*"139 1234 5678", "enter", "f6")
        await settle(them)
        form = desk.screen
        assert isinstance(form, WorkOrderForm)
        assert form.value("reporter") == "张敏"  # prefilled from the call
        await them.press("tab", *"Gas smell near the cooker", "tab")
        await choose(them, "Li Na")
        await them.press("tab", "space", "tab", *"+2h", "tab", *"+30m", "tab", "tab")
        await choose(them, "SH-REPAIR")  # the work center
        await them.press("tab", "tab", *"SO-2026-0042", "tab", "tab", *"12 Huaihai Rd")
        await them.press("tab", *"cooker", "tab", *"black", "tab")
        await choose(them, "Q01")  # the reason
        await them.press("tab", *"gas hose x 1 pc", "enter", *"clamp x 2")
        await them.press("tab", *"Smells since this morning")
        await them.press("ctrl+s")
        await settle(them)
        assert isinstance(desk.screen, CallScreen), form.query(".field-error")

        # At once at the top of Li Na's orders, marked urgent (only what is already past its
        # deadline, the world's late order #3, is listed before it).
        await wait_for(me, lambda: "wo:4" in option_ids(tech))
        mine = [i for i in option_ids(tech) if i and i.startswith("wo:")]
        assert mine[:2] == ["wo:3", "wo:4"]
        prompt = str(tech.screen.query_one("#sidebar-list").get_option("wo:4").prompt)
        assert "‼" in prompt and "URGENT" in prompt

        # Li Na opens it from the sidebar with Enter.
        options = tech.screen.query_one("#sidebar-list")
        options.focus()
        options.highlighted = options.get_option_index("wo:4")
        await me.press("enter")
        await settle(me)
        detail = tech.screen
        assert isinstance(detail, WorkOrderScreen)
        head = shown(detail.query_one("#wo-head"))
        assert "URGENT" in head and "Gas smell near the cooker" in head
        fields = shown(detail.query_one("#wo-fields"))
        for text in ("SO-2026-0042", "SH-REPAIR", "Q01 quality defect",
                     "cooker black", "张敏", "Li Na", "repair"):
            assert text in fields, fields
        # Not on a call with 张敏: the address is masked (ctrl+r reveals it with a reason).
        assert "Address ****" in fields and "Huaihai" not in fields
        assert "gas hose × 1 pc" in shown(detail.query_one("#wo-lines"))

        await step(me, "v", *"Hose cracked", "tab", "space")  # head office must help
        assert detail.data.order.status == "survey_done" and detail.data.order.hq_involved
        # Approval is the supervisor's: for Li Na the key does nothing.
        await me.press("a")
        await settle(me)
        assert detail.data.order.status == "survey_done"

        # Zhao Lei approves from the order list (in process).
        await boss.press("w")
        await settle(boss)
        listing = lead.screen
        assert isinstance(listing, WorkOrderListScreen)
        await boss.press("s")  # open -> in process
        await settle(boss)
        assert [r.id for r in listing.result.rows] == [4]
        await boss.press("enter")
        await settle(boss)
        assert isinstance(lead.screen, WorkOrderScreen)
        await step(boss, "a", *"Replace the hose")
        assert lead.screen.data.order.status == "approved"
        await boss.press("escape")
        await settle(boss)
        assert lead.screen is listing

        # Li Na's open detail picks the approval up by itself, then she finishes.
        await wait_for(me, lambda: detail.data.order.status == "approved")
        await step(me, "r", *"Parts ready")
        await step(me, "e", *"Hose replaced")
        assert detail.data.order.status == "serviced"
        await me.press("c")
        await settle(me)
        await me.press("ctrl+s")  # the acceptance is required
        await settle(me)
        assert "customer accepted" in str(tech.screen.query_one("#err-acceptance").render())
        await me.press(*"New hose fitted; no smell; signed", "ctrl+s")
        await settle(me)
        assert detail.data.order.status == "completed"
        await step(me, "x")
        assert detail.data.order.status == "closed"
        assert detail.check_action("reassign", ()) is False
        await me.press("escape")
        await settle(me)
        assert isinstance(tech.screen, DeskScreen)
        await wait_for(me, lambda: "wo:4" not in option_ids(tech))

    with Session(engine) as s:
        wo = s.get(WorkOrder, 4)
        assert (wo.kind, wo.status, wo.urgent) == ("service_request", "closed", True)
        assert wo.assignee_id == world["li"] and wo.created_by_id == world["wang"]
        assert wo.due_at - NOW == timedelta(hours=2)
        assert wo.requested_start - NOW == timedelta(minutes=30)
        assert (wo.service_type, wo.work_center, wo.reason_code) == ("repair", "SH-REPAIR", "Q01")
        assert (wo.sales_order_no, wo.service_address) == ("SO-2026-0042", "12 Huaihai Rd")
        assert (wo.product_type, wo.product_colour) == ("cooker", "black")
        assert wo.reporter == "张敏" and wo.long_text == "Smells since this morning"
        assert wo.customer_acceptance == "New hose fitted; no smell; signed"
        assert wo.closed_at == NOW and wo.call_id is not None
        lines = s.exec(select(WorkOrderLine).where(WorkOrderLine.work_order_id == 4)).all()
        assert [(ln.material, ln.quantity, ln.unit) for ln in lines] == [
            ("gas hose", 1, "pc"), ("clamp", 2, "pc")
        ]
        events = s.exec(
            select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == 4)
            .order_by(WorkOrderEvent.id)
        ).all()
        assert [(e.action, e.from_status, e.to_status, e.agent_id) for e in events] == [
            ("create", None, "created", world["wang"]),
            ("survey", "created", "survey_done", world["li"]),
            ("approve", "survey_done", "approved", boss_id),
            ("reply", "approved", "replied", world["li"]),
            ("service", "replied", "serviced", world["li"]),
            ("complete", "serviced", "completed", world["li"]),
            ("close", "completed", "closed", world["li"]),
        ]
        assert [e.comment for e in events][1:4] == [
            "Hose cracked\nHead office involved: supervisor approval needed.",
            "Replace the hose", "Parts ready",
        ]
        assert "New hose fitted" in events[5].comment
        assert all(e.at == NOW for e in events)
        assert workorders.completed_at(session=s, work_order_id=4) == NOW


async def test_form_refuses_bad_input_at_the_fields_and_saves_nothing(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter", "f6")
        await settle(pilot)
        form = app.screen
        await choose(pilot, "delivery exception (Z2)")
        await pilot.press("tab", *"Sofa leg broken", "tab", "tab", "tab", *"yesterday")
        await pilot.press("tab", *"+3d")  # a start after the end
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        errors = {e.id.removeprefix("err-"): str(e.render())
                  for e in form.query(".field-error") if e.display and e.id}
        assert set(errors) == {"assignee", "due_at", "sales_order_no"}
        assert "sales order number" in errors["sales_order_no"]
        assert app.focused.id == "f-assignee"  # the first field with a problem
        assert not form.query_one("#col-service_type").display  # Z1 only
        await pilot.press("escape")
        await settle(pilot)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(WorkOrder)).one() == 3


async def test_paid_service_quote_by_keys(make_seat, engine, clock, world):
    make_boss(engine)
    with Session(engine) as s:
        wo = workorders.create_order(
            session=s, now=NOW, customer_id=world["fang"], created_by_id=world["li"],
            draft=workorders.WorkOrderDraft(
                kind="service_request", short_text="Polish the table", reporter="Wang Fang",
                assignee_id=world["li"], due_at=NOW + timedelta(days=3), service_type="paid",
            ),
        )
        s.commit()
        wo_id = wo.id
    app = make_seat(agent="zhao.lei")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(WorkOrderScreen(wo_id))
        await settle(pilot)
        detail = app.screen
        palette = [c.title for c in app.get_system_commands(detail)]
        assert "Surveyed (v)" in palette and "Quote (o)" in palette
        assert not any(t.startswith(("Approve", "Close", "Delivered")) for t in palette)
        await step(pilot, "v")
        # No quote yet: approving is not offered, and the hint line says why.
        assert detail.check_action("step", ("approve",)) is False
        await pilot.press("a")
        await settle(pilot)
        assert detail.data.order.status == "survey_done"
        assert "quote first" in shown(detail.query_one("#wo-next"))
        assert detail.check_action("confirm_quote", ()) is False
        await step(pilot, "o", *"1,280", "tab", "space")  # HQ pricing
        assert detail.data.order.quote_amount == 1280 and detail.data.order.quote_needs_hq
        assert detail.check_action("confirm_quote", ()) is False  # HQ approval first
        await step(pilot, "h", *"Price list 2026")
        await step(pilot, "k", *"Customer agreed by phone")
        await step(pilot, "a")
        assert detail.data.order.status == "approved"
        assert detail.check_action("quote", ()) is False  # fixed once approved
        await step(pilot, "g")  # reassign: nobody chosen
        assert "Choose" in str(app.screen.query_one("#err-assignee").render())
        await choose(pilot, "Wang Wei")  # Li Na has it
        await pilot.press("tab", *"Li Na is on leave", "ctrl+s")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert detail.data.order.urgent is True
    with Session(engine) as s:
        wo = s.get(WorkOrder, wo_id)
        assert wo.assignee_id == world["wang"] and wo.urgent
        assert wo.quote_approved_by_id is not None and wo.quote_confirmed_at == NOW
        actions = s.exec(
            select(WorkOrderEvent.action).where(WorkOrderEvent.work_order_id == wo_id)
            .order_by(WorkOrderEvent.id)
        ).all()
        assert actions == ["create", "survey", "quote", "quote_approve", "quote_confirm",
                           "approve", "reassign", "urgent"]


def _many(engine, world, n: int) -> None:
    with Session(engine) as s:
        for i in range(n):
            s.add(WorkOrder(
                kind="delivery_exception" if i % 3 == 0 else "service_request",
                short_text=f"Bulk order {i}", customer_id=world["tom"],
                assignee_id=world["wang"] if i % 2 else world["li"],
                status="closed" if i % 4 == 0 else "created", urgent=i % 10 == 0,
                work_center="SH-REPAIR" if i % 5 == 0 else None,
                due_at=NOW + timedelta(hours=i), created_at=NOW - timedelta(hours=i),
            ))
        s.commit()


async def test_the_list_filters_and_pages_by_keys(make_seat, engine, world):
    _many(engine, world, 130)  # 97 open + the world's 3 = 100 open orders
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#orders")
        assert (screen.result.total, screen.result.pages, table.row_count) == (100, 2, 50)
        assert "1–50 of 100" in str(screen.query_one("#orders-status").render())
        assert screen.check_action("page", (-1,)) is False
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert (screen.result.page, table.row_count) == (2, 50)
        assert screen.check_action("page", (1,)) is False
        await pilot.press("s", "s")  # -> closed
        await settle(pilot)
        assert (screen.result.page, screen.result.total) == (1, 33)
        await pilot.press("k")  # service requests only
        await settle(pilot)
        assert {r.kind for r in screen.result.rows} == {"service_request"}
        await pilot.press("s", "m", "u")  # any state, mine, urgent only
        await settle(pilot)
        rows = screen.result.rows
        assert rows and all(r.urgent and r.assignee == "Li Na" for r in rows)
        assert "Li Na" in str(screen.query_one("#orders-filters").render())
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("tab", "tab", "tab", "tab", *"2026-13-01", "ctrl+s")
        await settle(pilot)
        assert "Not a date" in str(app.screen.query_one("#err-created_from").render())
        await pilot.press("ctrl+a", "ctrl+k", *"2026-11-23", "tab", "tab", "space", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        f = screen.filters
        assert (f.assignee_id, f.urgent_only, str(f.created_from)) == (world["li"], False,
                                                                         "2026-11-23")
        expected = [r.id for r in screen.result.rows]
        since = NOW - timedelta(hours=10)  # 2026-11-23 00:00 in Shanghai
        assert expected == [6, 8, 12, 14]  # Li Na's service requests of that day, newest first
        assert all(r.created_at >= since for r in screen.result.rows)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkOrderScreen)
        assert app.screen.work_order_id == expected[0]
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)


async def test_the_work_plan_by_keys(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkPlanScreen)
        table = screen.query_one("#plan")
        keys = [k.value for k in table.rows]
        assert keys == ["2", "3"]  # urgent first, then the overdue one; #1 is Tuesday's
        title = str(screen.query_one("#plan-title").render())
        assert "Li Na" in title
        assert title.startswith("Work plan · ")  # the English name, 工作计划表 in Chinese
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert [k.value for k in table.rows] == ["2", "3", "1"]
        assert "2026-11-24" in str(screen.query_one("#plan-title").render())
        await pilot.press("t", "m")  # today, every technician
        await settle(pilot)
        assert screen.choice.login is None
        assert "every technician" in str(screen.query_one("#plan-title").render())
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("ctrl+a", "ctrl+k", *"2026-11-2x", "ctrl+s")
        await settle(pilot)
        assert "Not a date" in str(app.screen.query_one("#err-day").render())
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkOrderScreen) and app.screen.work_order_id == 2


async def test_the_list_fits_its_columns_again_when_the_terminal_is_resized(make_seat, world):
    app = make_seat()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkOrderListScreen)
        table = screen.query_one("#orders")

        def widths() -> int:
            return sum(c.width for c in table.columns.values()) + 2 * len(table.columns)

        assert widths() <= 120
        table.move_cursor(row=1)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        # The expected end stays on the narrower screen; the highlighted row stays.
        assert widths() <= 80
        assert table.cursor_row == 1
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert 100 < widths() <= 120


async def test_a_local_order_walked_to_closed_without_a_supervisor(make_seat, engine, clock, world):
    with Session(engine) as s:
        wo = workorders.create_order(
            session=s, now=NOW, customer_id=world["fang"], created_by_id=world["wang"],
            draft=workorders.WorkOrderDraft(
                kind="service_request", short_text="Dryer drum squeaks", reporter="Wang Fang",
                assignee_id=world["li"], due_at=NOW + timedelta(days=9), service_type="repair",
            ),
        )
        s.commit()
        wo_id = wo.id
    app = make_seat(agent="li.na")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(WorkOrderScreen(wo_id))
        await settle(pilot)
        detail = app.screen
        assert "On site" in shown(detail.query_one("#wo-clocks"))
        clock.advance(days=8)  # a week unfinished: the follow-up is due, with the reason
        await step(pilot, "f")
        assert "not finished" in str(app.screen.query_one("#err-reason").render())
        await pilot.press(*"Waiting for the drum bearing", "ctrl+s")
        await settle(pilot)
        assert detail.data.order.follow_ups == 1
        await step(pilot, "v", *"Bearing worn")  # no head office: a local job
        assert detail.check_action("step", ("approve",)) is False
        assert detail.check_action("step", ("service",)) is True
        assert "local job" in shown(detail.query_one("#wo-fields"))
        await step(pilot, "e", *"Bearing replaced")
        assert detail.check_action("follow_up", ()) is False
        clock.advance(minutes=20)
        await step(pilot, "c", *"Quiet again, signed")
        await step(pilot, "x")
        assert detail.data.order.status == "closed"
        assert detail.check_action("step", ("close",)) is False
    with Session(engine) as s:
        wo = s.get(WorkOrder, wo_id)
        assert (wo.status, wo.hq_involved, wo.follow_ups) == ("closed", False, 1)
        assert wo.on_site_at == wo.done_at == NOW + timedelta(days=8)
        assert wo.replied_at == wo.done_at + timedelta(minutes=20) < wo.reply_due_at
        assert wo.follow_up_due_at is None
        events = s.exec(
            select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == wo_id)
            .order_by(WorkOrderEvent.id)
        ).all()
        assert [(e.action, e.to_status, e.agent_id) for e in events] == [
            ("create", "created", world["wang"]),
            ("follow_up", "created", world["li"]),
            ("survey", "survey_done", world["li"]),
            ("service", "serviced", world["li"]),
            ("complete", "completed", world["li"]),
            ("close", "closed", world["li"]),
        ]
        assert events[1].comment == "Follow-up 1: Waiting for the drum bearing"
