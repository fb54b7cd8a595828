"""A call in progress (CallState) and saving it (save_call, validate_wrapup)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from seat import calls
from seat.config import DATA_DIR
from seat.customers import ValidationError
from seat.models import Call, Callback, CallbackStatus, Outcome
from seat.scripts import PHASES, Script, load_scripts
from tests.conftest import NOW

MIN = timedelta(minutes=1)


@pytest.fixture(scope="module")
def scripts() -> dict[str, Script]:
    found, problems = load_scripts(DATA_DIR / "scripts")
    assert problems == []
    return found


def _inbound(scripts, world, **kw) -> calls.CallState:
    return calls.CallState(
        script=scripts["inbound"],
        agent_id=world["li"] if world else 1,
        started_at=NOW,
        from_number="+8613800138000",
        customer_id=world["fang"] if world else None,
        **kw,
    )


def _finish_inbound(state: calls.CallState, need: str = "repair") -> None:
    """Walk greeting -> discovery -> resolution -> closing -> wrap-up, a minute a stage."""
    assert state.advance(NOW + 1 * MIN) == {}
    state.values["need_category"] = need
    assert state.advance(NOW + 2 * MIN) == {}
    assert state.advance(NOW + 3 * MIN) == {}
    assert state.advance(NOW + 4 * MIN) == {}
    assert state.in_wrapup


def _count_calls(session) -> int:
    return session.execute(select(func.count()).select_from(Call)).scalar_one()


# -- CallState --------------------------------------------------------------------------


def test_new_call_starts_at_the_first_stage(scripts):
    state = _inbound(scripts, None)
    assert state.stage_id == "greeting"
    assert state.stage.phase == "greeting"
    assert state.phase_times == {"greeting": NOW}
    assert state.direction == "inbound"
    assert not state.in_wrapup


def test_callback_call_is_outbound(scripts):
    state = calls.CallState(script=scripts["callback"], agent_id=1, started_at=NOW)
    assert state.direction == "outbound"
    assert state.stage_id == "opening"


def test_advance_walks_the_inbound_script(scripts):
    state = _inbound(scripts, None)
    seen = [state.stage_id]
    for i in range(1, 4):
        state.values["need_category"] = "inquiry"
        assert state.advance(NOW + i * MIN) == {}
        seen.append(state.stage_id)
    assert seen == ["greeting", "discovery", "resolution", "closing"]
    assert not state.in_wrapup
    assert state.advance(NOW + 4 * MIN) == {}
    assert state.in_wrapup
    assert state.wrapup_at == NOW + 4 * MIN
    assert state.stage_id == "closing"
    assert state.advance(NOW + 5 * MIN) == {}  # nothing further
    assert state.wrapup_at == NOW + 4 * MIN


def test_advance_is_blocked_by_missing_required_field(scripts):
    state = _inbound(scripts, None)
    state.advance(NOW + MIN)
    assert state.stage_id == "discovery"
    problems = state.advance(NOW + 2 * MIN)
    assert problems == {"need_category": "Need is required."}
    assert state.stage_id == "discovery"
    assert "resolution" not in state.phase_times


def test_advance_is_blocked_by_an_invalid_choice(scripts):
    state = _inbound(scripts, None)
    state.advance(NOW + MIN)
    state.values["need_category"] = "gossip"
    problems = state.advance(NOW + 2 * MIN)
    assert set(problems) == {"need_category"}
    assert "choose one of" in problems["need_category"]
    assert state.stage_id == "discovery"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, {"satisfied", "score"}),
        ({"satisfied": "satisfied"}, {"score"}),
        ({"satisfied": "satisfied", "score": "9"}, {"score"}),
        ({"satisfied": "great", "score": "5"}, {"satisfied"}),
        ({"satisfied": "satisfied", "score": "5"}, set()),
    ],
)
def test_problems_of_the_satisfaction_stage(scripts, values, expected):
    state = calls.CallState(
        script=scripts["callback"],
        agent_id=1,
        started_at=NOW,
        stage_id="satisfaction",
        values=dict(values),
    )
    assert set(state.problems()) == expected


@pytest.mark.parametrize(
    ("answer", "stages"),
    [
        ("satisfied", ["opening", "satisfaction", "suggestions", "close_satisfied"]),
        ("so-so", ["opening", "satisfaction", "improve", "close_unsatisfied"]),
        ("unsatisfied", ["opening", "satisfaction", "improve", "close_unsatisfied"]),
    ],
)
def test_advance_follows_callback_branches(scripts, answer, stages):
    state = calls.CallState(script=scripts["callback"], agent_id=1, started_at=NOW)
    state.values.update(satisfied=answer, score="3", improvement="Too slow")
    seen = [state.stage_id]
    for i in range(1, 4):
        assert state.advance(NOW + i * MIN) == {}
        seen.append(state.stage_id)
    assert seen == stages
    assert state.advance(NOW + 4 * MIN) == {}
    assert state.in_wrapup


def test_improve_stage_requires_what_was_wrong(scripts):
    state = calls.CallState(script=scripts["callback"], agent_id=1, started_at=NOW)
    state.values.update(satisfied="unsatisfied", score="1")
    state.advance(NOW + MIN)
    state.advance(NOW + 2 * MIN)
    assert state.stage_id == "improve"
    assert state.advance(NOW + 3 * MIN) == {"improvement": "What was not right is required."}


def test_back_returns_through_the_stages(scripts):
    state = _inbound(scripts, None)
    assert state.back() is False  # nothing before the greeting
    _finish_inbound(state)
    assert state.back() is True
    assert not state.in_wrapup and state.stage_id == "closing"
    visited = []
    while state.back():
        visited.append(state.stage_id)
    assert visited == ["resolution", "discovery", "greeting"]
    assert state.stage_id == "greeting"


def test_back_then_forward_keeps_the_values(scripts):
    state = _inbound(scripts, None)
    _finish_inbound(state, need="complaint")
    state.back()
    state.back()
    assert state.stage_id == "resolution"
    assert state.values["need_category"] == "complaint"
    assert state.advance(NOW + 10 * MIN) == {}
    assert state.stage_id == "closing"


def test_phase_times_recorded_once_in_order(scripts):
    state = _inbound(scripts, None)
    _finish_inbound(state)
    assert list(state.phase_times) == list(PHASES)
    assert state.phase_times == {
        "greeting": NOW,
        "discovery": NOW + 1 * MIN,
        "resolution": NOW + 2 * MIN,
        "closing": NOW + 3 * MIN,
    }
    # Going back and forth again does not move the first-entry times.
    while state.back():
        pass
    for i in range(10, 14):
        state.advance(NOW + i * MIN)
    assert state.in_wrapup
    assert state.phase_times["discovery"] == NOW + 1 * MIN
    assert state.phase_times["closing"] == NOW + 3 * MIN
    assert state.wrapup_at == NOW + 4 * MIN
    times = list(state.phase_times.values())
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("created", "outcome"),
    [
        (set(), "resolved"),
        ({"callback"}, "callback_promised"),
        ({"work_order"}, "work_order_created"),
        ({"callback", "work_order"}, "work_order_created"),
        ({"complaint", "work_order", "callback"}, "complaint_opened"),
    ],
)
def test_suggested_outcome(scripts, created, outcome):
    assert _inbound(scripts, None).suggested_outcome(created) == outcome


# -- validate_wrapup --------------------------------------------------------------------


def test_validate_wrapup_of_a_finished_call(scripts):
    state = _inbound(scripts, None)
    _finish_inbound(state)
    state.outcome = "resolved"
    assert calls.validate_wrapup(state) == {}


@pytest.mark.parametrize(
    ("finish", "outcome", "need", "notes", "bad"),
    [
        (True, "", "repair", "", {"outcome"}),
        (True, "solved", "repair", "", {"outcome"}),
        (False, "resolved", "repair", "", {"stage"}),
        (True, "resolved", "", "", {"need_category"}),
        (True, "resolved", "repair", "x" * (calls.MAX_NOTES + 1), {"notes"}),
        (False, "", "", "", {"stage", "outcome", "need_category"}),
    ],
)
def test_validate_wrapup_errors(scripts, finish, outcome, need, notes, bad):
    state = _inbound(scripts, None)
    if finish:
        _finish_inbound(state)
    state.values["need_category"] = need
    state.outcome = outcome
    state.notes = notes
    assert set(calls.validate_wrapup(state)) == bad


def test_callback_wrapup_needs_no_need_category(scripts):
    state = calls.CallState(script=scripts["callback"], agent_id=1, started_at=NOW)
    state.values.update(satisfied="satisfied", score="5")
    for i in range(1, 5):
        state.advance(NOW + i * MIN)
    state.outcome = "resolved"
    assert calls.validate_wrapup(state) == {}


# -- save_call --------------------------------------------------------------------------


def test_save_call_writes_one_row(session, world, scripts):
    state = _inbound(scripts, world)
    state.values["need_notes"] = "  Washer leaks after every wash  "
    _finish_inbound(state, need="repair")
    state.outcome = "work_order_created"
    state.notes = "  Promised a technician tomorrow.  "
    call = calls.save_call(session=session, state=state, now=NOW + 5 * MIN)
    session.commit()
    assert _count_calls(session) == 1
    row = session.get(Call, call.id)
    assert state.call_id == call.id
    assert (row.agent_id, row.customer_id) == (world["li"], world["fang"])
    assert row.from_number == "+8613800138000"
    assert (row.direction, row.script) == ("inbound", "inbound")
    stamps = [
        row.started_at,
        row.greeting_at,
        row.discovery_at,
        row.resolution_at,
        row.closing_at,
        row.wrapup_at,
        row.ended_at,
    ]
    assert stamps == [NOW + i * MIN for i in (0, 0, 1, 2, 3, 4, 5)]
    assert stamps == sorted(stamps)
    assert row.outcome == "work_order_created"
    assert row.need_category == "repair"
    assert row.satisfaction is None
    assert row.notes == (
        "Promised a technician tomorrow.\nWhat the caller needs: Washer leaks after every wash"
    )


def test_save_call_leaves_out_choice_values_and_empty_text_from_notes(session, world, scripts):
    state = _inbound(scripts, world)
    state.values["need_notes"] = "   "
    _finish_inbound(state)
    state.outcome = "resolved"
    row = calls.save_call(session=session, state=state, now=NOW + 5 * MIN)
    assert row.notes == ""


def test_save_call_reuses_the_row_made_during_the_call(session, world, scripts):
    state = _inbound(scripts, world)
    early = calls.ensure_call_row(session=session, state=state)  # e.g. a work order links to it
    assert calls.ensure_call_row(session=session, state=state).id == early.id
    _finish_inbound(state)
    state.outcome = "resolved"
    call = calls.save_call(session=session, state=state, now=NOW + 5 * MIN)
    session.commit()
    assert call.id == early.id
    assert _count_calls(session) == 1


def test_save_call_of_an_unknown_caller(session, world, scripts):
    state = calls.CallState(
        script=scripts["inbound"],
        agent_id=world["li"],
        started_at=NOW,
        from_number="+8613700000000",
    )
    _finish_inbound(state, need="inquiry")
    state.outcome = "resolved"
    row = calls.save_call(session=session, state=state, now=NOW + 5 * MIN)
    assert row.customer_id is None
    assert row.need_category == "inquiry"


def test_save_call_refuses_an_unfinished_call_and_writes_nothing(session, world, scripts):
    state = _inbound(scripts, world)
    state.advance(NOW + MIN)
    with pytest.raises(ValidationError) as info:
        calls.save_call(session=session, state=state, now=NOW + 2 * MIN)
    assert {"stage", "outcome", "need_category"} <= set(info.value.errors)
    session.commit()
    assert _count_calls(session) == 0
    assert state.call_id is None


def _callback_call(session, world, scripts, *, answer: str = "satisfied", score: str = "5"):
    cb = Callback(
        customer_id=world["fang"],
        owner_id=world["li"],
        reason="Washer repair",
        due_at=NOW - timedelta(hours=1),
        created_at=NOW - timedelta(days=2),
    )
    session.add(cb)
    session.commit()
    state = calls.CallState(
        script=scripts["callback"],
        agent_id=world["li"],
        started_at=NOW,
        customer_id=world["fang"],
        callback_id=cb.id,
    )
    state.values.update(
        satisfied=answer,
        score=score,
        suggestion="Call before coming",
        improvement="The technician was late",
    )
    for i in range(1, 5):
        assert state.advance(NOW + i * MIN) == {}
    assert state.in_wrapup
    return cb, state


def test_callback_call_settles_its_callback(session, world, scripts):
    cb, state = _callback_call(session, world, scripts)
    state.outcome = "resolved"
    call = calls.save_call(session=session, state=state, now=NOW + 5 * MIN)
    session.commit()
    row = session.get(Call, call.id)
    assert (row.direction, row.script, row.callback_id) == ("outbound", "callback", cb.id)
    assert row.need_category == "callback"
    assert row.satisfaction == 5
    # The improvement text sits in the values but its stage was not walked: not in the notes.
    assert row.notes == "Suggestion: Call before coming"
    settled = session.get(Callback, cb.id)
    assert settled.status == CallbackStatus.DONE
    assert settled.done_at == NOW + 5 * MIN
    assert settled.attempts == 1


def test_unsatisfied_callback_records_score_and_what_was_wrong(session, world, scripts):
    cb, state = _callback_call(session, world, scripts, answer="unsatisfied", score="2")
    state.values.pop("suggestion")
    state.outcome = "complaint_opened"
    row = calls.save_call(session=session, state=state, now=NOW + 5 * MIN)
    assert row.satisfaction == 2
    assert row.notes == "What was not right: The technician was late"
    assert session.get(Callback, cb.id).status == CallbackStatus.DONE


def test_answers_of_an_abandoned_branch_stay_out_of_the_notes(session, world, scripts):
    state = calls.CallState(
        script=scripts["callback"], agent_id=world["li"], started_at=NOW, customer_id=world["fang"]
    )
    state.values.update(satisfied="unsatisfied", score="2")
    state.advance(NOW + MIN)
    state.advance(NOW + 2 * MIN)
    assert state.stage_id == "improve"
    state.values["improvement"] = "Misheard: nothing was wrong"
    assert state.back() and state.stage_id == "satisfaction"
    state.values.update(satisfied="satisfied", score="5", suggestion="Keep it up")
    for i in range(3, 6):
        assert state.advance(NOW + i * MIN) == {}
    assert state.in_wrapup
    assert state.history == ["opening", "satisfaction", "suggestions"]
    state.outcome = "resolved"
    row = calls.save_call(session=session, state=state, now=NOW + 6 * MIN)
    assert row.notes == "Suggestion: Keep it up"
    assert row.satisfaction == 5


def test_no_answer_keeps_the_callback_open_and_counts_the_attempt(session, world, scripts):
    cb, state = _callback_call(session, world, scripts)
    state.outcome = Outcome.NO_ANSWER.value
    calls.save_call(session=session, state=state, now=NOW + 5 * MIN)
    session.commit()
    again = session.get(Callback, cb.id)
    assert again.status == CallbackStatus.OPEN
    assert again.attempts == 1
    assert again.done_at is None
    # A second try that reaches the customer settles it.
    state2 = calls.CallState(
        script=scripts["callback"],
        agent_id=world["li"],
        started_at=NOW + timedelta(hours=2),
        customer_id=world["fang"],
        callback_id=cb.id,
    )
    state2.values.update(satisfied="satisfied", score="4")
    for i in range(1, 5):
        state2.advance(NOW + timedelta(hours=2) + i * MIN)
    state2.outcome = "resolved"
    calls.save_call(session=session, state=state2, now=NOW + timedelta(hours=2, minutes=5))
    session.commit()
    done = session.get(Callback, cb.id)
    assert (done.status, done.attempts) == (CallbackStatus.DONE, 2)
    assert _count_calls(session) == 2


def test_a_settled_callback_is_not_touched_again(session, world, scripts):
    cb, state = _callback_call(session, world, scripts)
    cb.status = CallbackStatus.CANCELLED
    session.commit()
    state.outcome = "resolved"
    calls.save_call(session=session, state=state, now=NOW + 5 * MIN)
    session.commit()
    again = session.get(Callback, cb.id)
    assert (again.status, again.attempts, again.done_at) == (CallbackStatus.CANCELLED, 0, None)


@pytest.mark.parametrize("stages_done", [0, 1, 2])
def test_no_answer_goes_straight_to_wrapup(scripts, stages_done):
    state = calls.CallState(script=scripts["callback"], agent_id=1, started_at=NOW)
    state.values.update(satisfied="satisfied", score="5")
    for i in range(stages_done):
        state.advance(NOW + (i + 1) * MIN)
    where = state.stage_id
    state.no_answer(NOW + 10 * MIN)
    assert state.in_wrapup
    assert state.outcome == "no_answer"
    assert state.wrapup_at == NOW + 10 * MIN
    assert calls.validate_wrapup(state) == {}
    # Back returns to the stage the agent was on, then one further each time.
    assert state.back() and not state.in_wrapup and state.stage_id == where
    steps = 0
    while state.back():
        steps += 1
    assert steps == stages_done
    assert state.stage_id == "opening"


def test_no_answer_saves_an_outbound_call_without_a_score(session, world, scripts):
    cb, __ = _callback_call(session, world, scripts)
    state = calls.CallState(
        script=scripts["callback"],
        agent_id=world["li"],
        started_at=NOW,
        customer_id=world["fang"],
        callback_id=cb.id,
    )
    state.no_answer(NOW + MIN)
    row = calls.save_call(session=session, state=state, now=NOW + 2 * MIN)
    assert (row.outcome, row.satisfaction, row.notes) == ("no_answer", None, "")
    assert (row.greeting_at, row.discovery_at, row.wrapup_at) == (NOW, None, NOW + MIN)
    settled = session.get(Callback, cb.id)
    assert (settled.status, settled.attempts) == (CallbackStatus.OPEN, 1)


def test_a_saved_call_keeps_its_times_and_whether_it_repeats_one(session, scripts, world):
    """Saving times the call (talk to wrap-up, wrap-up to the save) and judges first-contact
    resolution: a second call about the same need within 7 days marks the first repeated."""
    first = _inbound(scripts, world)
    _finish_inbound(first)
    first.outcome = Outcome.RESOLVED.value
    saved = calls.save_call(session=session, state=first, now=NOW + 5 * MIN)
    session.commit()
    assert (saved.talk_seconds, saved.wrapup_seconds, saved.repeated) == (240.0, 60.0, False)
    again = calls.CallState(script=scripts["inbound"], agent_id=world["wang"],
                            started_at=NOW + timedelta(days=2), from_number="+8613800138000",
                            customer_id=world["fang"])  # fmt: skip
    for step in range(1, 5):
        if step == 2:
            again.values["need_category"] = "repair"
        assert again.advance(NOW + timedelta(days=2) + step * MIN) == {}
    again.outcome = Outcome.RESOLVED.value
    calls.save_call(session=session, state=again, now=NOW + timedelta(days=2, minutes=6))
    session.commit()
    session.refresh(saved)
    assert saved.repeated is True
