"""Every supervisor-only action is refused to an agent in the domain, with the usual sentence,
and changes nothing; a supervisor may do it. One case per key of roles.SUPERVISOR_ONLY."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from seat import (
    agents,
    callbacks,
    complaints,
    figures,
    i18n,
    members,
    notices,
    roles,
    sla,
    supervisor,
    workorders,
)
from seat.config import DATA_DIR
from seat.models import (
    Agent,
    Callback,
    CallbackEvent,
    Complaint,
    ComplaintEvent,
    Customer,
    CustomerChange,
    Notice,
    Role,
    WorkOrder,
    WorkOrderEvent,
)
from tests.conftest import NOW

POLICY = sla.read_policy(DATA_DIR / "policy" / "complaints.toml", default_zone="Asia/Shanghai")


@dataclass
class Person:
    role: str


@pytest.fixture
def people(session, world) -> dict[str, int]:
    boss = agents.ensure_agent(
        session=session, name="zhao.lei", display_name="Zhao Lei", role=Role.SUPERVISOR
    )
    session.commit()
    return {**world, "boss": boss.id}


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


def _reassign_callback(session, people, actor, cb_id):
    return callbacks.reassign(session=session, callback_id=cb_id, actor_id=actor,
                              new_owner_id=people["wang"], now=NOW)


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
    roles.MEMBER_REPORT: (
        lambda s, p: 0,
        lambda s, p, actor, t: members.require_member_report(_person(s, actor)),
        (),
    ),
}  # fmt: skip


def test_every_supervisor_only_action_has_a_case():
    assert set(CASES) == set(roles.SUPERVISOR_ONLY)


def _snapshot(session: Session, models: tuple) -> list:
    """Rows (as dicts) of the models touched: a refused action must leave them as they were."""
    session.expire_all()
    return [
        sorted(repr(sorted(row.model_dump().items())) for row in session.exec(select(m)).all())
        for m in models
    ]


@pytest.mark.parametrize("action", sorted(CASES))
@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_only_a_supervisor(session, people, action, role):
    prepare, act, models = CASES[action]
    target = prepare(session, people)
    actor = people["li"] if role == "agent" else people["boss"]
    before = _snapshot(session, models)
    if role == "agent":
        with pytest.raises(roles.PermissionDenied) as refused:
            act(session, people, actor, target)
        session.rollback()
        assert str(refused.value).startswith("Only a supervisor can ")
        assert str(refused.value).endswith("; ask your shift lead.")
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
