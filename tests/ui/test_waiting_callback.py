"""A callback waiting for the customer's window: Enter on it warns, and never crashes the seat.

The sidebar once bound `_` as a throwaway (`kind, _, rest = oid.partition(":")`), so the
warning's `_("…")` called a string: 'str' object is not callable, and the seat exited.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, func, select

from seat import i18n
from seat.models import Call, Callback
from seat.screens.desk import DeskScreen
from seat.widgets.callback_items import WAITING_TOGGLE
from tests.conftest import NOW
from tests.ui.helpers import settle


def add_waiting_callback(engine, world) -> int:
    """Tom Baker is in London: 02:00 there at the fixed clock, inside his rest hours."""
    with Session(engine) as s:
        cb = Callback(
            customer_id=world["tom"], owner_id=world["li"], reason="Dryer noisy follow-up",
            kind="satisfaction", due_at=NOW - timedelta(minutes=10),
            created_at=NOW - timedelta(days=1),
        )  # fmt: skip
        s.add(cb)
        s.commit()
        return cb.id


def option_ids(options) -> list[str | None]:
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


def calls(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Call)).one()


async def _enter_on_waiting(make_seat, engine, world) -> list[str]:
    cb_id = add_waiting_callback(engine, world)
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        options = app.screen.query_one("#sidebar-list")
        wanted = f"cbw:{cb_id}:{world['tom']}"
        for __ in range(3 * options.option_count):
            now = options.highlighted_option.id if options.highlighted_option else None
            if now == wanted:
                break
            if now == WAITING_TOGGLE and wanted not in option_ids(options):
                await pilot.press("enter")  # the waiting group is one line until expanded
                await settle(pilot)
            await pilot.press("down")
        assert options.highlighted_option.id == wanted
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)  # still running, no call started
        messages = [n.message for n in app._notifications]
    assert calls(engine) == 0
    return messages


async def test_enter_on_a_waiting_callback_warns(make_seat, engine, world):
    messages = await _enter_on_waiting(make_seat, engine, world)
    assert any("inside their rest hours" in m for m in messages), messages


async def test_enter_on_a_waiting_callback_warns_in_chinese(make_seat, engine, world):
    i18n.set_language("zh_CN")
    warning = i18n._(
        "The customer is inside their rest hours: wait for the window (or z snoozes)."
    )
    assert warning.isascii() is False  # the warning is translated
    messages = await _enter_on_waiting(make_seat, engine, world)
    assert warning in messages
