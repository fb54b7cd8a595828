"""Unsatisfied callbacks close the loop (issue 20 part 6, seat.loops): the threshold, a
complaint opened and linked or the reason not to, the complaint that cannot close while its
loop is open, the follow-up scheduled when it is resolved, a satisfied follow-up that closes
the loop, an unsatisfied one that keeps it open, and the supervisor's close with a reason."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from seat import callbacks, calls, complaints, loops
from seat.cli import main
from seat.config import DATA_DIR
from seat.customers import ValidationError
from seat.errors import MoveRefused, StaleComplaint
from seat.models import Callback, Complaint, ComplaintEvent, ComplaintLoop
from seat.reports import complaints as report
from seat.roles import PermissionDenied
from seat.scripts import load_scripts
from tests.conftest import NOW
from tests.unit.complaint_steps import POLICY, do, walk

AT_MOST = 2
LATER = NOW + timedelta(days=2)


@pytest.fixture(scope="module")
def book():
    scripts, problems = load_scripts(DATA_DIR / "scripts")
    assert problems == []
    return scripts


def _satisfaction(session) -> Callback:
    return session.execute(select(Callback).where(Callback.kind == "satisfaction")).scalar_one()


def call_back(session, book, cb, *, answer, score, said="The technician left a mess",
              complaint=False, reason="", at=NOW, script="callback"):  # fmt: skip
    """Walk the callback's script with the customer's answer and score; open a complaint on
    the call when asked; save the call. Returns the complaint opened (or None)."""
    state = calls.CallState(
        script=book.pick(script, "en"), agent_id=cb.owner_id, started_at=at,
        customer_id=cb.customer_id, callback_id=cb.id, from_number="+8613800138000",
    )  # fmt: skip
    state.values.update(satisfied=answer, score=str(score))
    minute = 0
    while not state.in_wrapup:
        if state.stage.id in ("improve", "concerns", "suggestions", "next_steps"):
            field = {"improve": "improvement", "concerns": "concern",
                     "suggestions": "suggestion", "next_steps": "note"}[state.stage.id]  # fmt: skip
            state.values[field] = said
        minute += 1
        assert state.advance(at + timedelta(minutes=minute)) == {}
    opened = None
    if complaint:
        call = calls.ensure_call_row(session=session, state=state)
        opened = complaints.create_complaint(
            session=session, now=at + timedelta(minutes=minute), customer_id=cb.customer_id,
            owner_id=cb.owner_id, what_happened=said, customer_wants="Come back and clean up",
            call_id=call.id,
        ).id  # fmt: skip
    state.outcome = "complaint_opened" if complaint else "resolved"
    if reason:
        state.values[loops.REASON_FIELD] = reason
    calls.save_call(
        session=session, state=state, now=at + timedelta(minutes=minute + 1),
        unsatisfied_at_most=AT_MOST,
    )  # fmt: skip
    session.commit()
    return opened


def _loop(session, complaint_id) -> ComplaintLoop | None:
    return session.execute(
        select(ComplaintLoop).where(ComplaintLoop.complaint_id == complaint_id)
    ).scalar_one_or_none()


def _unsatisfied_complaint(session, people, book) -> int:
    """A satisfaction callback ends unsatisfied; the complaint opened on it, walked to
    implemented (resolved)."""
    cid = call_back(session, book, _satisfaction(session), answer="unsatisfied", score=1,
                    complaint=True)  # fmt: skip
    walk(session, people, cid, "implemented")
    return cid


def _loop_follow_up(session, cid) -> Callback:
    return session.execute(
        select(Callback).where(
            Callback.complaint_id == cid, Callback.source_key.like(f"complaint:{cid}:loop:%")
        )
    ).scalar_one()


# -- the threshold --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "answer", "at_most", "expected"),
    [
        (1, "unsatisfied", 2, "unsatisfied"),
        (2, None, 2, "unsatisfied"),
        (3, None, 2, "satisfied"),
        (3, None, 3, "unsatisfied"),
        (5, "unsatisfied", 2, "unsatisfied"),  # the customer's word counts
        (2, "satisfied", 2, "unsatisfied"),  # so does a low score
        (3, "so-so", 2, None),
        (4, "satisfied", 2, "satisfied"),
        (None, "satisfied", 2, "satisfied"),
        (None, None, 2, None),
    ],
)
def test_unsatisfied_is_the_answer_or_a_score_at_the_threshold(score, answer, at_most, expected):
    assert loops.verdict(score, answer, at_most=at_most) == expected


def test_the_threshold_is_read_from_the_policy():
    policy = callbacks.policy_from_dict({"satisfaction": {"unsatisfied_at_most": 3}})
    assert policy.unsatisfied_at_most == 3
    assert callbacks.CallbackPolicy().unsatisfied_at_most == 2
    with pytest.raises(ValueError, match="unsatisfied_at_most"):
        callbacks.policy_from_dict({"satisfaction": {"unsatisfied_at_most": "low"}})


# -- unsatisfied: a complaint, or the reason not to -----------------------------------------


@pytest.mark.parametrize(
    ("answer", "score", "loop_opened"),
    [("unsatisfied", 1, True), ("so-so", 2, True), ("so-so", 3, False)],
)
def test_an_unsatisfied_callback_links_the_complaint_opened_on_it(
    session, people, book, answer, score, loop_opened
):
    cb = _satisfaction(session)
    cid = call_back(session, book, cb, answer=answer, score=score, complaint=True)
    loop = _loop(session, cid)
    assert (loop is not None) is loop_opened
    if loop_opened:
        assert (loop.callback_id, loop.status, loop.opened_by_id) == (cb.id, "open", cb.owner_id)
        event = session.execute(
            select(ComplaintEvent).where(
                ComplaintEvent.complaint_id == cid, ComplaintEvent.action == "loop_open"
            )
        ).scalar_one()
        assert "The technician left a mess" in event.comment


@pytest.mark.parametrize(("reason", "kept"), [("", None), ("Customer asked us not to", True)])
def test_unsatisfied_without_a_complaint_needs_a_reason(session, people, book, reason, kept):
    cb = _satisfaction(session)
    if not kept:
        with pytest.raises(ValidationError) as refused:
            call_back(session, book, cb, answer="unsatisfied", score=1, reason=reason)
        assert loops.REASON_FIELD in refused.value.errors
        session.rollback()
        assert session.get(Callback, cb.id).status == "open"
        return
    call_back(session, book, cb, answer="unsatisfied", score=1, reason=reason)
    session.refresh(cb)
    assert (cb.status, cb.no_complaint_reason) == ("done", reason)
    assert session.execute(select(ComplaintLoop)).first() is None


def test_a_satisfied_callback_asks_for_nothing(session, people, book):
    cb = _satisfaction(session)
    call_back(session, book, cb, answer="satisfied", score=5)
    session.refresh(cb)
    assert (cb.status, cb.no_complaint_reason) == ("done", None)
    assert session.execute(select(ComplaintLoop)).first() is None


def test_the_question_is_asked_only_when_a_reason_is_needed(session, people, book):
    cb = _satisfaction(session)
    state = calls.CallState(
        script=book.pick("callback", "en"), agent_id=cb.owner_id, started_at=NOW,
        customer_id=cb.customer_id, callback_id=cb.id,
    )  # fmt: skip
    state.values.update(satisfied="unsatisfied", score="1")
    state.outcome = "resolved"
    assert calls.loop_question(session=session, state=state, at_most=AT_MOST)
    state.values.update(satisfied="satisfied", score="4")
    assert not calls.loop_question(session=session, state=state, at_most=AT_MOST)
    state.values.update(satisfied="unsatisfied", score="1")
    state.outcome = "no_answer"
    assert not calls.loop_question(session=session, state=state, at_most=AT_MOST)


# -- the complaint cannot close while the loop is open --------------------------------------


@pytest.mark.parametrize("move", ["close", "invalid"])
def test_a_complaint_in_an_open_loop_cannot_close(session, people, book, move):
    cid = call_back(session, book, _satisfaction(session), answer="unsatisfied", score=1,
                    complaint=True)  # fmt: skip
    if move == "close":
        walk(session, people, cid, "implemented")
    with pytest.raises(MoveRefused, match="unsatisfied callback"):
        do(session, people, cid, move)
    session.rollback()
    assert complaints.case(session=session, complaint_id=cid, now=LATER, policy=POLICY).allowed
    view = complaints.case(session=session, complaint_id=cid, now=LATER, policy=POLICY)
    assert move not in view.allowed and view.loop.status == "open"


def test_resolving_it_schedules_the_follow_up(session, people, book):
    cid = _unsatisfied_complaint(session, people, book)
    follow_up = _loop_follow_up(session, cid)
    assert (follow_up.kind, follow_up.status) == ("complaint_follow_up", "open")


# -- follow-ups: satisfied closes, unsatisfied keeps it open --------------------------------


@pytest.mark.parametrize(
    ("answer", "score", "closed"),
    [("satisfied", 5, True), ("satisfied", 4, True), ("unsatisfied", 1, False),
     ("so-so", 3, False), ("satisfied", 2, False)],
)  # fmt: skip
def test_a_follow_up_closes_the_loop_only_when_satisfied(
    session, people, book, answer, score, closed
):
    cid = _unsatisfied_complaint(session, people, book)
    follow_up = _loop_follow_up(session, cid)
    call_back(session, book, follow_up, answer=answer, score=score, at=LATER,
              script="callback_follow_up", said="All cleaned up now")  # fmt: skip
    loop = _loop(session, cid)
    session.refresh(loop)
    assert (loop.status == "closed") is closed
    assert loop.closed_by_callback_id == (follow_up.id if closed else None)
    actions = session.execute(
        select(ComplaintEvent.action).where(ComplaintEvent.complaint_id == cid)
    ).scalars().all()
    assert actions[-1] == ("loop_close" if closed else "loop_follow_up")
    if closed:  # now it closes, without a second satisfaction callback after closing
        do(session, people, cid, "close", at=LATER + timedelta(hours=1))
        assert session.execute(
            select(Callback).where(Callback.source_key == f"complaint:{cid}:after-close")
        ).first() is None
    else:
        with pytest.raises(MoveRefused):
            do(session, people, cid, "close", at=LATER + timedelta(hours=1))


def test_a_satisfied_follow_up_before_it_is_resolved_keeps_the_loop(session, people, book):
    cid = call_back(session, book, _satisfaction(session), answer="unsatisfied", score=1,
                    complaint=True)  # fmt: skip
    weekly = Callback(
        customer_id=people["fang"], owner_id=people["li"], kind="complaint_follow_up",
        reason="weekly", due_at=NOW, created_at=NOW, complaint_id=cid,
    )  # fmt: skip
    session.add(weekly)
    session.commit()
    call_back(session, book, weekly, answer="satisfied", score=5, at=LATER,
              script="callback_follow_up")  # fmt: skip
    assert _loop(session, cid).status == "open"


def test_an_unsatisfied_follow_up_of_an_open_complaint_opens_its_loop(session, people, book):
    cid = complaints.create_complaint(
        session=session, now=NOW, customer_id=people["fang"], owner_id=people["li"],
        what_happened="Sofa delivered torn", customer_wants="A new cover",
    ).id  # fmt: skip
    weekly = Callback(
        customer_id=people["fang"], owner_id=people["li"], kind="complaint_follow_up",
        reason="weekly", due_at=NOW, created_at=NOW, complaint_id=cid,
    )  # fmt: skip
    session.add(weekly)
    session.commit()
    call_back(session, book, weekly, answer="unsatisfied", score=1, at=LATER,
              script="callback_follow_up")  # fmt: skip
    loop = _loop(session, cid)
    assert (loop.callback_id, loop.status) == (weekly.id, "open")


# -- the supervisor closes it with a reason -------------------------------------------------


@pytest.mark.parametrize(
    ("who", "reason", "error"),
    [("boss", "Customer moved abroad; agreed by phone", None),
     ("li", "I think it is fine", PermissionDenied),
     ("boss", "", ValidationError)],
)  # fmt: skip
def test_a_supervisor_closes_the_loop_with_a_reason(session, people, book, who, reason, error):
    cid = _unsatisfied_complaint(session, people, book)
    close = dict(session=session, complaint_id=cid, actor_id=people[who], now=LATER,
                 reason=reason)  # fmt: skip
    if error is not None:
        with pytest.raises(error):
            loops.supervisor_close(**close)
        session.rollback()
        assert _loop(session, cid).status == "open"
        return
    loops.supervisor_close(**close)
    session.commit()
    loop = _loop(session, cid)
    assert (loop.status, loop.closed_by_id, loop.close_reason) == ("closed", people["boss"], reason)
    with pytest.raises(MoveRefused, match="no open loop"):
        loops.supervisor_close(**close)
    session.rollback()
    do(session, people, cid, "close", at=LATER + timedelta(hours=1))
    assert complaints.case(session=session, complaint_id=cid, now=LATER, policy=POLICY)
    assert session.get(ComplaintLoop, loop.id).status == "closed"


def test_the_open_loops_are_counted(session, people, book):
    assert loops.count_open(session=session) == 0
    cid = _unsatisfied_complaint(session, people, book)
    assert loops.count_open(session=session) == 1
    loops.supervisor_close(session=session, complaint_id=cid, actor_id=people["boss"],
                           now=LATER, reason="Agreed otherwise")  # fmt: skip
    session.commit()
    assert loops.count_open(session=session) == 0


# -- the statistics and `seat report complaints` --------------------------------------------


def test_the_report_counts_the_loops(session, people, book, engine, db_url, tmp_path,
                                     monkeypatch, capsys):  # fmt: skip
    open_one = _unsatisfied_complaint(session, people, book)
    closed = complaints.create_complaint(
        session=session, now=NOW, customer_id=people["min"], owner_id=people["li"],
        what_happened="Fridge door squeaks", customer_wants="Fix it",
    ).id  # fmt: skip
    weekly = Callback(
        customer_id=people["min"], owner_id=people["li"], kind="complaint_follow_up",
        reason="weekly", due_at=NOW, created_at=NOW, complaint_id=closed,
    )  # fmt: skip
    session.add(weekly)
    session.commit()
    call_back(session, book, weekly, answer="unsatisfied", score=1, script="callback_follow_up")
    loops.supervisor_close(session=session, complaint_id=closed, actor_id=people["boss"],
                           now=LATER, reason="Agreed otherwise")  # fmt: skip
    session.commit()
    assert _loop(session, open_one).status == "open"
    table = report.loop_counts(session, NOW - timedelta(days=1), NOW + timedelta(days=7))
    counts = {(row[0], row[1]): row[2] for row in table.rows}
    assert counts == {
        ("Loops", "open now"): 1, ("Loops", "opened"): 2,
        ("Loops", "closed by a satisfied follow-up"): 0, ("Loops", "closed by a supervisor"): 1,
        ("Unsatisfied", "no complaint opened (reason kept)"): 0,
    }  # fmt: skip
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none.toml"))
    db = db_url.removeprefix("sqlite:///")
    assert main(["report", "complaints", "--from", "2026-11-01", "--to", "2026-12-31",
                 "--format", "json", "--db", db]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert doc["Unsatisfied callbacks"]["rows"][0] == {
        "Dimension": "Loops", "Value": "open now", "Count": 1,
    }  # fmt: skip


def test_a_close_lost_to_another_seat_says_so(session, people, engine):
    """The guarded UPDATE that finds no open loop also finds the step this seat read: a
    complaint closed at another seat meanwhile is refused as stale, not as a loop."""
    cid = complaints.create_complaint(
        session=session, now=NOW, customer_id=people["min"], owner_id=people["li"],
        what_happened="Fridge door squeaks", customer_wants="Fix it",
    ).id  # fmt: skip
    session.commit()
    walk(session, people, cid, "implemented")
    kept = session.get(Complaint, cid)  # this seat keeps it as it read it: implemented
    session.commit()
    with Session(engine) as other:
        do(other, people, cid, "close", at=LATER)
    with pytest.raises(StaleComplaint):
        do(session, people, cid, "close", at=LATER)
    assert kept.status == "implemented"
