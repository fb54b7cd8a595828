"""Snapshots at 80x24, fixed clock: a found customer masked with its change history, the
reveal dialog with its error, the edit form of the caller."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from seat import customers, i18n
from tests.conftest import NOW
from tests.ui.helpers import freeze


@pytest.fixture
def desk_app(make_seat, engine, world):
    """Wang Fang with a few changes on file."""
    with Session(engine) as s:
        for i, fields in enumerate(
            (
                {"tier": "gold"},
                {"address": "上海市黄浦区南京东路 100 号", "tier": "vip"},
                {"phone_text": "138 0013 8000"},  # the same number: no change
            )
        ):
            customers.update_customer(
                session=s, customer_id=world["fang"], agent_id=world["wang"],
                now=NOW - timedelta(days=3 - i), **fields,
            )  # fmt: skip
        s.commit()
    return make_seat()


def test_found_customer_masked_with_history(snap_compare, desk_app):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("f")
        await freeze(pilot)
        await pilot.press(*"13800138000", "enter")
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


@pytest.fixture
def chinese():
    """The seat in Simplified Chinese for one test; English again afterwards."""
    i18n.set_language("zh_CN")
    try:
        yield
    finally:
        i18n.set_language("en")


def test_found_customer_in_chinese(snap_compare, chinese, desk_app):
    """The masked card and its change history in Chinese: dates, labels, CJK alignment."""

    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("f")
        await freeze(pilot)
        await pilot.press(*"13800138000", "enter")
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)
    assert i18n.language() == "zh_CN"


def test_reveal_asks_for_a_reason(snap_compare, desk_app):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("f")
        await freeze(pilot)
        await pilot.press(*"13800138000", "enter")
        await freeze(pilot)
        await pilot.press("ctrl+r")
        await freeze(pilot)
        await pilot.press("ctrl+s")
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


def test_edit_customer_on_the_call(snap_compare, desk_app):
    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("n")
        await freeze(pilot)
        await pilot.press(*"13800138000", "enter")
        await freeze(pilot)
        await pilot.press("f9")
        await freeze(pilot)

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)
