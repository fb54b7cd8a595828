"""Checklist items ticked by keys on a call are saved with it, with the time per stage."""

from __future__ import annotations

from sqlmodel import Session, select

from seat.models import Call, CallCheck, CallStage
from seat.screens.calls.call import CallScreen
from tests.ui.helpers import choose, settle


async def test_ticked_items_and_stage_times_are_saved(make_seat, engine, clock, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        assert app.focused.id == "checklist"  # the greeting asks nothing: its checklist
        await pilot.press("space", "down", "down", "space")  # items 1 and 3
        clock.advance(seconds=20)
        await pilot.press("f2")  # -> need discovery
        await settle(pilot)
        await choose(pilot, "repair")
        clock.advance(seconds=40)
        await pilot.press("f3")  # back to the greeting: the ticks are still there
        await settle(pilot)
        assert screen.query_one("#checklist").selected == [0, 2]
        await pilot.press("up", "space")  # untick item 3
        clock.advance(seconds=10)
        await pilot.press("f2", "f2")  # -> discovery -> resolution
        await settle(pilot)
        await pilot.press("space")  # answered on the spot
        clock.advance(seconds=30)
        await pilot.press("f2")  # -> closing
        await settle(pilot)
        clock.advance(seconds=15)
        await pilot.press("f2")  # -> wrap-up
        await settle(pilot)
        clock.advance(seconds=5)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, CallScreen)

    with Session(engine) as s:
        call = s.exec(select(Call)).one()
        stages = s.exec(
            select(CallStage).where(CallStage.call_id == call.id).order_by(CallStage.position)
        ).all()
        assert [(st.stage_id, st.seconds) for st in stages] == [
            ("greeting", 30.0), ("discovery", 40.0), ("resolution", 30.0), ("closing", 15.0),
        ]  # fmt: skip
        ticked = s.exec(
            select(CallCheck.stage_id, CallCheck.item_no)
            .where(CallCheck.call_id == call.id, CallCheck.ticked)
            .order_by(CallCheck.stage_id, CallCheck.item_no)
        ).all()  # fmt: skip
        assert [tuple(t) for t in ticked] == [("greeting", 0), ("resolution", 0)]
