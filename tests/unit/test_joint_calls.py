"""One call for a customer's member-care callbacks due the same day (DOMAIN.md section 5):
birthday and holiday greetings, renewals, maintenance reminders, routine and churned-member
calls are joined (one time, one owner, one script, one outcome); satisfaction, complaint
follow-up and manual callbacks stay calls of their own."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import combinations

import pytest
from sqlalchemy import select

from seat import calls, customers
from seat.callbacks import (
    CHURN_REASON_FIELD,
    JOINT_KINDS,
    JOINT_ORDER,
    CallbackPolicy,
    compose_joint,
    joint_callbacks,
    joint_kinds_of,
    joint_script_id,
    plan_call,
    policy_from_dict,
    schedule,
    script_for,
    with_joint_scripts,
)
from seat.config import DATA_DIR
from seat.models import Call, Callback, CallbackEvent, Customer
from seat.scripts import check_script, load_scripts
from tests.conftest import NOW

POLICY = CallbackPolicy()
PAIRS = [tuple(p) for p in combinations(JOINT_ORDER, 2)]
TRIPLE = ("holiday", "renewal", "churned")
LANGUAGES = ("en", "zh_CN")


@pytest.fixture(scope="module")
def files():
    scripts, problems = load_scripts(DATA_DIR / "scripts")
    assert problems == []
    return scripts


@pytest.fixture(scope="module")
def book(files):
    return with_joint_scripts(files, POLICY)


def _member(session, *, tier: str = "gold", birthday: date | None = None) -> Customer:
    """A member silent for 400 days (churned when the churn rule runs)."""
    c = customers.create_customer(
        session=session, now=NOW - timedelta(days=400), name="Old Friend",
        phone_text="139 5555 0001", tier=tier,
        birthday=birthday.isoformat() if birthday else None,
    )  # fmt: skip
    session.flush()
    return c


def _callback(session, customer_id: int, kind: str, due_in: timedelta, owner: int) -> Callback:
    cb = Callback(
        customer_id=customer_id, owner_id=owner, reason=f"{kind} reason", kind=kind,
        due_at=NOW + due_in, created_at=NOW - timedelta(days=3),
    )  # fmt: skip
    session.add(cb)
    session.flush()
    return cb


def _open(session, customer_id: int) -> dict[str, Callback]:
    rows = session.execute(
        select(Callback).where(Callback.customer_id == customer_id, Callback.status == "open")
    ).scalars()
    return {cb.kind: cb for cb in rows}


# -- which callbacks are walked in one call -------------------------------------------------


@pytest.mark.parametrize(
    ("kinds", "joined"),
    [(p, True) for p in PAIRS]
    + [
        (("holiday", "satisfaction"), False),  # a satisfaction call asks a score
        (("routine", "complaint_follow_up"), False),  # a follow-up follows its case
        (("renewal", "manual"), False),  # an agent's promise is its own call
    ],
    ids=lambda v: "+".join(v) if isinstance(v, tuple) else str(v),
)
def test_care_callbacks_of_one_day_are_one_call(session, world, kinds, joined):
    c = _member(session)
    first = _callback(session, c.id, kinds[0], timedelta(hours=1), world["li"])
    second = _callback(session, c.id, kinds[1], timedelta(hours=5), world["wang"])
    found = joint_callbacks(session=session, callback_id=first.id, now=NOW, policy=POLICY)
    assert [cb.id for cb in found] == ([first.id, second.id] if joined else [first.id])
    back = joint_callbacks(session=session, callback_id=second.id, now=NOW, policy=POLICY)
    assert [cb.id for cb in back] == ([second.id, first.id] if joined else [second.id])


@pytest.mark.parametrize(
    ("due_in", "joined"),
    [
        (timedelta(hours=5), True),  # later today (15:00 in Shanghai)
        (timedelta(days=-2), True),  # overdue: worked today, so with today's call
        (timedelta(days=1), False),  # tomorrow: a call of its own then
        (timedelta(hours=14), False),  # 00:00 tomorrow in Shanghai: the customer's next day
    ],
)
def test_only_the_same_work_day_joins(session, world, due_in, joined):
    c = _member(session)
    holiday = _callback(session, c.id, "holiday", timedelta(hours=1), world["li"])
    routine = _callback(session, c.id, "routine", due_in, world["li"])
    found = joint_callbacks(session=session, callback_id=holiday.id, now=NOW, policy=POLICY)
    assert [cb.id for cb in found] == ([holiday.id, routine.id] if joined else [holiday.id])


def test_one_callback_of_each_kind_is_walked(session, world):
    c = _member(session)
    holiday = _callback(session, c.id, "holiday", timedelta(hours=1), world["li"])
    early = _callback(session, c.id, "maintenance", timedelta(hours=2), world["li"])
    _callback(session, c.id, "maintenance", timedelta(hours=3), world["li"])
    found = joint_callbacks(session=session, callback_id=holiday.id, now=NOW, policy=POLICY)
    assert [cb.id for cb in found] == [holiday.id, early.id]


# -- the scheduler gives them one time and one owner ----------------------------------------

HOLIDAY_TOMORROW = [date(2026, 11, 24) + timedelta(days=i) for i in range(3)]  # greeted today
HOLIDAY_LATER = [date(2026, 11, 27) + timedelta(days=i) for i in range(3)]  # greeted the 26th


@pytest.mark.parametrize(
    ("holidays", "joined"),
    [(HOLIDAY_TOMORROW, True), (HOLIDAY_LATER, False)],
    ids=["greeting-today", "greeting-in-three-days"],
)
def test_scheduler_joins_new_care_calls_of_one_day(session, world, holidays, joined):
    c = _member(session, birthday=date(1980, 11, 26))  # greeting due today, 3 days before
    schedule(session=session, now=NOW, policy=POLICY, holidays=holidays)
    rows = _open(session, c.id)
    assert {"birthday", "churned", "holiday"} <= set(rows)
    birthday, churned, holiday = rows["birthday"], rows["churned"], rows["holiday"]
    assert (birthday.due_at, birthday.owner_id) == (churned.due_at, churned.owner_id)
    together = (holiday.due_at, holiday.owner_id) == (churned.due_at, churned.owner_id)
    assert together is joined
    found = joint_callbacks(session=session, callback_id=churned.id, now=NOW, policy=POLICY)
    expected = {churned.id, birthday.id} | ({holiday.id} if joined else set())
    assert {cb.id for cb in found} == expected


def test_a_new_churn_call_joins_an_open_routine_call(session, world):
    c = _member(session)
    routine = _callback(session, c.id, "routine", timedelta(hours=4), world["wang"])
    schedule(session=session, now=NOW, policy=POLICY)
    churned = _open(session, c.id)["churned"]
    assert (churned.due_at, churned.owner_id) == (routine.due_at, world["wang"])


# -- one script composed from the kinds' own ------------------------------------------------


def _walk(script, values):
    """The stages a walk passes, in order, given the answers."""
    seen, stage = [], script.first
    while stage is not None:
        seen.append(stage)
        stage = script.next_stage(stage, values)
    return seen


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kinds", [*PAIRS, TRIPLE], ids=lambda k: "+".join(k))
def test_the_composed_script_reads_each_kind_in_order(files, kinds, language):
    script = compose_joint(kinds, POLICY, files, language)
    check_script(script)  # valid as a script file must be
    order = [k for k in JOINT_ORDER if k in kinds]
    assert script.id == joint_script_id(kinds) and joint_kinds_of(script.id) == tuple(order)
    assert (script.kind, script.language, script.asks_score) == ("callback", language, False)
    own = [files.pick(script_for([k], POLICY, files), language) for k in order]
    middle = [
        (s.title, s.say) for o in own for s in o.stages if s.phase not in ("greeting", "closing")
    ]
    expected = (
        [(s.title, s.say) for s in own[0].stages if s.phase == "greeting"]
        + middle
        + [(s.title, s.say) for s in own[0].stages if s.phase == "closing"]
    )
    assert [(s.title, s.say) for s in script.stages] == expected
    stage_ids = [s.id for s in script.stages]
    field_ids = [f.id for s in script.stages for f in s.fields]
    assert len(stage_ids) == len(set(stage_ids)) and len(field_ids) == len(set(field_ids))
    assert len(field_ids) == sum(len(s.fields) for o in own for s in o.stages)
    assert [s.id for s in _walk(script, {})] == stage_ids  # every stage, once, in order
    why = [f for s in script.stages for f in s.fields if f.id == CHURN_REASON_FIELD]
    assert len(why) == ("churned" in kinds)
    if why:
        assert why[0].type == "choice" and why[0].required


def test_a_clash_is_prefixed_by_its_kind_only(files):
    script = compose_joint(["holiday", "birthday"], POLICY, files, "en")
    assert [s.id for s in script.stages] == [
        "opening", "wishes", "offer", "holiday_wishes", "help", "closing",
    ]  # fmt: skip
    assert [f.id for s in script.stages for f in s.fields] == [
        "response", "request", "holiday_response", "holiday_request",
    ]  # fmt: skip


@pytest.mark.parametrize("kinds", [*PAIRS, TRIPLE], ids=lambda k: "+".join(k))
def test_a_joint_call_reads_a_joint_script(book, kinds):
    sid = script_for(kinds, POLICY, book)
    if set(kinds) == {"birthday", "churned"}:
        assert sid == "callback_birthday_churned"  # the hand-written one wins
    else:
        assert sid == joint_script_id(kinds)
    for language in LANGUAGES:
        assert book.pick(sid, language).language == language


def test_a_policy_script_for_the_exact_key_wins(files):
    policy = policy_from_dict({"scripts": {"holiday+routine": "callback_routine"}})
    assert script_for(["routine", "holiday"], policy, files) == "callback_routine"
    assert script_for(["routine", "holiday", "renewal"], policy, files) == (
        "callback_holiday+renewal+routine"
    )
    assert "callback_holiday+routine" not in with_joint_scripts(files, policy)


# -- one outcome settles every callback walked -----------------------------------------------


def _answer(script, **given: str) -> dict[str, str]:
    """An answer for every required field: the first choice, or a word."""
    values = {
        f.id: (f.choices[0] if f.choices else "noted")
        for s in script.stages
        for f in s.fields
        if f.required
    }
    return {**values, **given}


def test_one_call_settles_every_care_callback_of_the_day(session, world, book):
    c = _member(session)
    made = {
        kind: _callback(session, c.id, kind, due, world["li"])
        for kind, due in (
            ("renewal", timedelta(hours=1)),
            ("holiday", timedelta(hours=3)),
            ("churned", timedelta(days=-1)),  # overdue: worked today
        )
    }
    first = made["renewal"]
    plan = plan_call(session=session, callback_id=first.id, now=NOW, policy=POLICY, scripts=book)
    assert plan.script_id == "callback_churned+holiday+renewal"
    assert set(plan.callback_ids) == {cb.id for cb in made.values()}
    assert plan.callback_ids[0] == first.id
    assert plan.reason == " · ".join(
        session.get(Callback, i).reason for i in plan.callback_ids
    )  # the renewal's rule and each kind's reason, for the agent
    script = book.pick(plan.script_id, "zh_CN")
    state = calls.CallState(
        script=script, agent_id=first.owner_id, started_at=NOW, customer_id=c.id,
        callback_id=first.id, from_number="+8613955550001",
    )  # fmt: skip
    state.values.update(_answer(script, why="price"))
    for i in range(1, len(script.stages) + 1):
        assert state.advance(NOW + timedelta(minutes=i)) == {}
    assert state.in_wrapup
    state.outcome = "resolved"
    call = calls.save_call(session=session, state=state, now=NOW + timedelta(minutes=30))
    assert _open(session, c.id) == {}
    assert session.execute(select(Call.id).where(Call.customer_id == c.id)).all() == [
        (call.id,)
    ]
    assert call.script == "callback_churned+holiday+renewal"
    assert {made[k].status for k in made} == {"done"}
    assert made["churned"].churn_reason == "price"
    assert made["holiday"].churn_reason is None and made["renewal"].churn_reason is None
    comments = {
        e.callback_id: e.comment
        for e in session.execute(
            select(CallbackEvent).where(CallbackEvent.action == "attempt")
        ).scalars()
    }
    for kind in ("holiday", "churned"):
        assert f"one call with callback #{first.id}" in comments[made[kind].id]
    assert "one call with" not in comments[first.id]


def test_the_joint_kinds_are_the_care_kinds():
    assert JOINT_KINDS == {"birthday", "churned", "renewal", "holiday", "maintenance", "routine"}
    assert joint_kinds_of("callback_birthday") == ()
    assert joint_kinds_of("callback_manual+satisfaction") == ()
    assert joint_kinds_of("callback_routine+holiday") == ("holiday", "routine")


def _composed_at_once(files, policy) -> dict[tuple[str, str], object]:
    """Every joint script in every language, composed one by one (the eager reference)."""
    out: dict[tuple[str, str], object] = {}
    for n in range(2, len(JOINT_ORDER) + 1):
        for kinds in combinations(JOINT_ORDER, n):
            sid = joint_script_id(kinds)
            if script_for(kinds, policy, files) != sid:
                continue
            for language in ("en", "zh_CN"):
                script = compose_joint(kinds, policy, files, language)
                out[(script.id, script.language)] = script
    return out


@pytest.mark.parametrize("ask", ["in", "get", "item", "pick", "has", "languages"])
def test_a_joint_script_is_composed_when_first_asked_for(files, ask):
    """The seat starts without composing: asking for one joint script composes it (every
    language) and no other; what it reads is what composing at once gives."""
    book = with_joint_scripts(files, POLICY)
    assert dict.__len__(book) == dict.__len__(files)
    sid = joint_script_id(("birthday", "holiday"))
    asked = {
        "in": lambda: sid in book,
        "get": lambda: book.get(sid),
        "item": lambda: book[sid],
        "pick": lambda: book.pick(sid, "zh_CN"),
        "has": lambda: book.has(sid, "zh_CN"),
        "languages": lambda: book.languages(sid),
    }[ask]()
    assert asked
    assert dict.__len__(book) == dict.__len__(files) + 1
    expected = _composed_at_once(files, POLICY)
    assert book.pick(sid, "zh_CN") == expected[(sid, "zh_CN")]
    assert book.pick(sid, "en") == expected[(sid, "en")]


def test_going_through_the_book_composes_every_joint_script(files):
    book = with_joint_scripts(files, POLICY)
    ids = set(book)
    expected = _composed_at_once(files, POLICY)
    assert {sid for sid, __ in expected} <= ids
    assert expected, "the shipped scripts compose joint calls"
    assert {k: v for k, v in book.variants.items() if k in expected} == expected
    assert len(book) == len(ids) == dict.__len__(files) + len({sid for sid, __ in expected})
    assert "callback_no+such" not in book and book.get("callback_no+such") is None
