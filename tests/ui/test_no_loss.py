"""Nothing is lost at 80x24, and the UI never waits on the database (issue 14, items 7, 10).

The lock tests hold SQLite's write lock from another connection (BEGIN IMMEDIATE): the save
waits in its worker while the seat keeps taking keys.
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlmodel import Session, select

from seat import db, i18n
from seat.app import make_app
from seat.models import Call, Customer
from seat.screens.calls.call import CallScreen
from seat.screens.calls.customer_form import NewCustomerScreen
from seat.screens.confirm import ConfirmScreen
from seat.screens.desk import DeskScreen
from seat.widgets.field_error import FieldError
from tests.ui.helpers import choose, settle

SIZE = (80, 24)


async def wait_until(pilot, predicate, seconds: float = 10.0) -> bool:
    """Poll (not a timed assertion): the predicate decides, the seconds only bound a hang."""
    for __ in range(int(seconds / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
        await pilot.pause()
    return predicate()


def inside(widget, screen) -> bool:
    """The widget is laid out with height and lies wholly on the screen."""
    r = widget.region
    return r.height > 0 and r.y >= 0 and r.bottom <= screen.size.height


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("holds SQLite's file lock")


async def to_wrapup(pilot) -> CallScreen:
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*"13800138000", "enter")
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    await choose(pilot, "inquiry")
    for __ in range(3):
        await pilot.press("f2")
        await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CallScreen) and screen.state.in_wrapup
    return screen


# -- dialogs --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
async def test_a_long_question_wraps_and_its_keys_are_translated(make_seat, world, lang):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        i18n.set_language(lang)
        question = "A call with 林丽 (started 08:20, at 需求探寻) was not finished. " * 3
        app.push_screen(ConfirmScreen(question))
        await settle(pilot)
        label = app.screen.query_one("#confirm-question")
        assert label.size.height >= 3  # wrapped, not cut at the box's edge
        assert inside(label, app.screen)
        keys = str(app.screen.query_one("#confirm-keys").render())
        assert keys == ("y 是 · n 否" if lang == "zh_CN" else "y yes · n no")


async def test_declining_a_draft_asks_again_and_no_resumes_it(make_seat, settings, world):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        app.screen._dirty = True
        app.screen._flush_draft()
        await settle(pilot)
    again = make_seat()
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = again.screen
        assert isinstance(first, ConfirmScreen)
        assert "Wang Fang" in first.question
        await pilot.press("n")
        await settle(pilot)
        second = again.screen
        assert isinstance(second, ConfirmScreen) and second is not first
        assert "Discard" in second.question
        assert str(second.query_one("#confirm-keys").render()) == "y discard · n resume"
        await pilot.press("n")  # not discarded after all: the call comes back
        await settle(pilot)
        assert isinstance(again.screen, CallScreen)
        assert again.screen.state.stage_id == "discovery"


# -- the call screen at 80x24 ----------------------------------------------------------------


async def test_the_words_to_say_stay_visible_beside_a_long_card(make_seat, engine, world, clock):
    from datetime import timedelta

    from seat import customers

    # A customer with a long card: calls and a change history.
    with Session(engine, expire_on_commit=False) as s:
        for i in range(3):
            s.add(Call(agent_id=world["li"], customer_id=world["fang"],
                       from_number="+8613800138000", direction="inbound", script="inbound",
                       started_at=clock.now() - timedelta(days=i + 1),
                       ended_at=clock.now() - timedelta(days=i + 1), need_category="repair",
                       outcome="resolved"))  # fmt: skip
        s.commit()
        for i in range(4):
            customers.update_customer(
                session=s, customer_id=world["fang"], agent_id=world["li"], now=clock.now(),
                region="CN", address=f"{i} Nanjing Rd, Shanghai",
            )  # fmt: skip
            s.commit()
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        card = screen.query_one("#card")
        assert "Changes: 4" in str(card.render())
        say = screen.query_one(".say")
        assert inside(say, screen), (card.region, say.region)
        assert card.region.height <= screen.size.height * 0.4 + 1


# -- forms ----------------------------------------------------------------------------------


async def test_a_blocked_save_focuses_the_error_which_clears_when_fixed(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(NewCustomerScreen("139 0000 1111"))
        await settle(pilot)
        form = app.screen
        await pilot.press(*"Zhou Qi")
        form.query_one("#f-birthday").value = "31/02/1990"
        form.query_one("#f-address").focus()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        message = form.query_one("#err-birthday", FieldError)
        assert message.display and str(message.render())
        assert app.focused is form.query_one("#f-birthday")
        assert inside(app.focused, form) and inside(message, form)
        await pilot.press("end", "backspace")
        await settle(pilot)
        assert not message.display  # changed: the message goes
        await pilot.press(*["backspace"] * 9, *"1990-02-03", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    with Session(engine) as s:
        assert s.exec(select(Customer).where(Customer.name == "Zhou Qi")).one()


async def test_a_long_error_wraps_at_80_columns(make_seat, world):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(NewCustomerScreen(""))
        await settle(pilot)
        form = app.screen
        form.show_errors({"name": "This message is far too long for one line of the form. " * 3})
        await settle(pilot)
        message = form.query_one("#err-name", FieldError)
        assert message.size.height >= 3
        assert message.region.right <= form.query_one("#form").region.right


async def test_tab_after_the_last_field_goes_back_to_the_first(make_seat, world):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(NewCustomerScreen(""))
        await settle(pilot)
        form = app.screen
        fields = list(form.query(".-field"))
        seen = []
        for __ in range(len(fields)):
            seen.append(app.focused)
            await pilot.press("tab")
        assert seen == fields
        assert app.focused is fields[0]  # no invisible stop after the address


async def test_the_desk_clock_keeps_time(make_seat, world, clock, monkeypatch):
    monkeypatch.setattr("seat.screens.desk.CLOCK_SECONDS", 0.05)
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        hello = app.screen.query_one("#hello")
        assert "10:00" in str(hello.render())
        clock.advance(minutes=7)
        assert await wait_until(pilot, lambda: "10:07" in str(hello.render()))


# -- the database in workers ------------------------------------------------------------------


def hold_lock(db_url: str) -> sqlite3.Connection:
    conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None, timeout=0)
    conn.execute("BEGIN IMMEDIATE")
    return conn


async def test_a_call_saves_while_another_process_holds_the_lock(
    sqlite_only, make_seat, engine, db_url, world
):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await to_wrapup(pilot)
        await pilot.press("tab", *"Opening hours")
        lock = hold_lock(db_url)
        try:
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert screen.saving is not None
            assert screen.query_one("#saving").display  # "saving…"
            # The seat keeps taking keys while the save waits for the lock.
            await pilot.press(*" and parking")
            assert screen.query_one("#notes").text == "Opening hours and parking"
            assert app.screen is screen
        finally:
            lock.rollback()
            lock.close()
        assert await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen))
    with Session(engine) as s:
        rows = s.exec(select(Call)).all()
        assert len(rows) == 1
        assert rows[0].notes == "Opening hours"  # as it was at ctrl+s


async def test_a_save_that_never_gets_the_lock_keeps_the_input(
    sqlite_only, settings, clock, db_url, world, monkeypatch
):
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr("seat.services.RETRIES", 2)
    engine = db.make_engine(db_url)
    app = make_app(settings=settings, clock=clock, agent="li.na", engine=engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await to_wrapup(pilot)
        await pilot.press("tab", *"Opening hours")
        lock = hold_lock(db_url)
        try:
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: screen.saving is None)
            assert app.screen is screen
            assert "busy" in str(screen.query_one("#wrapup-error").render())
            assert not screen.query_one("#saving").display
            assert screen.query_one("#notes").text == "Opening hours"
        finally:
            lock.rollback()
            lock.close()
    engine.dispose()
    with Session(db.make_engine(db_url)) as s:
        assert s.exec(select(Call).where(Call.ended_at.is_not(None))).all() == []


async def test_a_form_saves_in_a_worker_while_the_lock_is_held(
    sqlite_only, make_seat, engine, db_url, world
):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(NewCustomerScreen("139 0000 1111"))
        await settle(pilot)
        form = app.screen
        await pilot.press(*"Zhou Qi")
        lock = hold_lock(db_url)
        try:
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert form.saving
            assert "saving…" in str(form.query_one("#form-help").render())
            form.query_one("#f-address").focus()
            await pilot.press(*"12 Road")
            assert form.query_one("#f-address").value == "12 Road"
            assert app.screen is form
        finally:
            lock.rollback()
            lock.close()
        assert await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen))
    with Session(engine) as s:
        assert len(s.exec(select(Customer).where(Customer.name == "Zhou Qi")).all()) == 1


async def test_the_caller_lookup_runs_in_a_worker(make_seat, world):
    app = make_seat()
    threads = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        real = app.desk.lookup_callers

        def lookup_callers(text):
            import threading

            threads.append(threading.current_thread() is threading.main_thread())
            return real(text)

        app.desk.lookup_callers = lookup_callers
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        assert app.screen.state.customer_id == world["fang"]
    assert threads == [False]
