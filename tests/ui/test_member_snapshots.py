"""Snapshots at a fixed clock: the caller's card with their purchases (English and Chinese)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from seat import i18n
from seat.models import Purchase
from tests.conftest import NOW
from tests.ui.helpers import freeze


@pytest.fixture
def desk_app(make_seat, engine, world):
    """Wang Fang bought a washer (delivered), face cream twice and, long ago, a sofa."""
    with Session(engine) as s:
        for days, order, line, item, amount, delivered in (
            (9, "SO-1001", 1, "Front-loading washer 8 kg", 2999.0, 7),
            (9, "SO-1001", 2, "面霜 50 ml", 536.0, None),
            (120, "SO-0907", 1, "Face cream 50 ml", 268.0, None),
            (500, "SO-0412", 1, "Three-seat sofa", 5800.0, 496),
        ):
            s.add(Purchase(
                customer_id=world["fang"], order_no=order, line_no=line, item=item,
                amount=amount, quantity=2.0 if line == 2 else 1.0, store="Shanghai Xuhui",
                purchased_at=NOW - timedelta(days=days),
                delivered_at=NOW - timedelta(days=delivered) if delivered else None,
            ))  # fmt: skip
        s.commit()
    return make_seat()


async def _call(pilot) -> None:
    await freeze(pilot)
    await pilot.press("n")
    await freeze(pilot)
    await pilot.press(*"13800138000", "enter")
    await freeze(pilot)


@pytest.fixture
def chinese():
    i18n.set_language("zh_CN")
    try:
        yield
    finally:
        i18n.set_language("en")


def test_card_with_purchases(snap_compare, desk_app):
    assert snap_compare(desk_app, terminal_size=(120, 40), run_before=_call)


def test_card_with_purchases_in_chinese(snap_compare, chinese, desk_app):
    assert snap_compare(desk_app, terminal_size=(120, 40), run_before=_call)
    assert i18n.language() == "zh_CN"
