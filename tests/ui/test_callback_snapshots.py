"""Snapshots: the coverage view, the snooze form, and the sidebar's callable / waiting split.

The sidebar snapshot shows the split once seat/widgets/sidebar.py renders
`callbacks.sidebar_callbacks` with seat/widgets/callback_items.py; until then it shows the
plain due / overdue list with the same callbacks.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from seat import i18n
from seat.models import Agent, Callback, Customer
from tests.conftest import NOW
from tests.ui.helpers import freeze


@pytest.fixture
def desk_app(make_seat, world):
    return make_seat()


@pytest.fixture
def resting_customer(engine, world) -> None:
    """Tom Baker (London) is due now, but 02:00 in London is his rest time."""
    with Session(engine) as s:
        s.add(
            Callback(
                customer_id=world["tom"],
                owner_id=world["li"],
                kind="satisfaction",
                reason="Dryer repair",
                due_at=NOW - timedelta(minutes=20),
                created_at=NOW - timedelta(days=2),
            )
        )
        s.commit()


def test_coverage_view(snap_compare, desk_app, resting_customer):
    """The first tab; fixed column widths keep it the same from run to run."""

    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("b")
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


def test_coverage_view_to_do(snap_compare, desk_app, resting_customer):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("b")
        await freeze(pilot)
        await pilot.press("2")
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


def test_snooze_form(snap_compare, desk_app):
    async def run_before(pilot):
        await freeze(pilot)
        # `s` highlights the first item: what is past its deadline (a late order); then the
        # callbacks to call now.
        await pilot.press("s", "down", "z")
        await freeze(pilot)
        await pilot.press(*"+1d", "ctrl+s")  # no reason: the message shows at the field
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


def test_sidebar_callable_and_waiting(snap_compare, desk_app, resting_customer):
    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=freeze)


# -- in Chinese ---------------------------------------------------------------------------------

CJK_NAMES = {
    "agents": {"li.na": "欧阳文娟娟娟娟娟", "wang.wei": "李娜"},
    "customers": {"Wang Fang": "王芳", "Tom Baker": "司马相如相如相如"},
}
"""Chinese names, two of them wider than their columns (cut at a whole character)."""


@pytest.fixture
def chinese():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


@pytest.fixture
def cjk_world(engine, world, resting_customer) -> None:
    """The same callbacks, the people named in Chinese, and a complaint follow-up for later."""
    with Session(engine) as s:
        for agent in s.exec(select(Agent)):
            agent.display_name = CJK_NAMES["agents"].get(agent.name, agent.display_name)
        for customer in s.exec(select(Customer)):
            customer.name = CJK_NAMES["customers"].get(customer.name, customer.name)
        s.add(
            Callback(
                customer_id=world["tom"],
                owner_id=world["li"],
                kind="complaint_follow_up",
                reason="Complaint closed",
                due_at=NOW + timedelta(hours=3),
                created_at=NOW - timedelta(days=1),
            )
        )
        s.commit()


def test_coverage_view_to_do_in_chinese(snap_compare, make_seat, cjk_world, chinese):
    """Headers, states, kinds and dates in Chinese; names cut by cells at 80x24."""

    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("b")
        await freeze(pilot)
        await pilot.press("2")
        await freeze(pilot)

    assert snap_compare(make_seat(), terminal_size=(80, 24), run_before=run_before)
