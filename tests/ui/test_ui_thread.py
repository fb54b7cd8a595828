"""The UI thread never waits on the database (issue 14, item 10): a guard for every screen.

Every connection the seat takes from its engine is recorded with the thread that took it. Each
test drives screens by keys (open, page, move, act, close) and fails when a connection was
taken on the UI thread, naming the seat frame that asked. Only the sign-in at start (before
the desk shows) and leaving at exit are outside the walk; nothing is allow-listed inside it.
Pure helpers (desk.now(), desk.local(), desk.settings, display_phone) open no connection and
are not counted.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select
from sqlmodel import Session

from seat.models import Complaint, WorkOrder
from seat.screens.calls.call import CallScreen
from seat.screens.calls.customer_edit import CustomerEditScreen
from seat.widgets.sidebar import Sidebar
from tests.ui.helpers import floor, settle

SIZE = (80, 24)


class UiThreadGuard:
    """Records each connection the engine hands out on the UI thread while armed."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.ui_thread: int | None = None
        self.hits: list[str] = []
        self.worker_connects = 0

    def _connected(self, conn, *args) -> None:
        if self.ui_thread is None:
            return
        if threading.get_ident() != self.ui_thread:
            self.worker_connects += 1
            return
        frames = [
            f"{f.filename.split('/seat/', 1)[-1]}:{f.lineno} {f.name}"
            for f in traceback.extract_stack()
            if "/seat/" in f.filename and "/tests/" not in f.filename
        ]
        self.hits.append(" <- ".join(reversed(frames[-6:])))

    def arm(self) -> None:
        """From now on: the calling thread is the UI thread (the app's event loop)."""
        self.ui_thread = threading.get_ident()
        self.hits.clear()

    def disarm(self) -> list[str]:
        self.ui_thread = None
        return list(self.hits)


@pytest.fixture
def guard(engine) -> Iterator[UiThreadGuard]:
    g = UiThreadGuard(engine)
    event.listen(engine, "engine_connect", g._connected)
    yield g
    event.remove(engine, "engine_connect", g._connected)


@pytest.fixture
def ids(engine) -> dict[str, int]:
    return floor(engine)


async def walk(pilot, guard: UiThreadGuard, *steps) -> list[str]:
    """Arm the guard, play the steps (key strings or coroutine functions), settle after each."""
    await settle(pilot)
    guard.arm()
    for step in steps:
        if isinstance(step, str):
            await pilot.press(*step.split(" "))
        else:
            await step(pilot)
        await settle(pilot)
    return guard.disarm()


def first(engine, model, **where) -> int:
    with Session(engine) as s:
        stmt = select(model.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return s.execute(stmt.order_by(model.id).limit(1)).scalar_one()


async def test_desk_and_sidebar_choices(make_seat, guard, ids, engine):
    from seat.models import Callback

    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        cb = first(engine, Callback, customer_id=ids["amy"])

        async def choose_callback(pilot) -> None:
            pilot.app.screen.post_message(Sidebar.CallbackChosen(cb, ids["amy"]))

        hits = await walk(pilot, guard, "r", choose_callback)
        assert hits == [], "\n".join(hits)
        assert isinstance(app.screen, CallScreen)  # the callback's call opened


async def test_call_screen_edit_customer_and_work_order(make_seat, guard, ids):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        hits = await walk(pilot, guard, "f9", "escape", "f5", "escape", "f6", "escape")
        assert isinstance(app.screen, CallScreen)
        assert hits == [], "\n".join(hits)


async def test_complaint_page_and_moves(make_seat, guard, ids, engine):
    app = make_seat("zhao.lei")
    async with app.run_test(size=SIZE) as pilot:
        cid = ids["complaint2"]

        async def open_complaint(pilot) -> None:
            pilot.app.screen.post_message(Sidebar.ComplaintChosen(cid))

        hits = await walk(
            pilot, guard, "c", "a", "right_square_bracket", "escape", open_complaint,
            "r", "e", "escape", "i", "escape", "w", "escape", "escape",
        )  # fmt: skip
        assert hits == [], "\n".join(hits)
        with Session(engine) as s:
            assert s.get(Complaint, cid) is not None


async def test_work_order_page_and_actions(make_seat, guard, ids, engine):
    app = make_seat("zhao.lei")
    async with app.run_test(size=SIZE) as pilot:
        wo = first(engine, WorkOrder)
        with Session(engine) as s:
            urgent_before = s.get(WorkOrder, wo).urgent

        async def open_order(pilot) -> None:
            pilot.app.screen.post_message(Sidebar.WorkOrderChosen(wo))

        hits = await walk(
            pilot, guard, "w", "s", "f", "escape", "right_square_bracket", "escape",
            open_order, "u", "g", "escape", "escape",
        )  # fmt: skip
        assert hits == [], "\n".join(hits)
        with Session(engine) as s:
            assert s.get(WorkOrder, wo).urgent is not urgent_before  # u went through


async def test_find_customer_and_edit(make_seat, guard, ids):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        hits = await walk(pilot, guard, "f", " ".join("13800138000") + " enter", "f9")
        assert isinstance(app.screen, CustomerEditScreen)
        hits += await walk(pilot, guard, "escape", "escape")
        assert hits == [], "\n".join(hits)


def expect(name: str):
    """A walk step: the screen on top is now `name` (a form really opened)."""

    async def check(pilot) -> None:
        assert type(pilot.app.screen).__name__ == name

    return check


async def names_its_callback(pilot) -> None:
    """The snooze form's first line, read in a worker, names the callback's customer."""
    line = str(pilot.app.screen.query_one("#snooze-what").render())
    assert " · " in line and "due" in line, line


async def test_forms_opened_from_lists_and_boards(make_seat, guard, ids):
    app = make_seat("zhao.lei")
    async with app.run_test(size=SIZE) as pilot:
        hits = await walk(
            pilot, guard,
            "b", "2", "a", expect("ReassignForm"), "escape",  # callbacks view: reassign,
            "z", expect("SnoozeForm"), names_its_callback, "escape",  # snooze,
            "g", "escape",  # schedule now
            "p", "f", expect("PlanForm"), "escape", "escape",  # work plan: choose
            "v", "3", "r", expect("ReassignForm"), "escape",  # wallboard: a callback
            "4", "r", expect("ReassignForm"), "escape",  # wallboard: an order
            "1", "enter", expect("AgentQueueScreen"), "f5", "escape", "escape",
        )  # fmt: skip
        assert hits == [], "\n".join(hits)


@pytest.mark.parametrize(
    "keys",
    [
        ("b", "right_square_bracket", "p", "r", "escape"),  # callbacks view
        ("p", "right_square_bracket", "t", "m", "r", "escape"),  # work plan
        ("t", "left_square_bracket", "ctrl+r", "escape"),  # complaint statistics
        ("g", "m", "d", "left_square_bracket", "ctrl+r", "escape"),  # trends
        ("v", "right", "right_square_bracket", "f5", "right", "f5", "escape"),  # wallboard
    ],
    ids=["callbacks", "workplan", "complaint-stats", "trends", "wallboard"],
)
async def test_lists_and_boards(make_seat, guard, ids, keys):
    app = make_seat("zhao.lei")
    async with app.run_test(size=SIZE) as pilot:
        hits = await walk(pilot, guard, *keys)
        assert hits == [], "\n".join(hits)
        assert guard.worker_connects > 0  # the screens did read the database, in workers


async def test_the_guard_sees_a_call_on_the_ui_thread(make_seat, guard, ids):
    """The guard itself: a desk read on the UI thread is caught and named."""
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:

        async def read_here(pilot) -> None:
            pilot.app.desk.agents()

        hits = await walk(pilot, guard, read_here)
        assert any("services.py" in h and "agents" in h for h in hits), hits
