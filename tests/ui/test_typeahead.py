"""Keys typed ahead of a slow seat land where the agent meant them.

A loaded machine (a floor of seats on two cores) lags behind the keyboard: the agent types
a field, Tab, the next field before the seat has handled the Tab. Textual hands a key to the
focused widget and only then, a message hop later, lets the screen's Tab binding move the
focus: the letters typed meanwhile went to the field the agent had left. Here the keys
arrive in one burst, as they do from a lagging terminal, and each lands in its own field.
"""

from __future__ import annotations

from sqlmodel import Session, select
from textual import events
from textual.widgets import Input, TextArea

from seat.models import Customer, PhoneNumber
from seat.screens.calls.call import CallScreen
from seat.screens.calls.customer_form import NewCustomerScreen
from seat.screens.calls.forms import ComplaintForm
from tests.ui.helpers import choose, settle

KEY_NAMES = {" ": "space", "\t": "tab", "-": "minus"}


async def burst(pilot, text: str) -> None:
    """Every character of `text` ("\\t" a Tab) queued at once, before the seat handles any."""
    for char in text:
        pilot.app.post_message(events.Key(KEY_NAMES.get(char, char), char))
    await settle(pilot)


async def test_complaint_form_tab_typed_ahead(make_seat, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        await pilot.press("f7")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ComplaintForm)
        await burst(pilot, "Rude installer\tA new washer")
        assert form.query_one("#f-what_happened", TextArea).text == "Rude installer"
        assert form.query_one("#f-customer_wants", Input).value == "A new washer"


async def test_new_customer_fields_typed_ahead(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13987654321", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewCustomerScreen)
        # name, phone (prefilled), tier, birthday
        await burst(pilot, "Li Lei\t\t\t1990-02-03")
        assert form.query_one("#f-name", Input).value == "Li Lei"
        assert form.query_one("#f-birthday", Input).value == "1990-02-03"
        await pilot.press("ctrl+s")
        await settle(pilot)
    with Session(engine) as s:
        phone = s.exec(select(PhoneNumber).where(PhoneNumber.e164 == "+8613987654321")).one()
        customer = s.get(Customer, phone.customer_id)
        assert customer.name == "Li Lei"
        assert str(customer.birthday) == "1990-02-03"


async def test_call_stage_tab_typed_ahead(make_seat, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        await pilot.press("f2")  # -> need discovery, the need chosen first
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        await choose(pilot, "repair")
        await burst(pilot, "\tWasher leaks")
        assert screen.query_one("#sf-need_notes", Input).value == "Washer leaks"
