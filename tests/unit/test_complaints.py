"""The complaint lifecycle: every allowed and refused move, events, clocks, lists, sidebar."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from seat import complaints, workorders
from seat.customers import ValidationError
from seat.models import Callback, Complaint, ComplaintEvent, WorkOrder
from seat.roles import PermissionDenied
from tests.conftest import NOW
from tests.unit.complaint_steps import (
    POLICY,
    do,
    open_complaint,
    walk,
)

# -- the pure rules -------------------------------------------------------------------------

OPEN_MOVES = {
    "intake": {"accept", "invalid", "escalate"},
    "investigating": {"investigate", "propose", "escalate", "pause"},
    "proposed": {"propose", "approve", "send_back", "escalate", "pause"},
    "approved": {"implement", "refuse", "escalate", "pause"},
    "implemented": {"close", "escalate"},
    "invalid": set(),
    "closed": set(),
}


def fake(status: str, **kw) -> SimpleNamespace:
    base = dict(
        id=7, status=status, created_at=NOW, closed_at=None, category=None,
        cause="product_defect", responsible_person="Zhou Qiang", first_reply_at=None,
        solution_at=None, implemented_at=None, waiting_since=None,
    )  # fmt: skip
    return SimpleNamespace(**{**base, **kw})


@pytest.mark.parametrize("status", complaints.STATUSES)
@pytest.mark.parametrize("action", list(complaints.MOVES))
def test_every_move_in_every_status(status, action):
    why = complaints.refusal(action, fake(status))
    if action in OPEN_MOVES[status]:
        assert why is None
    else:
        assert why, f"{action} should be refused at {status}"
    assert (action in complaints.allowed(fake(status))) is (why is None)


@pytest.mark.parametrize("status", complaints.OPEN_STATUSES)
def test_while_waiting_only_escalate_and_resume(status):
    case = fake(status, waiting_since=NOW)
    assert set(complaints.allowed(case)) == {"escalate", "resume"}
    assert "resume it first" in complaints.refusal("close", case)


@pytest.mark.parametrize(
    ("action", "case", "needs_revision", "message"),
    [
        ("propose", fake("investigating", cause=None), False, "Record the cause"),
        ("propose", fake("investigating", responsible_person=""), False, "Record the cause"),
        ("approve", fake("proposed"), True, "needs a revised proposal"),
        ("send_back", fake("proposed"), True, "needs a revised proposal"),
        ("pause", fake("intake"), False, "reply to the customer first"),
        ("pause", fake("proposed", waiting_since=NOW), False, "resume it first"),
        ("resume", fake("proposed"), False, "not waiting"),
        ("close", fake("approved"), False, "record whether they accept"),
        ("approve", fake("investigating"), False, "record the cause, then propose"),
        ("accept", fake("closed"), False, "nothing more changes"),
        ("escalate", fake("invalid"), False, "closed as invalid"),
        ("fly", fake("intake"), False, "no move called"),
    ],
)
def test_refusals_say_why(action, case, needs_revision, message):
    why = complaints.refusal(action, case, needs_revision=needs_revision)
    assert why and message.lower() in why.lower()


def test_revised_proposal_may_be_approved():
    assert complaints.refusal("approve", fake("proposed"), needs_revision=False) is None


@pytest.mark.parametrize(
    ("text", "options"),
    [("a\n\n  b  \n", ["a", "b"]), ("", []), (None, []), ("one", ["one"])],
)
def test_options_of(text, options):
    assert complaints.options_of(text) == options


# -- intake -------------------------------------------------------------------------------


def test_create_complaint(session, world):
    c = complaints.create_complaint(
        session=session,
        now=NOW,
        customer_id=world["fang"],
        owner_id=world["li"],
        what_happened=" The sofa arrived torn. ",
        customer_wants=" A new cover. ",
    )
    session.commit()
    stored = session.get(Complaint, c.id)
    assert (stored.what_happened, stored.customer_wants) == (
        "The sofa arrived torn.",
        "A new cover.",
    )
    assert stored.status == "intake"
    assert stored.channel == "phone"
    assert stored.created_at == NOW


@pytest.mark.parametrize(
    ("what", "wants", "bad"),
    [
        ("", "Refund", {"what_happened"}),
        ("  ", "Refund", {"what_happened"}),
        ("Torn", "", {"customer_wants"}),
        ("", "", {"what_happened", "customer_wants"}),
        ("x" * 20001, "Refund", {"what_happened"}),
        ("Torn", "x" * 5001, {"customer_wants"}),
    ],
)
def test_create_complaint_validations(session, world, what, wants, bad):
    with pytest.raises(ValidationError) as info:
        complaints.create_complaint(
            session=session,
            now=NOW,
            customer_id=world["fang"],
            owner_id=world["li"],
            what_happened=what,
            customer_wants=wants,
        )
    assert set(info.value.errors) == bad
    session.commit()
    assert session.execute(select(func.count()).select_from(Complaint)).scalar_one() == 0


# -- the moves on the database --------------------------------------------------------------


def events(session, cid) -> list[ComplaintEvent]:
    return list(
        session.execute(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == cid)
            .order_by(ComplaintEvent.id)
        ).scalars()
    )


def test_create_complaint_writes_the_intake_event(session, people):
    cid = open_complaint(session, people)
    (ev,) = events(session, cid)
    assert (ev.action, ev.from_status, ev.to_status) == ("intake", None, "intake")
    assert ev.agent_id == people["li"] and ev.at == NOW
    assert "A new washer" in ev.comment


def test_the_six_steps(session, people):
    cid = open_complaint(session, people)
    h = timedelta(hours=1)
    do(session, people, cid, "accept", at=NOW + h)
    do(session, people, cid, "investigate", at=NOW + 2 * h)
    do(session, people, cid, "propose", at=NOW + 3 * h)
    do(session, people, cid, "approve", at=NOW + 4 * h)
    do(session, people, cid, "implement", at=NOW + 5 * h)
    c = do(session, people, cid, "close", at=NOW + 6 * h)

    assert c.status == "closed" and c.owner_id == people["li"]
    assert c.department == "After-sales service" and c.category == "repair_installation"
    assert c.cause == "installation_error" and c.responsible_person == "Zhou Qiang"
    assert c.solution_options == "Replace the washer\nRepair free of charge, 1 year extra"
    assert c.chosen_solution == "Replace the washer" and c.customer_accepted is True
    assert c.root_cause == "Installer skipped the checklist"
    assert c.summary == "Retrain installers on the clamp check"
    assert (c.first_reply_at, c.solution_at, c.implemented_at, c.closed_at) == (
        NOW + h, NOW + 4 * h, NOW + 5 * h, NOW + 6 * h
    )
    assert c.version == 7  # created at 1, one more per move

    got = [(e.action, e.from_status, e.to_status, e.at, e.agent_id) for e in events(session, cid)]
    assert got == [
        ("intake", None, "intake", NOW, people["li"]),
        ("accept", "intake", "investigating", NOW + h, people["li"]),
        ("investigate", "investigating", "investigating", NOW + 2 * h, people["li"]),
        ("propose", "investigating", "proposed", NOW + 3 * h, people["li"]),
        ("approve", "proposed", "approved", NOW + 4 * h, people["boss"]),
        ("implement", "approved", "implemented", NOW + 5 * h, people["li"]),
        ("close", "implemented", "closed", NOW + 6 * h, people["li"]),
    ]
    comments = [e.comment for e in events(session, cid)]
    assert "told the customer: We are sorry" in comments[1]
    assert "Repair / installation" in comments[1]
    assert "Installation error" in comments[2] and "Zhou Qiang" in comments[2]
    assert "1) Replace the washer; 2) Repair free of charge" in comments[3]
    assert "Approved: Replace the washer" in comments[4]

    cb = session.execute(select(Callback).where(Callback.complaint_id == cid)).scalar_one()
    assert cb.kind == "complaint_follow_up" and cb.owner_id == people["li"]
    assert cb.customer_id == people["min"] and cb.status == "open"
    assert cb.source_key == f"complaint:{cid}:after-close"
    # Gold customer: 7 days after the solution was implemented.
    assert cb.due_at == NOW + 5 * h + timedelta(days=7)
    assert cb.created_at == NOW + 6 * h
    assert f"Complaint #{cid}" in cb.reason and "Replace the washer" in cb.reason


def test_vip_follow_up_is_due_sooner_and_never_in_the_past(session, people):
    cid = open_complaint(session, people, customer="fang")  # VIP: callback within 3 days
    at = walk(session, people, cid, "implemented")
    do(session, people, cid, "close", at=at + timedelta(days=1))
    cb = session.execute(select(Callback).where(Callback.complaint_id == cid)).scalar_one()
    assert cb.due_at == at + timedelta(days=3)

    late = open_complaint(session, people, customer="fang")
    at = walk(session, people, late, "implemented")
    do(session, people, late, "close", at=at + timedelta(days=10))
    cb = session.execute(select(Callback).where(Callback.complaint_id == late)).scalar_one()
    assert cb.due_at == at + timedelta(days=10)  # overdue already: due at once


def test_send_back_then_revise_then_approve(session, people):
    cid = open_complaint(session, people)
    at = walk(session, people, cid, "proposed")
    do(session, people, cid, "send_back", at=at)
    c = session.get(Complaint, cid)
    assert c.status == "proposed" and c.chosen_solution is None
    assert complaints.needs_revision(session=session, complaint_id=cid)
    with pytest.raises(complaints.MoveRefused, match="revised proposal"):
        do(session, people, cid, "approve", at=at)
    session.rollback()
    with pytest.raises(complaints.MoveRefused, match="revised proposal"):
        do(session, people, cid, "send_back", at=at)
    session.rollback()
    do(session, people, cid, "propose", at=at, solution_options="Repair first\nReplace")
    assert not complaints.needs_revision(session=session, complaint_id=cid)
    c = do(session, people, cid, "approve", at=at, chosen_solution="Repair first")
    assert c.status == "approved" and c.chosen_solution == "Repair first"
    actions = [(e.action, e.from_status, e.to_status) for e in events(session, cid)][-3:]
    assert actions == [
        ("send_back", "proposed", "proposed"),
        ("propose", "proposed", "proposed"),
        ("approve", "proposed", "approved"),
    ]
    assert events(session, cid)[-3].agent_id == people["boss"]
    assert "Offer a repair first" in events(session, cid)[-3].comment


def test_customer_refusal_goes_back_to_proposing(session, people):
    cid = open_complaint(session, people)
    at = walk(session, people, cid, "approved")
    c = do(session, people, cid, "refuse", at=at + timedelta(hours=1))
    assert c.status == "proposed" and c.customer_accepted is False
    assert c.solution_at is None and c.implemented_at is None
    ev = events(session, cid)[-1]
    assert (ev.action, ev.from_status, ev.to_status) == ("refuse", "approved", "proposed")
    assert "Replace the washer" in ev.comment and "refund" in ev.comment
    assert complaints.needs_revision(session=session, complaint_id=cid)
    do(session, people, cid, "propose", solution_options="Refund in full")
    c = do(session, people, cid, "approve", chosen_solution="Refund in full")
    assert c.solution_at == NOW


def test_judged_invalid_closes_and_schedules_the_callback(session, people):
    cid = open_complaint(session, people)
    c = do(session, people, cid, "invalid", at=NOW + timedelta(hours=2))
    assert c.status == "invalid" and c.closed_at == NOW + timedelta(hours=2)
    assert c.first_reply_at == NOW + timedelta(hours=2)
    assert c.invalid_reason == "The washer is not ours"
    ev = events(session, cid)[-1]
    assert (ev.from_status, ev.to_status) == ("intake", "invalid")
    cb = session.execute(select(Callback).where(Callback.complaint_id == cid)).scalar_one()
    assert cb.due_at == NOW + timedelta(hours=2, days=7)
    with pytest.raises(complaints.MoveRefused, match="nothing more changes"):
        do(session, people, cid, "accept")


def test_escalation_keeps_the_owner(session, people):
    cid = open_complaint(session, people)
    c = do(session, people, cid, "escalate")
    assert c.owner_id == people["li"] and c.escalated_to_id == people["boss"]
    assert c.status == "intake"
    ev = events(session, cid)[-1]
    assert (ev.action, ev.from_status, ev.to_status) == ("escalate", "intake", "intake")
    assert ev.comment == "To Zhao Lei: Customer asks for a manager"
    with pytest.raises(complaints.MoveRefused, match="Already escalated to Zhao Lei"):
        do(session, people, cid, "escalate")


def test_pause_and_resume(session, people):
    cid = open_complaint(session, people)
    at = walk(session, people, cid, "investigating")
    c = do(session, people, cid, "pause", at=at)
    assert c.waiting_since == at and c.status == "investigating"
    with pytest.raises(complaints.MoveRefused, match="resume it first"):
        do(session, people, cid, "investigate")
    session.rollback()
    do(session, people, cid, "escalate", at=at + timedelta(hours=1))  # allowed while waiting
    c = do(session, people, cid, "resume", at=at + timedelta(hours=5))
    assert c.waiting_since is None
    ev = events(session, cid)[-1]
    assert ev.action == "resume" and "after 5h00" in ev.comment
    pauses = complaints.pauses_for(session=session, complaint_ids=[cid])
    assert pauses == {cid: [(at, at + timedelta(hours=5))]}


def test_agent_cannot_approve_or_send_back(session, people):
    cid = open_complaint(session, people)
    walk(session, people, cid, "proposed")
    before = len(events(session, cid))
    for action in ("approve", "send_back"):
        with pytest.raises(PermissionDenied, match="Only a supervisor"):
            do(session, people, cid, action, actor=people["li"])
        session.rollback()
    assert len(events(session, cid)) == before
    assert session.get(Complaint, cid).status == "proposed"


# Moves refused by the state, each from a status where it does not belong.
REFUSED = [
    ("intake", "investigate"), ("intake", "propose"), ("intake", "approve"),
    ("intake", "implement"), ("intake", "close"), ("intake", "pause"), ("intake", "resume"),
    ("investigating", "accept"), ("investigating", "invalid"), ("investigating", "approve"),
    ("investigating", "close"), ("investigating", "resume"), ("investigating", "refuse"),
    ("proposed", "accept"), ("proposed", "investigate"), ("proposed", "implement"),
    ("proposed", "close"), ("approved", "propose"), ("approved", "approve"),
    ("approved", "send_back"), ("approved", "close"), ("implemented", "propose"),
    ("implemented", "implement"), ("implemented", "pause"), ("implemented", "refuse"),
    ("closed", "escalate"), ("closed", "accept"), ("closed", "resume"), ("closed", "close"),
]  # fmt: skip


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_refused_moves_write_nothing(session, people, status, action):
    cid = open_complaint(session, people)
    walk(session, people, cid, status)
    c = session.get(Complaint, cid)
    assert c.status == status
    snapshot = (c.model_dump(), len(events(session, cid)))
    with pytest.raises(complaints.MoveRefused) as exc:
        do(session, people, cid, action)
    assert str(exc.value)
    session.rollback()
    session.expire_all()
    c = session.get(Complaint, cid)
    assert (c.model_dump(), len(events(session, cid))) == snapshot


@pytest.mark.parametrize(
    ("action", "overrides", "errors"),
    [
        ("accept", dict(department="", reply_text=" "), {"department", "reply_text"}),
        ("accept", dict(category="weather"), {"category"}),
        ("invalid", dict(invalid_reason="", reply_text=""), {"invalid_reason", "reply_text"}),
        ("investigate", dict(cause="", responsible_person=""), {"cause", "responsible_person"}),
        ("investigate", dict(cause="bad luck"), {"cause"}),
        ("investigate", dict(department="x" * 81), {"department"}),
        ("propose", dict(solution_options=" \n \n"), {"solution_options"}),
        ("approve", dict(chosen_solution="Something else"), {"chosen_solution"}),
        ("send_back", dict(comment=""), {"comment"}),
        ("implement", dict(accepted=None, comment=""), {"accepted", "comment"}),
        ("refuse", dict(comment=""), {"comment"}),
        ("close", dict(category="", root_cause="", summary=""),
         {"category", "root_cause", "summary"}),
        ("close", dict(category="weather"), {"category"}),
        ("escalate", dict(supervisor_id=None, comment=""), {"supervisor", "comment"}),
        ("pause", dict(comment=""), {"comment"}),
    ],
)  # fmt: skip
def test_bad_input_is_named_per_field_and_writes_nothing(session, people, action, overrides,
                                                         errors):  # fmt: skip
    cid = open_complaint(session, people)
    status = {
        "accept": "intake", "invalid": "intake", "investigate": "investigating",
        "propose": "investigating", "approve": "proposed", "send_back": "proposed",
        "implement": "approved", "refuse": "approved", "close": "implemented",
        "escalate": "intake", "pause": "investigating",
    }[action]  # fmt: skip
    walk(session, people, cid, status)
    if action == "propose":  # the cause must be on file to get this far
        do(session, people, cid, "investigate")
    before = len(events(session, cid))
    with pytest.raises(ValidationError) as exc:
        do(session, people, cid, action, **overrides)
    assert set(exc.value.errors) == errors
    session.rollback()
    assert len(events(session, cid)) == before


def test_escalating_to_an_agent_is_refused(session, people):
    cid = open_complaint(session, people)
    with pytest.raises(ValidationError) as exc:
        do(session, people, cid, "escalate", supervisor_id=people["wang"])
    assert exc.value.errors == {"supervisor": "Choose a supervisor."}


def test_stale_version_is_refused(session, people):
    cid = open_complaint(session, people)
    seen = session.get(Complaint, cid).version
    do(session, people, cid, "escalate")  # another seat moved it meanwhile
    with pytest.raises(complaints.MoveRefused, match="changed at another seat"):
        do(session, people, cid, "accept", version=seen)
    session.rollback()
    c = do(session, people, cid, "accept", version=seen + 1)
    assert c.status == "investigating"


def test_wording_kept_on_purpose_is_recorded(session, people):
    cid = open_complaint(session, people)
    do(session, people, cid, "accept", reply_text="We can't say yet.", wording_kept=["can't"])
    assert "[wording kept on purpose: can't]" in events(session, cid)[-1].comment


def test_nothing_is_ever_deleted(session, people):
    cid = open_complaint(session, people)
    walk(session, people, cid, "closed")
    assert session.execute(select(func.count()).select_from(ComplaintEvent)).scalar_one() == 7
    assert session.get(Complaint, cid) is not None


# -- clocks, the case page, lists and the sidebar ------------------------------------------


def test_clocks_follow_the_case(session, people):
    cid = open_complaint(session, people)  # gold: reply 12 h, solution 48 h
    c = session.get(Complaint, cid)
    now = NOW + timedelta(hours=10)
    reply, solution = complaints.clocks(c, level=2, policy=POLICY, now=now)
    assert (reply.name, reply.budget, reply.state) == ("first_reply", timedelta(hours=12), "amber")
    assert solution.state == "ok" and solution.deadline == NOW + timedelta(hours=48)
    do(session, people, cid, "accept", at=now)
    reply, solution = complaints.clocks(c, level=2, policy=POLICY, now=now + timedelta(hours=5))
    assert not reply.running and not reply.breached
    at = walk(session, people, cid, "implemented", start=now)
    clocks = complaints.clocks(c, level=2, policy=POLICY, now=at + timedelta(days=6))
    assert [k.name for k in clocks] == ["first_reply", "solution", "callback"]
    assert clocks[2].running and clocks[2].state == "amber"


def test_closing_leaves_the_callback_clock_running_until_the_callback(session, people):
    """Every complaint ends with a callback within the budget after handling (DOMAIN.md 3),
    and closing comes before it: a closed case whose callback was never made is late, and
    stays late by more each day. Stopping the clock at the closing would hide a breach."""
    cid = open_complaint(session, people)
    c = session.get(Complaint, cid)
    at = walk(session, people, cid, "implemented", start=NOW)
    c.status, c.closed_at = "closed", at + timedelta(hours=1)
    later = complaints.clocks(c, level=2, policy=POLICY, now=at + timedelta(days=30))[2]
    assert later.name == "callback" and later.running and later.breached
    done = complaints.clocks(c, level=2, policy=POLICY, now=at + timedelta(days=30),
                             callback_done_at=at + timedelta(days=2))[2]  # fmt: skip
    assert not done.running and not done.breached
    session.rollback()


def test_product_quality_counts_office_hours(session, people):
    cid = open_complaint(session, people, customer="tom")  # ordinary customer
    do(session, people, cid, "accept", category="product_quality")
    c = session.get(Complaint, cid)
    __, solution = complaints.clocks(c, level=3, policy=POLICY, now=NOW)
    assert solution.budget == timedelta(hours=40) and solution.business_hours
    # Monday 10:00 + 40 office hours (7 on Monday, 8 Tuesday to Friday) -> Saturday 10:00.
    assert solution.deadline == NOW + timedelta(days=5)


def test_case_page_gathers_everything(session, people):
    from seat.models import Call

    call = Call(agent_id=people["li"], customer_id=people["min"], started_at=NOW)
    session.add(call)
    session.commit()
    cid = open_complaint(session, people, call_id=call.id)
    same_call = workorders.create_order(
        session=session, now=NOW, customer_id=people["min"], created_by_id=people["li"],
        call_id=call.id,
        draft=workorders.WorkOrderDraft(
            kind="service_request", short_text="Replace washer", assignee_id=people["wang"],
            urgent=True, due_at=NOW + timedelta(days=1), reporter="张敏", service_type="repair",
        ),
    )  # fmt: skip
    later = workorders.create_order(
        session=session, now=NOW + timedelta(hours=1), customer_id=people["min"],
        created_by_id=people["li"],
        draft=workorders.WorkOrderDraft(
            kind="service_request", short_text="Check hose", assignee_id=people["wang"],
            urgent=False, due_at=NOW + timedelta(days=2), reporter="张敏", service_type="repair",
        ),
    )  # fmt: skip
    session.commit()
    walk(session, people, cid, "proposed")
    view = complaints.case(session=session, complaint_id=cid, now=NOW, policy=POLICY)
    assert view.customer_name == "张敏" and view.level == 2 and view.owner == "Li Na"
    assert view.call.id == call.id and view.call.agent == "Li Na"
    wo_ids = {w.id for w in view.work_orders}
    assert {same_call.id, later.id} <= wo_ids
    assert 1 not in wo_ids  # the fridge order predates the complaint and another call
    assert [e.action for e in view.events] == ["intake", "accept", "investigate", "propose"]
    assert set(view.allowed) == {"propose", "approve", "send_back", "escalate", "pause"}
    assert [k.name for k in view.clocks] == ["first_reply", "solution"]
    assert complaints.case(session=session, complaint_id=999, now=NOW, policy=POLICY) is None


def test_sidebar_complaints_near_or_past_their_deadline(session, people):
    fresh = open_complaint(session, people, at=NOW)  # ok: not listed
    amber = open_complaint(session, people, at=NOW - timedelta(hours=10))  # 10/12 h of reply
    red_old = open_complaint(session, people, at=NOW - timedelta(days=5))
    red_new = open_complaint(session, people, at=NOW - timedelta(hours=13))
    closed = open_complaint(session, people, at=NOW - timedelta(days=9))
    walk(session, people, closed, "closed", start=NOW - timedelta(days=9))
    theirs = complaints.create_complaint(
        session=session, now=NOW - timedelta(days=3), customer_id=people["min"],
        owner_id=people["wang"], what_happened="x", customer_wants="y",
    ).id  # fmt: skip
    session.commit()
    items = complaints.sidebar_complaints(
        session=session, agent_id=people["li"], now=NOW, policy=POLICY
    )
    assert [i.id for i in items] == [red_old, red_new, amber]
    assert [i.state for i in items] == ["red", "red", "amber"]
    assert items[0].breached and items[0].left < timedelta(0)
    assert items[2].clock == "first_reply" and items[2].left == timedelta(hours=2)
    assert items[2].customer_name == "张敏"
    assert fresh not in {i.id for i in items} and theirs not in {i.id for i in items}


def test_paused_complaint_stays_off_the_sidebar_while_the_clock_stands(session, people):
    cid = open_complaint(session, people, at=NOW - timedelta(hours=30))
    do(session, people, cid, "accept", at=NOW - timedelta(hours=29))
    do(session, people, cid, "pause", at=NOW - timedelta(hours=28))
    items = complaints.sidebar_complaints(
        session=session, agent_id=people["li"], now=NOW + timedelta(days=30), policy=POLICY
    )
    assert items == []  # 2 h of 48 used, standing still


@pytest.mark.parametrize(
    ("scope", "who", "expected"),
    [("mine", "li", 3), ("all", "li", 4), ("approval", "li", 1), ("escalated", "boss", 1),
     ("mine", "boss", 0)],
)  # fmt: skip
def test_open_complaints_scopes(session, people, scope, who, expected):
    ids = [open_complaint(session, people, at=NOW - timedelta(hours=i)) for i in range(3)]
    complaints.create_complaint(
        session=session, now=NOW, customer_id=people["tom"], owner_id=people["wang"],
        what_happened="x", customer_wants="y",
    )  # fmt: skip
    session.commit()
    walk(session, people, ids[0], "proposed")
    do(session, people, ids[1], "escalate")
    closed = open_complaint(session, people)
    walk(session, people, closed, "closed")
    rows, total = complaints.open_complaints(
        session=session, scope=scope, agent_id=people[who], now=NOW, policy=POLICY
    )
    assert total == expected == len(rows)


def test_open_complaints_pages(session, people):
    ids = [open_complaint(session, people, at=NOW - timedelta(minutes=i)) for i in range(7)]
    seen = []
    for offset in (0, 3, 6):
        rows, total = complaints.open_complaints(
            session=session, scope="mine", agent_id=people["li"], now=NOW, policy=POLICY,
            offset=offset, limit=3,
        )  # fmt: skip
        assert total == 7
        seen += [r.id for r in rows]
    assert seen == list(reversed(ids))  # oldest first, each once
    assert rows[0].owner == "Li Na" and rows[0].next_clock.name == "first_reply"


def test_linked_work_order_from_another_customer_is_not_shown(session, people):
    cid = open_complaint(session, people)
    session.add(
        WorkOrder(short_text="Other", customer_id=people["tom"], due_at=NOW, created_at=NOW)
    )
    session.commit()
    view = complaints.case(session=session, complaint_id=cid, now=NOW, policy=POLICY)
    assert view.work_orders == ()


def test_complaint_modules_do_not_import_textual():
    from tests.unit.helpers import loaded_after_import

    mods = "seat.complaints, seat.sla, seat.wording, seat.reports.complaints"
    assert loaded_after_import(mods, "textual") == []
