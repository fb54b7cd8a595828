"""Customer edits (F9) and masked data revealed with a reason (ctrl+r), driven by keys."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from sqlmodel import Session, select

from seat.models import AccessLog, Customer, CustomerChange, PhoneNumber
from seat.screens.calls.call import CallScreen
from seat.screens.calls.customer_edit import CustomerEditScreen
from seat.screens.calls.find_customer import FindCustomerScreen
from seat.screens.reveal import RevealScreen
from tests.ui.helpers import choose, settle


def shown(widget) -> str:
    """The text a Static shows, whatever renderable it holds."""
    console = Console(width=120, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


def _changes(engine, customer_id: int) -> list[tuple[str, str | None, str | None, int | None]]:
    with Session(engine) as s:
        rows = s.exec(
            select(CustomerChange).where(CustomerChange.customer_id == customer_id)
            .order_by(CustomerChange.id)
        ).all()  # fmt: skip
        return [(r.field, r.old, r.new, r.agent_id) for r in rows]


async def _clear_and_type(pilot, text: str) -> None:
    await pilot.press("ctrl+a", "ctrl+k", *text)


async def test_edit_the_caller_from_the_call_screen(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"138 0013 8000", "enter")
        await settle(pilot)
        call = app.screen
        assert isinstance(call, CallScreen)
        card_text = str(call.query_one("#card").render())
        assert "138 0013 8000" in card_text and "88 Nanjing Rd" in card_text  # own call: plain
        await pilot.press("f9")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomerEditScreen)
        assert form.query_one("#f-phone").value == "138 0013 8000"
        await pilot.press("tab")  # -> phone
        await _clear_and_type(pilot, "139 0000 1111")
        await pilot.press("tab")  # -> address
        await _clear_and_type(pilot, "上海市静安区南京西路 1 号")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is call
        card_text = str(call.query_one("#card").render())
        assert "Changes: 2" in card_text and "139 0000 1111" in card_text
    assert _changes(engine, world["fang"]) == [
        ("phone", "+8613800138000", "+8613900001111", world["li"]),
        ("address", "88 Nanjing Rd, Shanghai", "上海市静安区南京西路 1 号", world["li"]),
    ]
    with Session(engine) as s:
        assert s.exec(
            select(PhoneNumber.customer_id).where(PhoneNumber.e164 == "+8613900001111")
        ).one() == world["fang"]


async def test_a_bad_edit_shows_the_field_error_and_saves_nothing(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"138 0013 8000", "enter")
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        form = app.screen
        await pilot.press("tab")
        await _clear_and_type(pilot, "139 1234 5678")  # 张敏's number
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "already on file" in str(form.query_one("#err-phone").render())
    assert _changes(engine, world["fang"]) == []


async def test_found_customer_is_masked_until_revealed_with_a_reason(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        find = app.screen
        assert isinstance(find, FindCustomerScreen)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        text = str(find.query_one("#find-card").render())
        assert "138****8000" in text and "****, Shanghai" in text
        assert "0013" not in text and "Nanjing" not in text
        await pilot.press("ctrl+r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, RevealScreen)
        await pilot.press("ctrl+s")  # no reason
        await settle(pilot)
        assert app.screen is dialog
        assert "reason" in str(dialog.query_one("#err-reason").render()).lower()
        await pilot.press(*"Customer asked by letter")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is find
        text = str(find.query_one("#find-card").render())
        assert "138 0013 8000" in text and "Nanjing" not in text  # the phone only
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f")  # a new look: masked again
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        assert "138****8000" in str(app.screen.query_one("#find-card").render())
    with Session(engine) as s:
        logs = s.exec(select(AccessLog)).all()
    assert [(a.agent_id, a.customer_id, a.what, a.reason) for a in logs] == [
        (world["li"], world["fang"], "phone", "Customer asked by letter")
    ]


async def test_edit_from_the_found_customer_keeps_masked_fields(make_seat, engine, world):
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomerEditScreen)
        assert form.query_one("#f-phone").value == ""
        assert "138****8000" in form.query_one("#f-phone").placeholder
        await pilot.press("tab", "tab", "tab", "tab")  # -> tier
        await choose(pilot, "diamond")  # was vip
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FindCustomerScreen)
        assert "Changes: 1" in str(app.screen.query_one("#find-card").render())
    assert _changes(engine, world["fang"]) == [("tier", "vip", "diamond", world["li"])]
    with Session(engine) as s:
        fang = s.get(Customer, world["fang"])
        assert fang.address == "88 Nanjing Rd, Shanghai"


async def test_work_order_address_revealed_with_a_reason(make_seat, engine, world):
    from datetime import timedelta

    from seat.models import WorkOrder
    from seat.screens.work_orders.work_order import WorkOrderScreen
    from tests.conftest import NOW

    with Session(engine) as s:
        wo = WorkOrder(
            kind="service_request", short_text="Oven door", customer_id=world["min"],
            assignee_id=world["li"], urgent=True, due_at=NOW + timedelta(hours=3),
            created_at=NOW, service_address="上海市徐汇区漕溪北路 1 号 3 室",
        )  # fmt: skip
        s.add(wo)
        s.commit()
        wo_id = wo.id
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(WorkOrderScreen(wo_id))
        await settle(pilot)
        detail = app.screen
        fields = shown(detail.query_one("#wo-fields"))
        assert "上海市徐汇区****" in fields and "漕溪北路" not in fields
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, RevealScreen)
        await pilot.press(*"Technician lost the slip", "ctrl+s")
        await settle(pilot)
        assert app.screen is detail
        assert "漕溪北路 1 号 3 室" in shown(detail.query_one("#wo-fields"))
    with Session(engine) as s:
        logs = s.exec(select(AccessLog)).all()
    assert [(a.agent_id, a.customer_id, a.what) for a in logs] == [
        (world["li"], world["min"], "address")
    ]


def _cells(table, key: str) -> list[str]:
    return [str(c) for c in table.get_row(key)]


async def test_work_plan_address_masked_and_revealed_on_the_highlighted_row(
    make_seat, engine, world
):
    from datetime import timedelta

    from seat.models import WorkOrder
    from seat.screens.work_orders.workplan import WorkPlanScreen
    from tests.conftest import NOW

    with Session(engine) as s:
        orders = [
            WorkOrder(
                kind="service_request", short_text=text, customer_id=world[who],
                assignee_id=world["li"], urgent=urgent, due_at=NOW + timedelta(hours=3),
                created_at=NOW, service_address=address,
            )
            for text, who, urgent, address in (
                ("Oven door", "min", True, "上海市徐汇区漕溪北路 1 号 3 室"),
                ("Fridge hums", "fang", False, "上海市黄浦区南京东路 8 号"),
            )
        ]  # fmt: skip
        s.add_all(orders)
        s.commit()
        first, second = (str(o.id) for o in orders)
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        plan = app.screen
        assert isinstance(plan, WorkPlanScreen)
        table = plan.query_one("#plan")
        keys = [k.value for k in table.rows]
        assert keys[0] == first and second in keys  # urgent first; the world's orders too
        assert _cells(table, first)[-1] == "上海市徐汇区****"
        assert _cells(table, second)[-1] == "上海市黄浦区****"
        assert plan.check_action("reveal", ()) is True  # the footer offers ctrl+r
        await pilot.press(*["down"] * keys.index(second))  # the second order's customer
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, RevealScreen)
        await pilot.press("ctrl+s")  # no reason: refused at the field, nothing logged
        await settle(pilot)
        assert isinstance(app.screen, RevealScreen)
        await pilot.press(*"Technician lost the slip", "ctrl+s")
        await settle(pilot)
        assert app.screen is plan
        assert _cells(table, second)[-1] == "上海市黄浦区南京东路 8 号"
        assert _cells(table, first)[-1] == "上海市徐汇区****"  # only the one asked for
        assert table.cursor_row == keys.index(second)  # still on the row revealed
        assert plan.check_action("reveal", ()) is False
        await pilot.press("escape", "p")  # leaving the screen masks it again
        await settle(pilot)
        assert _cells(app.screen.query_one("#plan"), second)[-1] == "上海市黄浦区****"
    with Session(engine) as s:
        logs = s.exec(select(AccessLog)).all()
    assert [(a.agent_id, a.customer_id, a.what, a.reason) for a in logs] == [
        (world["li"], world["fang"], "address", "Technician lost the slip")
    ]


async def test_desk_last_calls_mask_unregistered_callers(make_seat, engine, world):
    from datetime import timedelta

    from seat.models import Call
    from tests.conftest import NOW

    with Session(engine) as s:
        s.add_all([
            Call(agent_id=world["li"], from_number="+8613912345678", started_at=NOW - timedelta(
                hours=2), ended_at=NOW - timedelta(hours=1), outcome="resolved"),
            Call(agent_id=world["li"], from_number="+442079460958", started_at=NOW - timedelta(
                hours=4), ended_at=NOW - timedelta(hours=3), outcome="resolved"),
        ])  # fmt: skip
        s.commit()
    app = make_seat()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#recent")
        callers = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
    assert callers == ["139***5678", "+44***0958"]
    assert not any("1234" in c or "9460" in c for c in callers)


@pytest.mark.parametrize(
    ("number", "width", "shown"),
    [
        ("+8613912345678", 11, "139****5678"),
        ("+8613912345678", 10, "139***5678"),  # fewer stars, the same digits hidden
        ("+442079460958", 10, "+44***0958"),  # the country code and the last digits stay
        ("+442079460958", 14, "+44 207***0958"),
        (None, 10, ""),
    ],
)
def test_masked_caller_fits_the_column(number, width, shown):
    from seat.screens.desk import masked_caller

    assert masked_caller(number, "CN", width) == shown
