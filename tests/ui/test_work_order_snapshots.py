"""Snapshots of the work order form, detail, list and work plan at 80x24, fixed clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from seat import workorders
from seat.workorders import LineIn
from tests.conftest import NOW
from tests.ui.helpers import freeze


@pytest.fixture
def desk_app(make_seat, engine, world):
    """The world plus one full order with lines and a history."""
    with Session(engine) as s:
        wo = workorders.create_order(
            session=s, now=NOW, customer_id=world["fang"], created_by_id=world["wang"],
            draft=workorders.WorkOrderDraft(
                kind="service_request", short_text="Washer leaks from the door",
                reporter="Wang Fang", assignee_id=world["li"], due_at=NOW + timedelta(hours=6),
                urgent=True, long_text="Water under the machine after each wash since Friday.",
                service_type="paid", sales_order_no="SO-2026-0042",
                requested_start=NOW + timedelta(hours=1), work_center="SH-REPAIR",
                product_type="washer", product_colour="white", reason_code="Q01",
                lines=(LineIn("door seal", 1), LineIn("hose clamp", 2)),
                quote_amount=380.0,
            ),
        )
        workorders.move(session=s, now=NOW + timedelta(minutes=5), work_order_id=wo.id,
                        agent_id=world["li"], action="survey", comment="Seal worn out")
        s.commit()
    return make_seat()


def test_work_order_form_full(snap_compare, desk_app):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("n")
        await freeze(pilot)
        await pilot.press(*"13800138000", "enter", "f6")
        await freeze(pilot)
        await pilot.press("tab", *"Dryer drum squeaks", "ctrl+s")  # no assignee, no end
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


def test_work_order_detail(snap_compare, desk_app):
    async def run_before(pilot):
        await freeze(pilot)
        options = pilot.app.screen.query_one("#sidebar-list")
        options.focus()
        options.highlighted = options.get_option_index("wo:4")
        await pilot.press("enter")
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


def test_work_order_list(snap_compare, desk_app):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("w")
        await freeze(pilot)
        await pilot.press("s", "s", "s")  # open -> in process -> closed -> any state
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


def test_work_plan(snap_compare, desk_app):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("p")
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


@pytest.fixture
def clocks_app(make_seat, engine, world):
    """An inner-zone order surveyed an hour late, followed up once, its job done ten minutes
    ago: the on-site clock late, the reply running, the follow-up count kept."""
    from seat.order_clocks import parse_text

    policy = parse_text('[zones.inner]\nlabel = "inner zone"\non_site_hours = 2\n'
                        'address_contains = ["Huaihai"]\n[zones.rest]\non_site_hours = 48\n')
    start = NOW - timedelta(days=9)
    with Session(engine) as s:
        wo = workorders.create_order(
            session=s, now=start, customer_id=world["fang"], created_by_id=world["wang"],
            draft=workorders.WorkOrderDraft(
                kind="service_request", short_text="Oven door does not close",
                reporter="Wang Fang", assignee_id=world["li"], due_at=NOW + timedelta(days=1),
                service_type="repair", service_address="12 Huaihai Rd",
            ),
            clocks=policy,
        )
        for action, at, kw in (
            ("survey", start + timedelta(hours=3), {"comment": "Hinge bent"}),
            ("service", NOW - timedelta(minutes=10), {"comment": "Hinge replaced"}),
        ):
            if action == "service":
                workorders.follow_up(session=s, now=NOW - timedelta(days=2), work_order_id=wo.id,
                                     agent_id=world["li"], reason="Hinge on order",
                                     clocks=policy)  # fmt: skip
            workorders.move(session=s, now=at, work_order_id=wo.id, agent_id=world["li"],
                            action=action, clocks=policy, **kw)  # fmt: skip
        s.commit()
        wo_id = wo.id
    app = make_seat(agent="li.na")
    app.snapshot_order = wo_id  # type: ignore[attr-defined]
    return app


def test_work_order_detail_clocks(snap_compare, clocks_app):
    async def run_before(pilot):
        await freeze(pilot)
        options = pilot.app.screen.query_one("#sidebar-list")
        options.focus()
        options.highlighted = options.get_option_index(f"wo:{pilot.app.snapshot_order}")
        await pilot.press("enter")
        await freeze(pilot)

    assert snap_compare(clocks_app, terminal_size=(80, 24), run_before=run_before)
