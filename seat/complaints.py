"""Complaints (客户投诉): the six steps as a state machine, their clocks and their queries.

intake ─judge valid→ investigating ─(cause recorded)→ propose → proposed
intake ─judge invalid→ invalid (closed; reason recorded, the customer told)
proposed ─approve (supervisor)→ approved;   proposed ─send back (supervisor)→ proposed
approved ─customer accepts→ implemented;    approved ─customer refuses→ proposed
implemented ─close (category, root cause, summary)→ closed
Any open complaint may be escalated to a supervisor (the owner stays) and, once the
customer has had a first reply, wait on the customer (the clocks pause) and resume.

Every move writes one ComplaintEvent (who, when, from, to, comment); nothing is deleted.
A wrong move raises MoveRefused with a message for the agent, bad input ValidationError,
a supervisor's move by an agent PermissionDenied.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, or_, select, update
from sqlmodel import Session

from seat import customers, labels, lifecycle, loops, roles, sla
from seat.customers import ValidationError
from seat.db import Prepared, kept_at
from seat.errors import MoveRefused as MoveRefused
from seat.errors import StaleCallback, StaleComplaint
from seat.i18n import N_, _
from seat.intake import Intake, check_intake
from seat.models import (
    CLOSED_COMPLAINT_STATUSES,
    Agent,
    Call,
    Callback,
    CallbackKind,
    CallbackStatus,
    Complaint,
    ComplaintEvent,
    ComplaintOwnerStamp,
    Customer,
    Role,
    WorkOrder,
    level_for,
)
from seat.textguard import check_text

STATUSES = ("intake", "invalid", "investigating", "proposed", "approved", "implemented", "closed")
OPEN_STATUSES = tuple(s for s in STATUSES if s not in CLOSED_COMPLAINT_STATUSES)
STATUS_LABELS = labels.COMPLAINT_STEPS
NEXT_STEP = labels.COMPLAINT_NEXT_STEP


def status_label(status: str) -> str:
    """A complaint status as the agent reads it, in the current language."""
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def next_step(status: str) -> str:
    """What to do next at `status`, in the current language ("" when closed)."""
    return _(NEXT_STEP[status]) if status in NEXT_STEP else ""


def move_label(action: str) -> str:
    """A move ("approve a solution") in the current language; also the action named in a
    supervisor-only refusal."""
    move = MOVES.get(action)
    return _(move.label) if move else action
MAX_TEXT = 5000


@dataclass(frozen=True)
class Move:
    action: str
    label: str
    """N_-marked English ("approve a solution"); `move_label()` translates."""
    sources: tuple[str, ...]
    target: str | None
    """The status after the move; None keeps the status."""
    supervisor: bool = False
    while_waiting: bool = False
    """Allowed while the complaint waits on the customer."""


SUPERVISED_MOVES = {"approve": roles.APPROVE_SOLUTION, "send_back": roles.SEND_BACK}
"""The moves a shift lead or a supervisor decides: their seat.roles action."""

MOVES: dict[str, Move] = {
    m.action: m
    for m in (
        Move("accept", N_("judge it valid"), ("intake",), "investigating"),
        Move("invalid", N_("judge it invalid"), ("intake",), "invalid"),
        Move("investigate", N_("record the cause"), ("investigating",), None),
        Move("propose", N_("propose a solution"), ("investigating", "proposed"), "proposed"),
        Move("approve", N_("approve a solution"), ("proposed",), "approved", supervisor=True),
        Move("send_back", N_("send a proposal back"), ("proposed",), "proposed",
             supervisor=True),
        Move("implement", N_("record the customer's acceptance"), ("approved",), "implemented"),
        Move("refuse", N_("record the customer's refusal"), ("approved",), "proposed"),
        Move("close", N_("close the complaint"), ("implemented",), "closed"),
        Move("escalate", N_("escalate to a supervisor"), OPEN_STATUSES, None,
             while_waiting=True),
        Move("pause", N_("wait on the customer"), ("investigating", "proposed", "approved"),
             None),
        Move("resume", N_("resume"), OPEN_STATUSES, None, while_waiting=True),
    )
}


class CaseLike(Protocol):
    """The columns the rules read: an ORM Complaint or a column-only row."""

    id: int | None
    status: str
    created_at: datetime
    closed_at: datetime | None
    category: str | None
    cause: str | None
    responsible_person: str | None
    first_reply_at: datetime | None
    solution_at: datetime | None
    implemented_at: datetime | None
    waiting_since: datetime | None
    channel: str
    registered_at: datetime | None
    promised_at: datetime | None
    promised_reply_at: datetime | None


def refusal(action: str, case: CaseLike, *, needs_revision: bool = False) -> str | None:
    """Why `action` is not allowed on `case` now (None: it is). Roles are checked apart."""
    move = MOVES.get(action)
    if move is None:
        return _("There is no move called {action}.").format(action=repr(action))
    status = case.status
    if status in CLOSED_COMPLAINT_STATUSES:
        return _(
            "Complaint #{id} is {status}; nothing more changes. "
            "Open a new complaint if the customer is still unhappy."
        ).format(id=case.id, status=status_label(status))
    waiting = case.waiting_since is not None
    if action == "resume":
        return None if waiting else _("The complaint is not waiting on the customer.")
    if waiting and not move.while_waiting:
        return _("The complaint is waiting on the customer; resume it first.")
    if action == "pause" and status == "intake":
        return _(
            "Judge the complaint and reply to the customer first; that clock does not pause."
        )
    if status not in move.sources:
        return _("Cannot {move} while it is at {status}: {next_step}.").format(
            move=_(move.label), status=status_label(status), next_step=next_step(status)
        )
    if action == "propose" and not (case.cause and case.responsible_person):
        return _("Record the cause and the responsible person first.")
    if action in ("approve", "send_back") and needs_revision:
        return _(
            "The last proposal was sent back or refused; it needs a revised proposal first."
        )
    return None


def allowed(case: CaseLike, *, needs_revision: bool = False) -> tuple[str, ...]:
    """The moves open now, supervisor moves included (an agent is refused at the move)."""
    return tuple(a for a in MOVES if refusal(a, case, needs_revision=needs_revision) is None)


def options_of(text: str | None) -> list[str]:
    """The proposal's options, one a line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# -- intake ---------------------------------------------------------------------------------


def create_complaint(
    *,
    session: Session,
    now: datetime,
    customer_id: int,
    owner_id: int,
    what_happened: str,
    customer_wants: str,
    call_id: int | None = None,
    intake: Intake | None = None,
    zone: tzinfo | None = None,
) -> Complaint:
    """Register a complaint (step 1, intake); its first event is written like every move.
    `zone`: the desk's, for the time received in the history ("09:08 UTC+08:00").

    `intake`: the channel, its reference and the time received (earlier than now when it
    came by e-mail, a post or a letter; never later): the clocks start when it was received,
    the review clock of official media runs from then to now."""
    errors: dict[str, str] = {}
    what_happened = check_text(errors, "what_happened", what_happened, N_("What happened"), 20000)
    customer_wants = check_text(
        errors, "customer_wants", customer_wants, N_("What the customer wants"), 5000
    )
    got = check_intake(errors, intake or Intake(), now=now)
    if errors:
        raise ValidationError(errors)
    received = got.received_at or now
    c = Complaint(
        customer_id=customer_id,
        owner_id=owner_id,
        call_id=call_id,
        channel=got.channel,
        channel_ref=got.channel_ref or None,
        what_happened=what_happened,
        customer_wants=customer_wants,
        created_at=received,
        registered_at=now if received < now else None,
    )
    ref = f" {got.channel_ref}" if got.channel_ref else ""
    when = f", received {_with_offset(received, zone)}" if received < now else ""
    lifecycle.record_event(
        session, c, agent_id=owner_id, at=now, action="intake",
        comment=f"Registered ({c.channel}{ref}{when}); the customer wants: {customer_wants}",
    )  # fmt: skip
    return c


# -- the moves ------------------------------------------------------------------------------


def needs_revision(*, session: Session, complaint_id: int) -> bool:
    """True when the latest word on the proposal was a send-back or a customer's refusal."""
    last = session.execute(
        select(ComplaintEvent.action)
        .where(
            ComplaintEvent.complaint_id == complaint_id,
            ComplaintEvent.action.in_(("propose", "send_back", "refuse")),
        )
        .order_by(ComplaintEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return last in ("send_back", "refuse")


def _begin(
    session: Session, complaint_id: int, action: str, actor_id: int, version: int | None
) -> tuple[Complaint, Agent]:
    """Load and check role, state and version (a stale screen is refused). Writes nothing."""
    c = session.get(Complaint, complaint_id)
    if c is None:
        raise MoveRefused(_("Complaint #{id} does not exist.").format(id=complaint_id))
    actor = session.get(Agent, actor_id)
    if actor is None:
        raise MoveRefused(_("Unknown agent; sign in again."))
    move = MOVES[action]
    roles.require(actor, roles.WORK_CASES)  # a quality inspector reads, never moves
    if move.supervisor:  # the whole refusal in one language
        roles.require(actor, SUPERVISED_MOVES[action], what=move_label(action))
    if version is not None and version != c.version:
        raise MoveRefused(
            _(
                "Complaint #{id} was changed at another seat meanwhile; "
                "the screen now shows the latest. Check and try again."
            ).format(id=complaint_id)
        )
    revision = action in ("approve", "send_back") and needs_revision(
        session=session, complaint_id=complaint_id
    )
    why = refusal(action, c, needs_revision=revision)
    if why:
        raise MoveRefused(why)
    return c, actor


def _event(
    session: Session,
    c: Complaint,
    *,
    actor: Agent,
    now: datetime,
    action: str,
    from_status: str,
    comment: str,
    kept: Sequence[str] = (),
) -> ComplaintEvent:
    """The move in the history (seat.lifecycle: of two seats moving it, one is refused)."""
    if kept:
        comment = f"{comment} [wording kept on purpose: {', '.join(kept)}]"
    return lifecycle.record_event(  # type: ignore[return-value]
        session, c, agent_id=actor.id, at=now, action=action, from_status=from_status,
        comment=comment,
    )  # fmt: skip


def _join(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _check_category(errors: dict[str, str], category: str, policy: sla.Policy | None) -> None:
    if category and policy and policy.categories and policy.category(category) is None:
        errors["category"] = _("Choose one of the categories of the policy.")


def accept(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    department: str,
    reply_text: str,
    category: str | None = None,
    policy: sla.Policy | None = None,
    version: int | None = None,
    wording_kept: Sequence[str] = (),
) -> Complaint:
    """Judge valid: name the responsible department and tell the customer (first reply)."""
    errors: dict[str, str] = {}
    c, actor = _begin(session, complaint_id, "accept", actor_id, version)
    department = check_text(errors, "department", department, N_("Responsible department"), 80)
    reply_text = check_text(
        errors, "reply_text", reply_text, N_("The reply to the customer"), MAX_TEXT
    )
    category = (category or "").strip()
    _check_category(errors, category, policy)
    if errors:
        raise ValidationError(errors)
    before = c.status
    c.status = "investigating"
    c.department = department
    c.reply_text = reply_text
    c.category = category or c.category
    c.first_reply_at = c.first_reply_at or now
    label = policy.category_label(category) if policy and category else category
    _event(
        session, c, actor=actor, now=now, action="accept", from_status=before,
        comment=_join(f"Valid; department: {department}", label and f"category: {label}",
                      f"told the customer: {reply_text}"),
        kept=wording_kept,
    )  # fmt: skip
    return c


def judge_invalid(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    invalid_reason: str,
    reply_text: str,
    policy: sla.Policy,
    version: int | None = None,
    wording_kept: Sequence[str] = (),
) -> Complaint:
    """Judge invalid: record why, record what the customer was told; it closes."""
    errors: dict[str, str] = {}
    c, actor = _begin(session, complaint_id, "invalid", actor_id, version)
    invalid_reason = check_text(
        errors, "invalid_reason", invalid_reason, N_("The reason"), MAX_TEXT
    )
    reply_text = check_text(
        errors, "reply_text", reply_text, N_("The explanation to the customer"), MAX_TEXT
    )
    if errors:
        raise ValidationError(errors)
    _no_open_loop(session, c, "invalid")
    before = c.status
    c.status = "invalid"
    c.invalid_reason = invalid_reason
    c.reply_text = reply_text
    c.first_reply_at = c.first_reply_at or now
    c.closed_at = now
    _event(
        session, c, actor=actor, now=now, action="invalid", from_status=before,
        comment=_join(f"Invalid: {invalid_reason}", f"told the customer: {reply_text}"),
        kept=wording_kept,
    )  # fmt: skip
    cancel_follow_ups(session=session, complaint=c, actor_id=actor_id, now=now)
    schedule_follow_up(session=session, complaint=c, now=now, policy=policy)
    return c


def investigate(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    cause: str,
    responsible_person: str,
    department: str,
    comment: str = "",
    policy: sla.Policy | None = None,
    version: int | None = None,
) -> Complaint:
    """Record the cause and who is responsible (may be repeated while investigating)."""
    errors: dict[str, str] = {}
    c, actor = _begin(session, complaint_id, "investigate", actor_id, version)
    cause = check_text(errors, "cause", cause, N_("Cause"), 120)
    if cause and policy and policy.causes and cause not in dict(policy.causes):
        errors["cause"] = _("Choose one of the causes of the policy.")
    responsible_person = check_text(
        errors, "responsible_person", responsible_person, N_("Responsible person"), 120
    )
    department = check_text(errors, "department", department, N_("Responsible department"), 80)
    comment = check_text(errors, "comment", comment, N_("Findings"), MAX_TEXT, required=False)
    if errors:
        raise ValidationError(errors)
    c.cause = cause
    c.responsible_person = responsible_person
    c.department = department
    label = policy.cause_label(cause) if policy else cause
    _event(
        session, c, actor=actor, now=now, action="investigate", from_status=c.status,
        comment=_join(f"Cause: {label}", f"responsible: {responsible_person}, {department}",
                      comment),
    )  # fmt: skip
    return c


def propose(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    solution_options: str | Sequence[str],
    comment: str = "",
    version: int | None = None,
    wording_kept: Sequence[str] = (),
) -> Complaint:
    """Propose one or more solution options (one a line) for a supervisor to approve."""
    errors: dict[str, str] = {}
    c, actor = _begin(session, complaint_id, "propose", actor_id, version)
    lines = (
        options_of(solution_options)
        if isinstance(solution_options, str)
        else [s.strip() for s in solution_options if s and s.strip()]
    )
    text = "\n".join(lines)
    if not lines:
        errors["solution_options"] = _("Give at least one solution option (one a line).")
    elif len(text) > 10000:
        errors["solution_options"] = _("The options are too long (10000 characters at most).")
    comment = check_text(errors, "comment", comment, N_("Comment"), MAX_TEXT, required=False)
    if errors:
        raise ValidationError(errors)
    before = c.status
    c.status = "proposed"
    c.solution_options = text
    c.chosen_solution = None
    numbered = "; ".join(f"{i}) {o}" for i, o in enumerate(lines, 1))
    _event(
        session, c, actor=actor, now=now, action="propose", from_status=before,
        comment=_join(f"Options: {numbered}", comment), kept=wording_kept,
    )  # fmt: skip
    return c


def approve(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    chosen_solution: str,
    comment: str = "",
    version: int | None = None,
) -> Complaint:
    """A supervisor approves one of the proposed options: the solution clock stops."""
    errors: dict[str, str] = {}
    c, actor = _begin(session, complaint_id, "approve", actor_id, version)
    chosen_solution = (chosen_solution or "").strip()
    comment = check_text(errors, "comment", comment, N_("Comment"), MAX_TEXT, required=False)
    if chosen_solution not in options_of(c.solution_options):
        errors["chosen_solution"] = _("Choose one of the proposed options.")
    if errors:
        raise ValidationError(errors)
    before = c.status
    c.status = "approved"
    c.chosen_solution = chosen_solution
    c.solution_at = now
    _event(
        session, c, actor=actor, now=now, action="approve", from_status=before,
        comment=_join(f"Approved: {chosen_solution}", comment),
    )  # fmt: skip
    return c


def send_back(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    comment: str,
    version: int | None = None,
) -> Complaint:
    """A supervisor sends the proposal back; it needs a revised proposal before approval."""
    errors: dict[str, str] = {}
    c, actor = _begin(session, complaint_id, "send_back", actor_id, version)
    comment = check_text(errors, "comment", comment, N_("What must change"), MAX_TEXT)
    if errors:
        raise ValidationError(errors)
    _event(
        session, c, actor=actor, now=now, action="send_back", from_status=c.status,
        comment=f"Sent back: {comment}",
    )  # fmt: skip
    return c


def implement(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    accepted: bool | None,
    comment: str,
    version: int | None = None,
    policy: sla.Policy | None = None,
) -> Complaint:
    """The solution was told to the customer: accepted -> implemented, refused -> proposed.

    A complaint in an open loop (an unsatisfied callback, seat.loops) gets its follow-up
    callback scheduled at once when it is resolved (`policy`: its callback budget)."""
    errors: dict[str, str] = {}
    action = "refuse" if accepted is False else "implement"
    c, actor = _begin(session, complaint_id, action, actor_id, version)
    if accepted is None:
        errors["accepted"] = _("Record whether the customer accepts the solution.")
    label = (
        N_("The customer's feedback") if accepted is not False else N_("Why the customer refused")
    )
    comment = check_text(errors, "comment", comment, label, MAX_TEXT)
    if errors:
        raise ValidationError(errors)
    before = c.status
    c.customer_accepted = bool(accepted)
    if accepted:
        c.status = "implemented"
        c.implemented_at = now
        text = f"Customer accepts: {comment}"
    else:
        # The refused solution was no solution: the solution clock runs again.
        c.status = "proposed"
        c.solution_at = None
        text = f"Customer refused «{c.chosen_solution}»: {comment}"
    _event(session, c, actor=actor, now=now, action=action, from_status=before, comment=text)
    loop = loops.open_loop_of(session=session, complaint_id=complaint_id) if accepted else None
    if loop is not None:
        schedule_follow_up(
            session=session, complaint=c, now=now, policy=policy or sla.Policy(),
            key=f"complaint:{c.id}:loop:{loop.id}:{c.version}",
        )  # fmt: skip
    return c


def close(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    category: str,
    root_cause: str,
    summary: str,
    policy: sla.Policy,
    version: int | None = None,
) -> Complaint:
    """Summarize (classify, root cause, improvement) and close; the follow-up callback is
    scheduled at once."""
    errors: dict[str, str] = {}
    c, actor = _begin(session, complaint_id, "close", actor_id, version)
    category = check_text(errors, "category", category, N_("Category"), 40)
    _check_category(errors, category, policy)
    root_cause = check_text(errors, "root_cause", root_cause, N_("Root cause"), MAX_TEXT)
    summary = check_text(errors, "summary", summary, N_("Summary"), 10000)
    if errors:
        raise ValidationError(errors)
    _no_open_loop(session, c, "closed")
    before = c.status
    c.status = "closed"
    c.category = category
    c.root_cause = root_cause
    c.summary = summary
    c.closed_at = now
    _event(
        session, c, actor=actor, now=now, action="close", from_status=before,
        comment=_join(f"Category: {policy.category_label(category)}",
                      f"root cause: {root_cause}", f"summary: {summary}"),
    )  # fmt: skip
    cancel_follow_ups(session=session, complaint=c, actor_id=actor_id, now=now)
    if not _loop_closed_by_follow_up(session, complaint_id):
        schedule_follow_up(session=session, complaint=c, now=now, policy=policy)
    return c


def _no_open_loop(session: Session, c: Complaint, status: str) -> None:
    """The conditional UPDATE of a closing move: the complaint reaches `status` only while no
    loop of it is open (an unsatisfied callback's loop opened at another seat meanwhile, or
    still open, refuses the move; seat.loops)."""
    guarded = session.execute(
        update(Complaint)
        .where(Complaint.id == c.id, Complaint.status == c.status,
               ~loops.open_loop_exists(Complaint.id))
        .values(status=status)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if guarded.rowcount != 1:  # type: ignore[attr-defined]
        if loops.open_loop_of(session=session, complaint_id=c.id):  # type: ignore[arg-type]
            raise MoveRefused(loops.refusal_to_close(c.id))  # type: ignore[arg-type]
        raise StaleComplaint(c.id)  # type: ignore[arg-type]  # moved at another seat


def _loop_closed_by_follow_up(session: Session, complaint_id: int) -> bool:
    """The customer said "satisfied" on a follow-up after the complaint was resolved (the
    loop's end): the satisfaction callback every complaint ends with was that one."""
    view = loops.loop_view(session=session, complaint_id=complaint_id)
    return view is not None and view.closed_by_callback_id is not None


def escalate(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    supervisor_id: int | None,
    comment: str,
    version: int | None = None,
    promised_reply_at: datetime | None = None,
    zone: tzinfo | None = None,
) -> Complaint:
    """Beyond the agent's authority: a supervisor is named. The owner stays the owner.

    `promised_reply_at`: the reply time agreed with the customer (later than now); it gets
    its own clock (`promised_clock`). Escalating again without one keeps the earlier promise.
    `zone`: the desk's, so the history says the time the agent agreed ("16:00 UTC+08:00"),
    not its UTC twin."""
    errors: dict[str, str] = {}
    c, actor = _begin(session, complaint_id, "escalate", actor_id, version)
    supervisor = session.get(Agent, supervisor_id) if supervisor_id else None
    if supervisor is None or supervisor.role != Role.SUPERVISOR or not supervisor.active:
        errors["supervisor"] = _("Choose a supervisor.")
    comment = check_text(errors, "comment", comment, N_("Why it goes to a supervisor"), MAX_TEXT)
    if promised_reply_at is not None and promised_reply_at <= now:
        errors["promised"] = _("The reply time promised to the customer must be later than now.")
    if errors:
        raise ValidationError(errors)
    if c.escalated_to_id is not None and c.escalated_to_id == supervisor_id:
        raise MoveRefused(
            _("Already escalated to {name}.").format(name=supervisor.display_name)  # type: ignore[union-attr]
        )
    if promised_reply_at is not None:
        c.promised_at = now
        c.promised_reply_at = promised_reply_at
        comment += f" [reply promised to the customer by {_with_offset(promised_reply_at, zone)}]"
    c.escalated_to_id = supervisor_id
    _event(
        session, c, actor=actor, now=now, action="escalate", from_status=c.status,
        comment=f"To {supervisor.display_name}: {comment}",  # type: ignore[union-attr]
    )  # fmt: skip
    return c


def _with_offset(when: datetime, zone: tzinfo | None) -> str:
    """"2026-12-07 16:00 UTC+08:00" in `zone` ("... 08:00 UTC" without one)."""
    if zone is None:
        return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    local = when.astimezone(zone)
    offset = local.strftime("%z")  # +0800
    return f"{local:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}"


def pause(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    comment: str,
    version: int | None = None,
) -> Complaint:
    """Wait on the customer (documents, a visit they asked to postpone): the clocks pause."""
    errors: dict[str, str] = {}
    c, actor = _begin(session, complaint_id, "pause", actor_id, version)
    comment = check_text(errors, "comment", comment, N_("What we wait for"), MAX_TEXT)
    if errors:
        raise ValidationError(errors)
    c.waiting_since = now
    _event(
        session, c, actor=actor, now=now, action="pause", from_status=c.status,
        comment=f"Waiting on the customer: {comment}",
    )  # fmt: skip
    return c


def resume(
    *,
    session: Session,
    complaint_id: int,
    actor_id: int,
    now: datetime,
    comment: str = "",
    version: int | None = None,
) -> Complaint:
    errors: dict[str, str] = {}
    c, actor = _begin(session, complaint_id, "resume", actor_id, version)
    comment = check_text(errors, "comment", comment, N_("Comment"), MAX_TEXT, required=False)
    if errors:
        raise ValidationError(errors)
    waited = now - c.waiting_since if c.waiting_since else timedelta(0)
    c.waiting_since = None
    _event(
        session, c, actor=actor, now=now, action="resume", from_status=c.status,
        comment=_join(f"Resumed after {sla.format_span(waited)}", comment),
    )  # fmt: skip
    return c


def cancel_follow_ups(
    *, session: Session, complaint: Complaint, actor_id: int | None, now: datetime
) -> list[int]:
    """A closed (or invalid) complaint needs no more follow-up calls: its open follow-up
    callbacks are cancelled, each with a "cancelled" event naming the complaint. The one
    satisfaction callback every complaint ends with is scheduled after this."""
    open_ = session.execute(
        select(Callback).where(
            Callback.complaint_id == complaint.id,
            Callback.kind == CallbackKind.COMPLAINT_FOLLOW_UP,
            Callback.status == CallbackStatus.OPEN,
        ).order_by(Callback.id)
    ).scalars().all()
    cancelled: list[int] = []
    for cb in open_:
        try:  # the conditional UPDATE: a follow-up settled by a call meanwhile keeps its outcome
            lifecycle.record_event(
                session, cb, agent_id=actor_id, at=now, action="cancelled",
                comment=f"complaint #{complaint.id} {complaint.status}",
            )  # fmt: skip
        except StaleCallback:
            continue
        cb.status = CallbackStatus.CANCELLED
        cancelled.append(cb.id)  # type: ignore[arg-type]
    session.flush()
    return cancelled


def schedule_follow_up(
    *, session: Session, complaint: Complaint, now: datetime, policy: sla.Policy,
    key: str | None = None,
) -> Callback:
    """The callback every complaint ends with (satisfaction), due within the policy's
    callback budget after implementation; at once if that has already run out. `key`: the
    scheduler's key (default: the one after closing; a loop's follow-up has its own)."""
    key = key or f"complaint:{complaint.id}:after-close"
    existing = session.execute(select(Callback).where(Callback.source_key == key)).scalar()
    if existing is not None:
        return existing
    tier = session.execute(
        select(Customer.tier).where(Customer.id == complaint.customer_id)
    ).scalar_one()
    budgets = policy.budgets(
        level=level_for(tier), category=complaint.category, channel=complaint.channel
    )
    start = complaint.implemented_at or now
    due = max(now, min(start, now) + budgets.callback)
    about = complaint.chosen_solution or complaint.reply_text or complaint.customer_wants
    cb = Callback(
        customer_id=complaint.customer_id,
        owner_id=complaint.owner_id,
        kind=CallbackKind.COMPLAINT_FOLLOW_UP,
        reason=f"Complaint #{complaint.id} follow-up: is the customer satisfied? ({about})"[
            :2000
        ],
        due_at=due,
        created_at=now,
        source_key=key,
        complaint_id=complaint.id,
        zones=customers.zones_key(session=session, customer_id=complaint.customer_id),
    )
    # Made by the rules when the complaint closed (the close event names who closed it).
    lifecycle.record_event(
        session, cb, agent_id=None, at=now, action="scheduled", comment=f"by the rules: {key}"
    )
    return cb


# -- clocks ---------------------------------------------------------------------------------


def pauses_from(events: Iterable[tuple[str, datetime]]) -> list[sla.Interval]:
    """Closed waiting periods from (action, at) pairs in time order; an open one is left to
    `waiting_since`."""
    out: list[sla.Interval] = []
    started: datetime | None = None
    for action, at in events:
        if action == "pause" and started is None:
            started = at
        elif action == "resume" and started is not None:
            out.append((started, at))
            started = None
    return out


def pauses_for(*, session: Session, complaint_ids: Sequence[int]) -> dict[int, list[sla.Interval]]:
    out: dict[int, list[sla.Interval]] = {}
    if not complaint_ids:
        return out
    rows: dict[int, list[tuple[str, datetime]]] = {}
    for i in range(0, len(complaint_ids), 500):
        for cid, action, at in session.execute(
            select(ComplaintEvent.complaint_id, ComplaintEvent.action, ComplaintEvent.at)
            .where(
                ComplaintEvent.complaint_id.in_(complaint_ids[i : i + 500]),
                ComplaintEvent.action.in_(("pause", "resume")),
            )
            .order_by(ComplaintEvent.id)
        ):
            rows.setdefault(cid, []).append((action, at))
    for cid, evs in rows.items():
        out[cid] = pauses_from(evs)
    return out


def _pauses_where(session: Session, where: Sequence[Any]) -> dict[int, list[sla.Interval]]:
    """`pauses_for` every complaint matching `where` (as `rank_open` reads them: joined to
    the customer), in one statement joined to them instead of a list of their ids."""
    rows: dict[int, list[tuple[str, datetime]]] = {}
    if session.autoflush:
        session.flush()
    for cid, action, at in session.connection().execute(
        select(ComplaintEvent.complaint_id, ComplaintEvent.action, ComplaintEvent.at)
        .join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(*where, ComplaintEvent.action.in_(("pause", "resume")))
        .order_by(ComplaintEvent.id)
    ):
        rows.setdefault(cid, []).append((action, at))
    return {cid: pauses_from(evs) for cid, evs in rows.items()}


def clocks(
    case: CaseLike,
    *,
    level: int,
    policy: sla.Policy,
    now: datetime,
    pauses: Sequence[sla.Interval] = (),
    callback_done_at: datetime | None = None,
    budgets: sla.Budgets | None = None,
) -> list[sla.ClockState]:
    """The complaint's clocks that apply: first reply, solution, and the callback after
    implementation (or after an invalid judgement); stopped ones included. `budgets`: the
    policy's for this level, category and channel, when the caller already has them."""
    budgets = budgets or policy.budgets(level=level, category=case.category, channel=case.channel)
    calendar = policy.calendar if budgets.business_hours else None
    common = dict(
        now=now, pauses=pauses, waiting_since=case.waiting_since,
        zone=policy.calendar.zone, amber_at=policy.amber_at,
    )  # fmt: skip
    out = [
        sla.clock(
            sla.FIRST_REPLY, started_at=case.created_at, budget=budgets.first_reply,
            stopped_at=case.first_reply_at or case.closed_at, calendar=calendar, **common,
        ),
    ]  # fmt: skip
    if case.status != "invalid":
        out.append(
            sla.clock(
                sla.SOLUTION, started_at=case.created_at, budget=budgets.solution,
                stopped_at=case.solution_at, calendar=calendar, **common,
            )
        )  # fmt: skip
    start = case.implemented_at or (case.closed_at if case.status == "invalid" else None)
    if start is not None:
        out.append(
            sla.clock(
                sla.CALLBACK, started_at=start, budget=budgets.callback, now=now,
                stopped_at=callback_done_at, zone=policy.calendar.zone, amber_at=policy.amber_at,
            )
        )  # fmt: skip
    if budgets.review is not None:  # official media: from received to registered, every hour
        out.append(
            sla.clock(
                sla.REVIEW, started_at=case.created_at, budget=budgets.review, now=now,
                stopped_at=case.registered_at or case.created_at, zone=policy.calendar.zone,
                amber_at=policy.amber_at,
            )
        )  # fmt: skip
    promised = promised_clock(case, now=now, policy=policy)
    if promised is not None:
        out.append(promised)
    return out


def promise_kept_at(case: CaseLike) -> datetime | None:
    """When the promised reply was given: the first solution, implementation or closing at or
    after the promise (None while none came)."""
    if case.promised_at is None:
        return None
    after = [
        t for t in (case.solution_at, case.implemented_at, case.closed_at)
        if t is not None and t >= case.promised_at
    ]  # fmt: skip
    return min(after, default=None)


def promised_clock(case: CaseLike, *, now: datetime, policy: sla.Policy) -> sla.ClockState | None:
    """The clock of the reply time promised to the customer (every hour counts), if any."""
    if case.promised_at is None or case.promised_reply_at is None:
        return None
    return sla.clock(
        sla.PROMISED, started_at=case.promised_at,
        budget=max(case.promised_reply_at - case.promised_at, timedelta(minutes=1)),
        stopped_at=promise_kept_at(case), now=now, zone=policy.calendar.zone,
        amber_at=policy.amber_at,
    )  # fmt: skip


# -- reading a case -------------------------------------------------------------------------


@dataclass(frozen=True)
class EventLine:
    id: int
    at: datetime
    agent: str
    action: str
    from_status: str | None
    to_status: str
    comment: str


@dataclass(frozen=True)
class CallLink:
    id: int
    started_at: datetime
    agent: str
    need_category: str | None
    outcome: str | None


@dataclass(frozen=True)
class WorkOrderLink:
    id: int
    short_text: str
    status: str
    urgent: bool
    due_at: datetime


@dataclass(frozen=True)
class CallbackLink:
    id: int
    kind: str
    status: str
    due_at: datetime
    done_at: datetime | None
    owner: str
    reason: str


@dataclass(frozen=True)
class CaseView:
    complaint: Complaint
    customer_name: str
    customer_tier: str
    level: int
    owner: str
    escalated_to: str | None
    events: tuple[EventLine, ...]
    call: CallLink | None
    work_orders: tuple[WorkOrderLink, ...]
    callbacks: tuple[CallbackLink, ...]
    clocks: tuple[sla.ClockState, ...]
    budgets: sla.Budgets
    needs_revision: bool
    allowed: tuple[str, ...]
    loop: loops.LoopView | None = None
    """The unsatisfied callback's loop, if the complaint has (had) one (seat.loops)."""


def case(
    *, session: Session, complaint_id: int, now: datetime, policy: sla.Policy
) -> CaseView | None:
    """Everything about one complaint for one page: history, call, work, callbacks, clocks."""
    c = session.get(Complaint, complaint_id)
    if c is None:
        return None
    cust = session.get(Customer, c.customer_id)
    names = {r.id: r.display_name for r in session.execute(select(Agent.id, Agent.display_name))}
    events = tuple(
        EventLine(e.id, e.at, names.get(e.agent_id, "?"), e.action, e.from_status,
                  e.to_status, e.comment)  # fmt: skip
        for e in session.execute(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == complaint_id)
            .order_by(ComplaintEvent.at, ComplaintEvent.id)
        ).scalars()
    )
    call = None
    if c.call_id is not None:
        row = session.execute(
            select(Call.id, Call.started_at, Call.agent_id, Call.need_category, Call.outcome)
            .where(Call.id == c.call_id)
        ).first()
        if row is not None:
            call = CallLink(row.id, row.started_at, names.get(row.agent_id, "?"),
                            row.need_category, row.outcome)  # fmt: skip
    linked = WorkOrder.customer_id == c.customer_id
    linked = (
        or_(WorkOrder.call_id == c.call_id, linked & (WorkOrder.created_at >= c.created_at))
        if c.call_id is not None
        else linked & (WorkOrder.created_at >= c.created_at)
    )
    work_orders = tuple(
        WorkOrderLink(*r)
        for r in session.execute(
            select(WorkOrder.id, WorkOrder.short_text, WorkOrder.status, WorkOrder.urgent,
                   WorkOrder.due_at)
            .where(linked).order_by(WorkOrder.created_at, WorkOrder.id).limit(50)
        )
    )  # fmt: skip
    callbacks = tuple(
        CallbackLink(r.id, r.kind, r.status, r.due_at, r.done_at, names.get(r.owner_id, "?"),
                     r.reason)
        for r in session.execute(
            select(Callback.id, Callback.kind, Callback.status, Callback.due_at,
                   Callback.done_at, Callback.owner_id, Callback.reason)
            .where(Callback.complaint_id == complaint_id).order_by(Callback.due_at).limit(50)
        )
    )  # fmt: skip
    level = level_for(cust.tier) if cust else 3
    revision = needs_revision(session=session, complaint_id=complaint_id)
    loop = loops.loop_view(session=session, complaint_id=complaint_id)
    done_at = next(
        (cb.done_at for cb in callbacks if cb.kind == CallbackKind.COMPLAINT_FOLLOW_UP
         and cb.done_at is not None),
        None,
    )  # fmt: skip
    return CaseView(
        complaint=c,
        customer_name=cust.name if cust else "?",
        customer_tier=cust.tier if cust else "",
        level=level,
        owner=names.get(c.owner_id, "?"),
        escalated_to=names.get(c.escalated_to_id) if c.escalated_to_id else None,
        events=events,
        call=call,
        work_orders=work_orders,
        callbacks=callbacks,
        clocks=tuple(
            clocks(c, level=level, policy=policy, now=now, callback_done_at=done_at,
                   pauses=pauses_from((e.action, e.at) for e in events))
        ),  # fmt: skip
        budgets=policy.budgets(level=level, category=c.category, channel=c.channel),
        needs_revision=revision,
        allowed=tuple(
            a for a in allowed(c, needs_revision=revision)
            if not (a in ("close", "invalid") and loop is not None and loop.status == loops.OPEN)
        ),
        loop=loop,
    )


def supervisors(*, session: Session) -> list[tuple[int, str]]:
    return [
        (r.id, r.display_name)
        for r in session.execute(
            select(Agent.id, Agent.display_name)
            .where(Agent.active, Agent.role == Role.SUPERVISOR)
            .order_by(Agent.display_name)
        )
    ]


# -- lists and the sidebar ------------------------------------------------------------------


_CASE_COLUMNS = (
    Complaint.id,
    Complaint.status,
    Complaint.created_at,
    Complaint.closed_at,
    Complaint.category,
    Complaint.cause,
    Complaint.responsible_person,
    Complaint.first_reply_at,
    Complaint.solution_at,
    Complaint.implemented_at,
    Complaint.waiting_since,
    Complaint.channel,
    Complaint.registered_at,
    Complaint.promised_at,
    Complaint.promised_reply_at,
)


_CLOCK_COLUMNS = tuple(
    c for c in _CASE_COLUMNS if c.key not in ("cause", "responsible_person")
)
"""The columns `clocks` reads (a clock needs no cause and no responsible person)."""


class _ClockRow(NamedTuple):
    """`_CLOCK_COLUMNS` of one complaint as a plain tuple: `clocks` reads a dozen of its
    fields, and a field of a tuple costs a tenth of a database row's attribute lookup."""

    id: int
    status: str
    created_at: datetime
    closed_at: datetime | None
    category: str | None
    first_reply_at: datetime | None
    solution_at: datetime | None
    implemented_at: datetime | None
    waiting_since: datetime | None
    channel: str
    registered_at: datetime | None
    promised_at: datetime | None
    promised_reply_at: datetime | None
    cause: str | None = None
    responsible_person: str | None = None


@dataclass(frozen=True)
class ComplaintDeadlineItem:
    id: int
    customer_id: int
    customer_name: str
    status: str
    clock: str
    """The most urgent running clock: first_reply, solution or callback."""
    deadline: datetime
    left: timedelta
    """Counting time left; negative when breached."""
    fraction: float
    state: str
    """amber or red."""
    paused: bool

    @property
    def breached(self) -> bool:
        return sla.clock_breached(self.fraction)


def sidebar_complaints(
    *,
    session: Session,
    agent_id: int,
    now: datetime,
    policy: sla.Policy,
    limit: int = 50,
    totals: dict[str, int] | None = None,
    kept: dict[int, Any] | None = None,
) -> list[ComplaintDeadlineItem]:
    """The agent's open complaints whose next deadline is near (>= amber) or breached,
    breached first (longest overdue first), then the soonest due.

    Asked on every sidebar refresh, so it reads as few complaints as it can: those with a
    callback clock first, then the rest oldest first, stopping once no complaint left can
    reach the page (a reply or solution deadline is never before the complaint's start plus
    the smallest such budget the policy has, since counting time never runs faster than the
    wall clock). tests/unit/test_sidebar_complaints.py checks the answers against reading
    every complaint.

    With `totals` (a dict) the true counts are filled in as well, "breached" and "near"
    (the page may be cut; the counts may not): then it reads on while any complaint left
    can still be amber, i.e. was opened at least amber_at of the smallest budget ago.

    With `kept` (a dict the caller keeps between reads, seat.services.Desk's) the agent's
    complaint rows and pauses are read again only when their stamp moved
    (`complaint_owner_stamp`, raised by triggers in the transaction of every change to a
    complaint, its pauses or its customer's name and tier, migration 0065): the clocks are
    worked out at `now` from the rows kept. The stamp is read before the rows, so rows
    kept are never older than their stamp (a change committed in between raised it).
    """
    counting = totals is not None
    breached_n = near_n = 0
    # Read at the driver level (seat.db.Prepared): SQLAlchemy's per-value work on these
    # rows cost more than reading them; the times are converted here (at: kept_at, the
    # same texts are read at every refresh).
    rows_st, pauses_st = _sidebar_statements()
    at = kept_at
    conn = session.connection()
    args = {"agent_id": agent_id}
    stamp = hit = None
    if kept is not None:
        stamps = _stamp_statement().rows(conn, args)
        stamp = stamps[0][0] if stamps else None
        hit = kept.get(agent_id)
    if stamp is not None and hit is not None and hit[0] == stamp:
        rows, paused = hit[1], hit[2]
    else:
        events: dict[int, list[tuple[str, datetime]]] = {}
        for cid, action, when in pauses_st.rows(conn, args):
            events.setdefault(cid, []).append((action, at(when)))  # type: ignore[arg-type]
        paused = {cid: pauses_from(e) for cid, e in events.items()}
        # Each row's times converted once, here (kept, the rows are read again as they are)
        rows = [
            (r[0], r[1], at(r[2]), at(r[3]), r[4], at(r[5]), at(r[6]), at(r[7]), at(r[8]),
             r[9], r[10], r[11], r[12], at(r[13]), at(r[14]))
            for r in rows_st.rows(conn, args)
        ]  # fmt: skip
        if kept is not None and stamp is not None:
            if len(kept) > 64:
                kept.clear()
            kept[agent_id] = (stamp, rows, paused)
    budgets = _budgets_of(policy)
    amber, zone = policy.amber_at, policy.calendar.zone
    soonest = _soonest_budget(policy)
    young = now - soonest * policy.amber_at
    """Opened after this, a complaint cannot be amber yet (counting time never runs faster
    than the wall clock)."""
    found: list[tuple[tuple[bool, datetime, int], tuple[Any, ...], _Urgent, str]] = []
    page: list[tuple[int, int, int]] = []
    """The `limit` best sort keys so far, negated (heapq keeps the worst of them on top)."""
    for row in rows:
        (cid, status, created, closed, category, replied, solved, implemented, waiting,
         _customer_id, _name, tier, channel, promised_at, promised_reply_at) = row  # fmt: skip
        first_group = implemented is not None or promised_reply_at is not None
        if counting:
            if not first_group and created > young:
                break  # every complaint left is younger still: none can be amber yet
        elif (
            0 < limit <= len(page) and not first_group
            and _micros(created + soonest) > -page[0][1]
        ):  # fmt: skip
            break  # every complaint left starts later, so its deadlines come later still
        b = budgets.get((tier, category, channel))
        if b is None:
            b = budgets[tier, category, channel] = policy.budgets(
                level=level_for(tier), category=category, channel=channel
            )
        if (
            first_group or waiting is not None or b.business_hours or cid in paused
            or status == "invalid"
        ):  # fmt: skip
            running = _sidebar_clock(
                status=status, created_at=created, closed_at=closed, first_reply_at=replied,
                solution_at=solved, implemented_at=implemented, waiting_since=waiting,
                budgets=b, policy=policy, now=now, pauses=paused.get(cid, ()),
                promised_at=promised_at, promised_reply_at=promised_reply_at,
            )  # fmt: skip
        else:
            # Most open complaints: one running reply or solution clock, every hour counting,
            # never paused: _sidebar_clock's own arithmetic.
            running = _plain_clock(
                created, replied is None and closed is None, solved is None, b, amber, zone,
                now,
            )  # fmt: skip
        state = "ok" if running is None else sla.band(running.fraction, policy.amber_at)
        if running is None or state == "ok":
            continue
        if sla.clock_breached(running.fraction):
            breached_n += 1
        else:
            near_n += 1
        found.append(((state != "red", running.deadline, cid), row, running, state))
        if limit > 0 and not counting:  # (counting reads on regardless of the page)
            worst = (-(state != "red"), -_micros(running.deadline), -cid)
            (heapq.heappush if len(page) < limit else heapq.heappushpop)(page, worst)
    if totals is not None:
        totals.update(breached=breached_n, near=near_n)
    found.sort(key=lambda f: f[0])
    return [
        ComplaintDeadlineItem(
            id=r[0], customer_id=r[9], customer_name=r[10], status=r[1], clock=c.name,
            deadline=c.deadline, left=c.budget - c.used, fraction=c.fraction, state=state,
            paused=c.paused,
        )
        for _key, r, c, state in found[:limit]
    ]  # fmt: skip


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(at: datetime) -> int:
    """An instant as whole microseconds (exact, unlike timestamp())."""
    return (at - _EPOCH) // timedelta(microseconds=1)


_STATEMENTS: list[Prepared] = []


def _sidebar_statements() -> tuple[Prepared, Prepared]:
    """The sidebar's two statements, built once (building them cost more than running them):
    the agent's open complaints, callback clocks first then oldest first, and their pauses."""
    if not _STATEMENTS:
        agent = bindparam("agent_id")
        mine = (Complaint.owner_id == agent, Complaint.status.in_(OPEN_STATUSES))
        rows = (
            select(
                Complaint.id, Complaint.status, Complaint.created_at, Complaint.closed_at,
                Complaint.category, Complaint.first_reply_at, Complaint.solution_at,
                Complaint.implemented_at, Complaint.waiting_since, Complaint.customer_id,
                Customer.name, Customer.tier, Complaint.channel, Complaint.promised_at,
                Complaint.promised_reply_at,
            )
            .join(Customer, Customer.id == Complaint.customer_id)
            .where(*mine)
            # Callback and promised clocks first: their deadlines do not follow created_at.
            .order_by(
                and_(Complaint.implemented_at.is_(None), Complaint.promised_reply_at.is_(None)),
                Complaint.created_at, Complaint.id,
            )
        )  # fmt: skip
        pauses = (
            select(ComplaintEvent.complaint_id, ComplaintEvent.action, ComplaintEvent.at)
            .join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
            .where(*mine, ComplaintEvent.action.in_(("pause", "resume")))
            .order_by(ComplaintEvent.id)
        )
        _STATEMENTS[:] = [Prepared(rows), Prepared(pauses)]
    return _STATEMENTS[0], _STATEMENTS[1]


_STAMP: list[Prepared] = []


def _stamp_statement() -> Prepared:
    """The agent's complaint stamp (migration 0065); built once."""
    if not _STAMP:
        owner = ComplaintOwnerStamp.owner_id == bindparam("agent_id")
        _STAMP.append(Prepared(select(ComplaintOwnerStamp.n).where(owner)))
    return _STAMP[0]


_BUDGETS: dict[int, tuple[sla.Policy, dict[tuple[str, str | None, str], sla.Budgets]]] = {}


def _budgets_of(policy: sla.Policy) -> dict[tuple[str, str | None, str], sla.Budgets]:
    """The budgets `policy` gives each (tier, category, channel) met so far, kept with the
    policy (loaded once and never changed; sla.load_policy makes a new one when its file
    changes), so a refresh works none of them out again."""
    hit = _BUDGETS.get(id(policy))
    if hit is not None and hit[0] is policy:
        return hit[1]
    if len(_BUDGETS) > 8:
        _BUDGETS.clear()
    kept: dict[tuple[str, str | None, str], sla.Budgets] = {}
    _BUDGETS[id(policy)] = (policy, kept)
    return kept


_SOONEST: dict[int, tuple[sla.Policy, timedelta]] = {}


def _soonest_budget(policy: sla.Policy) -> timedelta:
    """The smallest reply or solution budget any level and category gets under `policy`."""
    hit = _SOONEST.get(id(policy))
    if hit is not None and hit[0] is policy:
        return hit[1]
    every = [
        policy.budgets(level=level, category=category, channel=channel)
        for level in (None, 1, 2, 3)
        for category in (None, *(c.id for c in policy.categories), *policy.category_budgets)
        for channel in (None, *policy.channel_budgets)
    ]
    soonest = min(min(b.first_reply, b.solution) for b in every)
    if len(_SOONEST) > 8:
        _SOONEST.clear()
    _SOONEST[id(policy)] = (policy, soonest)
    return soonest


def _plain_clock(
    created_at: datetime, replying: bool, solving: bool, budgets: sla.Budgets, amber: float,
    zone: ZoneInfo, now: datetime,
) -> _Urgent | None:
    """`_sidebar_clock` of a complaint with no callback or promised clock, never paused, not
    waiting and counting every hour (the same answer, see there): `replying` when its reply
    clock runs, `solving` when its solution clock does (it is not invalid)."""
    if replying:
        name, budget = sla.FIRST_REPLY, budgets.first_reply
        if solving and budgets.solution < budget:
            name, budget = sla.SOLUTION, budgets.solution
    elif solving:
        name, budget = sla.SOLUTION, budgets.solution
    else:
        return None
    if (now - created_at) / budget < amber:
        return None
    used = sla.elapsed(created_at, now, zone=zone)
    return _Urgent(
        used / budget, sla.deadline(created_at, budget, zone=zone), name, used, budget, False
    )


class _Urgent(NamedTuple):
    """The most urgent running clock, as much of sla.ClockState as the sidebar shows."""

    fraction: float
    deadline: datetime
    name: str
    used: timedelta
    budget: timedelta
    paused: bool


def _sidebar_clock(
    *,
    status: str,
    created_at: datetime,
    closed_at: datetime | None,
    first_reply_at: datetime | None,
    solution_at: datetime | None,
    implemented_at: datetime | None,
    waiting_since: datetime | None,
    budgets: sla.Budgets,
    policy: sla.Policy,
    now: datetime,
    pauses: Sequence[sla.Interval],
    promised_at: datetime | None = None,
    promised_reply_at: datetime | None = None,
) -> _Urgent | None:
    """`sla.most_urgent(clocks(case, ...))` when that clock can be amber or red, computing
    only the clocks that can be it.

    Left out, and why the answer stays the same: stopped clocks (most_urgent skips them);
    a clock whose wall time since its start is under amber_at of its budget (counting time
    never exceeds wall time, so it is "ok" and loses to any amber clock); and of the reply
    and solution clocks, which share start, calendar and pauses and so have used the same
    time, the one with the larger budget (its fraction is never higher and its deadline is
    later; on equal budgets most_urgent keeps the first, the reply clock). A clock that
    counts every hour and was never paused is sla.clock's arithmetic without the ClockState.
    """
    amber = policy.amber_at
    zone = policy.calendar.zone
    shared: tuple[str, timedelta] | None = None
    if first_reply_at is None and closed_at is None:
        shared = (sla.FIRST_REPLY, budgets.first_reply)
    if status != "invalid" and solution_at is None:
        if shared is None or budgets.solution < budgets.first_reply:
            shared = (sla.SOLUTION, budgets.solution)
    found: list[_Urgent] = []
    if shared is not None and (now - created_at) / shared[1] >= amber:
        name, budget = shared
        if budgets.business_hours or pauses or waiting_since is not None:
            c = sla.clock(
                name, started_at=created_at, budget=budget, now=now,
                calendar=policy.calendar if budgets.business_hours else None, pauses=pauses,
                waiting_since=waiting_since, zone=zone, amber_at=amber,
            )  # fmt: skip
            found.append(_Urgent(c.fraction, c.deadline, name, c.used, budget, c.paused))
        else:
            used = sla.elapsed(created_at, now, zone=zone)
            end = sla.deadline(created_at, budget, zone=zone)
            found.append(_Urgent(used / budget, end, name, used, budget, False))
    start = implemented_at or (closed_at if status == "invalid" else None)
    if start is not None and (now - start) / budgets.callback >= amber:
        used = sla.elapsed(start, now, zone=zone)
        end = sla.deadline(start, budgets.callback, zone=zone)
        found.append(
            _Urgent(used / budgets.callback, end, sla.CALLBACK, used, budgets.callback, False)
        )
    if promised_at is not None and promised_reply_at is not None:
        kept = [t for t in (solution_at, implemented_at, closed_at)
                if t is not None and t >= promised_at]  # fmt: skip
        if not kept:  # promise_kept_at: a kept promise's clock is stopped
            budget = max(promised_reply_at - promised_at, timedelta(minutes=1))
            used = sla.elapsed(promised_at, now, zone=zone)
            end = sla.deadline(promised_at, budget, zone=zone)
            found.append(_Urgent(used / budget, end, sla.PROMISED, used, budget, False))
    # most_urgent's order: the highest fraction, then the earliest deadline, then the first
    if len(found) < 2:  # (most often one clock can be urgent: no key to work out)
        return found[0] if found else None
    return max(found, key=lambda u: (u.fraction, -u.deadline.timestamp()))


SCOPES = ("mine", "all", "approval", "escalated")
SCOPE_TITLES = {
    "mine": N_("My open complaints"),
    "all": N_("All open complaints"),
    "approval": N_("Proposals waiting for approval"),
    "escalated": N_("Escalated to me"),
}
"""N_-marked: translate with `_()` where shown."""


@dataclass(frozen=True)
class ListRow:
    id: int
    customer_name: str
    status: str
    owner: str
    created_at: datetime
    escalated: bool
    waiting: bool
    next_clock: sla.ClockState | None


class ClockCache:
    """Complaint clocks kept between refreshes (the wallboard, the complaint list): a clock is
    computed again only when its complaint moved (its version), its customer's tier changed,
    the policy changed or the minute turned (the time left on screen counts minutes); `due`
    is the next instant a kept clock breaches, after which everything is computed again.
    Safe to share between worker threads."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[int, datetime] | None = None
        self._clocks: dict[int, tuple[tuple[int, str], sla.ClockState | None]] = {}
        self._until: tuple[datetime, datetime] | None = None
        """`_due` worked out for a minute, until the next `put` (asked several times a read)."""

    def valid(self, policy: sla.Policy, now: datetime) -> None:
        """Forget what the policy, the minute or a breach made wrong."""
        minute = now.replace(second=0, microsecond=0)
        stamp = (id(policy), minute)
        with self._lock:
            if (
                stamp != self._stamp
                or now >= self._due(minute)
                or len(self._clocks) > self.LIMIT
            ):
                self._stamp = stamp
                self._clocks = {}
                self._until = None

    def empty(self) -> bool:
        """Nothing kept (a screen opening, a new minute): every clock is computed."""
        return not self._clocks

    def get(self, complaint_id: int, key: tuple[int, str]) -> tuple[bool, sla.ClockState | None]:
        kept = self._clocks.get(complaint_id)
        if kept is not None and kept[0] == key:
            return True, kept[1]
        return False, None

    def put(self, complaint_id: int, key: tuple[int, str], clock: sla.ClockState | None) -> None:
        with self._lock:
            self._clocks[complaint_id] = (key, clock)
            self._until = None

    def due(self, minute: datetime) -> datetime:
        """When the kept clocks stop being right: the next minute, or a breach before it."""
        with self._lock:
            return self._due(minute)

    def _due(self, minute: datetime) -> datetime:
        if self._until is not None and self._until[0] == minute:
            return self._until[1]
        until = minute + timedelta(minutes=1)
        for __, clock in self._clocks.values():
            if clock is not None and not clock.breached and not clock.paused:
                until = min(until, max(clock.deadline, minute + timedelta(seconds=1)))
        self._until = (minute, until)
        return until


def rank_open(
    *,
    session: Session,
    where: Sequence[Any],
    now: datetime,
    policy: sla.Policy,
    cache: ClockCache | None = None,
) -> tuple[list[int], dict[int, sla.ClockState | None]]:
    """The ids of the complaints matching `where`, most urgent first (`urgency_key`), and each
    one's most urgent running clock. Only the (id, version, tier) of every complaint is read;
    the full columns and pauses only of those whose clock is not in `cache` (with nothing
    kept, as when a screen opens, all of them in the same statement, and their pauses in
    one more joined to it). Rows are read on the session's connection as plain tuples."""
    cache = cache or ClockCache()
    cache.valid(policy, now)
    keys: dict[int, tuple[int, str]] = {}
    rows: list[_ClockRow] = []
    every = cache.empty()
    if session.autoflush:
        session.flush()  # read on the connection, so what the session holds is written first
    conn = session.connection()
    if every:
        for version, tier, *case in conn.execute(
            select(Complaint.version, Customer.tier, *_CLOCK_COLUMNS)
            .join(Customer, Customer.id == Complaint.customer_id)
            .where(*where)
        ):
            row = _ClockRow(*case)
            keys[row.id] = (version, tier)
            rows.append(row)
        stale = list(keys)
    else:
        keys = {
            r.id: (r.version, r.tier)
            for r in session.execute(
                select(Complaint.id, Complaint.version, Customer.tier)
                .join(Customer, Customer.id == Complaint.customer_id)
                .where(*where)
            )
        }
        stale = [cid for cid, key in keys.items() if not cache.get(cid, key)[0]]
        for i in range(0, len(stale), 500):
            rows += (
                _ClockRow(*r)
                for r in conn.execute(
                    select(*_CLOCK_COLUMNS).where(Complaint.id.in_(stale[i : i + 500]))
                )
            )
    if stale:
        paused = (
            _pauses_where(session, where) if every
            else pauses_for(session=session, complaint_ids=stale)
        )  # fmt: skip
        # a few levels x categories x channels
        budgets: dict[tuple[int, str | None, str | None], sla.Budgets] = {}
        for r in rows:
            key = keys[r.id]
            level = level_for(key[1])
            which = (level, r.category, r.channel)
            if which not in budgets:
                budgets[which] = policy.budgets(
                    level=level, category=r.category, channel=r.channel
                )
            cache.put(r.id, key, sla.most_urgent(
                clocks(r, level=level, policy=policy, now=now, pauses=paused.get(r.id, ()),
                       budgets=budgets[which])
            ))  # fmt: skip
    found = {cid: cache.get(cid, key)[1] for cid, key in keys.items()}
    return sorted(found, key=lambda cid: urgency_key(found[cid], cid)), found


def open_complaints(
    *,
    session: Session,
    scope: str,
    agent_id: int,
    now: datetime,
    policy: sla.Policy,
    offset: int = 0,
    limit: int = 50,
    cache: ClockCache | None = None,
) -> tuple[list[ListRow], int]:
    """One page of open complaints by urgency (`urgency_key`, as the wallboard ranks them)
    and how many there are in all.

    The clocks are pure arithmetic over column-only rows, so every complaint in the scope
    is ranked (a floor has hundreds open, not millions) and only one page is built.
    """
    where = [Complaint.status.in_(OPEN_STATUSES)]
    if scope == "mine":
        where.append(Complaint.owner_id == agent_id)
    elif scope == "approval":
        where = [Complaint.status == "proposed"]
    elif scope == "escalated":
        where.append(Complaint.escalated_to_id == agent_id)
    elif scope != "all":
        raise ValueError(f"unknown scope {scope!r}")
    ranked, found = rank_open(session=session, where=where, now=now, policy=policy, cache=cache)
    start = max(0, offset)
    page = ranked[start : start + limit]
    shown = {
        r.id: r
        for r in session.execute(
            select(Complaint.id, Complaint.status, Complaint.created_at, Complaint.waiting_since,
                   Complaint.escalated_to_id, Customer.name, Agent.display_name)
            .join(Customer, Customer.id == Complaint.customer_id)
            .join(Agent, Agent.id == Complaint.owner_id)
            .where(Complaint.id.in_(page))
        )
    } if page else {}  # fmt: skip
    rows = [
        ListRow(
            id=cid, customer_name=r.name, status=r.status, owner=r.display_name,
            created_at=r.created_at, escalated=r.escalated_to_id is not None,
            waiting=r.waiting_since is not None, next_clock=found[cid],
        )
        for cid in page
        if (r := shown.get(cid)) is not None
    ]  # fmt: skip
    return rows, len(ranked)


def urgency_key(clock: sla.ClockState | None, complaint_id: int) -> tuple[int, float, int]:
    """The one order of complaints by urgency (the wallboard, the complaint list): breached
    first (the longest overdue first), then the least time left; no running clock last."""
    if clock is None:
        return (2, 0.0, complaint_id)
    return (0 if clock.breached else 1, clock.left.total_seconds(), complaint_id)
