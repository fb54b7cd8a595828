"""A call is read in the customer's language: the Chinese script for a Chinese-speaking caller."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select
from textual.widgets import Select, Static

from seat import customers, i18n
from seat.models import Call
from seat.screens.calls.call import CallScreen
from seat.screens.desk import DeskScreen
from tests.conftest import NOW
from tests.ui.helpers import choose, option_labels, settle


@pytest.fixture
def chen(engine, world) -> int:
    """A customer who prefers Chinese."""
    with Session(engine, expire_on_commit=False) as s:
        c = customers.create_customer(
            session=s, now=NOW - timedelta(days=3), name="陈静", phone_text="137 0000 1234",
            language="zh_CN",
        )
        s.commit()
        return c.id  # type: ignore[return-value]


def _say(screen: CallScreen) -> str:
    return str(screen.query_one(".say", Static).render())


async def test_chinese_customer_gets_the_chinese_script(make_seat, engine, clock, world, chen):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        await pilot.press(*"137 0000 1234", "enter")
        await settle(pilot)
        assert screen.state.customer_id == chen
        assert screen.state.script.language == "zh_CN"
        assert str(screen.query_one("#stage-title").render()) == "问候"
        assert "感谢致电" in _say(screen) and "陈静" in _say(screen)

        await pilot.press("f2")  # -> 需求探寻
        await settle(pilot)
        assert str(screen.query_one("#stage-title").render()) == "需求探寻"
        need = screen.query_one("#sf-need_category", Select)
        assert option_labels(need)[1:3] == ["咨询", "报修"]
        await choose(pilot, "报修")  # stored as the code "repair"
        await pilot.press("tab", *"洗衣机漏水")
        for __ in range(3):  # -> resolution, closing, wrap-up
            await pilot.press("f2")
            await settle(pilot)
        assert screen.state.in_wrapup
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)

    with Session(engine) as s:
        call = s.exec(select(Call)).one()
    assert call.customer_id == chen
    assert call.script == "inbound"  # the script id, the same in every language
    assert call.need_category == "repair"  # the code, not the shown label
    assert call.outcome == "resolved"
    assert "客户的需求: 洗衣机漏水" in call.notes  # the Chinese field label was read


async def test_english_customer_keeps_the_english_script(make_seat, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"138 0013 8000", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        assert screen.state.script.language == "en"
        assert str(screen.query_one("#stage-title").render()) == "Greeting"


async def test_unknown_caller_gets_the_seats_language(make_seat, world):
    i18n.set_language("zh_CN")
    try:
        app = make_seat()
        state = app.desk.new_call(agent_id=world["li"], from_number="+8613911112222")
        assert state.script.language == "zh_CN"
        # Known English-speaking customer on a Chinese seat: the customer's language wins.
        state = app.desk.new_call(agent_id=world["li"], customer_id=world["fang"])
        assert state.script.language == "en"
    finally:
        i18n.set_language("en")
