"""A new customer speaks the seat's language unless the form says otherwise, and a language
changed on the running call (F9) switches the call's script, keeping its place and answers."""

from __future__ import annotations

from sqlmodel import Session, select
from textual.widgets import Select

from seat import i18n
from seat.models import Customer, PhoneNumber
from seat.screens.calls.call import CallScreen
from seat.screens.calls.customer_edit import CustomerEditScreen
from seat.screens.calls.customer_form import NewCustomerScreen
from tests.ui.helpers import choose, settle


def stored_language(engine, e164: str) -> str:
    with Session(engine) as s:
        phone = s.exec(select(PhoneNumber).where(PhoneNumber.e164 == e164)).one()
        return s.get(Customer, phone.customer_id).language


async def register(pilot, number: str, name: str) -> NewCustomerScreen:
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*number, "enter")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, NewCustomerScreen)
    await pilot.press(*name)
    return form


async def test_a_chinese_seat_registers_a_chinese_customer(make_seat, engine, world):
    i18n.set_language("zh_CN")
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = await register(pilot, "139 8765 4321", "李雷")
        language = form.query_one("#f-language", Select)
        assert language.value == "zh_CN"  # the seat's language by default
        assert "中文 (简体)" in [str(p) for p, __ in language._options]
        await pilot.press("ctrl+s")
        await settle(pilot)
        call = app.screen
        assert isinstance(call, CallScreen)
        assert call.state.script.language == "zh_CN"  # the call stays in Chinese
    assert stored_language(engine, "+8613987654321") == "zh_CN"


async def test_the_form_may_choose_another_language(make_seat, engine, world):
    app = make_seat()  # an English seat
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = await register(pilot, "139 8765 4321", "Chen Jing")
        language = form.query_one("#f-language", Select)
        assert language.value == "en"
        await choose(pilot, "中文 (简体)", select="#f-language")
        assert language.value == "zh_CN"
        await pilot.press("ctrl+s")
        await settle(pilot)
        call = app.screen
        assert isinstance(call, CallScreen)
        assert call.state.script.language == "zh_CN"
    assert stored_language(engine, "+8613987654321") == "zh_CN"


async def test_f9_language_change_switches_the_script_and_keeps_the_place(
    make_seat, engine, world
):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"138 0013 8000", "enter")  # Wang Fang, an English speaker
        await settle(pilot)
        call = app.screen
        assert isinstance(call, CallScreen) and call.state.script.language != "zh_CN"
        await pilot.press("f2")  # -> need discovery
        await settle(pilot)
        stage = call.state.stage_id
        await choose(pilot, "repair")
        await pilot.press("tab", *"Washer leaks")
        await settle(pilot)
        given = dict(call.state.values)
        assert given.get("need_category") == "repair" and "Washer leaks" in given.values()
        await pilot.press("f9")
        await settle(pilot)
        edit = app.screen
        assert isinstance(edit, CustomerEditScreen)
        await choose(pilot, "中文 (简体)", select="#f-language")
        assert edit.query_one("#f-language", Select).value == "zh_CN"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is call
        assert call.state.script.language == "zh_CN"
        assert call.state.stage_id == stage
        assert call.state.values == given  # the answers stay
        assert str(call.query_one("#stage-title").render()) == "需求探寻"
    assert stored_language(engine, "+8613800138000") == "zh_CN"
