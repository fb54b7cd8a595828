"""Snapshots: the coverage view, the snooze form, and the sidebar's callable / waiting split.

The sidebar snapshot shows the split once seat/widgets/sidebar.py renders
`callbacks.sidebar_callbacks` with seat/widgets/callback_items.py; until then it shows the
plain due / overdue list with the same callbacks.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from seat.models import Callback
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
        await pilot.press("s", "down", "z")
        await freeze(pilot)
        await pilot.press(*"+1d", "ctrl+s")  # no reason: the message shows at the field
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


def test_sidebar_callable_and_waiting(snap_compare, desk_app, resting_customer):
    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=freeze)
