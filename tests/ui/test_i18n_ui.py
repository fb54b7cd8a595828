"""The seat in Simplified Chinese: no English left on the main screens, and snapshots at 80x24.

The scan reads every cell of the screen and fails on an ASCII word of three letters or more
that is not a key name, a code or a value stored in the database: that is a string in the code
that never went through `_()` (or a msgid the catalogue lacks).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from seat import agents, complaints, i18n, workorders
from seat.models import Customer
from seat.workorders import LineIn
from tests.conftest import NOW
from tests.ui.helpers import choose, freeze
from tests.ui.screen_checks import POLICY, stray_english

PENDING_SIDEBAR_CALLBACKS = False
"""The callback entries of the sidebar (seat/widgets/callback_items.py, and the callback
screens of seat/screens/callbacks/view.py) are not translated yet: the scan runs with them left
out. Set to False once that file is translated."""


@pytest.fixture(autouse=True)
def chinese():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


@pytest.fixture
def no_callback_entries(monkeypatch):
    if PENDING_SIDEBAR_CALLBACKS:
        monkeypatch.setattr("seat.widgets.sidebar.callback_options", lambda *a, **k: [])


@pytest.fixture
def cases(engine, world) -> dict[str, int]:
    """Wang Fang prefers Chinese; a complaint mid-way, a full work order with a history."""
    with Session(engine, expire_on_commit=False) as s:
        s.get(Customer, world["fang"]).language = "zh_CN"
        boss = agents.ensure_agent(
            session=s, name="zhao.lei", display_name="Zhao Lei", role="supervisor"
        ).id
        li = world["li"]
        start = NOW - timedelta(hours=20)
        c = complaints.create_complaint(
            session=s, now=start, customer_id=world["fang"], owner_id=li,
            what_happened="Sofa cover torn on delivery", customer_wants="A new cover",
        )  # fmt: skip
        common = dict(session=s, complaint_id=c.id, actor_id=li)
        complaints.accept(
            **common, now=start + timedelta(hours=1), department="Logistics",
            category="delivery", policy=POLICY, reply_text="Logistics calls you tomorrow",
        )  # fmt: skip
        complaints.investigate(
            **common, now=start + timedelta(hours=3), cause="delivery_damage",
            responsible_person="Sun Hao", department="Logistics", policy=POLICY,
            comment="Driver folded the sofa",
        )  # fmt: skip
        complaints.propose(**common, now=start + timedelta(hours=5),
                           solution_options="Send a new cover\nRefund part")  # fmt: skip
        complaints.send_back(
            session=s, complaint_id=c.id, actor_id=boss, now=start + timedelta(hours=6),
            comment="Add a cleaning visit",
        )  # fmt: skip
        wo = workorders.create_order(
            session=s, now=NOW, customer_id=world["fang"], created_by_id=world["wang"],
            draft=workorders.WorkOrderDraft(
                kind="service_request", short_text="Washer leaks", reporter="Wang Fang",
                assignee_id=li, due_at=NOW + timedelta(hours=6), urgent=True,
                long_text="Water under the machine", service_type="paid", sales_order_no="SO-42",
                requested_start=NOW + timedelta(hours=1), work_center="SH-REPAIR",
                product_type="washer", product_colour="white", reason_code="Q01",
                lines=(LineIn("door seal", 1),), quote_amount=380.0,
            ),
        )  # fmt: skip
        workorders.move(session=s, now=NOW + timedelta(minutes=5), work_order_id=wo.id,
                        agent_id=li, action="survey", comment="Seal worn out")  # fmt: skip
        s.commit()
        return {"complaint": c.id, "order": wo.id}


async def _call(pilot, stage: int) -> None:
    await pilot.press("n")
    await freeze(pilot)
    if stage < 0:
        return
    await pilot.press(*"13800138000", "enter")
    await freeze(pilot)
    for step in range(stage):
        if step == 1:  # need discovery: choose the category, say what is wrong
            await choose(pilot, "报修")  # repair
            await pilot.press("tab", *"Washer leaks")
        await pilot.press("f2")
        await freeze(pilot)


async def _push(pilot, make) -> None:
    pilot.app.push_screen(make(pilot))
    await freeze(pilot)


def _complaint(pilot):
    from seat.screens.complaints.complaint import ComplaintScreen

    return ComplaintScreen(pilot.app._cases["complaint"])


def _order(pilot):
    from seat.screens.work_orders.work_order import WorkOrderScreen

    return WorkOrderScreen(pilot.app._cases["order"])


async def _keys(pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await freeze(pilot)


SCREENS = {
    "desk": lambda p: freeze(p),
    "call number": lambda p: _call(p, -1),
    "call greeting": lambda p: _call(p, 0),
    "call discovery": lambda p: _call(p, 1),
    "call resolution": lambda p: _call(p, 2),
    "call closing": lambda p: _call(p, 3),
    "call wrap-up": lambda p: _call(p, 4),
    "callback form": lambda p: _call_then(p, "f5"),
    "work order form": lambda p: _call_then(p, "f6"),
    "complaint form": lambda p: _call_then(p, "f7"),
    "new customer form": lambda p: _new_customer(p),
    "complaint list": lambda p: _keys(p, "c"),
    "complaint case": lambda p: _push(p, _complaint),
    "complaint move form": lambda p: _complaint_then(p, "p"),
    "complaint statistics": lambda p: _keys(p, "t"),
    "work order list": lambda p: _keys(p, "w"),
    "work order filters": lambda p: _keys(p, "w", "f"),
    "work order detail": lambda p: _push(p, _order),
    "work order step form": lambda p: _order_then(p, "a"),
    "work plan": lambda p: _keys(p, "p"),
    "command palette": lambda p: _keys(p, "ctrl+p"),
    "customer edit form": lambda p: _call_then(p, "f9"),
    "found customer": lambda p: _keys(p, "f", *"13800138000", "enter"),
    "reveal dialog": lambda p: _keys(p, "f", *"13800138000", "enter", "ctrl+r"),
    "callbacks coverage": lambda p: _keys(p, "b"),
    "callbacks to-do": lambda p: _keys(p, "b", "2"),
    "wallboard agents": lambda p: _keys(p, "v"),
    "wallboard complaints": lambda p: _keys(p, "v", "2"),
    "wallboard callbacks": lambda p: _keys(p, "v", "3"),
    "wallboard orders": lambda p: _keys(p, "v", "4"),
    "trends": lambda p: _keys(p, "g"),
    "trends complaints by week": lambda p: _keys(p, "g", "2", "d"),
}
SUPERVISOR_SCREENS = {"work order step form", "wallboard agents", "wallboard complaints",
                      "wallboard callbacks", "wallboard orders"}  # fmt: skip


async def _call_then(pilot, key: str) -> None:
    await _call(pilot, 0)
    await _keys(pilot, key)


async def _new_customer(pilot) -> None:
    await pilot.press("n")
    await freeze(pilot)
    await _keys(pilot, *"13311112222", "enter")


async def _complaint_then(pilot, key: str) -> None:
    await _push(pilot, _complaint)
    await _keys(pilot, key)


async def _order_then(pilot, key: str) -> None:
    await _push(pilot, _order)
    await _keys(pilot, key)


@pytest.mark.parametrize("where", list(SCREENS))
async def test_no_english_left(make_seat, engine, cases, where, no_callback_entries):
    app = make_seat(agent="zhao.lei") if where in SUPERVISOR_SCREENS else make_seat()
    app._cases = cases
    async with app.run_test(size=(80, 24)) as pilot:
        await freeze(pilot)
        await SCREENS[where](pilot)
        assert where == "desk" or type(app.screen).__name__ != "DeskScreen", "never got there"
        found = stray_english(app, engine)
        assert not found, "\n".join(found)


async def test_the_scan_finds_an_unwrapped_string(make_seat, engine, cases, no_callback_entries):
    """The check itself: an English label on a Chinese screen is reported."""
    from textual.widgets import Label

    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await freeze(pilot)
        await app.screen.mount(Label("Press here to continue"))
        await freeze(pilot)
        found = stray_english(app, engine)
        assert any("'Press'" in f for f in found) and any("'continue'" in f for f in found)


async def test_footer_and_palette_are_translated(make_seat, world):
    from textual.widgets import Footer

    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await freeze(pilot)
        keys = {k.key: k.description for k in app.screen.query_one(Footer).children}
        assert keys["n"] == "接听" and keys["q"] == "退出" and keys["ctrl+p"] == "命令面板"
        active = app.screen.active_bindings
        assert active["f"].binding.tooltip == "按姓名、地址、客户编号、订单号或电话查找客户"
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "接听 (n / f2)" in titles and "退出" in titles and "主题" in titles
    i18n.set_language("en")
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await freeze(pilot)
        keys = {k.key: k.description for k in app.screen.query_one(Footer).children}
        assert keys["n"] == "Take call"  # the same app class, back in English



async def test_an_open_menu_footer_is_translated(make_seat, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await freeze(pilot)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("tab", "enter")  # the category's menu opens: what the footer reads
        await pilot.pause()
        assert app.screen.active_bindings["escape"].binding.description == "收起菜单"

# -- snapshots (plain tests: snap_compare runs its own event loop) --------------------------------


def test_desk_in_chinese(snap_compare, make_seat, cases):
    assert snap_compare(make_seat(), terminal_size=(80, 24), run_before=freeze)


def test_call_in_chinese(snap_compare, make_seat, cases):
    async def run_before(pilot):
        await freeze(pilot)
        await _call(pilot, 0)  # greeting: the stage fits without scrolling (no timing)

    assert snap_compare(make_seat(), terminal_size=(80, 24), run_before=run_before)


def test_call_wrapup_in_chinese(snap_compare, make_seat, cases):
    async def run_before(pilot):
        await freeze(pilot)
        await _call(pilot, 4)

    assert snap_compare(make_seat(), terminal_size=(80, 24), run_before=run_before)
