"""Callbacks by keys at 80x24: each kind reads its own words, a time in the customer's rest
hours is warned about with the next open time on offer, and an unsatisfied answer opens the
complaint form with what the customer said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select
from textual.widgets import Button, Select, TextArea

from seat import i18n
from seat.models import Call, Callback, CallbackEvent, Complaint
from seat.screens.callbacks.view import CallbacksScreen, SnoozeForm
from seat.screens.calls.call import CallScreen
from seat.screens.calls.forms import CallbackForm, ComplaintForm
from seat.screens.desk import DeskScreen
from seat.widgets.callback_items import sidebar_callback_id
from tests.conftest import NOW
from tests.ui.helpers import choose, freeze, settle

SIZE = (80, 24)
TOMORROW_9 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai: the night ends
TONIGHT_22 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai: rest hours


async def _highlight(pilot, callback_id: int) -> None:
    """Walk the sidebar queue with the arrow keys to a callback."""
    await pilot.press("s")
    for __ in range(30):
        if sidebar_callback_id(pilot.app.screen) == callback_id:
            return
        await pilot.press("down")
    raise AssertionError(f"callback #{callback_id} is not on the sidebar")


async def _start(pilot, callback_id: int) -> CallScreen:
    await _highlight(pilot, callback_id)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CallScreen) and screen.state.callback_id == callback_id
    return screen


def _visible(form, selector: str) -> bool:
    """On the 80x24 screen, not scrolled away or cut off."""
    widget = form.query_one(selector)
    region = widget.region
    return widget.display and region.height > 0 and region.bottom <= SIZE[1]


def _count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("accept", [True, False], ids=["take-offer", "keep-asked"])
async def test_f5_in_rest_hours_offers_the_next_open_time(make_seat, engine, world, accept):
    app = make_seat()
    before = _count(engine, Callback)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        call = app.screen
        await pilot.press("f5")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CallbackForm)
        await pilot.press(*"22:00", "tab", *"Check the part arrived", "ctrl+s")
        await settle(pilot)
        assert app.screen is form  # not saved, not refused: asked
        message = str(form.query_one("#err-due_at").render())
        assert "rest hours" in message and "Tue 11-24 09:00" in message
        assert _visible(form, "#err-due_at") and _visible(form, "#open-time")
        assert "Tue 11-24 09:00" in str(form.query_one("#open-time", Button).label)
        assert _count(engine, Callback) == before and call.state.call_id is None
        if accept:
            await pilot.press("ctrl+o")
            await settle(pilot)
            assert form.query_one("#f-due_at").value == "2026-11-24 09:00"
            assert not form.query_one("#err-due_at").display
            assert not form.query_one("#open-time").display
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is call
    with Session(engine) as s:
        cb = s.exec(select(Callback).where(Callback.call_id.is_not(None))).one()
    assert cb.due_at.replace(tzinfo=UTC) == (TOMORROW_9 if accept else TONIGHT_22)
    assert (cb.kind, cb.reason) == ("manual", "Check the part arrived")


async def test_snooze_into_rest_hours_takes_the_offered_time(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _highlight(pilot, 1)
        await pilot.press("z")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, SnoozeForm)
        await pilot.press(*"21:30", "tab", *"Customer asked for the evening", "ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "rest hours" in str(form.query_one("#err-until").render())
        assert _visible(form, "#open-time")
        with Session(engine) as s:  # the snooze was undone with the warning
            assert s.get(Callback, 1).snooze_reason is None
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert form.query_one("#f-until").value == "2026-11-24 09:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        cb = s.get(Callback, 1)
        events = s.exec(select(CallbackEvent).where(CallbackEvent.callback_id == 1)).all()
    assert cb.due_at.replace(tzinfo=UTC) == TOMORROW_9
    assert cb.snooze_reason == "Customer asked for the evening"
    assert [e.action for e in events] == ["snooze"]


async def test_unsatisfied_answer_opens_the_complaint_form_prefilled(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _start(pilot, 1)  # Wang Fang's satisfaction callback
        assert screen.state.script.id == "callback"
        await pilot.press("f2")  # opening -> satisfaction
        await settle(pilot)
        await choose(pilot, "unsatisfied")
        await pilot.press("tab")
        await choose(pilot, "2")  # the score
        await pilot.press("f2")
        await settle(pilot)
        assert screen.state.stage.id == "improve"
        await pilot.press(*"Technician came late twice")
        await pilot.press("f2")  # going on opens the complaint with the customer's words
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ComplaintForm)
        said = form.query_one("#f-what_happened", TextArea).text
        assert said.startswith("Technician came late twice\n")
        assert "Washer repair follow-up" in said
        await pilot.press("tab", *"An apology and a new date", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert screen.state.stage.id == "close_unsatisfied"
        await pilot.press("f2")  # -> wrap-up: no second complaint form
        await settle(pilot)
        assert app.screen is screen and screen.state.in_wrapup
        assert screen.state.outcome == "complaint_opened"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        complaint = s.exec(select(Complaint)).one()
        call = s.get(Call, complaint.call_id)
        callback = s.get(Callback, 1)
    assert complaint.what_happened == said
    assert complaint.customer_wants == "An apology and a new date"
    assert complaint.customer_id == world["fang"] and call.callback_id == 1
    assert (callback.status, callback.score, call.outcome) == ("done", 2, "complaint_opened")


async def test_esc_on_the_offered_complaint_keeps_the_call_going(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _start(pilot, 1)
        await pilot.press("f2")
        await settle(pilot)
        await choose(pilot, "so-so")
        await pilot.press("tab")
        await choose(pilot, "3")  # the score
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*"Slow to answer the phone", "f2")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintForm)
        await pilot.press("escape")  # the customer does not want a complaint
        await settle(pilot)
        assert app.screen is screen and screen.state.stage.id == "close_unsatisfied"
        await pilot.press("f2")
        await settle(pilot)
        assert screen.state.outcome == "resolved"
    assert _count(engine, Complaint) == 0


async def test_a_birthday_callback_greets_and_asks_no_score(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _start(pilot, 2)  # 张敏's birthday greeting
        assert screen.state.script.id == "callback_birthday"
        seen: list[str] = []
        while not screen.state.in_wrapup:
            stage = screen.state.stage
            seen.append(stage.id)
            assert all(f.type != "score" for f in stage.fields)
            if stage.id == "wishes":
                await choose(pilot, "pleased")
            await pilot.press("f2")
            await settle(pilot)
        assert seen == ["opening", "wishes", "offer", "closing"]
        assert not screen.query(Select).filter("#sf-score")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        cb = s.get(Callback, 2)
        call = s.exec(select(Call).where(Call.callback_id == 2)).one()
    assert (cb.status, cb.score, call.satisfaction, call.script) == (
        "done",
        None,
        None,
        "callback_birthday",
    )


async def test_a_joint_care_call_from_the_callbacks_view_settles_them_all(
    make_seat, engine, world
):
    # 张敏's birthday greeting (#2, in two hours), a holiday greeting later today and a
    # routine call overdue since yesterday: one call, one script, one outcome.
    with Session(engine) as s:
        for kind, hours in (("holiday", 5), ("routine", -20)):
            s.add(Callback(customer_id=world["min"], owner_id=world["li"], kind=kind,
                           reason=f"{kind} care", due_at=NOW + timedelta(hours=hours),
                           created_at=NOW - timedelta(days=3)))  # fmt: skip
        s.commit()
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, CallbacksScreen)
        await pilot.press("2")  # the to-do list
        await settle(pilot)
        for __ in range(view.query_one("#cbv-todo").row_count):
            if view._highlighted() == 2:
                break
            await pilot.press("down")
        assert view._highlighted() == 2
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen) and screen.state.callback_id == 2
        assert screen.state.script.id == "callback_birthday+holiday+routine"
        seen: list[str] = []
        while not screen.state.in_wrapup:
            stage = screen.state.stage
            seen.append(stage.id)
            for f in stage.fields:
                if f.required:
                    await choose(pilot, f.choice_label(f.choices[0]), select=f"#sf-{f.id}")
            await pilot.press("f2")
            await settle(pilot)
        assert seen == [
            "opening", "wishes", "offer", "holiday_wishes", "help", "check_in",
            "routine_help", "closing",
        ]  # fmt: skip
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        mine = s.exec(select(Callback).where(Callback.customer_id == world["min"])).all()
        made = s.exec(select(Call).where(Call.customer_id == world["min"])).all()
    assert sorted(cb.kind for cb in mine) == ["birthday", "holiday", "routine"]
    assert {cb.status for cb in mine} == {"done"}
    assert [(c.callback_id, c.script) for c in made] == [(2, "callback_birthday+holiday+routine")]


# -- snapshots (plain tests: snap_compare runs its own event loop) ------------------------------


@pytest.fixture
def in_language(request):
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language("en")


@pytest.mark.parametrize("in_language", ["en", "zh_CN"], indirect=True)
def test_rest_hours_warning_at_80x24(snap_compare, make_seat, world, in_language):
    """The message wraps at the field (CJK too) and the offered time's button is in view."""

    async def run_before(pilot):
        await freeze(pilot)
        await pilot.press("n")
        await freeze(pilot)
        await pilot.press(*"13800138000", "enter")
        await freeze(pilot)
        await pilot.press("f5")
        await freeze(pilot)
        await pilot.press(*"22:00", "tab", *"Check the part arrived", "ctrl+s")
        await freeze(pilot)

    assert snap_compare(make_seat(), terminal_size=SIZE, run_before=run_before)
