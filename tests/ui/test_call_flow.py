"""Whole calls driven by key presses, then read back from the database."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace

from sqlmodel import Session, select

from seat.app import make_app
from seat.models import Call, Callback, Complaint, Customer, PhoneNumber, WorkOrder
from seat.screens.calls.call import CallScreen
from seat.screens.calls.customer_form import NewCustomerScreen
from seat.screens.desk import DeskScreen
from tests.ui.helpers import choose, settle


async def test_known_caller_whole_call(make_seat, engine, clock, world):
    app = make_seat()
    posted = []
    async with app.run_test(size=(100, 34), message_hook=posted.append) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        # Typed with a national format, dashes and spaces.
        await pilot.press(*"138-0013 8000", "enter")
        await settle(pilot)
        screen = app.screen
        assert screen.state.customer_id == world["fang"]
        card = screen.query_one("#card")
        assert "Wang Fang" in card.border_title
        assert "VIP level 1" in str(card.render())
        clock.advance(seconds=15)
        await pilot.press("f2")  # -> need discovery
        await settle(pilot)
        assert screen.state.stage.phase == "discovery"
        await choose(pilot, "repair")
        await pilot.press("tab", *"Washer leaks again")
        clock.advance(seconds=60)
        await pilot.press("f2")  # -> resolution
        await settle(pilot)
        assert screen.state.stage.phase == "resolution"

        await pilot.press("f5")  # callback
        await settle(pilot)
        # +1h: 11:00, outside the customer's rest hours (12:00 would ask about the time).
        await pilot.press(*"+1h", "tab", *"Confirm the technician's visit", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen

        await pilot.press("f6")  # work order
        await settle(pilot)
        await pilot.press("tab", *"Washer leaks from the door", "tab")
        await choose(pilot, "Wang Wei")
        await pilot.press("tab", "space", "tab", *"+1d", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen

        await pilot.press("f7")  # complaint
        await settle(pilot)
        await pilot.press(*"Third leak in a month", "tab", *"A new washer", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen

        clock.advance(seconds=90)
        await pilot.press("f2")  # -> closing
        await settle(pilot)
        assert screen.state.stage.phase == "closing"
        clock.advance(seconds=20)
        await pilot.press("f2")  # -> wrap-up
        await settle(pilot)
        assert screen.state.in_wrapup
        assert screen.state.outcome == "complaint_opened"  # suggested from what was created
        await pilot.press("tab", *"Customer upset; promised callback")
        clock.advance(seconds=30)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)

    assert any(isinstance(m, CallScreen.Saved) for m in posted)
    with Session(engine) as s:
        calls = s.exec(select(Call)).all()
        assert len(calls) == 1
        call = calls[0]
        assert call.customer_id == world["fang"]
        assert call.agent_id == world["li"]
        assert call.from_number == "+8613800138000"
        stamps = [call.greeting_at, call.discovery_at, call.resolution_at, call.closing_at,
                  call.wrapup_at, call.ended_at]
        assert all(stamps)
        assert stamps == sorted(stamps)
        assert call.started_at == call.greeting_at
        assert (call.discovery_at - call.greeting_at).total_seconds() == 15
        assert call.need_category == "repair"
        assert call.outcome == "complaint_opened"
        assert "Customer upset; promised callback" in call.notes
        assert "Washer leaks again" in call.notes

        cb = s.exec(select(Callback).where(Callback.call_id == call.id)).one()
        assert cb.customer_id == world["fang"] and cb.owner_id == world["li"]
        assert (cb.due_at - call.started_at).total_seconds() > 3600
        wo = s.exec(select(WorkOrder).where(WorkOrder.call_id == call.id)).one()
        assert wo.short_text == "Washer leaks from the door"
        assert wo.assignee_id == world["wang"]
        assert wo.urgent is True
        assert wo.reporter == "Wang Fang"
        assert wo.service_address == "88 Nanjing Rd, Shanghai"
        complaint = s.exec(select(Complaint).where(Complaint.call_id == call.id)).one()
        assert complaint.owner_id == world["li"]
        assert complaint.customer_wants == "A new washer"


async def test_unknown_caller_registered_during_call(make_seat, engine, clock, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"0086 139 8765 4321", "enter")
        await settle(pilot)
        assert isinstance(app.screen, NewCustomerScreen)
        assert app.screen.value("phone") == "139 8765 4321"
        await pilot.press(*"Li Lei", "ctrl+s")
        await settle(pilot)
        call_screen = app.screen
        assert isinstance(call_screen, CallScreen)
        assert call_screen.state.customer_id is not None
        await pilot.press("f2")
        await settle(pilot)
        await choose(pilot, "inquiry")
        for __ in range(3):
            await pilot.press("f2")
            await settle(pilot)
        assert call_screen.state.in_wrapup
        assert call_screen.state.outcome == "resolved"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)

    with Session(engine) as s:
        phone = s.exec(select(PhoneNumber).where(PhoneNumber.e164 == "+8613987654321")).one()
        customer = s.get(Customer, phone.customer_id)
        assert customer.name == "Li Lei" and customer.tier == "ordinary"
        call = s.exec(select(Call)).one()
        assert call.customer_id == customer.id
        assert call.need_category == "inquiry" and call.outcome == "resolved"


async def test_invalid_number_is_refused_at_the_field(make_seat, engine, world):
    app = make_seat()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"12ab", "enter")
        await settle(pilot)
        error = app.screen.query_one("#number-error")
        assert "digits" in str(error.render())
        assert error.display
        await pilot.press("end", *["backspace"] * 4, *"123", "enter")
        await settle(pilot)
        assert "Too short" in str(app.screen.query_one("#number-error").render())
        assert app.screen.query_one("#number").value == "123"  # the typing is kept
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        assert s.exec(select(Call)).all() == []


async def test_required_need_blocks_the_next_stage(make_seat, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)  # the lookup first
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert screen.state.stage.id == "discovery"
        assert "Need is required." in str(screen.query_one("#se-need_category").render())


async def test_callback_in_the_past_is_refused_and_nothing_saved(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)  # the lookup first: F5 is for a known caller
        await pilot.press("f5")
        await settle(pilot)
        form = app.screen
        assert type(form).__name__ != "CallScreen", "F5 opened no callback form"
        await pilot.press(*"2020-01-01 10:00", "tab", *"Call about the quote", "ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "past" in str(form.query_one("#err-due_at").render())
        assert form.value("reason") == "Call about the quote"
        await pilot.press("escape")
        await settle(pilot)
        # Empty reason and empty due time: both named.
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "required" in str(app.screen.query_one("#err-reason").render())
    with Session(engine) as s:
        assert s.exec(select(Callback).where(Callback.call_id.is_not(None))).all() == []
        assert s.exec(select(Call)).all() == []


async def test_abandon_refused_once_work_was_created(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter", "f7")
        await settle(pilot)
        await pilot.press(*"Rude technician", "tab", *"An apology", "ctrl+s")
        await settle(pilot)
        screen = app.screen
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen  # still on the call: the complaint needs its call logged
    with Session(engine) as s:
        complaint = s.exec(select(Complaint)).one()
        assert s.get(Call, complaint.call_id) is not None


async def test_enter_on_a_last_call_plays_its_recording(settings, clock, engine, world, tmp_path):
    """A call the phone system recorded (seat cti serve's hangup): Enter on it in the desk's
    last calls starts the configured player with the recording as one argument."""
    with Session(engine) as s:
        s.add(Call(agent_id=world["li"], customer_id=world["fang"], started_at=clock.now(),
                   ended_at=clock.now(), need_category="inquiry", outcome="resolved",
                   call_ref="pbx-1", recording="https://pbx/rec/pbx-1.wav"))  # fmt: skip
        s.commit()
    script = tmp_path / "player.py"
    script.write_text(
        "import json, sys, pathlib\n"
        "pathlib.Path(sys.argv[1]).write_text(json.dumps(sys.argv[2:]))\n"
    )
    out = tmp_path / "played.json"
    playing = replace(settings, recording_command=(sys.executable, str(script), str(out),
                                                   "{recording}"))  # fmt: skip
    app = make_app(settings=playing, clock=clock, agent="li.na", engine=engine)
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        app.screen.query_one("#recent").focus()
        await pilot.press("enter")
        await settle(pilot)
    for __ in range(600):  # the player runs on its own
        if out.exists():
            break
        time.sleep(0.05)
    assert json.loads(out.read_text()) == ["https://pbx/rec/pbx-1.wav"]


async def _to_wrapup(pilot):
    """A call taken on the desk walked by keys to its wrap-up (need: inquiry): its screen."""
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*"138-0013 8000", "enter")
    await settle(pilot)
    screen = pilot.app.screen
    await pilot.press("f2")
    await settle(pilot)
    await choose(pilot, "inquiry")
    for __ in range(3):
        await pilot.press("f2")
        await settle(pilot)
    return screen


async def _saved_call(pilot, engine) -> Call:
    """ctrl+s on the wrap-up, back on the desk: the one call saved, read from the database."""
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DeskScreen)
    with Session(engine) as s:
        return s.exec(select(Call)).one()


async def test_notes_typed_on_the_wrapup_outcome_are_kept(make_seat, engine, world):
    """The wrap-up opens on its outcome, already suggested: an agent who starts typing the
    notes at once (without tab) types into the notes, not into the closed list."""
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _to_wrapup(pilot)
        assert screen.state.in_wrapup and screen.state.outcome == "resolved"
        assert screen.focused is screen.query_one("#outcome")
        await pilot.press(*"Asked about hours")
        await settle(pilot)
        assert screen.query_one("#notes").text == "Asked about hours"
        assert screen.state.outcome == "resolved"
        call = await _saved_call(pilot, engine)
    assert "Asked about hours" in call.notes and call.outcome == "resolved"


async def test_notes_typed_in_one_burst_on_the_wrapup_outcome_keep_their_spaces(
    make_seat, engine, world
):
    """Keys that arrive together (a fast typist, a terminal's paste) reach the outcome list
    before the notes take the focus: the spaces among them go to the notes too, not to the
    list (driven by hand: "a b  c" was saved as "abc")."""
    from textual import events

    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _to_wrapup(pilot)
        assert screen.focused is screen.query_one("#outcome")
        typed = "Asked  about hours, 9 to 5"
        for character in typed:  # queued at once, as a terminal delivers a burst
            key = "space" if character == " " else "comma" if character == "," else character
            app.post_message(events.Key(key, character))
        await settle(pilot)
        assert screen.query_one("#notes").text == typed
        assert screen.state.outcome == "resolved"
        call = await _saved_call(pilot, engine)
    assert typed in call.notes and call.outcome == "resolved"


async def test_notes_pasted_on_the_wrapup_outcome_are_kept(make_seat, engine, world):
    """A paste on the wrap-up's outcome (a list takes no text) goes into the notes."""
    from textual import events

    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _to_wrapup(pilot)
        assert screen.focused is screen.query_one("#outcome")
        screen.query_one("#outcome").post_message(events.Paste("Order 4411\nasked  twice"))
        await settle(pilot)
        await pilot.press(*" ok")
        await settle(pilot)
        assert screen.query_one("#notes").text == "Order 4411\nasked  twice ok"
        call = await _saved_call(pilot, engine)
    assert "Order 4411\nasked  twice ok" in call.notes and call.outcome == "resolved"
