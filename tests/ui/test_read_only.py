"""A database that cannot be written opens for reading: READ-ONLY on every screen, sign-in
works (not recorded), every save is refused with a clear message and the input kept
(issue 16, item 10).

The desk is opened the way `seat` opens a file it cannot write (make_engine(read_only=True),
SQLite's mode=ro): SQLite itself refuses every write, for root too.
"""

from __future__ import annotations

import logging

import pytest
from sqlmodel import Session, func, select

from seat import identity
from seat.app import DemoBadge, DeskBadges, ReadOnlyBadge, make_app
from seat.db import make_engine
from seat.models import Call, Callback, SignInEvent
from seat.screens.agent_picker import AgentPickerScreen
from seat.screens.calls.call import CallScreen
from seat.screens.desk import DeskScreen
from tests.ui.helpers import choose, settle

SIZE = (100, 34)


def counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            model.__name__: s.exec(select(func.count()).select_from(model)).one()
            for model in (Call, Callback, SignInEvent)
        }


@pytest.fixture
def read_only(backend, db_url, engine, world):
    """The world's database reopened for reading only; li.na has a password."""
    if backend != "sqlite":
        pytest.skip("read-only files are SQLite's")
    with Session(engine) as s:
        identity.set_password(session=s, agent_id=world["li"], password="li-secret-1")
        s.commit()
    engine.dispose()
    ro = make_engine(db_url, read_only=True)
    yield ro
    ro.dispose()


def banner(screen) -> str:
    """The words in the screen's top-right corner."""
    return " ".join(str(label.render()) for label in screen.query("DeskBadges > Label"))


async def test_a_read_only_desk_signs_in_and_shows_read_only_everywhere(
    settings, clock, engine, read_only, world, caplog
):
    before = counts(engine)
    app = make_app(settings=settings, clock=clock, engine=read_only, login="li.na")
    notes: list[tuple[str, str | None]] = []
    real_notify = app.notify

    def notify(message, **kw):
        notes.append((message, kw.get("title")))
        return real_notify(message, **kw)

    app.notify = notify  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="seat"):
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, AgentPickerScreen)
            assert banner(app.screen) == "READ-ONLY"
            assert not app.screen.query(DemoBadge)
            await pilot.press(*"li-secret-1", "enter")
            await settle(pilot)
            desk = app.screen
            assert isinstance(desk, DeskScreen) and app.agent.name == "li.na"
            assert desk.query(ReadOnlyBadge) and banner(desk) == "READ-ONLY"
            # The desk reads: the sidebar lists the agent's callbacks and orders.
            sidebar = desk.query_one("#sidebar-list")
            assert sidebar.option_count > 0
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(app.screen, CallScreen) and banner(app.screen) == "READ-ONLY"
    assert any(title == "Read-only" and "cannot be written" in m for m, title in notes)
    assert counts(engine) == before  # the sign-in was not recorded ...
    assert any("not recorded" in r.getMessage() and "li.na" in r.getMessage()
               for r in caplog.records)  # ... and the log says so  # fmt: skip


async def test_a_wrong_password_is_still_refused_on_a_read_only_desk(
    settings, clock, engine, read_only, world
):
    before = counts(engine)
    app = make_app(settings=settings, clock=clock, engine=read_only, login="li.na")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*"wrong-pass", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AgentPickerScreen)
        assert "Wrong login or password" in str(app.screen.query_one("#login-error").render())
    assert counts(engine) == before


async def test_saving_a_call_on_a_read_only_desk_is_refused_and_keeps_the_input(
    settings, clock, engine, read_only, world
):
    before = counts(engine)
    app = make_app(settings=settings, clock=clock, engine=read_only, agent="li.na")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen) and screen.state.customer_id == world["fang"]
        await pilot.press("f2")
        await settle(pilot)
        await choose(pilot, "inquiry")
        for __ in range(3):
            await pilot.press("f2")
            await settle(pilot)
        assert screen.state.in_wrapup
        await pilot.press("tab", *"Asked about opening hours")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "read-only" in str(screen.query_one("#wrapup-error").render())
        assert screen.query_one("#notes").text == "Asked about opening hours"
        assert banner(screen) == "READ-ONLY"
    assert counts(engine) == before


async def test_a_callback_form_on_a_read_only_desk_is_refused_and_keeps_the_input(
    settings, clock, engine, read_only, world
):
    from textual.widgets import Input

    before = counts(engine)
    app = make_app(settings=settings, clock=clock, engine=read_only, agent="li.na")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        call = app.screen
        await pilot.press("f5")  # callback
        await settle(pilot)
        form = app.screen
        assert form is not call and banner(form) == "READ-ONLY"
        await pilot.press(*"+1h", "tab", *"Confirm the technician's visit", "ctrl+s")
        await settle(pilot)
        assert app.screen is form  # still open, nothing lost
        typed = [w.value for w in form.query(Input)]
        assert "+1h" in typed and "Confirm the technician's visit" in typed
        shown = " ".join(str(w.render()) for w in form.query("FieldError, .error, Label"))
        assert "read-only" in shown
    assert counts(engine) == before


async def test_the_demo_badge_and_read_only_badge_share_the_corner(
    settings, clock, read_only, world
):
    app = make_app(settings=settings, clock=clock, engine=read_only, agent="li.na", demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert banner(app.screen) == "READ-ONLY DEMO"
        assert len(app.screen.query(DeskBadges)) == 1


async def test_a_writable_desk_shows_no_badge(make_seat, world):
    app = make_seat()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen) and not app.screen.query(DeskBadges)
