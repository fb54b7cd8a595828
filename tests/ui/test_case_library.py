"""Case review and the library by keys: a supervisor filters the closed cases, marks one as a
model with its agreed solution; an agent on another complaint finds it and reads it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from rich.console import Console
from sqlmodel import Session, select

from seat import agents
from seat.models import ComplaintEvent, ModelCase
from seat.screens.complaints.cases import CaseFilterForm, ClosedCasesScreen
from seat.screens.complaints.complaint import ComplaintScreen
from seat.screens.complaints.forms import MarkModelForm
from seat.screens.complaints.library import CaseLibraryScreen
from seat.screens.complaints.list import ComplaintListScreen
from tests.conftest import NOW
from tests.ui.helpers import choose, settle
from tests.unit.complaint_steps import do, open_complaint, walk


@pytest.fixture
def floor(engine, world) -> dict[str, int]:
    """A washer case closed three days ago; an open complaint of the same category."""
    with Session(engine, expire_on_commit=False) as s:
        boss = agents.ensure_agent(
            session=s, name="zhao.lei", display_name="Zhao Lei", role="supervisor"
        )
        s.commit()
        people = {**world, "boss": boss.id}
        closed = open_complaint(s, people, at=NOW - timedelta(days=3))
        walk(s, people, closed, "closed", start=NOW - timedelta(days=3))
        other = open_complaint(s, people, customer="fang", at=NOW - timedelta(hours=2))
        do(s, people, other, "accept", at=NOW - timedelta(hours=1))
    return {**people, "closed": closed, "other": other}


def text(widget) -> str:
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


async def test_mark_a_model_case_and_find_it_from_another_complaint(make_seat, engine, floor):
    app = make_seat(agent="zhao.lei")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintListScreen)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, ClosedCasesScreen)
        assert [r.id for r in app.screen.rows] == [floor["closed"]]
        # filter: another category lists nothing, the washer's lists it again
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, CaseFilterForm)
        await choose(pilot, "Delivery", select="#f-category")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ClosedCasesScreen) and app.screen.rows == []
        await pilot.press("f")
        await settle(pilot)
        await choose(pilot, "Repair / installation", select="#f-category")
        await choose(pilot, "kept", select="#f-breached")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [r.id for r in app.screen.rows] == [floor["closed"]]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintScreen)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, MarkModelForm)
        await pilot.press(*" and check the hose clamp", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintScreen)
        assert "Model case" in text(app.screen.query_one("#cp-details"))
    with Session(engine) as s:
        model = s.get(ModelCase, floor["closed"])
        assert model.solution == "Replace the washer and check the hose clamp"
        assert model.marked_by_id == floor["boss"]
        last = s.exec(select(ComplaintEvent).order_by(ComplaintEvent.id.desc())).first()
        assert (last.complaint_id, last.action) == (floor["closed"], "model_case")

    app = make_seat(agent="li.na")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")  # li's one open complaint
        await settle(pilot)
        assert isinstance(app.screen, ComplaintScreen)
        assert app.screen.complaint_id == floor["other"]
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, CaseLibraryScreen)
        assert [h.complaint_id for h in app.screen.hits] == [floor["closed"]]
        await pilot.press(*"clamp", "enter")
        await settle(pilot)
        assert [h.complaint_id for h in app.screen.hits] == [floor["closed"]]
        await pilot.press("tab", "enter")
        await settle(pilot)
        shown = text(app.screen.query_one("#lib-model"))
        assert "Replace the washer and check the hose clamp" in shown
        await pilot.press("shift+tab", "ctrl+a", *"refund", "enter")
        await settle(pilot)
        assert app.screen.hits == []
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintScreen)


async def test_an_agent_cannot_mark_a_model(make_seat, engine, floor):
    app = make_seat(agent="li.na")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ComplaintScreen(floor["closed"]))
        await settle(pilot)
        assert not app.screen.check_action("mark_model", ())
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, ComplaintScreen)
        assert any("Only a supervisor" in n.message for n in app._notifications)
    with Session(engine) as s:
        assert s.get(ModelCase, floor["closed"]) is None
