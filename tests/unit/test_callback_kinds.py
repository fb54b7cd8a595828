"""Each kind of callback says its own words: its script, a score only where satisfaction is
measured, churn reasons as a choice, and a birthday + churn call on one day made as one."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from seat import calls, customers
from seat.callbacks import (
    DEFAULT_SCRIPTS,
    CallbackPolicy,
    asks_score,
    joint_callbacks,
    plan_call,
    policy_from_dict,
    record_attempt,
    rest_clash,
    schedule,
    script_for,
    script_problems,
)
from seat.config import DATA_DIR
from seat.models import Call, Callback, CallbackEvent, CallbackKind, Customer
from seat.scripts import ScriptError, load_script, load_scripts
from tests.conftest import NOW

POLICY = CallbackPolicy()
KINDS = [k.value for k in CallbackKind]
# What each kind is for (DOMAIN.md section 5): only satisfaction measures ask a 1-5 score.
MEASURES_SATISFACTION = {
    "satisfaction": True,
    "complaint_follow_up": True,
    "birthday": False,
    "churned": False,
    "manual": False,
    "renewal": False,
    "holiday": False,
    "maintenance": False,
    "routine": False,
}


@pytest.fixture(scope="module")
def book():
    scripts, problems = load_scripts(DATA_DIR / "scripts")
    assert problems == []
    return scripts


def test_every_kind_is_covered_here():
    assert set(KINDS) == set(MEASURES_SATISFACTION)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_reads_its_own_callback_script(book, kind):
    sid = script_for([kind], POLICY, book)
    assert sid == dict(DEFAULT_SCRIPTS)[kind]
    others = {script_for([k], POLICY, book) for k in KINDS if k != kind}
    assert sid not in others  # no two kinds share words
    for language in ("en", "zh_CN"):
        script = book.pick(sid, language)
        assert (script.kind, script.language) == ("callback", language)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_score_is_asked_only_where_satisfaction_is_measured(book, kind, language):
    script = book.pick(script_for([kind], POLICY, book), language)
    assert asks_score(kind) is MEASURES_SATISFACTION[kind]
    assert script.asks_score is MEASURES_SATISFACTION[kind]


def test_the_shipped_policy_file_names_a_fitting_script_for_every_kind(book):
    import tomllib

    raw = tomllib.loads((DATA_DIR / "policy" / "callbacks.toml").read_text(encoding="utf-8"))
    policy = policy_from_dict(raw)
    assert {k for k, __ in policy.scripts} >= set(KINDS)
    assert script_problems(policy, book) == []


@pytest.mark.parametrize(
    "kinds", [["churned"], ["birthday", "churned"]], ids=["churned", "birthday+churned"]
)
@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_churn_calls_ask_why_as_a_choice(book, kinds, language):
    script = book.pick(script_for(kinds, POLICY, book), language)
    why = [f for s in script.stages for f in s.fields if f.id == "why"]
    assert len(why) == 1 and why[0].required and why[0].type == "choice"
    assert why[0].choices == ("quality", "function", "service", "price", "other")
    assert len(why[0].choice_labels) == 5


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_an_unsatisfied_answer_leads_to_a_complaint_field(book, language):
    script = book.pick("callback", language)
    improve = script.stage("improve")
    assert improve.complaint == "improvement"
    assert script.next_stage(script.stage("satisfaction"), {"satisfied": "unsatisfied"}) is (
        improve
    )


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ({"birthday": "callback"}, "asks for a score, but 'birthday'"),
        ({"satisfaction": "callback_manual"}, "asks for no score, but 'satisfaction'"),
        ({"churned": "nowhere"}, "'nowhere', which is not loaded"),
        ({"manual": "inbound"}, "is not a callback script"),
    ],
)
def test_a_script_that_does_not_fit_its_kind_is_reported(book, mapping, problem):
    policy = policy_from_dict({"scripts": mapping})
    problems = script_problems(policy, book)
    assert len(problems) == 1 and problem in problems[0]


@pytest.mark.parametrize(
    "mapping",
    [{"anniversary": "callback"}, {"churned+birthday": "x"}, {"manual": "Bad Id"}, {"manual": 3}],
)
def test_bad_script_choices_in_the_policy_file(mapping):
    with pytest.raises(ValueError, match=r"\[scripts\]"):
        policy_from_dict({"scripts": mapping})


@pytest.mark.parametrize(
    ("kinds", "loaded", "expected"),
    [
        (["birthday"], {"callback", "callback_manual"}, "callback_manual"),  # never a score
        (["birthday"], {"callback"}, "inbound"),
        (["satisfaction"], {"callback_manual", "callback"}, "callback"),
        # no joint script: one composed from the two kinds' own scripts
        (["birthday", "churned"], {"callback_churned", "callback_birthday"},
         "callback_birthday+churned"),
        (["birthday", "churned"], {"callback_birthday"}, "callback_birthday"),  # one is gone
    ],
)
def test_a_missing_script_falls_back_without_asking_a_score(kinds, loaded, expected):
    assert script_for(kinds, POLICY, loaded | {"inbound"}) == expected


@pytest.mark.parametrize(("kind", "kept"), [(k, MEASURES_SATISFACTION[k]) for k in KINDS])
def test_a_score_is_kept_only_for_a_satisfaction_measure(session, world, kind, kept):
    cb = Callback(
        customer_id=world["fang"], owner_id=world["li"], reason="r", kind=kind,
        due_at=NOW - timedelta(hours=1), created_at=NOW - timedelta(days=1),
    )  # fmt: skip
    session.add(cb)
    session.flush()
    record_attempt(
        session=session, callback_id=cb.id, agent_id=world["li"], outcome="resolved",
        now=NOW, score=4, policy=POLICY,
    )  # fmt: skip
    assert cb.status == "done" and cb.score == (4 if kept else None)


# -- the script engine: the complaint field ------------------------------------------------

SCRIPT = """
[script]
id = "x"
title = "X"
kind = "callback"

[[stages]]
id = "a"
phase = "greeting"
title = "A"
next = "b"

[[stages]]
id = "b"
phase = "discovery"
title = "B"
next = "c"
complaint = "{complaint}"

  [[stages.fields]]
  id = "said"
  label = "Said"

  [[stages.fields]]
  id = "answer"
  label = "Answer"
  type = "choice"
  choices = ["yes", "no"]

[[stages]]
id = "c"
phase = "resolution"
title = "C"
next = "d"

[[stages]]
id = "d"
phase = "closing"
title = "D"
"""


@pytest.mark.parametrize(("field", "ok"), [("said", True), ("answer", False), ("nope", False)])
def test_the_complaint_key_names_a_text_field_of_its_stage(tmp_path, field, ok):
    path = tmp_path / "x.toml"
    path.write_text(SCRIPT.replace("{complaint}", field), encoding="utf-8")
    if ok:
        assert load_script(path).stage("b").complaint == "said"
    else:
        with pytest.raises(ScriptError, match="'complaint' must name a text field"):
            load_script(path)


def test_language_variants_must_agree_on_the_complaint_field(tmp_path):
    (tmp_path / "x.toml").write_text(SCRIPT.replace("{complaint}", "said"), encoding="utf-8")
    zh = SCRIPT.replace('complaint = "{complaint}"\n', "").replace(
        'kind = "callback"', 'kind = "callback"\nlanguage = "zh_CN"'
    )
    (tmp_path / "x.zh_CN.toml").write_text(zh, encoding="utf-8")
    scripts, problems = load_scripts(tmp_path)
    assert len(problems) == 1 and "complaint field differs" in problems[0]
    assert scripts.languages("x") == ["en"]


# -- the customer's rest hours ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "opens"),
    [
        ((11, 23, 12, 30), (11, 23, 14, 0)),  # lunch
        ((11, 23, 22, 0), (11, 24, 9, 0)),  # night
        ((11, 24, 8, 59), (11, 24, 9, 0)),
        ((11, 23, 15, 0), None),  # a working hour: nothing to say
        ((11, 24, 9, 0), None),
    ],
)
def test_rest_clash_offers_the_next_open_time(session, world, local, opens):
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    at = datetime(2026, *local, tzinfo=zone)
    clash = rest_clash(session=session, customer_id=world["fang"], at=at, policy=POLICY)
    if opens is None:
        assert clash is None
    else:
        assert clash.opens_at == datetime(2026, *opens, tzinfo=zone)
        assert (clash.asked, clash.zone) == (at, "Asia/Shanghai")


def test_rest_clash_is_in_the_customer_zone(session, world):
    # 17:00 in Shanghai is 09:00 in London: Tom (a UK number) may be called then, not at 16:00.
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    at = datetime(2026, 11, 23, 16, 0, tzinfo=shanghai)
    clash = rest_clash(session=session, customer_id=world["tom"], at=at, policy=POLICY)
    assert clash.zone == "Europe/London"
    assert clash.opens_at == datetime(2026, 11, 23, 17, 0, tzinfo=shanghai)


# -- a birthday and a churn call on the same day: one call ----------------------------------


def _member(session, *, birthday: date, tier: str = "gold") -> Customer:
    """A member silent for 400 days (churned) with a birthday."""
    c = customers.create_customer(
        session=session, now=NOW - timedelta(days=400), name="Old Friend",
        phone_text="139 5555 0001", tier=tier, birthday=birthday.isoformat(),
    )  # fmt: skip
    session.flush()
    return c


def _open(session, customer_id: int) -> list[Callback]:
    return list(
        session.execute(
            select(Callback)
            .where(Callback.customer_id == customer_id, Callback.status == "open")
            .order_by(Callback.kind)
        ).scalars()
    )


@pytest.mark.parametrize(
    ("birthday", "joined"),
    [
        (date(1980, 11, 26), True),  # greeting due today (3 days before)
        (date(1980, 11, 24), True),  # greeting overdue-ish: greet now, the same call
        (date(1980, 11, 28), False),  # greeting due in two days: its own call then
    ],
)
def test_scheduler_joins_a_birthday_and_a_churn_call_on_the_same_day(
    session, world, birthday, joined
):
    c = _member(session, birthday=birthday)
    schedule(session=session, now=NOW, policy=POLICY)
    rows = _open(session, c.id)
    assert [r.kind for r in rows] == ["birthday", "churned"]
    birthday_cb, churn_cb = rows
    if joined:
        assert birthday_cb.due_at == churn_cb.due_at
        assert birthday_cb.owner_id == churn_cb.owner_id
    found = joint_callbacks(session=session, callback_id=churn_cb.id, now=NOW, policy=POLICY)
    assert [cb.id for cb in found] == ([churn_cb.id, birthday_cb.id] if joined else [churn_cb.id])


def test_a_new_churn_call_joins_an_open_birthday_greeting(session, world):
    c = _member(session, birthday=date(1980, 12, 25))  # beyond the birthday horizon
    greeting = Callback(
        customer_id=c.id, owner_id=world["wang"], reason="birthday", kind="birthday",
        due_at=NOW + timedelta(hours=4), created_at=NOW - timedelta(days=2),
    )  # fmt: skip
    session.add(greeting)
    session.flush()
    schedule(session=session, now=NOW, policy=POLICY)
    churn = [r for r in _open(session, c.id) if r.kind == "churned"]
    assert len(churn) == 1
    assert (churn[0].due_at, churn[0].owner_id) == (greeting.due_at, world["wang"])


def test_one_call_settles_the_birthday_and_the_churn_callback(session, world, book):
    c = _member(session, birthday=date(1980, 11, 26))
    schedule(session=session, now=NOW, policy=POLICY)
    birthday_cb, churn_cb = _open(session, c.id)
    plan = plan_call(
        session=session, callback_id=birthday_cb.id, now=NOW, policy=POLICY, scripts=book
    )
    assert plan.callback_ids == (birthday_cb.id, churn_cb.id)
    assert plan.script_id == "callback_birthday_churned"
    assert birthday_cb.reason in plan.reason and churn_cb.reason in plan.reason
    state = calls.CallState(
        script=book.pick(plan.script_id, "en"), agent_id=birthday_cb.owner_id,
        started_at=NOW, customer_id=c.id, callback_id=birthday_cb.id,
        from_number="+8613955550001",
    )  # fmt: skip
    state.values.update(response="pleased", why="price", coming_back="maybe")
    for i in range(1, 6):
        assert state.advance(NOW + timedelta(minutes=i)) == {}
    assert state.in_wrapup
    state.outcome = "resolved"
    call = calls.save_call(session=session, state=state, now=NOW + timedelta(minutes=6))
    assert _open(session, c.id) == []
    assert session.execute(select(Call.id).where(Call.customer_id == c.id)).all() == [
        (call.id,)
    ]
    assert (birthday_cb.status, churn_cb.status) == ("done", "done")
    assert (birthday_cb.score, churn_cb.score, call.satisfaction) == (None, None, None)
    comments = {
        e.callback_id: e.comment
        for e in session.execute(
            select(CallbackEvent).where(CallbackEvent.action == "attempt")
        ).scalars()
    }
    assert "Main reason: price" in comments[churn_cb.id]
    assert f"one call with callback #{birthday_cb.id}" in comments[churn_cb.id]


def test_a_churn_call_read_alone_leaves_the_birthday_greeting_open(session, world, book):
    # A call that read only the churn script (a draft from before) asked no wishes.
    c = _member(session, birthday=date(1980, 11, 26))
    schedule(session=session, now=NOW, policy=POLICY)
    birthday_cb, churn_cb = _open(session, c.id)
    state = calls.CallState(
        script=book.pick("callback_churned", "en"), agent_id=churn_cb.owner_id,
        started_at=NOW, customer_id=c.id, callback_id=churn_cb.id,
    )  # fmt: skip
    state.values.update(why="service", coming_back="no")
    for i in range(1, 5):
        assert state.advance(NOW + timedelta(minutes=i)) == {}
    state.outcome = "resolved"
    calls.save_call(session=session, state=state, now=NOW + timedelta(minutes=5))
    assert (birthday_cb.status, churn_cb.status) == ("open", "done")


def test_only_the_joint_kinds_are_joined(session, world, book):
    policy = replace(POLICY)
    found = joint_callbacks(session=session, callback_id=1, now=NOW, policy=policy)
    assert [cb.id for cb in found] == [1]  # a satisfaction callback walks alone
    plan = plan_call(session=session, callback_id=1, now=NOW, policy=policy, scripts=book)
    assert plan.script_id == "callback" and plan.kinds == ("satisfaction",)
    assert plan_call(session=session, callback_id=999, now=NOW, policy=policy, scripts=book) is (
        None
    )
