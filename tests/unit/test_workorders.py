"""Work orders: creation with every field, the two kinds' flows, quotes, dispatch, the list."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from seat import agents, workorders
from seat.customers import ValidationError
from seat.models import Customer, Role, WorkOrder, WorkOrderEvent, WorkOrderLine
from seat.roles import PermissionDenied
from seat.workorders import Z1, Z2, LineIn, OrderQuery, WorkOrderDraft
from tests.conftest import NOW

sqlite_only = pytest.mark.skipif(
    bool(os.environ.get("SEAT_TEST_POSTGRES_URL")), reason="SQLite query plans"
)



@pytest.fixture
def boss(session, world) -> int:
    lead = agents.ensure_agent(session=session, name="zhao.lei", role=Role.SUPERVISOR)
    session.commit()
    return lead.id


def _create(session, world, *, reason_codes=None, **overrides) -> WorkOrder:
    draft = WorkOrderDraft(**{
        "kind": Z1,
        "short_text": "Washer leaks",
        "reporter": "Wang Fang",
        "assignee_id": world["wang"],
        "due_at": NOW + timedelta(days=2),
        "service_type": "repair",
        **overrides,
    })  # fmt: skip
    wo = workorders.create_order(
        session=session, now=NOW, customer_id=world["fang"], created_by_id=world["li"],
        draft=draft, reason_codes=reason_codes,
    )
    session.commit()
    return wo


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _events(session, wo_id: int) -> list[WorkOrderEvent]:
    return list(
        session.exec(
            select(WorkOrderEvent)
            .where(WorkOrderEvent.work_order_id == wo_id)
            .order_by(WorkOrderEvent.id)
        )
    )


def _move(session, wo_id: int, agent_id: int, action: str, **kw) -> WorkOrder:
    wo = workorders.move(
        session=session, now=kw.pop("now", NOW), work_order_id=wo_id, agent_id=agent_id,
        action=action, **kw,
    )
    session.commit()
    return wo


# -- creating ----------------------------------------------------------------------------------


def test_create_full_order_stores_every_field_lines_and_one_event(session, world):
    wo = _create(
        session, world,
        kind=Z2, service_type=None, urgent=True, long_text=" Scratch 20 cm on the top ",
        service_address="Warehouse gate 3", sales_order_no="SO-2026-0042",
        requested_start=NOW + timedelta(hours=3), work_center="SH-LOGISTICS",
        product_type="dining table", product_colour="walnut", reason_code="D01",
        lines=(LineIn("table top", 1, "pc"), LineIn("touch-up paint", 0.5, "l")),
        reason_codes=tuple(workorders.DEFAULT_REASON_CODES),
    )
    stored = session.get(WorkOrder, wo.id)
    assert (stored.kind, stored.status, stored.urgent) == (Z2, "created", True)
    assert stored.long_text == "Scratch 20 cm on the top"
    assert stored.service_address == "Warehouse gate 3"
    assert stored.sales_order_no == "SO-2026-0042"
    assert stored.requested_start == NOW + timedelta(hours=3)
    assert (stored.work_center, stored.product_type, stored.product_colour) == (
        "SH-LOGISTICS", "dining table", "walnut"
    )
    assert stored.reason_code == "D01" and stored.service_type is None
    assert stored.created_by_id == world["li"] and stored.assignee_id == world["wang"]
    lines = workorders.lines(session=session, work_order_id=wo.id)
    assert lines == [("table top", 1.0, "pc"), ("touch-up paint", 0.5, "l")]
    [event] = _events(session, wo.id)
    assert (event.action, event.from_status, event.to_status) == ("create", None, "created")
    assert event.agent_id == world["li"] and event.at == NOW
    assert "urgent" in event.comment


def test_service_address_defaults_to_the_address_then_the_second_one(session, world):
    assert _create(session, world).service_address == "88 Nanjing Rd, Shanghai"
    fang = session.get(Customer, world["fang"])
    fang.address, fang.second_address = None, "Office: 1 Century Ave"
    session.add(fang)
    session.commit()
    assert _create(session, world).service_address == "Office: 1 Century Ave"
    assert _create(session, world, service_address=" Typed 5 ").service_address == "Typed 5"


def test_reporter_defaults_to_the_customer_on_file(session, world):
    assert _create(session, world, reporter=None).reporter == "Wang Fang"
    assert _create(session, world, reporter=" Her son ").reporter == "Her son"


def test_paid_service_may_carry_its_quote_from_the_start(session, world):
    wo = _create(session, world, service_type="paid", quote_amount=380.0, quote_needs_hq=True)
    assert (wo.quote_amount, wo.quote_needs_hq, wo.quote_confirmed_at) == (380.0, True, None)


@pytest.mark.parametrize(
    ("overrides", "bad"),
    [
        ({"kind": "repair"}, {"kind"}),
        ({"short_text": "  "}, {"short_text"}),
        ({"short_text": "x" * 201}, {"short_text"}),
        ({"reporter": ""}, {"reporter"}),
        ({"assignee_id": None}, {"assignee"}),
        ({"assignee_id": 999}, {"assignee"}),
        ({"due_at": None}, {"due_at"}),
        ({"due_at": NOW - timedelta(minutes=1)}, {"due_at"}),
        ({"requested_start": NOW + timedelta(days=3)}, {"requested_start"}),
        ({"service_type": None}, {"service_type"}),
        ({"service_type": "free"}, {"service_type"}),
        ({"kind": Z2, "service_type": None}, {"sales_order_no"}),
        ({"sales_order_no": "x" * 41}, {"sales_order_no"}),
        ({"reason_code": "ZZ9", "reason_codes": ("Q01",)}, {"reason_code"}),
        ({"lines": (LineIn("seal", 0),)}, {"lines"}),
        ({"lines": (LineIn(" ", 1),)}, {"lines"}),
        ({"lines": (LineIn("seal", float("nan")),)}, {"lines"}),
        ({"quote_amount": 100.0}, {"quote_amount"}),
        ({"long_text": "x" * (workorders.MAX_TEXT + 1)}, {"long_text"}),
        ({"problems": {"due_at": "Not a date and time."}, "due_at": None}, {"due_at"}),
        (
            {"kind": Z2, "short_text": "", "reporter": "", "assignee_id": None, "due_at": None},
            {"short_text", "reporter", "assignee", "due_at", "sales_order_no"},
        ),
    ],
)
def test_required_fields_are_named_and_nothing_is_saved(session, world, overrides, bad):
    before = (_count(session, WorkOrder), _count(session, WorkOrderEvent),
              _count(session, WorkOrderLine))
    with pytest.raises(ValidationError) as info:
        _create(session, world, **overrides)
    assert set(info.value.errors) == bad
    assert all(info.value.errors.values())
    session.rollback()
    after = (_count(session, WorkOrder), _count(session, WorkOrderEvent),
             _count(session, WorkOrderLine))
    assert after == before


def test_unknown_customer_is_refused(session, world):
    with pytest.raises(ValidationError) as info:
        workorders.create_order(
            session=session, now=NOW, customer_id=999, created_by_id=world["li"],
            draft=WorkOrderDraft(
                kind=Z1, short_text="x", reporter="y", assignee_id=world["li"],
                due_at=NOW + timedelta(days=1), service_type="repair",
            ),
        )
    assert set(info.value.errors) == {"customer"}


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("door seal × 2 pc", [LineIn("door seal", 2, "pc")]),
        ("hinge x 4\n\nmanual", [LineIn("hinge", 4, "pc"), LineIn("manual", 1, "pc")]),
        ("paint * 0,5 l", [LineIn("paint", 0.5, "l")]),
        ("Box 3x", [LineIn("Box 3x", 1, "pc")]),
        ("", []),
    ],
)
def test_parse_lines(text, lines):
    assert workorders.parse_lines(text) == lines


@pytest.mark.parametrize(
    ("text", "amount"), [("380", 380.0), ("¥1,200.50", 1200.5), ("", None), (" 0 ", 0.0)]
)
def test_parse_amount(text, amount):
    assert workorders.parse_amount(text) == amount


@pytest.mark.parametrize("text", ["abc", "-5", "inf"])
def test_parse_amount_refuses(text):
    with pytest.raises(ValueError):
        workorders.parse_amount(text)


# -- the flows ---------------------------------------------------------------------------------

PATHS = [
    (Z1, ["survey", "approve", "reply", "service", "complete", "close"],
     ["survey_done", "approved", "replied", "serviced", "completed", "closed"]),
    (Z1, ["survey", "reject", "reply", "service", "complete", "close"],
     ["survey_done", "not_approved", "replied", "serviced", "completed", "closed"]),
    (Z1, ["survey", "service", "complete", "close"],
     ["survey_done", "serviced", "completed", "closed"]),
    (Z2, ["reply_sales", "deliver", "close"], ["replied_sales", "delivered", "closed"]),
    (Z2, ["reply_sales", "return", "close"], ["replied_sales", "returned", "closed"]),
]


@pytest.mark.parametrize(("kind", "actions", "statuses"), PATHS)
def test_each_allowed_path_to_closed_records_one_event_per_change(
    session, world, boss, kind, actions, statuses
):
    hq = "approve" in actions or "reject" in actions
    extra = {"service_type": None, "sales_order_no": "SO-1"} if kind == Z2 else {}
    wo = _create(session, world, kind=kind, **extra)
    for i, (action, status) in enumerate(zip(actions, statuses, strict=True)):
        step = workorders.find_step(kind, session.get(WorkOrder, wo.id).status, action)
        who = boss if step.supervisor else world["wang"]
        accept = "Works again, signed" if step.needs_acceptance else ""
        at = NOW + timedelta(hours=i + 1)
        moved = _move(session, wo.id, who, action, now=at, comment=f"step {i}",
                      acceptance=accept, hq=hq if action == "survey" else None)
        assert moved.status == status
        event = _events(session, wo.id)[-1]
        assert (event.agent_id, event.at, event.action, event.to_status) == (
            who, at, action, status
        )
        assert event.from_status == (statuses[i - 1] if i else "created")
        assert event.comment.startswith(f"step {i}")
    final = session.get(WorkOrder, wo.id)
    assert final.closed_at == NOW + timedelta(hours=len(actions))
    assert final.customer_acceptance == "Works again, signed" and final.accepted_at
    assert len(_events(session, wo.id)) == len(actions) + 1


REFUSED = [
    (kind, status, action)
    for kind in workorders.KINDS
    for status in workorders.statuses(kind)
    for action in workorders.ACTIONS
    if workorders.find_step(kind, status, action) is None
]


@pytest.mark.parametrize(("kind", "status", "action"), REFUSED)
def test_every_other_change_is_refused(session, world, boss, kind, status, action):
    extra = {"service_type": None, "sales_order_no": "SO-1"} if kind == Z2 else {}
    wo = _create(session, world, kind=kind, **extra)
    wo.status = status
    session.add(wo)
    session.commit()
    with pytest.raises(ValidationError) as info:
        _move(session, wo.id, boss, action, acceptance="ok")
    assert "status" in info.value.errors
    session.rollback()
    assert session.get(WorkOrder, wo.id).status == status
    assert len(_events(session, wo.id)) == 1


def test_the_two_flows_have_the_manuals_statuses():
    assert workorders.statuses(Z1) == (
        "created", "survey_done", "approved", "not_approved", "replied", "serviced",
        "completed", "closed",
    )
    assert workorders.statuses(Z2) == (
        "created", "replied_sales", "delivered", "returned", "closed"
    )
    assert set(workorders.IN_PROCESS) == (
        set(workorders.statuses(Z1)) | set(workorders.statuses(Z2))
    ) - {"created", "closed"}


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_only_a_supervisor_decides(session, world, boss, action):
    wo = _create(session, world)
    _move(session, wo.id, world["wang"], "survey", hq=True)
    with pytest.raises(PermissionDenied, match="supervisor"):
        _move(session, wo.id, world["li"], action)
    session.rollback()
    assert session.get(WorkOrder, wo.id).status == "survey_done"
    assert _move(session, wo.id, boss, action).status in ("approved", "not_approved")


def test_completing_needs_the_customers_acceptance(session, world, boss):
    wo = _create(session, world)
    for action in ("survey", "service"):
        _move(session, wo.id, world["wang"], action)
    with pytest.raises(ValidationError) as info:
        _move(session, wo.id, world["wang"], "complete", acceptance="  ")
    assert set(info.value.errors) == {"acceptance"}
    session.rollback()
    done_at = NOW + timedelta(hours=5)
    wo = _move(session, wo.id, world["wang"], "complete", acceptance="Fixed", now=done_at)
    assert (wo.status, wo.customer_acceptance, wo.accepted_at) == ("completed", "Fixed", done_at)
    # The satisfaction callback is scheduled from the completion event.
    assert workorders.completed_at(session=session, work_order_id=wo.id) == done_at
    wo = _move(session, wo.id, world["wang"], "close", now=done_at + timedelta(hours=1))
    assert wo.status == "closed" and wo.accepted_at == done_at


def test_closing_a_delivery_exception_needs_the_customers_acceptance(session, world):
    wo = _create(session, world, kind=Z2, service_type=None, sales_order_no="SO-9")
    _move(session, wo.id, world["li"], "reply_sales")
    _move(session, wo.id, world["li"], "deliver")
    with pytest.raises(ValidationError) as info:
        _move(session, wo.id, world["li"], "close")
    assert "acceptance" in info.value.errors
    session.rollback()
    assert session.get(WorkOrder, wo.id).status == "delivered"
    wo = _move(session, wo.id, world["li"], "close", acceptance="New top accepted")
    assert wo.status == "closed" and wo.customer_acceptance == "New top accepted"


def test_acceptance_is_only_taken_where_asked(session, world):
    wo = _create(session, world)
    wo = _move(session, wo.id, world["li"], "survey", acceptance="premature")
    assert wo.accepted_at is None and wo.customer_acceptance is None


def test_a_stale_version_is_refused(session, world):
    wo = _create(session, world)
    seen = wo.version
    _move(session, wo.id, world["li"], "survey")
    with pytest.raises(workorders.StaleOrder):
        workorders.reassign(session=session, now=NOW, work_order_id=wo.id,
                            agent_id=world["li"], assignee_id=world["li"],
                            expected_version=seen)


def test_an_unknown_order_is_a_lookup_error(session, world):
    with pytest.raises(LookupError):
        _move(session, 999, world["li"], "survey")


# -- quotes ------------------------------------------------------------------------------------


def _paid(session, world, **kw) -> WorkOrder:
    hq = kw.pop("hq", True)
    wo = _create(session, world, service_type="paid", **kw)
    _move(session, wo.id, world["wang"], "survey", hq=hq)
    return wo


def _quote(session, wo_id, agent_id, amount=380.0, needs_hq=False) -> WorkOrder:
    wo = workorders.set_quote(session=session, now=NOW, work_order_id=wo_id, agent_id=agent_id,
                              amount=amount, needs_hq=needs_hq)
    session.commit()
    return wo


def _approve_quote(session, wo_id, agent_id) -> WorkOrder:
    wo = workorders.approve_quote(session=session, now=NOW, work_order_id=wo_id,
                                  agent_id=agent_id)
    session.commit()
    return wo


def _confirm(session, wo_id, agent_id) -> WorkOrder:
    wo = workorders.confirm_quote(session=session, now=NOW, work_order_id=wo_id,
                                  agent_id=agent_id)
    session.commit()
    return wo


def test_paid_service_needs_a_confirmed_quote_before_approval(session, world, boss):
    wo = _paid(session, world)
    with pytest.raises(ValidationError, match="quote first"):
        _move(session, wo.id, boss, "approve")
    session.rollback()
    _quote(session, wo.id, world["li"])
    with pytest.raises(ValidationError, match="not confirmed"):
        _move(session, wo.id, boss, "approve")
    session.rollback()
    confirmed = _confirm(session, wo.id, world["li"])
    assert confirmed.quote_confirmed_at == NOW
    assert _move(session, wo.id, boss, "approve").status == "approved"
    assert _move(session, wo.id, world["wang"], "reply").status == "replied"
    actions = [e.action for e in _events(session, wo.id)]
    assert actions == ["create", "survey", "quote", "quote_confirm", "approve", "reply"]


def test_a_refusal_needs_no_quote(session, world, boss):
    wo = _paid(session, world)
    assert _move(session, wo.id, boss, "reject").status == "not_approved"
    assert _move(session, wo.id, world["wang"], "reply").status == "replied"


def test_a_head_office_quote_needs_a_supervisor_before_the_customer(session, world, boss):
    wo = _paid(session, world)
    _quote(session, wo.id, world["li"], amount=2600, needs_hq=True)
    with pytest.raises(ValidationError, match="supervisor"):
        _confirm(session, wo.id, world["li"])
    session.rollback()
    with pytest.raises(PermissionDenied):
        _approve_quote(session, wo.id, world["li"])
    session.rollback()
    approved = _approve_quote(session, wo.id, boss)
    assert (approved.quote_approved_by_id, approved.quote_approved_at) == (boss, NOW)
    _confirm(session, wo.id, world["li"])
    assert _move(session, wo.id, boss, "approve").status == "approved"


def test_a_new_price_needs_a_new_confirmation(session, world, boss):
    wo = _paid(session, world)
    _quote(session, wo.id, world["li"], needs_hq=True)
    _approve_quote(session, wo.id, boss)
    _confirm(session, wo.id, world["li"])
    wo = _quote(session, wo.id, world["li"], amount=450, needs_hq=True)
    assert (wo.quote_amount, wo.quote_confirmed_at, wo.quote_approved_at) == (450, None, None)
    with pytest.raises(ValidationError):
        _move(session, wo.id, boss, "approve")


@pytest.mark.parametrize(
    ("setup", "fn"),
    [
        ("not_paid", "quote"),
        ("approved", "quote"),
        ("no_quote", "confirm"),
        ("confirmed", "confirm"),
        ("no_quote", "approve_quote"),
        ("plain_quote", "approve_quote"),
    ],
)
def test_quote_steps_refused_out_of_place(session, world, boss, setup, fn):
    if setup == "not_paid":
        wo = _create(session, world)
    else:
        wo = _paid(session, world)
    if setup in ("approved", "confirmed", "plain_quote"):
        _quote(session, wo.id, world["li"])
    if setup in ("approved", "confirmed"):
        _confirm(session, wo.id, world["li"])
    if setup == "approved":
        _move(session, wo.id, boss, "approve")
    call = {
        "quote": lambda: _quote(session, wo.id, boss),
        "confirm": lambda: _confirm(session, wo.id, boss),
        "approve_quote": lambda: _approve_quote(session, wo.id, boss),
    }[fn]
    with pytest.raises(ValidationError):
        call()


# -- dispatch ----------------------------------------------------------------------------------


def test_reassigning_is_recorded_with_both_names(session, world, boss):
    wo = _create(session, world)
    wo = workorders.reassign(session=session, now=NOW + timedelta(minutes=5),
                             work_order_id=wo.id, agent_id=boss,
                             assignee_id=world["li"], comment="Wang Wei is off sick")
    session.commit()
    assert wo.assignee_id == world["li"]
    event = _events(session, wo.id)[-1]
    assert event.action == "reassign" and event.agent_id == boss
    assert event.from_status == event.to_status == "created"
    assert event.comment == "Wang Wei → Li Na. Wang Wei is off sick"


@pytest.mark.parametrize("case", ["same", "inactive", "closed"])
def test_reassigning_refused(session, world, boss, case):
    wo = _create(session, world)
    target = world["wang"]
    if case == "inactive":
        gone = agents.ensure_agent(session=session, name="gone.person")
        gone.active = False
        session.add(gone)
        target = gone.id
    if case == "closed":
        wo.status = "closed"
        session.add(wo)
        target = world["li"]
    session.commit()
    with pytest.raises(ValidationError) as info:
        workorders.reassign(session=session, now=NOW, work_order_id=wo.id,
                            agent_id=boss, assignee_id=target)
    assert set(info.value.errors) == {"assignee"}


def test_urgent_flag_is_an_event(session, world):
    wo = _create(session, world)
    for flag in (True, True, False):
        workorders.set_urgent(session=session, now=NOW, work_order_id=wo.id,
                              agent_id=world["li"], urgent=flag)
        session.commit()
    assert session.get(WorkOrder, wo.id).urgent is False
    assert [e.action for e in _events(session, wo.id)] == ["create", "urgent", "not_urgent"]


# -- the list ----------------------------------------------------------------------------------


@pytest.fixture
def listed(session, world):
    """The world's three orders plus six more in known states, kinds, centers and days."""
    made = {}
    specs = [
        ("a", Z1, "created", True, "SH-REPAIR", world["wang"], 1),
        ("b", Z1, "survey_done", False, "SH-REPAIR", world["wang"], 2),
        ("c", Z2, "replied_sales", False, "SH-LOGISTICS", world["li"], 3),
        ("d", Z2, "closed", False, "SH-LOGISTICS", world["wang"], 4),
        ("e", Z1, "completed", True, None, world["li"], 5),
        ("f", Z1, "closed", False, "SH-REPAIR", world["li"], 6),
    ]
    for name, kind, status, urgent, center, who, days_ago in specs:
        wo = WorkOrder(kind=kind, short_text=f"order {name}", customer_id=world["min"],
                       assignee_id=who, status=status, urgent=urgent, work_center=center,
                       due_at=NOW + timedelta(days=1), created_at=NOW - timedelta(days=days_ago))
        session.add(wo)
        session.flush()
        made[name] = wo.id
    session.commit()
    return made


def _ids(session, **query) -> list[int]:
    page = workorders.list_orders(session=session, query=OrderQuery(**query), page_size=100)
    return [r.id for r in page.rows]


def test_list_filters(session, world, listed):
    ids = {v: k for k, v in listed.items()}

    def names(**q):
        return {ids.get(i, "world") for i in _ids(session, **q)}

    assert names(state="open") == {"a", "world"}
    assert names(state="in_process") == {"b", "c", "e"}
    assert names(state="closed") == {"d", "f"}
    assert names(state=None, kind=Z2) == {"c", "d", "world"}
    assert names(state=None, assignee_id=world["li"]) == {"c", "e", "f", "world"}
    assert names(state=None, work_center="SH-REPAIR") == {"a", "b", "f"}
    assert names(state=None, urgent_only=True) == {"a", "e", "world"}
    assert names(state=None, created_from=NOW - timedelta(days=4, hours=1),
                 created_to=NOW - timedelta(days=1, hours=12)) == {"b", "c", "d"}
    assert names(state="closed", assignee_id=world["li"], kind=Z1) == {"f"}


def test_list_rows_are_column_only_in_the_states_order(session, world, listed):
    page = workorders.list_orders(session=session, query=OrderQuery(state=None), page_size=100)
    assert [r.created_at for r in page.rows] == sorted(
        (r.created_at for r in page.rows), reverse=True
    )
    open_ = workorders.list_orders(session=session, query=OrderQuery(state="in_process"))
    assert [r.due_at for r in open_.rows] == sorted(r.due_at for r in open_.rows)
    row = next(r for r in page.rows if r.id == listed["c"])
    assert (row.customer, row.assignee, row.work_center, row.status) == (
        "张敏", "Li Na", "SH-LOGISTICS", "replied_sales"
    )


def test_list_pages(session, world, listed):
    q = OrderQuery(state=None)
    first = workorders.list_orders(session=session, query=q, page=1, page_size=4)
    second = workorders.list_orders(session=session, query=q, page=2, page_size=4)
    third = workorders.list_orders(session=session, query=q, page=3, page_size=4)
    assert first.total == 9 and first.pages == 3
    assert [len(p.rows) for p in (first, second, third)] == [4, 4, 1]
    seen = [r.id for p in (first, second, third) for r in p.rows]
    assert sorted(seen) == list(range(1, 10))
    beyond = workorders.list_orders(session=session, query=q, page=99, page_size=4)
    assert beyond.page == 3 and [r.id for r in beyond.rows] == [r.id for r in third.rows]
    empty = workorders.list_orders(session=session, query=OrderQuery(kind="nope"))
    assert (empty.total, empty.pages, empty.rows) == (0, 1, ())


def test_day_bounds_are_the_local_day():
    start, end = workorders.day_bounds(date(2026, 11, 23), "Asia/Shanghai")
    assert start == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)


def _plan(session, stmt) -> str:
    compiled = stmt.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    params = tuple(
        v.isoformat(" ") if isinstance(v, datetime) else v
        for v in (compiled.params[name] for name in compiled.positiontup)
    )
    rows = session.connection().exec_driver_sql(
        f"EXPLAIN QUERY PLAN {compiled}", params
    ).all()
    return "\n".join(str(r[-1]) for r in rows)


LIST_QUERIES = {
    "everything": OrderQuery(state=None),
    "open": OrderQuery(state="open"),
    "in process": OrderQuery(state="in_process"),
    "closed by date": OrderQuery(state="closed", created_from=NOW - timedelta(days=7),
                                 created_to=NOW),
    "assignee": OrderQuery(state=None, assignee_id=1),
    "assignee and state": OrderQuery(state="open", assignee_id=1, urgent_only=True),
    "work center": OrderQuery(state=None, work_center="SH-REPAIR"),
    "date range": OrderQuery(state=None, created_from=NOW - timedelta(days=2), created_to=NOW),
    "kind": OrderQuery(state=None, kind=Z2),
}


def _reads_through_an_index(plan: str) -> bool:
    reads = [line for line in plan.splitlines() if "work_order" in line]
    return bool(reads) and all(
        "USING" in line and ("INDEX" in line or "INTEGER PRIMARY KEY" in line) for line in reads
    )


@sqlite_only
@pytest.mark.parametrize("name", LIST_QUERIES)
@pytest.mark.parametrize("page", [1, 400])
def test_the_page_query_reads_through_indexes(session, world, listed, name, page):
    """No timing: every read of work_order goes through an index, never a bare table scan."""
    plan = _plan(session, workorders.list_statement(LIST_QUERIES[name], page=page))
    assert _reads_through_an_index(plan), plan
    assert "ix_work_order_" in plan, plan


@sqlite_only
@pytest.mark.parametrize("name", [n for n in LIST_QUERIES if n != "kind"])
def test_the_count_reads_an_index_only(session, world, listed, name):
    plan = _plan(session, workorders.count_statement(LIST_QUERIES[name]))
    assert _reads_through_an_index(plan), plan


@sqlite_only
def test_the_kind_alone_is_counted_from_the_table(session, world, listed):
    """No index holds the kind: counting one kind of every state reads the table (~10 ms
    for 100,000 orders); its page still walks ix_work_order_created."""
    assert "SCAN work_order" in _plan(session, workorders.count_statement(LIST_QUERIES["kind"]))


@pytest.mark.parametrize(
    ("state", "order"), [("open", "due"), ("in_process", "due"), ("closed", "due_desc"),
                         (None, "newest")]
)
def test_the_order_follows_the_state(state, order):
    assert workorders.order_of(OrderQuery(state=state)) == order


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("open", "ix_work_order_status_due"),
        # Any index led by the assignee counts them (the narrowest covering one is cheapest).
        ("assignee", "ix_work_order_assignee_status|ix_work_order_agent_"),
        ("work center", "ix_work_order_work_center"),
        ("date range", "ix_work_order_created"),
    ],
)
@sqlite_only
def test_the_filters_pick_their_own_index(session, world, listed, name, index):
    plan = _plan(session, workorders.count_statement(LIST_QUERIES[name]))
    assert any(i in plan for i in index.split("|")), plan


def test_domain_modules_do_not_import_textual():
    code = (
        "import seat.workorders, seat.workplan, sys; "
        "print([m for m in sys.modules if m.startswith('textual')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"



def test_policy_shipped_defaults_and_overrides(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "nowhere" / "config.toml"))
    shipped = workorders.load_policy(settings)
    # data/policy/work_orders.toml says the defaults, and names its zones' places
    assert replace(shipped, clocks=workorders.Policy().clocks) == workorders.Policy()
    zones = shipped.clocks.zones
    assert [(z.id, z.on_site) for z in zones] == [
        (z.id, z.on_site) for z in workorders.Policy().clocks.zones
    ]
    assert all(z.address_contains or z.work_centers for z in zones)
    own = replace(settings, policy_dir=tmp_path)
    (tmp_path / "work_orders.toml").write_text(
        'work_centers = ["BJ-REPAIR"]\n[reason_codes]\nX01 = "broken glass"\n', encoding="utf-8"
    )
    assert workorders.load_policy(own) == workorders.Policy(("BJ-REPAIR",), {"X01": "broken glass"})
    # Broken while seats run: the policy last read from the file stays (start-up refuses it).
    (tmp_path / "work_orders.toml").write_text("work_centers = [", encoding="utf-8")
    os.utime(tmp_path / "work_orders.toml", ns=(1, 1))
    assert workorders.load_policy(own) == workorders.Policy(("BJ-REPAIR",), {"X01": "broken glass"})
    with pytest.raises(workorders.PolicyError, match="work_orders.toml: not valid TOML"):
        workorders.read_policy(tmp_path / "work_orders.toml")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "cannot be read"),
        ("work_centers = [", "not valid TOML"),
        ("work_center = ['A']", "unknown key(s): work_center"),
        ("work_centers = []", "work_centers must be a non-empty list"),
        ("work_centers = 'SH-REPAIR'", "work_centers must be a non-empty list"),
        ("[reason_codes]\nQ01 = 3", "[reason_codes] must map codes to text"),
        (b"work_centers = ['\xff']", "not UTF-8 text"),
    ],
)
def test_unusable_policy_file_is_named_never_the_defaults(tmp_path, settings, monkeypatch,
                                                          text, problem):
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "nowhere" / "config.toml"))
    path = tmp_path / "work_orders.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(workorders.PolicyError) as err:
        workorders.load_policy(replace(settings, policy_dir=tmp_path))
    assert str(err.value).startswith(f"{path}: ") and problem in str(err.value)


@pytest.mark.parametrize("typed", ["\x1b", "door seal\x1b[2J × 2", "hinge × 1 p\x07c"])
def test_a_material_line_with_control_characters_is_refused_before_anything_is_written(
    session, world, typed
):
    before = (_count(session, WorkOrder), _count(session, WorkOrderEvent))
    with pytest.raises(ValidationError) as exc:
        _create(session, world, lines=tuple(workorders.parse_lines(f"manual\n{typed}")))
    assert exc.value.errors == {
        "lines": "Line 2: the material contains control characters; retype it."
    }
    assert (_count(session, WorkOrder), _count(session, WorkOrderEvent)) == before
