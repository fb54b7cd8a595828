"""Callbacks by keys: start one from the sidebar, answer unsatisfied and open the complaint;
retries and wrong numbers; snooze from the sidebar; the coverage view; reassignment."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from rich.cells import cell_len
from sqlmodel import Session, select

from seat import agents, i18n
from seat.app import make_app
from seat.callbacks import CallbackPolicy, sidebar_callbacks, worklist
from seat.models import Agent, Call, Callback, CallbackEvent, Complaint, Customer, PhoneNumber
from seat.screens.callbacks.view import CallbacksScreen, ReassignForm, SnoozeForm
from seat.screens.calls.call import CallScreen
from seat.screens.calls.forms import ComplaintForm
from seat.screens.desk import DeskScreen
from seat.widgets.callback_items import (
    callable_options,
    callable_prompt,
    parse_option_id,
    waiting_options,
    waiting_prompt,
)
from seat.widgets.lines import WIDTH
from tests.conftest import NOW
from tests.ui.helpers import choose, settle
from tests.ui.screen_checks import misaligned
from tests.unit.helpers import ScriptedOriginate

POLICY = CallbackPolicy()


async def _to_callback(pilot, app, world) -> None:
    """Walk the queue with the arrow keys to Wang Fang's overdue callback."""
    await pilot.press("s")
    options = app.screen.query_one("#sidebar-list")
    target = options.get_option_index(f"cb:1:{world['fang']}")
    for __ in range(20):
        if options.highlighted == target:
            break
        await pilot.press("down")
    assert options.highlighted == target


def _events(s: Session, callback_id: int) -> list[str]:
    rows = s.exec(
        select(CallbackEvent)
        .where(CallbackEvent.callback_id == callback_id)
        .order_by(CallbackEvent.id)
    )
    return [e.action for e in rows]


async def test_unsatisfied_callback_opens_a_linked_complaint(make_seat, engine, clock, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await _to_callback(pilot, app, world)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen) and screen.state.script.id == "callback"
        assert screen.state.callback_id == 1
        await pilot.press("f2")  # opening -> satisfaction
        await settle(pilot)
        await choose(pilot, "unsatisfied")
        await pilot.press("tab")
        await choose(pilot, "2")  # the score
        await pilot.press("f2")
        await settle(pilot)
        assert screen.state.stage.id == "improve"
        await pilot.press(*"Technician came late twice")
        await pilot.press("f7")  # open the complaint from the call
        await settle(pilot)
        assert isinstance(app.screen, ComplaintForm)
        await pilot.press(*"Late twice for the washer repair", "tab", *"An apology and a date")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("f2")  # -> closing (unsatisfied)
        await settle(pilot)
        assert screen.state.stage.id == "close_unsatisfied"
        await pilot.press("f2")  # -> wrap-up
        await settle(pilot)
        assert screen.state.outcome == "complaint_opened"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)

    with Session(engine) as s:
        complaint = s.exec(select(Complaint)).one()
        call = s.get(Call, complaint.call_id)
        callback = s.get(Callback, call.callback_id)
        assert callback.id == 1 and callback.customer_id == world["fang"]
        assert complaint.customer_id == world["fang"]
        assert complaint.what_happened == "Late twice for the washer repair"
        assert (call.direction, call.outcome, call.satisfaction) == (
            "outbound",
            "complaint_opened",
            2,
        )
        assert (callback.status, callback.score, callback.attempts) == ("done", 2, 1)
        assert callback.done_at == NOW
        assert _events(s, 1) == ["attempt"]


async def test_no_answer_then_busy_then_missed(make_seat, engine, clock, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        for tries, outcome in enumerate((None, "busy", None), start=1):
            await _to_callback(pilot, app, world)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("f8")  # nobody answered: straight to wrap-up
            await settle(pilot)
            if outcome:  # else the outcome offered: no answer
                await choose(pilot, outcome)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, DeskScreen)
            with Session(engine) as s:
                cb = s.get(Callback, 1)
                assert cb.attempts == tries
            if tries < 3:
                assert cb.status == "open"
                # Still on the sidebar: the retry is due within the day.
                clock.set(cb.due_at)
                await pilot.press("r")
                await settle(pilot)
        assert cb.status == "missed" and cb.last_outcome == "no_answer"
        ids = [o.id for o in app.screen.query_one("#sidebar-list")._options]
        assert f"cb:1:{world['fang']}" not in ids
    with Session(engine) as s:
        outcomes = [c.outcome for c in s.exec(select(Call).order_by(Call.id))]
        assert outcomes == ["no_answer", "busy", "no_answer"]
        assert _events(s, 1) == ["attempt", "attempt", "attempt", "missed"]


async def test_wrong_number_flags_the_phone(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await _to_callback(pilot, app, world)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        await choose(pilot, "wrong number")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        number = s.exec(select(PhoneNumber).where(PhoneNumber.customer_id == world["fang"])).one()
        assert number.wrong_number
        assert s.get(Callback, 1).status == "missed"  # no other number to try


async def test_snooze_from_the_sidebar(make_seat, engine, clock, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await _to_callback(pilot, app, world)
        await pilot.press("z")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, SnoozeForm) and form.callback_id == 1
        await pilot.press(*"+1d", "ctrl+s")  # no reason: refused at the field
        await settle(pilot)
        assert app.screen is form
        assert "Say why" in str(form.query_one("#err-reason").render())
        with Session(engine) as s:
            assert s.get(Callback, 1).due_at == NOW - timedelta(hours=3)
        # The cursor waits in the field with the message.
        await pilot.press(*"Customer in hospital this week", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        cb = s.get(Callback, 1)
        assert cb.due_at == NOW + timedelta(days=1)
        assert cb.snooze_reason == "Customer in hospital this week"
        assert _events(s, 1) == ["snooze"]


async def test_coverage_view_and_agent_cannot_reassign(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, CallbacksScreen)
        head = str(view.query_one("#cbv-head").render())
        assert "coverage 0 %" in head and "1 not done" in head  # Wang Fang (VIP) is overdue
        without = view.query_one("#cbv-without")
        assert without.row_count == 1
        assert view.check_action("reassign", ()) is False  # hidden from an agent's footer
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is view
        await pilot.press("2")  # the to-do list
        await settle(pilot)
        assert view.query_one("#cbv-todo").row_count == 2
        await pilot.press("z")
        await settle(pilot)
        assert isinstance(app.screen, SnoozeForm)
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        assert s.get(Callback, 1).owner_id == world["li"]
        assert s.exec(select(CallbackEvent)).all() == []


async def test_supervisor_reassigns_from_the_coverage_view(make_seat, engine, world):
    with Session(engine) as s:
        agents.ensure_agent(session=s, name="zhou.chen", role="supervisor")
        s.commit()
    app = make_seat(agent="zhou.chen")
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        view = app.screen
        assert view.check_action("reassign", ()) is True
        await pilot.press("a")  # on the member without a done callback: Wang Fang
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ReassignForm) and form.callback_id == 1
        await pilot.press("ctrl+s")  # nobody chosen
        await settle(pilot)
        assert "active agent" in str(form.query_one("#err-owner").render())
        await choose(pilot, "Wang Wei")
        await pilot.press("tab", *"Li Na is on leave", "ctrl+s")
        await settle(pilot)
        assert app.screen is view
    with Session(engine) as s:
        cb = s.get(Callback, 1)
        assert cb.owner_id == world["wang"]
        event = s.exec(select(CallbackEvent)).one()
        assert event.action == "reassign" and "Li Na is on leave" in event.comment


async def test_the_to_do_list_pages_by_fifty(make_seat, engine, world):
    """130 more callbacks: 50 rows mounted at a time; n / PgDn and b / PgUp page through."""
    with Session(engine) as s:
        for i in range(130):
            s.add(Callback(customer_id=world["min"], owner_id=world["li"], kind="reminder",
                           reason=f"r{i}", due_at=NOW + timedelta(minutes=i),
                           created_at=NOW - timedelta(days=1)))  # fmt: skip
        s.commit()
        expected, total = worklist(session=s, now=NOW, policy=POLICY, owner_id=world["li"],
                                   limit=500)  # fmt: skip
    ids = [f"cb:{item.id}" for item in expected]
    assert total == len(ids) == 132
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b", "2")
        await settle(pilot)
        view = app.screen
        todo = view.query_one("#cbv-todo")

        def shown() -> list[str]:
            keys = (todo.coordinate_to_cell_key((r, 0)).row_key for r in range(todo.row_count))
            return [key.value for key in keys]

        assert shown() == ids[:50]
        assert view.check_action("page", (-1,)) is False and view.check_action("page", (1,))
        assert "rows 1–50 of 132" in str(view.query_one("#cbv-page").render())
        await pilot.press("n")
        await settle(pilot)
        assert shown() == ids[50:100]
        await pilot.press("pagedown")
        await settle(pilot)
        assert shown() == ids[100:]
        assert view.check_action("page", (1,)) is False
        await pilot.press("n")  # no page after the last
        await settle(pilot)
        assert shown() == ids[100:]
        await pilot.press("pageup")
        await settle(pilot)
        assert shown() == ids[50:100]
        await pilot.press("r")  # read again (as after a snooze): the page stays
        await settle(pilot)
        assert shown() == ids[50:100]
        await pilot.press("down")
        await settle(pilot)
        await pilot.press("z")  # acts on the highlighted row of the page shown
        await settle(pilot)
        assert isinstance(app.screen, SnoozeForm)
        assert f"cb:{app.screen.callback_id}" == ids[51]


async def test_members_without_a_callback_are_read_a_page_at_a_time(
    make_seat, engine, world, monkeypatch
):
    """The view reads the first page of the members without a callback, the next one when
    paged to, up to REACH lines; the head and a last line give the whole count."""
    from seat.screens.callbacks import view as view_module

    for name, n in (("PAGE", 2), ("SHOWN", 2), ("REACH", 3)):
        monkeypatch.setattr(view_module, name, n)
    with Session(engine) as s:
        for hours in (5, 7, 9):
            s.add(Callback(customer_id=world["min"], owner_id=world["li"], kind="manual",
                           reason="r", due_at=NOW - timedelta(hours=hours),
                           created_at=NOW - timedelta(days=1)))  # fmt: skip
        s.commit()
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        view = app.screen
        assert "4 not done" in str(view.query_one("#cbv-head").render())
        without = view.query_one("#cbv-without")

        def names() -> list[str]:
            return [str(without.get_row_at(r)[0]) for r in range(without.row_count)]

        assert names() == ["张敏", "张敏"]  # due 9 and 7 hours ago: the first page
        assert "rows 1–2 of 3" in str(view.query_one("#cbv-page").render())
        await pilot.press("n")  # read from the database now
        await settle(pilot)
        assert names() == ["张敏", "…"]  # the third line, then how many more
        assert str(without.get_row_at(1)[1]).startswith("1 more")  # cut to its column
        assert view.check_action("page", (1,)) is False
        await pilot.press("b")
        await settle(pilot)
        assert names() == ["张敏", "张敏"]


# -- the sidebar groups' rendering ----------------------------------------------------------


@pytest.fixture
def split(session, world):
    session.add(
        Callback(
            customer_id=world["tom"],
            owner_id=world["li"],
            kind="complaint_follow_up",
            reason="Dryer",
            due_at=NOW - timedelta(minutes=20),
            created_at=NOW - timedelta(days=1),
        )
    )
    session.flush()
    return sidebar_callbacks(session=session, agent_id=world["li"], now=NOW, policy=POLICY)


def test_callable_and_waiting_prompts(split):
    ready, waiting = split
    local = lambda d: d.astimezone(ZoneInfo("Asia/Shanghai"))  # noqa: E731
    overdue, due = (callable_prompt(c, NOW, local(c.due_at)) for c in ready)
    assert overdue.plain.startswith("⚠ Wang Fang") and "overdue 3h00" in overdue.plain
    assert due.plain.startswith("◷ 张敏") and "due 12:00" in due.plain
    [tom] = waiting
    text = waiting_prompt(tom, NOW, local(tom.opens_at))
    assert text.plain.startswith("☾ Tom Baker") and "opens 17:00" in text.plain
    tomorrow = waiting_prompt(tom, NOW, local(tom.opens_at + timedelta(days=1)))
    assert "opens Tue 17:00" in tomorrow.plain
    for prompt in (overdue, due, text, tomorrow):
        assert all(cell_len(line.plain) <= WIDTH for line in prompt.split("\n"))


def test_callback_options_ids(split):
    ready, waiting = split
    local = lambda d: d  # noqa: E731
    options = callable_options(ready, late=1, due=1, now=NOW, local=local)
    collapsed = waiting_options(waiting, total=1, late=1, expanded=False, now=NOW, local=local)
    expanded = waiting_options(waiting, total=1, late=1, expanded=True, now=NOW, local=local)
    ids = [o.id for o in options + expanded if o is not None and o.id]
    assert ids == ["cb:1:1", "cb:2:2", "cbw-toggle", "cbw:3:3"]
    assert [o.id for o in collapsed if o is not None] == ["cbw-toggle"]  # one count line
    headers = [str(o.prompt) for o in options if o is not None and o.disabled]
    assert headers == ["Call now 1 late · 1 due"]
    assert [str(o.prompt) for o in collapsed if o] == ["▸ ☾ Waiting 1 · 1 late"]
    assert [str(o.prompt) for o in expanded if o][0] == "▾ ☾ Waiting 1 · 1 late"
    ids.remove("cbw-toggle")
    assert [parse_option_id(i) for i in ids] == [("cb", 1, 1), ("cb", 2, 2), ("cbw", 3, 3)]
    assert parse_option_id("cbw-toggle") is None
    assert parse_option_id("wo:3") is None and parse_option_id(None) is None


# -- in Chinese --------------------------------------------------------------------------------


@pytest.fixture
def chinese():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_prompts_in_chinese(split, chinese):
    ready, waiting = split
    local = lambda d: d.astimezone(ZoneInfo("Asia/Shanghai"))  # noqa: E731
    overdue, due = (callable_prompt(c, NOW, local(c.due_at)) for c in ready)
    assert "逾期 3时00分" in overdue.plain and "投诉回访" not in overdue.plain
    assert "12:00 到期" in due.plain
    [tom] = waiting
    tomorrow = waiting_prompt(tom, NOW, local(tom.opens_at + timedelta(days=1)))
    assert "周二 17:00 起 · 投诉回访" in tomorrow.plain and "投诉回访" in tomorrow.plain
    options = callable_options(ready, late=1, due=1, now=NOW, local=local)
    options += waiting_options(waiting, total=1, late=0, expanded=False, now=NOW, local=local)
    headers = [str(o.prompt) for o in options if o and (o.disabled or o.id == "cbw-toggle")]
    assert headers == ["立即拨打 1 逾期 · 1 到期", "▸ ☾ 等待可联系时段 1"]
    for prompt in (overdue, due, tomorrow):
        assert all(cell_len(line.plain) <= WIDTH for line in prompt.split("\n"))


async def test_coverage_view_aligns_in_chinese(make_seat, engine, world, chinese):
    """Every tab's table at 80x24: translated headers and labels, wide names cut whole."""
    with Session(engine) as s:
        s.get(Customer, world["fang"]).name = "王芳芳芳芳芳芳芳芳"  # wider than its column
        s.add(
            Callback(
                customer_id=world["tom"],
                owner_id=world["li"],
                kind="complaint_follow_up",
                reason="Dryer",
                due_at=NOW + timedelta(hours=3),
                created_at=NOW - timedelta(days=1),
            )
        )
        s.commit()
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        view = app.screen
        head = str(view.query_one("#cbv-head").render())
        assert "覆盖率 0 %" in head and "1 未完成" in head
        # (the By kind table is wider than 80 columns and scrolls sideways, as in English)
        for key, tables in (("1", ("coverage", "without")), ("2", ("todo",))):
            await pilot.press(key)
            await settle(pilot)
            for name in tables:
                table = view.query_one(f"#cbv-{name}")
                assert table.row_count >= 1 and not misaligned(table), misaligned(table)
        todo = view.query_one("#cbv-todo")
        cells = [str(c) for i in range(todo.row_count) for c in todo.get_row_at(i)]
        assert "投诉回访" in cells and "王芳芳芳芳…" in cells
        assert not any("_" in c or "overdue" in c or "due" == c[-3:] for c in cells)
        await pilot.press("z")
        await settle(pilot)
        assert isinstance(app.screen, SnoozeForm)
        what = str(app.screen.query_one("#snooze-what").render())
        assert "满意度回访" in what and "11-23 07:00 到期" in what


async def test_ctrl_d_dials_the_callback_through_the_configured_command(
    settings, clock, engine, world, tmp_path
):
    """Click-to-dial: the callback's number goes to the dial command as one argument (no
    shell); without a dial command the key is not offered."""
    script = tmp_path / "record.py"
    script.write_text(
        "import json, sys, pathlib\n"
        "pathlib.Path(sys.argv[1]).write_text(json.dumps(sys.argv[2:]))\n"
    )
    out = tmp_path / "dialled.json"
    dialling = replace(  # its own drafts: the first seat's open call is not offered again
        settings, dial_command=(sys.executable, str(script), str(out), "{number}"),
        drafts_base=tmp_path / "drafts-2",
    )
    for configured in (settings, dialling):
        app = make_app(settings=configured, clock=clock, agent="li.na", engine=engine)
        async with app.run_test(size=(100, 34)) as pilot:
            await settle(pilot)
            await _to_callback(pilot, app, world)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, CallScreen)
            offered = app.screen.check_action("dial", ())
            assert offered is (configured is dialling)
            await pilot.press("ctrl+d")
            await settle(pilot)
    for __ in range(600):  # the dial command runs on its own
        if out.exists():
            break
        time.sleep(0.05)
    assert json.loads(out.read_text()) == ["+8613800138000"]
async def test_callback_card_while_it_is_read_names_the_customer(make_seat, world):
    """Until the card comes from its worker (seconds on a loaded floor), the call screen says
    so under the customer's name: never "Unknown caller, ... is not on file"."""
    import threading

    app = make_seat()
    release = threading.Event()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        desk = app.desk
        read_card = desk.card

        def slow_card(customer_id):
            release.wait(10)
            return read_card(customer_id)

        desk.card = slow_card
        await _to_callback(pilot, app, world)
        await pilot.press("enter")
        for __ in range(200):
            if isinstance(app.screen, CallScreen):
                break
            await pilot.pause(0.01)
        await pilot.pause()
        card = app.screen.query_one("#card")
        shown = str(card.render())
        try:
            assert "not on file" not in shown
            assert "Reading the customer's card" in shown
            assert card.border_title == "Wang Fang"
        finally:
            release.set()
        await settle(pilot)
        assert "VIP level 1" in str(card.render())
        assert "Wang Fang" in card.border_title


async def test_a_busy_line_from_asterisk_takes_the_callback_to_wrap_up(
    settings, clock, engine, world, monkeypatch
):
    """Click-to-dial through AMI: ctrl+d rings the customer, Asterisk says busy, the call goes
    to wrap-up with the outcome busy (as F8 does for no answer); saved, it is an attempt."""
    monkeypatch.setenv("SEAT_AMI_SECRET", "s3cret")
    with Session(engine) as s:
        agent = s.get(Agent, world["li"])
        agent.extension = "201"
        s.add(agent)
        s.commit()
    with ScriptedOriginate(5) as pbx:
        ami = replace(settings, ami_host="127.0.0.1", ami_port=pbx.port, ami_username="seat")
        app = make_app(settings=ami, clock=clock, agent="li.na", engine=engine)
        async with app.run_test(size=(100, 34)) as pilot:
            await settle(pilot)
            await _to_callback(pilot, app, world)
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, CallScreen) and screen.check_action("dial", ()) is True
            await pilot.press("ctrl+d")
            for __ in range(400):  # Asterisk answers on its own
                await pilot.pause(0.05)
                if screen.state.in_wrapup:
                    break
            assert screen.state.in_wrapup and screen.state.outcome == "busy"
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, DeskScreen)
    (sent,) = [a for a in pbx.actions if a.get("Action") == "Originate"]
    assert sent["Channel"] == "Local/+8613800138000@from-internal" and sent["Exten"] == "201"
    with Session(engine) as s:
        assert s.get(Callback, 1).last_outcome == "busy"
