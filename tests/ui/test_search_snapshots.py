"""Snapshots at 80x24, fixed clock: the customers a search found, masked (English and
Chinese), and the caller's search on a call."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from seat import customers, i18n
from tests.conftest import NOW
from tests.ui.helpers import freeze


@pytest.fixture
def desk_app(make_seat, engine, world):
    """Three more customers whose names start with 王, one with a second number."""
    with Session(engine) as s:
        for name, number, address, tier in (
            ("王芳", "137 0000 1234", "北京市朝阳区建国路1号", "gold"),
            ("王小龙", "136 5555 0101", "广州市天河区体育西路3号", "ordinary"),
            ("Wang Lei", "135 2222 3333", "12 Huaihai Rd, Shanghai", "platinum"),
        ):
            customers.create_customer(
                session=s, now=NOW, name=name, phone_text=number, address=address, tier=tier
            )
        s.commit()
    return make_seat()


async def _search(pilot, text: str) -> None:
    await freeze(pilot)
    await pilot.press("f")
    await freeze(pilot)
    await pilot.press(*text, "enter")
    await freeze(pilot)


def test_search_results(snap_compare, desk_app):
    async def run_before(pilot):
        await _search(pilot, "wang")

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)


@pytest.fixture
def chinese():
    """The seat in Simplified Chinese for one test; English again afterwards."""
    i18n.set_language("zh_CN")
    try:
        yield
    finally:
        i18n.set_language("en")


def test_search_results_in_chinese(snap_compare, chinese, desk_app):
    async def run_before(pilot):
        await _search(pilot, "王")

    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=run_before)
    assert i18n.language() == "zh_CN"
