"""Notices (公告): a supervisor publishes one by keys; an agent reads it out on an outage call
and links the call to it; the notice counts the call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select
from textual.widgets import DataTable, Input, OptionList, Select, TextArea

from seat import agents, i18n
from seat.models import Notice, NoticeCall
from seat.screens.desk import DeskScreen
from seat.screens.notices import NoticePick, NoticesScreen
from tests.conftest import NOW
from tests.ui.helpers import choose, freeze, option_labels, settle


async def _type(pilot, selector: str, text: str) -> None:
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    if isinstance(widget, TextArea):
        await pilot.press(*["enter" if c == "\n" else c for c in text])
    else:
        assert isinstance(widget, Input)
        await pilot.press("home", "ctrl+k", *text)


async def _outage_call(pilot) -> None:
    """An agent takes a call from Wang Fang (88 Nanjing Rd) about a notice / an outage."""
    await pilot.press("n", *"138 0013 8000", "enter")
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    need = pilot.app.screen.query_one("#sf-need_category", Select)
    values = [v for __, v in need._options]
    await choose(pilot, option_labels(need)[values.index("notice")], select="#sf-need_category")
    await pilot.press("f2")
    await settle(pilot)


@pytest.fixture
def boss(engine, world) -> int:
    with Session(engine) as s:
        found = agents.ensure_agent(session=s, name="zhao.lei", display_name="Zhao Lei",
                                    role="supervisor")  # fmt: skip
        s.commit()
        return found.id


@pytest.fixture
def board(engine, world, boss) -> dict[str, int]:
    """Two notices valid now: an outage on Nanjing Rd and a product notice; and one outage
    elsewhere and one expired."""
    with Session(engine) as s:
        common = dict(created_at=NOW - timedelta(hours=1), created_by_id=boss)
        rows = [
            Notice(kind="outage", title="Power cut on Nanjing Rd", area="Nanjing Rd",
                   cause="Cable repair", valid_from=NOW - timedelta(hours=1),
                   valid_to=NOW + timedelta(hours=8), restore_at=NOW + timedelta(hours=6),
                   text="Power is off for cable repair; it should be back by 16:00.", **common),
            Notice(kind="service", title="Washer recall 洗衣机召回",
                   valid_from=NOW - timedelta(days=1), valid_to=NOW + timedelta(days=30),
                   text="Model W-200 washers are recalled; we replace them free of charge.",
                   **common),
            Notice(kind="outage", title="Water off in Pudong", area="浦东新区",
                   valid_from=NOW - timedelta(hours=1), valid_to=NOW + timedelta(hours=3),
                   restore_at=NOW + timedelta(hours=3), text="Water main repair.", **common),
            Notice(kind="service", title="Old notice", valid_from=NOW - timedelta(days=9),
                   valid_to=NOW - timedelta(days=1), text="Expired.", **common),
        ]  # fmt: skip
        s.add_all(rows)
        s.commit()
        return {"outage": rows[0].id, "recall": rows[1].id, "boss": boss}


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    try:
        yield
    finally:
        i18n.set_language("en")


# -- keys against the database ---------------------------------------------------------------


async def test_publish_a_notice_then_read_it_on_an_outage_call(make_seat, engine, world, boss):
    app = make_seat("zhao.lei")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, NoticesScreen)
        await pilot.press("n")
        await settle(pilot)
        await _type(pilot, "#f-title", "Power cut on Nanjing Rd")
        await _type(pilot, "#f-area", "Nanjing Rd")
        await _type(pilot, "#f-cause", "Cable repair")
        await _type(pilot, "#f-valid_from", "+0h")
        await _type(pilot, "#f-valid_to", "+8h")
        await _type(pilot, "#f-restore_at", "+6h")
        await _type(pilot, "#f-text", "Power is off for a cable repair.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, NoticesScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1 and str(table.get_row_at(0)[-1]) == "0"
    with Session(engine) as s:
        notice = s.exec(select(Notice)).one()
        assert (notice.kind, notice.area, notice.cause) == ("outage", "Nanjing Rd", "Cable repair")
        assert notice.valid_from == NOW and notice.valid_to == NOW + timedelta(hours=8)
        assert notice.restore_at == NOW + timedelta(hours=6)

    app = make_seat("li.na")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Power cut on Nanjing Rd" in str(app.screen.query_one("#notices").render())
        await _outage_call(pilot)
        assert isinstance(app.screen, NoticePick)
        shown = app.screen.query_one(OptionList)
        assert shown.option_count == 1
        assert "Power is off for a cable repair." in str(shown.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "CallScreen"
        uid = app.screen.state.uid
    with Session(engine) as s:
        linked = s.exec(select(NoticeCall)).one()
        assert (linked.notice_id, linked.call_uid, linked.agent_id) == (
            notice.id, uid, world["li"]
        )


async def test_only_the_notices_for_the_callers_address(make_seat, engine, board):
    app = make_seat("li.na")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _outage_call(pilot)
        assert isinstance(app.screen, NoticePick)
        shown = app.screen.query_one(OptionList)
        titles = [str(shown.get_option_at_index(i).prompt).split("\n")[0]
                  for i in range(shown.option_count)]  # fmt: skip
        # Nanjing Rd's outage and the product notice; not Pudong's, not the expired one.
        assert [t.split("  (")[0] for t in titles] == [
            "Power cut on Nanjing Rd", "Washer recall 洗衣机召回"
        ]
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("f10")  # again: the same call linked to it once only
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
    with Session(engine) as s:
        assert [n.notice_id for n in s.exec(select(NoticeCall))] == [board["recall"]]


async def test_an_agent_cannot_publish(make_seat, board):
    app = make_seat("li.na")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, NoticesScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NoticesScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)


# -- snapshots -------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["list", "call"])
def test_notices(snap_compare, make_seat, board, where):
    async def run_before(pilot):
        await freeze(pilot)
        if where == "list":
            await pilot.press("i")
        else:
            await _outage_call(pilot)
        await freeze(pilot)

    assert snap_compare(make_seat("li.na"), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("where", ["list", "call"])
def test_notices_in_chinese(snap_compare, make_seat, board, chinese, where):
    async def run_before(pilot):
        await freeze(pilot)
        if where == "list":
            await pilot.press("i")
        else:
            await _outage_call(pilot)
        await freeze(pilot)

    assert snap_compare(make_seat("li.na"), terminal_size=(80, 24), run_before=run_before)
