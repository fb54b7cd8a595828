"""The sidebar puts urgent work first at 80x24, folds the waiting callbacks into one line,
and the callbacks view starts a To do callback on Enter (issue 14: 3)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from seat import complaints
from seat.customers import create_customer
from seat.models import Callback
from seat.screens.callbacks.view import CallbacksScreen
from seat.screens.calls.call import CallScreen
from seat.screens.desk import DeskScreen
from tests.conftest import NOW
from tests.ui.helpers import settle


def option_ids(app) -> list[str]:
    options = app.screen.query_one("#sidebar-list")
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


def _waiting_floor(engine, world, n: int = 55) -> int:
    """`n` overdue callbacks of London customers (asleep at NOW), due before Wang Fang's,
    and one complaint past its reply deadline; returns the complaint's id."""
    with Session(engine, expire_on_commit=False) as s:
        for i in range(n):
            c = create_customer(session=s, now=NOW - timedelta(days=40), name=f"UK {i}",
                                phone_text=f"+44 20 7946 {100 + i:04d}")  # fmt: skip
            s.add(Callback(customer_id=c.id, owner_id=world["li"], kind="manual", reason="x",
                           due_at=NOW - timedelta(days=1, minutes=i),
                           created_at=NOW - timedelta(days=2)))  # fmt: skip
        case = complaints.create_complaint(
            session=s, now=NOW - timedelta(days=3), customer_id=world["min"],
            owner_id=world["li"], what_happened="Washer leaks", customer_wants="A new one",
        )  # fmt: skip
        s.commit()
        return case.id


async def test_sidebar_urgent_first_and_waiting_folded_at_80x24(make_seat, engine, world):
    case = _waiting_floor(engine, world)
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        ids = [i for i in option_ids(app) if i]
        # past deadline (the breached complaint, the late dryer order), then call now,
        # then the open orders by urgency; the 55 waiting callbacks are one line, last
        assert ids[:3] == [f"cp:{case}", "wo:3", f"cb:1:{world['fang']}"]
        assert ids[3:] == ["cb:2:" + str(world["min"]), "wo:2", "wo:1", "cbw-toggle"]
        options = app.screen.query_one("#sidebar-list")
        head = str(options.get_option("cbw-toggle").prompt)
        assert head == "▸ ☾ Waiting 55 · 55 late"
        first = str(options.get_option_at_index(0).prompt)
        assert first == "Past deadline 2"
        headers = [str(o.prompt) for o in options.options if o.disabled]
        assert headers[:2] == ["Past deadline 2", "Call now 1 late · 1 due"]
        options.focus()
        options.highlighted = options.get_option_index("cbw-toggle")
        await pilot.press("enter")
        await settle(pilot)
        waiting = [i for i in option_ids(app) if i and i.startswith("cbw:")]
        assert len(waiting) == 50  # a page of them; the count line keeps the total
        assert str(options.get_option("cbw-toggle").prompt).startswith("▾ ☾ Waiting 55")
        assert options.highlighted == options.get_option_index("cbw-toggle")
        await pilot.press("enter")
        await settle(pilot)
        assert not [i for i in option_ids(app) if i and i.startswith("cbw:")]
        assert isinstance(app.screen, DeskScreen)


async def test_enter_on_a_to_do_row_starts_that_callback(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, CallbacksScreen)
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#cbv-todo")
        keys = [table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)]
        table.move_cursor(row=keys.index("cb:2"))  # 张敏's birthday call, due soon
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        assert screen.state.callback_id == 2 and screen.state.customer_id == world["min"]


async def test_the_palette_offers_starting_a_callback(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        bindings = app.screen.active_bindings.values()
        shown = {b.binding.action: b.binding.description for b in bindings}
        assert shown.get("start") == "Call"
        table = app.screen.query_one("#cbv-todo")
        keys = [table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)]
        table.move_cursor(row=keys.index("cb:1"))  # Wang Fang's, overdue and callable
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen) and app.screen.state.callback_id == 1


async def test_s_highlights_the_most_urgent_item_so_enter_opens_it(make_seat, world):
    """`s` then Enter opens the first item of the queue (before: nothing was highlighted)."""
    from seat.screens.calls.find_customer import WorkOrderScreen

    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        queue = app.screen.query_one("#sidebar-list")
        first = queue.get_option_at_index(queue.highlighted)
        assert first.id == "wo:3"  # the world's late order leads the queue
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkOrderScreen)
