"""A call in progress (pure state, driven by the call screen) and saving it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from uuid import uuid4

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from seat import cti, labels, loops, repeats, roles, textguard
from seat.callbacks import CHURN_REASON_FIELD, asks_score, default_policy, record_call
from seat.customers import ValidationError
from seat.i18n import _
from seat.models import (
    CLOSED_COMPLAINT_STATUSES,
    Agent,
    Call,
    Callback,
    CallbackStatus,
    CallCheck,
    CallStage,
    Complaint,
    Outcome,
)
from seat.scripts import PHASES, Script, Stage

OUTCOMES = tuple(o.value for o in Outcome)
NEED_LABELS = labels.NEED_CHOICES
OUTCOME_LABELS = labels.OUTCOME_CHOICES


def need_label(category: str | None) -> str:
    """A stored need category in the current language ("" for none)."""
    if not category:
        return ""
    label = NEED_LABELS.get(category)
    return _(label) if label else category


def outcome_label(outcome: str | None) -> str:
    """A stored outcome code in the current language ("" for none)."""
    if not outcome:
        return ""
    label = OUTCOME_LABELS.get(outcome)
    return _(label) if label else outcome

MAX_NOTES = 20000


@dataclass
class CallState:
    """Where the agent is in the script, what was captured, when each phase began."""

    script: Script
    agent_id: int
    started_at: datetime
    from_number: str | None = None
    customer_id: int | None = None
    callback_id: int | None = None
    call_id: int | None = None
    stage_id: str = ""
    values: dict[str, str] = field(default_factory=dict)
    phase_times: dict[str, datetime] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    in_wrapup: bool = False
    wrapup_at: datetime | None = None
    outcome: str = ""
    notes: str = ""
    uid: str = field(default_factory=lambda: uuid4().hex)
    """The call's own id, made here and kept in the draft: the table holds one row per uid."""
    call_ref: str | None = None
    """The phone system's id for the call, when it announced it (seat cti serve)."""
    ticks: dict[str, list[int]] = field(default_factory=dict)
    """Stage id -> the numbers of the checklist items the agent ticked there."""
    visits: list[tuple[str, datetime]] = field(default_factory=list)
    """Each stage entered, in order, with when ("" for wrap-up): the time spent per stage."""

    def __post_init__(self) -> None:
        if not self.stage_id:
            self.stage_id = self.script.first.id
        self.phase_times.setdefault(self.stage.phase, self.started_at)
        if not self.visits:
            self.visits.append((self.stage_id, self.started_at))

    def tick(self, stage_id: str, items: list[int]) -> None:
        """The checklist items ticked on a stage now (replacing what was ticked before)."""
        self.ticks[stage_id] = sorted(set(items))

    def _enter(self, stage_id: str, now: datetime) -> None:
        self.visits.append((stage_id, now))

    def stage_seconds(self, end: datetime) -> dict[str, float]:
        """Seconds spent in each stage entered (visits added up, wrap-up left out), in the
        order the stages were first entered; the last visit lasts until `end`."""
        spent: dict[str, float] = {}
        for (sid, at), nxt in zip(self.visits, [*self.visits[1:], ("", end)], strict=True):
            if sid:
                spent[sid] = spent.get(sid, 0.0) + max((nxt[1] - at).total_seconds(), 0.0)
        return spent

    @property
    def stage(self) -> Stage:
        return self.script.stage(self.stage_id)

    @property
    def direction(self) -> str:
        return "outbound" if self.script.kind == "callback" else "inbound"

    def problems(self) -> dict[str, str]:
        """Messages for the current stage's fields: required ones missing, bad values."""
        stage = self.stage
        msgs = {
            f.id: _("{label} is required.").format(label=f.label)
            for f in self.script.missing_required(stage, self.values)
        }
        msgs.update(self.script.invalid_values(stage, self.values))
        return msgs

    def advance(self, now: datetime) -> dict[str, str]:
        """Go to the next stage (or wrap-up); returns problems if the stage is incomplete."""
        if self.in_wrapup:
            return {}
        problems = self.problems()
        if problems:
            return problems
        nxt = self.script.next_stage(self.stage, self.values)
        if nxt is None:
            # The closing stage stays current (and off the history): back() returns to it.
            self.in_wrapup = True
            self.wrapup_at = self.wrapup_at or now
            self._enter("", now)
            return {}
        self.history.append(self.stage_id)
        self.stage_id = nxt.id
        self.phase_times.setdefault(nxt.phase, now)
        self._enter(nxt.id, now)
        return {}

    def no_answer(self, now: datetime) -> None:
        """Nobody picked up: straight to wrap-up, outcome 'no answer'."""
        # Like advance(): the current stage stays current, so back() returns to it.
        self.in_wrapup = True
        self.wrapup_at = self.wrapup_at or now
        self.outcome = Outcome.NO_ANSWER.value
        self._enter("", now)

    def back(self, now: datetime | None = None) -> bool:
        """Return to the previous stage (timestamps of first entry are kept); `now` starts
        the time spent there again (without it the time counts to the stage left)."""
        if self.in_wrapup:
            self.in_wrapup = False
        elif self.history:
            self.stage_id = self.history.pop()
        else:
            return False
        if now is not None:
            self._enter(self.stage_id, now)
        return True

    def suggested_outcome(self, created: set[str]) -> str:
        for kind, outcome in (
            ("complaint", Outcome.COMPLAINT_OPENED),
            ("work_order", Outcome.WORK_ORDER_CREATED),
            ("callback", Outcome.CALLBACK_PROMISED),
        ):
            if kind in created:
                return outcome.value
        return Outcome.RESOLVED.value


def _phase_time(state: CallState, phase: str) -> datetime | None:
    return state.phase_times.get(phase)


def ensure_call_row(*, session: Session, state: CallState) -> Call:
    """The call's row, inserted the first time something must link to it.

    Found by the call's uid when the state lost its row id (a draft written before the row
    existed, resumed after the call was saved): one call is one row, however often it is saved.
    """
    if state.call_id is not None:
        call = session.get(Call, state.call_id)
        if call is not None and call.uid == state.uid:
            return call
    call = _by_uid(session, state.uid)
    if call is not None:
        state.call_id = call.id
        return call
    call = Call(
        uid=state.uid,
        agent_id=state.agent_id,
        customer_id=state.customer_id,
        from_number=state.from_number,
        direction=state.direction,
        script=state.script.id,
        callback_id=state.callback_id,
        started_at=state.started_at,
        call_ref=state.call_ref,
    )
    try:
        # A savepoint: another session saving the same call first leaves this one usable.
        with session.begin_nested():
            session.add(call)
    except IntegrityError:
        call = _by_uid(session, state.uid)
        if call is None:
            raise
    state.call_id = call.id
    return call


def is_saved(*, session: Session, uid: str) -> bool:
    """Whether the call with this uid was saved (wrapped up), not only linked to."""
    call = _by_uid(session, uid)
    return call is not None and call.ended_at is not None


def _by_uid(session: Session, uid: str) -> Call | None:
    return session.exec(select(Call).where(Call.uid == uid)).first()


def validate_wrapup(state: CallState) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not state.in_wrapup:
        errors["stage"] = _("Finish the script first: the closing stage leads to wrap-up.")
    if state.outcome not in OUTCOMES:
        errors["outcome"] = _("Choose an outcome code.")
    if len(state.notes) > MAX_NOTES:
        errors["notes"] = _("Notes are too long ({n} characters at most).").format(n=MAX_NOTES)
    elif len(_compose_notes(state)) > MAX_NOTES:
        # The stored notes carry the script's text answers too; the column holds MAX_NOTES.
        errors["notes"] = _(
            "Notes and the answers typed along the script are too long together "
            "({n} characters at most); shorten the notes."
        ).format(n=MAX_NOTES)
    answered = state.outcome != Outcome.NO_ANSWER
    if answered and state.script.kind == "inbound" and not state.values.get("need_category"):
        errors["need_category"] = _("The need category is required (need discovery).")
    return errors


def save_call(
    *, session: Session, state: CallState, now: datetime, unsatisfied_at_most: int | None = None
) -> Call:
    """Write the finished call with its stage timestamps; a callback call settles its callback.

    An unsatisfied satisfaction or follow-up callback opens a loop on the complaint opened on
    the call (or on the open complaint it follows up), or keeps why none was opened
    (`state.values[loops.REASON_FIELD]`, required then); a follow-up of a complaint in an
    open loop closes it when satisfied (seat.loops). `unsatisfied_at_most`: the policy's
    threshold (None: the callback policy's)."""
    errors = validate_wrapup(state)
    if errors:
        raise ValidationError(errors)
    roles.require(session.get(Agent, state.agent_id), roles.TAKE_CALLS)
    call = ensure_call_row(session=session, state=state)
    if call.ended_at is not None:
        # Already saved (the same draft saved again): the first save stands, nothing twice.
        return call
    call.customer_id = state.customer_id
    call.ended_at = now
    call.greeting_at = _phase_time(state, PHASES[0])
    call.discovery_at = _phase_time(state, PHASES[1])
    call.resolution_at = _phase_time(state, PHASES[2])
    call.closing_at = _phase_time(state, PHASES[3])
    call.wrapup_at = state.wrapup_at
    call.need_category = state.values.get("need_category") or (
        "callback" if state.script.kind == "callback" else None
    )
    call.outcome = state.outcome
    score = state.values.get("score", "")
    # Not isdigit(): "²" and "٣" are digits to it, and int() refuses the first.
    call.satisfaction = int(score) if score in ("1", "2", "3", "4", "5") else None
    call.notes = _compose_notes(state)
    cti.link_call(session=session, call=call)
    if state.callback_id is not None:
        # One call may settle several callbacks (a birthday and a churn call, same day).
        settled = record_call(
            session=session,
            callback_id=state.callback_id,
            script_id=state.script.id,
            agent_id=state.agent_id,
            outcome=state.outcome,
            now=now,
            number=state.from_number,
            score=call.satisfaction,
            answers="; ".join(callback_choices(state)),
            churn_reason=state.values.get(CHURN_REASON_FIELD),
        )
        at_most = (
            default_policy().unsatisfied_at_most
            if unsatisfied_at_most is None else unsatisfied_at_most
        )  # fmt: skip
        for cb in settled:
            if cb.id == state.callback_id and cb.status == CallbackStatus.DONE:
                _close_the_loop(session, state, call, cb, now=now, at_most=at_most)
    session.add(call)
    repeats.mark(session=session, call=call)  # flushes the call: one UPDATE of its row
    _record_stages(session=session, state=state, call_id=call.id, now=now)  # type: ignore[arg-type]
    return call


def _verdict(state: CallState, at_most: int) -> str | None:
    score = state.values.get("score", "")
    return loops.verdict(
        int(score) if score in ("1", "2", "3", "4", "5") else None,
        state.values.get(loops.ANSWER_FIELD) or None, at_most=at_most,
    )  # fmt: skip


def _loop_target(session: Session, state: CallState, cb: Callback) -> int | None:
    """The complaint an unsatisfied callback's loop goes on: the latest opened on this call,
    else the open complaint the callback follows up (None: neither; a reason is needed)."""
    if state.call_id is not None:
        opened = session.execute(
            select(Complaint.id).where(Complaint.call_id == state.call_id)
            .order_by(Complaint.id.desc()).limit(1)  # type: ignore[union-attr]
        ).scalar_one_or_none()
        if opened is not None:
            return opened
    if cb.complaint_id is not None:
        c = session.get(Complaint, cb.complaint_id)
        if c is not None and c.status not in CLOSED_COMPLAINT_STATUSES:
            return c.id
    return None


def loop_question(*, session: Session, state: CallState, at_most: int) -> bool:
    """Whether saving this callback call needs the reason no complaint is opened: the
    customer is unsatisfied, no complaint was opened on the call, none of the callback is
    open and the callback is no follow-up of a complaint in an open loop."""
    if state.callback_id is None or state.outcome in ("no_answer", "busy", "wrong_number"):
        return False
    cb = session.get(Callback, state.callback_id)
    if cb is None or not asks_score(cb.kind) or _verdict(state, at_most) != loops.UNSATISFIED:
        return False
    if cb.complaint_id is not None and loops.open_loop_of(
        session=session, complaint_id=cb.complaint_id
    ):
        return False
    return _loop_target(session, state, cb) is None


def _close_the_loop(
    session: Session, state: CallState, call: Call, cb: Callback, *, now: datetime, at_most: int
) -> None:
    if not asks_score(cb.kind):
        return
    result = _verdict(state, at_most)
    said = "; ".join(script_answers(state))
    followed = loops.follow_up_done(
        session=session, callback=cb, result=result, agent_id=state.agent_id, now=now, said=said
    )
    if followed is not None or result != loops.UNSATISFIED:
        return
    target = _loop_target(session, state, cb)
    if target is not None:
        loops.open_loop(session=session, complaint_id=target, callback=cb,
                        agent_id=state.agent_id, now=now, said=said)  # fmt: skip
        return
    if not state.values.get(loops.REASON_FIELD, "").strip():
        raise ValidationError({loops.REASON_FIELD: _(
            "The customer is unsatisfied and no complaint was opened: write why not, "
            "or go back (F3) and open one (F7)."
        )})  # fmt: skip
    loops.decline(session=session, callback=cb, reason=state.values[loops.REASON_FIELD])


def _record_stages(*, session: Session, state: CallState, call_id: int, now: datetime) -> None:
    """What happened on the call: each stage walked with the time spent in it, and each of
    its checklist items, ticked or not (the text as the agent read it). Written as two
    multi-row INSERTs (a call walks a dozen items: one ORM object and statement each cost
    more than the save's every other statement together); the texts come from the script,
    checked like every ORM row (seat.textguard)."""
    spent = state.stage_seconds(now)
    walked = list(dict.fromkeys([*spent, *state.history, state.stage_id]))
    stages: list[dict[str, object]] = []
    checks: list[dict[str, object]] = []
    for position, sid in enumerate(walked):
        try:
            stage = state.script.stage(sid)
        except KeyError:
            continue  # a stage of a script changed under a resumed draft: nothing to record
        stages.append({
            "call_id": call_id, "position": position, "stage_id": sid, "phase": stage.phase,
            "seconds": round(spent.get(sid, 0.0), 3),
        })  # fmt: skip
        ticked = set(state.ticks.get(sid, ()))
        checks += [
            {"call_id": call_id, "stage_id": sid, "item_no": no, "item": item[:500],
             "ticked": no in ticked}
            for no, item in enumerate(stage.checklist)
        ]  # fmt: skip
    errors = textguard.check_rows(stages) | textguard.check_rows(checks)
    if errors:
        raise ValidationError(errors)
    for model, rows in ((CallStage, stages), (CallCheck, checks)):
        if rows:
            session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]


def callback_choices(state: CallState) -> list[str]:
    """A callback's choice answers as read ("Why: price"), for the callback's history.

    Inbound calls store their one choice (the need category) in its own column.
    """
    if state.script.kind != "callback":
        return []
    walked = [*state.history, state.stage_id]
    out = []
    for sid in walked:
        for f in state.script.stage(sid).fields:
            value = state.values.get(f.id, "").strip()
            if f.type == "choice" and value in f.choices:
                out.append(f"{f.label}: {f.choice_label(value)}")
    return out


def _compose_notes(state: CallState) -> str:
    """The agent's notes, plus the free-text answers captured along the script."""
    # Invisible control characters (pasted along) are dropped, never a reason to refuse the
    # call: an ESC kept here would drive the terminal of whoever reads the notes later.
    notes = _INVISIBLE.sub("", state.notes).strip()
    parts = [notes] if notes else []
    return "\n".join([*parts, *script_answers(state)])


def script_answers(state: CallState) -> list[str]:
    """The free-text answers captured along the script ("What was not right: …")."""
    parts = []
    # Only the stages actually walked: answers left on an abandoned branch are not the record.
    walked = [*state.history, state.stage_id]
    fields = {f.id: f for sid in walked for f in state.script.stage(sid).fields}
    for key, value in state.values.items():
        f = fields.get(key)
        answer = _INVISIBLE.sub("", value).strip()
        if f and f.type == "text" and answer:
            parts.append(f"{f.label}: {answer}")
    return parts


# Control characters but newline and tab, DEL, C1 controls, the bidirectional overrides and
# isolates (what seat.textguard refuses in stored text) and lone surrogates.
_INVISIBLE = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{textguard.BIDI}\ud800-\udfff]")
