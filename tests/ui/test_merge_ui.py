"""Merging duplicate customers by keys (seat.merge): on the desk's search (f) a supervisor
marks the duplicate (F6), goes to the customer to keep and merges (F7, y); an agent is told
the keys are a supervisor's."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from seat import agents, customers
from seat.models import Customer, CustomerChange, PhoneNumber, WorkOrder
from seat.screens.calls.find_customer import FindCustomerScreen
from seat.screens.confirm import ConfirmScreen
from seat.widgets.search_results import SearchResults
from tests.conftest import NOW
from tests.ui.helpers import settle


def _duplicate(engine, world) -> int:
    """A second record of Wang Fang, registered later with another number, with an order."""
    with Session(engine) as s:
        agents.ensure_agent(session=s, name="zhao.lei", display_name="Zhao Lei",
                            role="supervisor")  # fmt: skip
        dup = customers.create_customer(
            session=s, now=NOW - timedelta(days=2), name="Wang Fang", phone_text="139 8765 4321",
            occupation="teacher",
        )  # fmt: skip
        s.add(WorkOrder(short_text="Oven door", customer_id=dup.id, due_at=NOW, created_at=NOW,
                        assignee_id=world["li"]))  # fmt: skip
        s.commit()
        return dup.id


async def _find_wang_fang(pilot, app) -> tuple[FindCustomerScreen, SearchResults]:
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot)
    find = app.screen
    assert isinstance(find, FindCustomerScreen)
    await pilot.press(*"Wang Fang", "enter")
    await settle(pilot)
    results = find.query_one(SearchResults)
    return find, results


async def test_a_supervisor_merges_a_duplicate_by_keys(make_seat, engine, world):
    dup = _duplicate(engine, world)
    app = make_seat(agent="zhao.lei")
    async with app.run_test(size=(100, 36)) as pilot:
        find, results = await _find_wang_fang(pilot, app)
        assert [h.id for h in results.hits] == [world["fang"], dup]
        await pilot.press("down", "f6")  # the duplicate, marked
        await settle(pilot)
        assert find.marked == (dup, "Wang Fang")
        assert f"#{dup}" in str(find.query_one("#find-marked").render())
        assert not find.check_action("merge", ())  # not into itself
        await pilot.press("up", "f7")  # the one to keep
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "phone numbers: 1" in confirm.question and "work orders: 1" in confirm.question
        assert "occupation" in confirm.question
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is find
        assert find.card is not None and find.card.id == world["fang"]
        assert find.marked is None
        assert [h.id for h in results.hits] == [world["fang"]]
        card = str(find.query_one("#find-card").render())
        assert "merged in" in card
    with Session(engine) as s:
        assert s.get(Customer, dup).merged_into_id == world["fang"]
        assert s.get(Customer, world["fang"]).occupation == "teacher"
        assert s.exec(select(WorkOrder.customer_id).where(WorkOrder.short_text == "Oven door")
                      ).one() == world["fang"]  # fmt: skip
        numbers = s.exec(select(PhoneNumber.e164).where(PhoneNumber.customer_id == world["fang"]))
        assert sorted(numbers) == ["+8613800138000", "+8613987654321"]
        fields = s.exec(select(CustomerChange.field).where(CustomerChange.customer_id == dup))
        assert list(fields) == ["merged_into"]


async def test_answering_no_merges_nothing(make_seat, engine, world):
    dup = _duplicate(engine, world)
    app = make_seat(agent="zhao.lei")
    async with app.run_test(size=(80, 24)) as pilot:
        find, results = await _find_wang_fang(pilot, app)
        await pilot.press("down", "f6", "up", "f7")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is find and find.marked == (dup, "Wang Fang")
    with Session(engine) as s:
        assert s.get(Customer, dup).merged_into_id is None


async def test_an_agent_is_told_merging_is_a_supervisors(make_seat, engine, world):
    dup = _duplicate(engine, world)
    app = make_seat()  # li.na, an agent
    async with app.run_test(size=(80, 24)) as pilot:
        find, results = await _find_wang_fang(pilot, app)
        assert not find.check_action("mark_duplicate", ())
        await pilot.press("down", "f6")
        await settle(pilot)
        assert find.marked is None
        assert any("Only a supervisor can merge customers" in n.message
                   for n in app._notifications)  # fmt: skip
    with Session(engine) as s:
        assert s.get(Customer, dup).merged_into_id is None
