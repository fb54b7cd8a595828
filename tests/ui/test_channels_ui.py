"""Intake by channel, driven by keys: a WeChat complaint received yesterday, registered on a
call today; a time received in the future is refused at its field."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from seat.models import Complaint, ComplaintEvent
from seat.screens.calls.forms import ComplaintForm
from seat.screens.desk import DeskScreen
from tests.conftest import NOW
from tests.ui.helpers import choose, settle

SH = ZoneInfo("Asia/Shanghai")


async def open_complaint_form(pilot) -> None:
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*"139 1234 5678", "enter")  # 张敏
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    await choose(pilot, "complaint")
    await pilot.press("f2", "f7")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ComplaintForm)


async def test_a_wechat_complaint_received_yesterday(make_seat, engine, world):
    app = make_seat()
    yesterday = (NOW - timedelta(days=1)).astimezone(SH).replace(second=0, microsecond=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_complaint_form(pilot)
        await pilot.press(*"Rude reply on the WeChat account", "tab", *"An apology", "tab")
        await choose(pilot, "WeChat")
        await pilot.press("tab", *f"{yesterday:%Y-%m-%d %H:%M}", "tab", *"wx-msg-7781")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ComplaintForm)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        c = s.exec(select(Complaint)).one()
        first = s.exec(select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id)).first()
    assert c.channel == "wechat"
    assert c.channel_ref == "wx-msg-7781"
    assert c.created_at == yesterday  # the clocks start when it was received
    assert c.registered_at == NOW
    assert first.at == NOW and "wechat wx-msg-7781" in first.comment


async def test_a_time_received_in_the_future_is_refused_at_its_field(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_complaint_form(pilot)
        await pilot.press(*"Letter about the delivery", "tab", *"A call back", "tab")
        await choose(pilot, "letter")
        await pilot.press("tab", *"+2h", "ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ComplaintForm)
        message = str(form.query_one("#err-received_at").render())
        assert "cannot be in the future" in message
        assert app.focused is form.query_one("#f-received_at")
        await pilot.press("ctrl+u", "ctrl+s")  # empty: received now
        await settle(pilot)
        assert not isinstance(app.screen, ComplaintForm)
    with Session(engine) as s:
        c = s.exec(select(Complaint)).one()
    assert (c.channel, c.created_at, c.registered_at) == ("letter", NOW, None)
