"""A churned member's win-back call by keys at 80x24: the reason chosen on the call is kept
on the callback (a column the member report counts), and only a churn callback keeps one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from seat.models import Call, Callback
from seat.screens.calls.call import CallScreen
from seat.screens.desk import DeskScreen
from seat.widgets.callback_items import sidebar_callback_id
from tests.conftest import NOW
from tests.ui.helpers import choose, settle

SIZE = (80, 24)


def _churn_callback(engine, world: dict[str, int]) -> int:
    """A win-back callback of Wang Fang (VIP, in Shanghai: callable now), due an hour ago."""
    with Session(engine) as s:
        cb = Callback(customer_id=world["fang"], owner_id=world["li"], kind="churned",
                      reason="no purchase since 2026-08-01: ask why",
                      due_at=NOW - timedelta(hours=1), created_at=NOW - timedelta(days=1),
                      source_key=f"churned:{world['fang']}:2026-08-01")  # fmt: skip
        s.add(cb)
        s.commit()
        return cb.id  # type: ignore[return-value]


async def _start(pilot, callback_id: int) -> CallScreen:
    await pilot.press("s")
    for __ in range(30):
        if sidebar_callback_id(pilot.app.screen) == callback_id:
            break
        await pilot.press("down")
    else:
        raise AssertionError(f"callback #{callback_id} is not on the sidebar")
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CallScreen) and screen.state.callback_id == callback_id
    return screen


@pytest.mark.parametrize(
    ("label", "reason"), [("price", "price"), ("product quality", "quality")]
)
async def test_the_win_back_call_records_why_by_keys(make_seat, engine, world, label, reason):
    cb_id = _churn_callback(engine, world)
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _start(pilot, cb_id)
        assert screen.state.script.id == "callback_churned"
        seen: list[str] = []
        while not screen.state.in_wrapup:
            stage = screen.state.stage
            seen.append(stage.id)
            if stage.id == "why":
                await choose(pilot, label)  # the main reason: the stage's first field
                await pilot.press("tab", *"Found it cheaper online")
            elif stage.id == "win_back":
                await choose(pilot, "maybe")
            await pilot.press("f2")
            await settle(pilot)
        assert seen == ["opening", "why", "win_back", "closing"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        cb = s.get(Callback, cb_id)
        call = s.exec(select(Call).where(Call.callback_id == cb_id)).one()
        other = s.get(Callback, 1)  # Wang Fang's satisfaction callback: untouched
    assert (cb.status, cb.churn_reason, cb.score) == ("done", reason, None)
    assert call.script == "callback_churned"
    assert other.churn_reason is None
