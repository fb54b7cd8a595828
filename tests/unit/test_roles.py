"""Every action the roles divide is refused in the domain to each role roles.PERMISSIONS does
not name, with the usual sentence, and changes nothing; every role it names may do it. One
case per key of roles.PERMISSIONS, each tried by every role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from seat import (
    agents,
    callbacks,
    cases,
    complaints,
    customers,
    figures,
    i18n,
    loops,
    members,
    merge,
    notices,
    quality,
    roles,
    sla,
    supervisor,
    workorders,
)
from seat.config import DATA_DIR
from seat.models import (
    AccessLog,
    Agent,
    Call,
    Callback,
    CallbackEvent,
    Complaint,
    ComplaintEvent,
    ComplaintLoop,
    Customer,
    CustomerChange,
    ModelCase,
    Notice,
    PhoneNumber,
    QualitySample,
    Role,
    WorkOrder,
    WorkOrderEvent,
)
from tests.conftest import NOW
from tests.unit.complaint_steps import walk

POLICY = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")


@dataclass
class Person:
    role: str


@pytest.fixture
def people(session, world) -> dict[str, int]:
    boss = agents.ensure_agent(
        session=session, name="zhao.lei", display_name="Zhao Lei", role=Role.SUPERVISOR
    )
    lead = agents.ensure_agent(
        session=session, name="sun.li", display_name="Sun Li", role=Role.SHIFT_LEAD
    )
    qa = agents.ensure_agent(
        session=session, name="qian.yu", display_name="Qian Yu", role=Role.QUALITY
    )
    session.commit()
    return {**world, "boss": boss.id, "lead": lead.id, "qa": qa.id}


ACTOR = {Role.AGENT: "li", Role.SHIFT_LEAD: "lead", Role.SUPERVISOR: "boss", Role.QUALITY: "qa"}


def _proposed_complaint(session: Session, people: dict[str, int]) -> int:
    c = complaints.create_complaint(
        session=session, now=NOW, customer_id=people["min"], owner_id=people["li"],
        what_happened="Washer leaks again after the repair", customer_wants="A new washer",
    )  # fmt: skip
    session.commit()
    common = {"session": session, "complaint_id": c.id, "actor_id": people["li"]}
    policy = POLICY
    complaints.accept(**common, now=NOW + timedelta(minutes=10), department="After-sales",
                      category="repair_installation", reply_text="We are on it.", policy=policy)
    complaints.investigate(**common, now=NOW + timedelta(minutes=20),
                           cause="installation_error", responsible_person="Zhou Qiang",
                           department="After-sales", comment="Clamp loose", policy=policy)
    complaints.propose(**common, now=NOW + timedelta(minutes=30),
                       solution_options="Replace the washer\nRepair free of charge")
    session.commit()
    return c.id


def _order(session: Session, people: dict[str, int], **overrides) -> int:
    fields = {
        "kind": workorders.Z1, "short_text": "Washer leaks", "reporter": "Wang Fang",
        "assignee_id": people["li"], "due_at": NOW + timedelta(days=2),
        "service_type": "repair", **overrides,
    }  # fmt: skip
    wo = workorders.create_order(
        session=session, now=NOW, customer_id=people["fang"], created_by_id=people["li"],
        draft=workorders.WorkOrderDraft(**fields),
    )
    session.commit()
    workorders.move(session=session, now=NOW, work_order_id=wo.id, agent_id=people["li"],
                    action="survey", hq=True)
    session.commit()
    return wo.id


def _hq_quote(session: Session, people: dict[str, int]) -> int:
    wo_id = _order(session, people, service_type="paid")
    workorders.set_quote(session=session, now=NOW, work_order_id=wo_id, agent_id=people["li"],
                         amount=2600.0, needs_hq=True)
    session.commit()
    return wo_id


def _count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


# Each case: prepare(session, people) -> target; act(session, people, actor_id, target);
# what must not change when an agent is refused.
Act = Callable[[Session, dict[str, int], int, int], object]


def _complaint_move(action: str, **args) -> Act:
    fn = complaints.approve if action == "approve" else complaints.send_back

    def act(session, people, actor, cid):
        return fn(session=session, complaint_id=cid, actor_id=actor, now=NOW + timedelta(hours=1),
                  **args)

    return act


def _decide(session, people, actor, wo_id):
    return workorders.move(session=session, now=NOW, work_order_id=wo_id, agent_id=actor,
                           action="approve")


def _approve_quote(session, people, actor, wo_id):
    return workorders.approve_quote(session=session, now=NOW, work_order_id=wo_id,
                                    agent_id=actor)


def _reassign_order(session, people, actor, wo_id):
    return workorders.reassign(session=session, now=NOW, work_order_id=wo_id, agent_id=actor,
                               assignee_id=people["wang"], comment="Li Na is on leave")


def _first_callback(session, people) -> int:
    return session.exec(select(Callback.id).order_by(Callback.id)).first()


def _callback_answered(session, people, actor, cb_id):
    return callbacks.record_attempt(session=session, callback_id=cb_id, agent_id=actor,
                                    outcome="no_answer", now=NOW)


def _reassign_callback(session, people, actor, cb_id):
    return callbacks.reassign(session=session, callback_id=cb_id, actor_id=actor,
                              new_owner_id=people["wang"], now=NOW)


def _open_loop(session, people) -> int:
    cb = session.get(Callback, _first_callback(session, people))
    c = complaints.create_complaint(
        session=session, now=NOW, customer_id=cb.customer_id, owner_id=people["li"],
        what_happened="Unsatisfied on a callback", customer_wants="Someone to come back",
    )
    loops.open_loop(session=session, complaint_id=c.id, callback=cb, agent_id=people["li"],
                    now=NOW)
    session.commit()
    return c.id


def _close_loop(session, people, actor, cid):
    return loops.supervisor_close(session=session, complaint_id=cid, actor_id=actor,
                                  now=NOW + timedelta(hours=1), reason="Agreed by phone")


def _person(session, actor):
    return session.get(Agent, actor)


NOTICE = notices.NoticeDraft(kind="service", title="Recall", text="W-200 washers recalled",
                             valid_from=NOW, valid_to=NOW + timedelta(days=1))  # fmt: skip
def _pin(session, people, actor, customer_id):
    return members.pin_tier(session, customer_id=customer_id, tier="vip", agent_id=actor,
                            now=NOW, reason="group account")


def _set_owner(session, people, actor, customer_id):
    return members.set_owner(session, customer_id=customer_id, owner_login="wang.wei",
                             agent_id=actor, now=NOW, policy=members.MemberPolicy())


def _new_complaint(session: Session, people: dict[str, int]) -> int:
    c = complaints.create_complaint(
        session=session, now=NOW, customer_id=people["min"], owner_id=people["li"],
        what_happened="Washer leaks", customer_wants="A repair",
    )  # fmt: skip
    session.commit()
    return c.id


def _closed_complaint(session: Session, people: dict[str, int]) -> int:
    cid = _new_complaint(session, people)
    walk(session, people, cid, "closed")
    return cid


def _mark_model(session, people, actor, cid):
    return cases.mark_model(session=session, complaint_id=cid, actor_id=actor,
                            solution="Replace the clamp", now=NOW + timedelta(days=1))


def _accept(session, people, actor, cid):
    return complaints.accept(session=session, complaint_id=cid, actor_id=actor,
                             now=NOW + timedelta(minutes=10), department="After-sales",
                             category="repair_installation", reply_text="We are on it.",
                             policy=POLICY)  # fmt: skip


def _edit_customer(session, people, actor, customer_id):
    return customers.update_customer(session=session, customer_id=customer_id, agent_id=actor,
                                     now=NOW, address="Shanghai, Xuhui, Tianyaoqiao Rd 1")


def _reveal(session, people, actor, customer_id):
    return customers.log_access(session=session, agent_id=actor, customer_id=customer_id,
                                now=NOW, what="phone", reason="calling back about the washer")


CASES: dict[str, tuple[Callable, Act, tuple]] = {
    roles.APPROVE_SOLUTION: (
        _proposed_complaint, _complaint_move("approve", chosen_solution="Replace the washer"),
        (Complaint, ComplaintEvent),
    ),
    roles.SEND_BACK: (
        _proposed_complaint, _complaint_move("send_back", comment="Offer a repair first"),
        (Complaint, ComplaintEvent),
    ),
    roles.DECIDE_ORDER: (_order, _decide, (WorkOrder, WorkOrderEvent)),
    roles.APPROVE_QUOTE: (_hq_quote, _approve_quote, (WorkOrder, WorkOrderEvent)),
    roles.REASSIGN_ORDER: (_order, _reassign_order, (WorkOrder, WorkOrderEvent)),
    roles.REASSIGN_CALLBACK: (_first_callback, _reassign_callback, (Callback, CallbackEvent)),
    roles.WALLBOARD: (
        lambda s, p: 0, lambda s, p, actor, t: supervisor.require_wallboard(_person(s, actor)), (),
    ),
    roles.ALL_COMPLAINTS: (
        lambda s, p: 0,
        lambda s, p, actor, t: [supervisor.require_scope(_person(s, actor), scope)
                                for scope in complaints.SCOPES],
        (),
    ),
    roles.OTHERS_QUEUE: (
        lambda s, p: 0,
        lambda s, p, actor, t: supervisor.require_queue(_person(s, actor), actor, p["wang"]),
        (),
    ),
    roles.AGENT_FIGURES: (
        lambda s, p: 0, lambda s, p, actor, t: figures.require_figures(_person(s, actor)), (),
    ),
    roles.PUBLISH_NOTICE: (
        lambda s, p: 0,
        lambda s, p, actor, t: notices.publish(session=s, draft=NOTICE, agent=_person(s, actor),
                                               agent_id=actor, now=NOW),
        (Notice,),
    ),
    roles.PIN_TIER: (lambda s, p: p["min"], _pin, (Customer, CustomerChange)),
    roles.SET_OWNER: (lambda s, p: p["fang"], _set_owner, (Customer, CustomerChange)),
    roles.CLOSE_LOOP: (_open_loop, _close_loop, (ComplaintLoop, ComplaintEvent)),
    roles.MEMBER_REPORT: (
        lambda s, p: 0,
        lambda s, p, actor, t: members.require_member_report(_person(s, actor)),
        (),
    ),
    roles.MERGE_CUSTOMERS: (
        lambda s, p: p["tom"],
        lambda s, p, actor, t: merge.merge(s, survivor_id=p["fang"], other_id=t,
                                           agent_id=actor, now=NOW),
        (Customer, CustomerChange, PhoneNumber, WorkOrder),
    ),
    roles.MARK_MODEL_CASE: (_closed_complaint, _mark_model, (ModelCase, Complaint)),
    roles.WORK_CASES: (_new_complaint, _accept, (Complaint, ComplaintEvent)),
    roles.REVEAL_PERSONAL: (lambda s, p: p["fang"], _reveal, (AccessLog,)),
    roles.TAKE_CALLS: (_first_callback, _callback_answered, (Callback, CallbackEvent)),
    roles.EDIT_CUSTOMER: (lambda s, p: p["fang"], _edit_customer, (Customer, CustomerChange)),
}  # fmt: skip


def _draw_sample(session, people, actor, agent_id):
    return quality.draw_sample(
        session, by=_person(session, actor), by_id=actor, agent_id=agent_id,
        period=quality.months(NOW.date(), 1)[0], policy=quality.QualityPolicy(),
        zone=ZoneInfo("Asia/Shanghai"), now=NOW,
    )  # fmt: skip


def _li_with_a_call(session, people) -> int:
    session.add(Call(agent_id=people["li"], started_at=NOW - timedelta(hours=1), ended_at=NOW,
                     need_category="inquiry", outcome="resolved"))  # fmt: skip
    session.commit()
    return people["li"]


CASES[roles.QUALITY_SCORE] = (_li_with_a_call, _draw_sample, (QualitySample,))


def test_every_action_the_roles_divide_has_a_case():
    assert set(CASES) == set(roles.PERMISSIONS) == set(roles.ACTIONS)
    assert set(roles.SUPERVISOR_ONLY) < set(CASES)


def _snapshot(session: Session, models: tuple) -> list:
    """Rows (as dicts) of the models touched: a refused action must leave them as they were."""
    session.expire_all()
    return [
        sorted(repr(sorted(row.model_dump().items())) for row in session.exec(select(m)).all())
        for m in models
    ]


@pytest.mark.parametrize("action", sorted(CASES))
@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_may_do_what_the_table_says(session, people, action, role):
    prepare, act, models = CASES[action]
    target = prepare(session, people)
    actor = people[ACTOR[role]]
    before = _snapshot(session, models)
    if role not in roles.PERMISSIONS[action]:
        with pytest.raises(roles.PermissionDenied) as refused:
            act(session, people, actor, target)
        session.rollback()
        if role == Role.AGENT:
            assert str(refused.value).startswith("Only a supervisor can ")
            assert str(refused.value).endswith("; ask your shift lead.")
        else:
            assert str(refused.value).startswith(f"A {roles.ROLE_NAMES[role]} may not ")
        assert _snapshot(session, models) == before  # nothing changed
    else:
        act(session, people, actor, target)
        session.commit()
        if models:
            assert _snapshot(session, models) != before  # it really happened


@pytest.mark.parametrize("action", sorted(roles.SUPERVISOR_ONLY))
def test_refusal_sentence_in_each_language(action):
    assert roles.refusal(action) == (
        f"Only a supervisor can {roles.SUPERVISOR_ONLY[action]}; ask your shift lead."
    )
    i18n.set_language("zh_CN")
    chinese = roles.refusal(action)
    assert chinese.startswith("只有主管才能") and chinese.endswith("请联系值班长。")
    assert not any("a" <= ch <= "z" for ch in chinese), chinese  # the action is translated too


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [(r, a, r == "supervisor") for r in ("agent", "supervisor", "") for a in roles.SUPERVISOR_ONLY]
    + [("agent", "take_call", True), ("", "take_call", True)],
)
def test_may(role, action, allowed):
    assert roles.may(Person(role), action) is allowed
    assert roles.may(None, action) is (action not in roles.SUPERVISOR_ONLY)


def test_agent_may_see_own_queue_and_list(session, people):
    li = _person(session, people["li"])
    supervisor.require_queue(li, people["li"], people["li"])
    supervisor.require_scope(li, "mine")


@pytest.mark.parametrize("action", sorted(roles.ACTIONS))
@pytest.mark.parametrize("role", roles.ROLES)
def test_may_by_role(role, action):
    assert roles.may(Person(role), action) is (role in roles.PERMISSIONS[action])
    assert (action in roles.permissions(role)) is roles.may(Person(role), action)


@pytest.mark.parametrize("role", [Role.SHIFT_LEAD, Role.QUALITY])
def test_refusal_names_the_role(role):
    action = next(a for a in roles.ACTIONS if role not in roles.PERMISSIONS[a])
    assert roles.refusal(action, Person(role)) == (
        f"A {roles.ROLE_NAMES[role]} may not {roles.ACTIONS[action]}."
    )
    i18n.set_language("zh_CN")
    chinese = roles.refusal(action, Person(role))
    assert not any("a" <= ch <= "z" for ch in chinese), chinese


def test_the_quality_inspector_reads_and_scores_but_never_moves_or_reveals():
    qa = Person(Role.QUALITY)
    for action in (roles.ALL_COMPLAINTS, roles.OTHERS_QUEUE, roles.WALLBOARD,
                   roles.AGENT_FIGURES, roles.QUALITY_SCORE):  # fmt: skip
        assert roles.may(qa, action), action
    for action in (roles.WORK_CASES, roles.REVEAL_PERSONAL, roles.APPROVE_SOLUTION,
                   roles.REASSIGN_ORDER, roles.REASSIGN_CALLBACK):  # fmt: skip
        assert not roles.may(qa, action), action


def test_the_shift_lead_approves_and_reassigns():
    lead = Person(Role.SHIFT_LEAD)
    for action in (roles.APPROVE_SOLUTION, roles.SEND_BACK, roles.DECIDE_ORDER,
                   roles.REASSIGN_ORDER, roles.REASSIGN_CALLBACK, roles.ALL_COMPLAINTS):
        assert roles.may(lead, action), action
    assert not roles.may(lead, roles.PUBLISH_NOTICE)

