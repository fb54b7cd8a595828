"""Audit: every create and change of calls, complaints, work orders, callbacks and customers
is traceable to an agent and a time, and the status histories are append-only.

One working day at the desk (`a_day`) goes through the same services the screens use; the
tests then read the history the database kept of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlmodel import Session

from seat import agents, callbacks, complaints, sla, workorders
from seat.config import DATA_DIR
from seat.customers import ValidationError
from seat.models import (
    Agent,
    Call,
    Callback,
    CallbackEvent,
    Complaint,
    ComplaintEvent,
    Customer,
    PhoneNumber,
    Role,
    WorkOrder,
    WorkOrderEvent,
)
from seat.roles import PermissionDenied
from seat.services import Desk
from tests.conftest import NOW

POLICY = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")
EVENT_TABLES = ("complaint_event", "work_order_event", "callback_event")
H = timedelta(hours=1)


@dataclass
class Day:
    """What happened, and the SQL the database was sent meanwhile."""

    ids: dict[str, int]
    statements: list[str] = field(default_factory=list)
    moves: dict[str, list[tuple[str, int, object]]] = field(default_factory=dict)


@pytest.fixture
def desk(engine, clock, settings) -> Desk:
    return Desk(engine=engine, clock=clock, settings=settings)


@pytest.fixture
def day(engine, clock, desk, world) -> Day:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = a_day(engine, clock, desk, world)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    result.statements = statements
    return result


def a_day(engine, clock, desk: Desk, world: dict[str, int]) -> Day:
    """A call with a callback, a work order and a complaint, each then carried through."""
    li, wang = world["li"], world["wang"]
    boss = desk.run(
        lambda s: agents.ensure_agent(
            session=s, name="zhao.lei", display_name="Zhao Lei", role=Role.SUPERVISOR
        ).id
    )
    ids = {"li": li, "wang": wang, "boss": boss}
    moves: dict[str, list[tuple[str, int, object]]] = {"complaint": [], "work_order": []}

    # A new caller is registered during the call; the call makes work of each kind.
    ids["customer"] = desk.create_customer(
        name="陈静 👩‍🔧", phone_text="139 2222 3333", created_by_id=li
    )
    state = desk.new_call(agent_id=li, customer_id=ids["customer"], from_number="+8613922223333")
    ids["callback"] = desk.create_callback(state, due_text="+1d", reason="确认上门时间")
    ids["work_order"] = desk.create_work_order(
        state,
        workorders.WorkOrderDraft(
            kind=workorders.Z1, short_text="Washer leaks", assignee_id=wang, urgent=False,
            due_at=desk.parse_when("+2d"), service_type="paid", quote_amount=380.0,
            quote_needs_hq=True,
        ),
    )  # fmt: skip
    ids["complaint"] = desk.create_complaint(
        state, what_happened="Rude technician", customer_wants="An apology"
    )
    while not state.in_wrapup:
        state.values.setdefault("need_category", "repair")
        state.advance(desk.now())
    state.outcome = "complaint_opened"
    state.notes = "客户要求道歉"
    clock.advance(minutes=5)
    ids["call"] = desk.save_call(state)

    # The complaint's six steps, with a pause, an escalation and a send-back on the way.
    def complaint(action: str, actor: int, fn, **kw) -> None:  # noqa: ANN001
        clock.advance(hours=1)
        desk.run(
            lambda s: fn(session=s, complaint_id=ids["complaint"], actor_id=actor,
                         now=desk.now(), **kw)
        )  # fmt: skip
        moves["complaint"].append((action, actor, desk.now()))

    complaint("accept", li, complaints.accept, department="Service", category="service_attitude",
              reply_text="We are sorry; we look into it today.", policy=POLICY)  # fmt: skip
    complaint("investigate", li, complaints.investigate, cause="staff_behaviour",
              responsible_person="Zhou Qiang", department="Service", policy=POLICY)  # fmt: skip
    complaint("escalate", li, complaints.escalate, supervisor_id=boss, comment="Wants a manager")
    complaint("propose", li, complaints.propose, solution_options="Apology call\nVoucher")
    complaint("send_back", boss, complaints.send_back, comment="Offer both")
    complaint("propose", li, complaints.propose, solution_options="Apology call and voucher")
    complaint("approve", boss, complaints.approve, chosen_solution="Apology call and voucher")
    complaint("pause", li, complaints.pause, comment="Customer away until Friday")
    complaint("resume", li, complaints.resume, comment="Back")
    complaint("implement", li, complaints.implement, accepted=True, comment="Accepted")
    complaint("close", li, complaints.close, category="service_attitude",
              root_cause="No training", summary="Train the team", policy=POLICY)  # fmt: skip

    # The work order: the quote, then its flow to closed; reassigned and flagged on the way.
    def order(label: str, actor: int, fn, **kw) -> None:  # noqa: ANN001
        clock.advance(hours=1)
        desk.run(
            lambda s: fn(session=s, now=desk.now(), work_order_id=ids["work_order"],
                         agent_id=actor, **kw)
        )  # fmt: skip
        moves["work_order"].append((label, actor, desk.now()))

    order("quote", li, workorders.set_quote, amount=420.0, needs_hq=True)
    order("quote_approve", boss, workorders.approve_quote)
    order("quote_confirm", li, workorders.confirm_quote)
    order("urgent", li, workorders.set_urgent, urgent=True)
    order("reassign", boss, workorders.reassign, assignee_id=li)
    order("survey", li, workorders.move, action="survey")
    order("approve", boss, workorders.move, action="approve")
    order("reply", li, workorders.move, action="reply")
    order("service", li, workorders.move, action="service")
    order("complete", li, workorders.move, action="complete", acceptance="Works again")
    order("close", li, workorders.move, action="close")

    # The callback: no answer, snoozed, handed over, then done. The rules schedule more.
    clock.advance(days=1)
    desk.run(lambda s: callbacks.record_attempt(
        session=s, callback_id=ids["callback"], agent_id=li, outcome="no_answer", now=desk.now()
    ))  # fmt: skip
    desk.run(lambda s: callbacks.snooze(
        session=s, callback_id=ids["callback"], agent_id=li, until=desk.now() + 3 * H,
        reason="客户在开会", now=desk.now(),
    ))  # fmt: skip
    desk.run(lambda s: callbacks.reassign(
        session=s, callback_id=ids["callback"], actor_id=boss, new_owner_id=wang,
        now=desk.now(), comment="Li Na is off tomorrow",
    ))  # fmt: skip
    clock.advance(hours=4)
    desk.run(lambda s: callbacks.record_attempt(
        session=s, callback_id=ids["callback"], agent_id=wang, outcome="resolved",
        now=desk.now(), score=5,
    ))  # fmt: skip
    desk.run(lambda s: callbacks.schedule(
        session=s, now=desk.now(), policy=callbacks.default_policy()
    ))  # fmt: skip
    return Day(ids=ids, moves=moves)


# -- who and when, for every kind of record ---------------------------------------------------


@pytest.mark.parametrize("model", [ComplaintEvent, WorkOrderEvent, CallbackEvent])
def test_every_event_names_a_known_agent_and_a_time(session, day, model):
    rows = session.execute(select(model)).scalars().all()
    assert rows
    known = set(session.execute(select(Agent.id)).scalars())
    for ev in rows:
        assert ev.at is not None and ev.at.tzinfo is not None
        if model is CallbackEvent and ev.agent_id is None:
            # Only the scheduler acts without an agent, and it says so.
            assert ev.action in ("scheduled", "cancelled"), ev
            continue
        assert ev.agent_id in known, ev


def test_complaint_history_has_one_event_per_change(session, day):
    cid = day.ids["complaint"]
    c = session.get(Complaint, cid)
    evs = session.execute(
        select(ComplaintEvent).where(ComplaintEvent.complaint_id == cid).order_by(ComplaintEvent.id)
    ).scalars().all()
    # The intake, then exactly the moves made, by whom and when they were made.
    assert (evs[0].action, evs[0].agent_id, evs[0].at) == ("intake", day.ids["li"], c.created_at)
    assert [(e.action, e.agent_id, e.at) for e in evs[1:]] == day.moves["complaint"]
    assert len(evs) == c.version  # every version of the row has its event
    status = None
    for e in evs:  # the statuses chain: each event starts where the one before ended
        assert e.from_status == status
        status = e.to_status
    assert status == c.status == "closed"
    view = complaints.case(session=session, complaint_id=cid, now=NOW, policy=POLICY)
    assert {e.agent for e in view.events} == {"Li Na", "Zhao Lei"}


def test_work_order_history_has_one_event_per_change(session, day):
    wid = day.ids["work_order"]
    wo = session.get(WorkOrder, wid)
    evs = session.execute(
        select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == wid)
        .order_by(WorkOrderEvent.id)
    ).scalars().all()  # fmt: skip
    assert (evs[0].action, evs[0].agent_id, evs[0].at) == ("create", day.ids["li"], wo.created_at)
    assert wo.created_by_id == day.ids["li"]
    assert [(e.action, e.agent_id, e.at) for e in evs[1:]] == day.moves["work_order"]
    assert len(evs) == wo.version
    status = None
    for e in evs:  # the statuses chain, as for complaints
        assert e.from_status == status
        status = e.to_status
    assert status == wo.status == "closed"
    names = [line.agent for line in workorders.events(session=session, work_order_id=wid)]
    assert names[0] == "Li Na" and "Zhao Lei" in names
    assert wo.quote_approved_by_id == day.ids["boss"]


def test_callback_changes_are_events(session, day):
    cb = session.get(Callback, day.ids["callback"])
    evs = session.execute(
        select(CallbackEvent).where(CallbackEvent.callback_id == cb.id).order_by(CallbackEvent.id)
    ).scalars().all()
    li, wang, boss = day.ids["li"], day.ids["wang"], day.ids["boss"]
    assert [(e.action, e.agent_id) for e in evs if e.action != "create"] == [
        ("attempt", li),
        ("snooze", li),
        ("reassign", boss),
        ("attempt", wang),
    ]
    # A manual callback measures no satisfaction: the score offered is not kept.
    assert cb.owner_id == wang and cb.status == "done" and cb.score is None
    assert "客户在开会" in evs[-3].comment and "Li Na" in evs[-2].comment  # old owner kept
    assert [e.at for e in evs] == sorted(e.at for e in evs)


def test_callback_creation_is_an_event(session, day):
    cb = session.get(Callback, day.ids["callback"])
    first = session.execute(
        select(CallbackEvent).where(CallbackEvent.callback_id == cb.id).order_by(CallbackEvent.id)
    ).scalars().first()
    assert (first.action, first.agent_id, first.at) == ("create", day.ids["li"], cb.created_at)


def test_scheduled_callbacks_say_the_rules_made_them(session, day):
    rows = session.execute(
        select(Callback.id, Callback.created_at, Callback.source_key).where(
            Callback.source_key.is_not(None),
        )
    ).all()
    assert rows
    for cb_id, created_at, key in rows:
        ev = session.execute(
            select(CallbackEvent).where(CallbackEvent.callback_id == cb_id)
        ).scalars().first()
        assert (ev.action, ev.agent_id, ev.at) == ("scheduled", None, created_at)
        assert key in ev.comment


def test_every_call_names_its_agent_and_times(session, day):
    call = session.get(Call, day.ids["call"])
    assert call.agent_id == day.ids["li"]
    assert call.started_at == NOW and call.ended_at == NOW + timedelta(minutes=5)
    assert call.greeting_at <= call.discovery_at <= call.wrapup_at <= call.ended_at
    # The work made on the call points at it: the call's agent made it.
    for model in (Callback, WorkOrder, Complaint):
        linked = session.execute(select(model).where(model.call_id == call.id)).scalars().all()
        assert len(linked) == 1


def test_every_callback_has_a_first_event_at_its_creation(session, day):
    """All three ways a callback is made (a call, a closed complaint, the scheduler)."""
    rows = session.execute(
        select(Callback.id, Callback.created_at, Callback.source_key).where(
            Callback.created_at >= NOW  # the world's callbacks are test data written directly
        )
    ).all()
    made = {key.split(":")[0] + (":after-close" if key.endswith("after-close") else "")
            for _id, _at, key in rows if key}  # fmt: skip
    assert "complaint:after-close" in made and len(made) > 1
    for cb_id, created_at, key in rows:
        first = session.execute(
            select(CallbackEvent).where(CallbackEvent.callback_id == cb_id)
            .order_by(CallbackEvent.id)
        ).scalars().first()  # fmt: skip
        assert first is not None and first.at == created_at, cb_id
        assert first.action == ("scheduled" if key else "create")


def test_customer_creation_names_the_agent_and_a_time(session, day):
    c = session.get(Customer, day.ids["customer"])
    assert c.name == "陈静 👩‍🔧"
    assert c.created_at == c.updated_at == NOW
    assert c.created_by_id == day.ids["li"]


# -- append-only --------------------------------------------------------------------------------

_CHANGES = re.compile(
    r"^\s*(UPDATE|DELETE\s+FROM|REPLACE\s+INTO|INSERT\s+OR\s+REPLACE\s+INTO)\s+\"?("
    + "|".join(EVENT_TABLES)
    + r")\b",
    re.IGNORECASE,
)


def test_histories_are_only_ever_appended_to(day):
    touched = [s for s in day.statements if _CHANGES.match(s)]
    assert touched == []
    inserts = {t for t in EVENT_TABLES for s in day.statements if f"INSERT INTO {t}" in s}
    assert inserts == set(EVENT_TABLES)


def test_no_screen_or_service_module_rewrites_history():
    """Nothing in seat/ builds an UPDATE or DELETE of an event table (a static check)."""
    from pathlib import Path

    import seat

    root = Path(seat.__file__).parent
    pattern = re.compile(r"\b(update|delete)\(\s*(ComplaintEvent|WorkOrderEvent|CallbackEvent)\b")
    offenders = [
        f"{p.relative_to(root)}:{n}"
        for p in root.rglob("*.py")
        if "migrations" not in p.parts
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


# -- a refused change leaves no trace -----------------------------------------------------------


def _events(session, model, key, row_id) -> int:
    session.flush()
    return session.execute(
        select(func.count()).select_from(model).where(getattr(model, key) == row_id)
    ).scalar_one()


REFUSED = {
    "complaint approved by an agent": (
        "complaint", PermissionDenied,
        lambda s, ids: complaints.approve(
            session=s, complaint_id=ids["complaint"], actor_id=ids["li"], now=NOW,
            chosen_solution="x",
        ),
    ),
    "complaint moved from a stale screen": (
        "complaint", complaints.MoveRefused,
        lambda s, ids: complaints.accept(
            session=s, complaint_id=ids["complaint"], actor_id=ids["li"], now=NOW,
            department="Service", reply_text="Sorry", version=99,
        ),
    ),
    "complaint accepted without a department": (
        "complaint", ValidationError,
        lambda s, ids: complaints.accept(
            session=s, complaint_id=ids["complaint"], actor_id=ids["li"], now=NOW,
            department=" ", reply_text="Sorry",
        ),
    ),
    "work order closed before its flow": (
        "work_order", ValidationError,
        lambda s, ids: workorders.move(
            session=s, now=NOW, work_order_id=ids["work_order"], agent_id=ids["li"],
            action="close",
        ),
    ),
    "work order approved by an agent": (
        "work_order", PermissionDenied,
        lambda s, ids: (
            workorders.move(session=s, now=NOW, work_order_id=ids["work_order"],
                            agent_id=ids["li"], action="survey", hq=True),
            s.commit(),
            workorders.move(session=s, now=NOW, work_order_id=ids["work_order"],
                            agent_id=ids["li"], action="approve"),
        ),
    ),
    "callback snoozed by someone else": (
        "callback", PermissionDenied,
        lambda s, ids: callbacks.snooze(
            session=s, callback_id=ids["callback"], agent_id=ids["wang"],
            until=NOW + 3 * H, reason="busy", now=NOW,
        ),
    ),
    "callback reassigned by an agent": (
        "callback", PermissionDenied,
        lambda s, ids: callbacks.reassign(
            session=s, callback_id=ids["callback"], actor_id=ids["li"],
            new_owner_id=ids["wang"], now=NOW,
        ),
    ),
}  # fmt: skip
TRACKED = {
    "complaint": (Complaint, ComplaintEvent, "complaint_id"),
    "work_order": (WorkOrder, WorkOrderEvent, "work_order_id"),
    "callback": (Callback, CallbackEvent, "callback_id"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_change_writes_no_event_and_no_version(engine, desk, world, case):
    kind, refusal, change = REFUSED[case]
    state = desk.new_call(agent_id=world["li"], customer_id=world["min"])
    ids = {
        **world,
        "callback": desk.create_callback(state, due_text="+1d", reason="Check"),
        "work_order": desk.create_work_order(
            state,
            workorders.WorkOrderDraft(
                kind=workorders.Z1, short_text="Fridge", assignee_id=world["li"],
                due_at=desk.parse_when("+1d"), service_type="repair",
            ),
        ),
        "complaint": desk.create_complaint(state, what_happened="Late", customer_wants="Sorry"),
    }  # fmt: skip
    model, event_model, key = TRACKED[kind]

    def trace() -> tuple[int, int]:
        with Session(engine) as s:
            return s.get(model, ids[kind]).version, _events(s, event_model, key, ids[kind])

    version, events = trace()
    with Session(engine, expire_on_commit=False) as s:
        with pytest.raises(refusal):
            change(s, ids)
        s.rollback()
    # Only what the case itself committed first (the survey step) is in the history.
    step = 1 if case == "work order approved by an agent" else 0
    assert trace() == (version + step, events + step)


def test_a_wrong_number_flag_is_traced_through_the_callback(engine, desk, world):
    """The one change made to a customer's data today: the callback event names who/when."""
    state = desk.new_call(agent_id=world["li"], customer_id=world["min"])
    cb = desk.create_callback(state, due_text="+1d", reason="Birthday wishes")
    desk.run(lambda s: callbacks.record_attempt(
        session=s, callback_id=cb, agent_id=world["li"], outcome="wrong_number",
        number="+8613912345678", now=NOW + H,
    ))  # fmt: skip
    with Session(engine) as s:
        flagged = s.execute(
            select(PhoneNumber.wrong_number).where(PhoneNumber.e164 == "+8613912345678")
        ).scalar_one()
        ev = s.execute(
            select(CallbackEvent).where(CallbackEvent.callback_id == cb, CallbackEvent.action
                                        == "attempt")
        ).scalar_one()  # fmt: skip
    assert flagged is True
    assert (ev.agent_id, ev.at) == (world["li"], NOW + H)
    assert "+8613912345678" in ev.comment
