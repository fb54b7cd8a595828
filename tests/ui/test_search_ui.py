"""Search by anything, driven by keys: from the desk (f) a list of customers and their cards;
on a call from an unknown number, find the caller and add the number to them."""

from __future__ import annotations

from sqlmodel import Session, select

from seat import customers
from seat.models import Call, CustomerChange, PhoneNumber
from seat.screens.calls.call import CallScreen
from seat.screens.calls.customer_form import NewCustomerScreen
from seat.screens.calls.find_customer import FindCustomerScreen
from seat.screens.calls.search import PickCustomerScreen
from seat.screens.confirm import ConfirmScreen
from seat.widgets.search_results import SearchResults
from tests.conftest import NOW
from tests.ui.helpers import settle


async def test_desk_search_lists_customers_and_enter_opens_the_card(make_seat, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        find = app.screen
        assert isinstance(find, FindCustomerScreen)
        await pilot.press(*"an", "enter")  # two letters: only names that start with them
        await settle(pilot)
        results = find.query_one(SearchResults)
        assert results.hits == ()
        assert "Nobody found" in str(find.query_one("#find-error").render())
        await pilot.press(*"g", "enter")  # "ang": inside Wang Fang's name (and Shanghai)
        await settle(pilot)
        assert [h.name for h in results.hits] == ["Wang Fang"]
        assert app.focused is results
        await pilot.press("shift+tab", "ctrl+a", "ctrl+k", *"Tom", "enter")
        await settle(pilot)
        assert [h.name for h in results.hits] == ["Tom Baker"]
        assert app.focused is results
        line = str(results.get_option_at_index(0).prompt)
        assert "7946" not in line and "+44" in line  # masked
        await pilot.press("enter")
        await settle(pilot)
        card = str(find.query_one("#find-card").render())
        assert find.card is not None and find.card.id == world["tom"]
        assert "Tom Baker" in find.query_one("#find-card").border_title and "7946" not in card
        await pilot.press("escape")  # one customer found: closes
        await settle(pilot)
        assert not isinstance(app.screen, FindCustomerScreen)


async def test_several_found_escape_goes_back_to_the_list(make_seat, engine, world):
    with Session(engine) as s:
        customers.create_customer(session=s, now=NOW, name="张伟", phone_text="135 2222 3333")
        s.commit()
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        find = app.screen
        await pilot.press(*"张", "enter")
        await settle(pilot)
        results = find.query_one(SearchResults)
        assert [h.name for h in results.hits] == ["张伟", "张敏"]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert find.card is not None and find.card.id == world["min"]
        assert not results.display
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is find and results.display and find.card is None
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not find


async def test_unknown_caller_found_by_name_gets_the_number(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"137 1111 2222", "enter")
        await settle(pilot)
        assert isinstance(app.screen, NewCustomerScreen)  # offered first
        await pilot.press("escape")
        await settle(pilot)
        call = app.screen
        assert isinstance(call, CallScreen)
        await pilot.press("ctrl+f")
        await settle(pilot)
        pick = app.screen
        assert isinstance(pick, PickCustomerScreen)
        await pilot.press(*"张敏", "enter")
        await settle(pilot)
        assert [h.id for h in pick.query_one(SearchResults).hits] == [world["min"]]
        await pilot.press("enter")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "137 1111 2222" in confirm.question and "张敏" in confirm.question
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is call
        assert call.state.customer_id == world["min"]
        assert "张敏" in call.query_one("#card").border_title
        assert not call.check_action("find_caller", ())
        await pilot.press("escape")  # abandon the call: the number stays on file
        await settle(pilot)
        if isinstance(app.screen, ConfirmScreen):
            await pilot.press("y")
            await settle(pilot)
    with Session(engine) as s:
        numbers = s.exec(
            select(PhoneNumber.e164, PhoneNumber.label)
            .where(PhoneNumber.customer_id == world["min"])
            .order_by(PhoneNumber.id)
        ).all()
        changes = s.exec(
            select(CustomerChange).where(CustomerChange.customer_id == world["min"])
        ).all()
        assert s.exec(select(Call)).all() == []
    assert [tuple(n) for n in numbers] == [
        ("+8613912345678", "mobile"), ("+8613711112222", "mobile"),
    ]  # fmt: skip
    assert [(c.field, c.old, c.new, c.agent_id) for c in changes] == [
        ("phone", None, "+8613711112222", world["li"])
    ]


async def test_a_shared_number_asks_who_is_calling(make_seat, engine, world):
    """Tom's home landline is added to 张敏 (a family's): the next call from it lists both
    instead of guessing; the agent picks 张敏. The card lists every number, masked, with
    its kind."""
    with Session(engine) as s:
        s.add(PhoneNumber(customer_id=world["tom"], e164="+862155556666", label="home"))
        s.commit()
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"021 5555 6666", "enter")
        await settle(pilot)
        call = app.screen
        assert isinstance(call, CallScreen)
        assert call.state.customer_id == world["tom"]  # one customer has it: no question
        await pilot.press("escape")  # abandon the call (no draft left to resume)
        await settle(pilot)
        if isinstance(app.screen, ConfirmScreen):
            await pilot.press("y")
            await settle(pilot)
    with Session(engine) as s:
        customers.attach_number(
            session=s, customer_id=world["min"], e164="+862155556666", agent_id=world["li"],
            now=NOW,
        )  # fmt: skip
        s.commit()
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"021 5555 6666", "enter")
        await settle(pilot)
        pick = app.screen
        assert isinstance(pick, PickCustomerScreen)
        hits = pick.query_one(SearchResults).hits
        assert [h.id for h in hits] == sorted([world["min"], world["tom"]])
        assert all(h.matched == "exact" for h in hits)
        assert "5555" not in str(pick.query_one(SearchResults).get_option_at_index(0).prompt)
        await pilot.press(*["down"] * [h.id for h in hits].index(world["min"]), "enter")
        await settle(pilot)
        call = app.screen
        assert isinstance(call, CallScreen)
        assert call.state.customer_id == world["min"]
        card = str(call.query_one("#card").render())
        assert "139 1234 5678 mobile / 021 5555 6666 home" in card  # own call: plain
    with Session(engine) as s:
        owners = s.exec(
            select(PhoneNumber.customer_id, PhoneNumber.label)
            .where(PhoneNumber.e164 == "+862155556666")
            .order_by(PhoneNumber.customer_id)
        ).all()
        changes = s.exec(
            select(CustomerChange).where(CustomerChange.customer_id == world["min"])
        ).all()
    assert sorted(tuple(o) for o in owners) == sorted(
        [(world["tom"], "home"), (world["min"], "home")]
    )
    assert [(c.field, c.old, c.new) for c in changes] == [("phone", None, "+862155556666")]


async def test_a_caller_found_by_search_may_share_anothers_number(make_seat, engine, world):
    """The caller's number is already Tom's: adding it to 张敏 shares it (a family's
    landline), kept in 张敏's history; Tom keeps it."""
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"137 1111 2222", "enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        with Session(engine) as s:  # registered as Tom's by another seat meanwhile
            s.add(PhoneNumber(customer_id=world["tom"], e164="+8613711112222"))
            s.commit()
        await pilot.press("ctrl+f")
        await settle(pilot)
        await pilot.press(*"张敏", "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        call = app.screen
        assert isinstance(call, CallScreen) and call.state.customer_id == world["min"]
    with Session(engine) as s:
        owners = s.exec(
            select(PhoneNumber.customer_id).where(PhoneNumber.e164 == "+8613711112222")
        ).all()
        changes = s.exec(select(CustomerChange)).all()
    assert sorted(owners) == sorted([world["tom"], world["min"]])
    assert [(c.customer_id, c.field, c.new) for c in changes] == [
        (world["min"], "phone", "+8613711112222")
    ]


async def test_a_full_page_is_not_shown_as_a_count(make_seat, engine, world):
    """The search gives a page of 20: 25 customers found are 'the first 20', never '20
    customers found'."""
    with Session(engine) as s:
        for n in range(25):
            customers.create_customer(
                session=s, now=NOW, name=f"Quentin {n:02d}", phone_text=f"135 1111 {n:04d}"
            )
        s.commit()
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press(*"Quentin", "enter")
        await settle(pilot)
        shown = str(app.screen.query_one("#find-count").render())
        assert len(app.screen.query_one(SearchResults).hits) == 20
        assert shown.startswith("The first 20 found") and "customers found" not in shown
