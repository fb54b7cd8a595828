"""Unsatisfied callbacks close the loop (DOMAIN.md sections 3 and 5: "problems found on
callbacks go back for rectification until the customer is satisfied").

A satisfaction or complaint follow-up callback that ends unsatisfied (the answer
"unsatisfied", or a score at or under the policy's `unsatisfied_at_most`) opens a loop on a
complaint: the one opened on that call with what the customer said, or the open complaint a
follow-up came back to. Or the seat records why no complaint was opened (on the callback).

While a complaint has an open loop it cannot close (`complaints.close`: a conditional UPDATE
that finds no open loop). The loop closes when a follow-up callback done after the complaint
was resolved is satisfied, or when a supervisor closes it with a reason. An unsatisfied
follow-up keeps it open. Opening and closing a loop are events on the complaint's history,
each claiming the complaint's next version (two seats: one is refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlmodel import Session

from seat import lifecycle
from seat.errors import MoveRefused, ValidationError
from seat.i18n import N_, _
from seat.models import Agent, Callback, Complaint, ComplaintLoop
from seat.roles import CLOSE_LOOP, require
from seat.textguard import check_text

OPEN = "open"
CLOSED = "closed"
UNSATISFIED = "unsatisfied"
SATISFIED = "satisfied"
ANSWER_FIELD = "satisfied"
"""The script field the customer's answer is read into (satisfied / so-so / unsatisfied)."""
REASON_FIELD = "no_complaint_reason"
"""The wrap-up field (and ValidationError key): why no complaint was opened."""
MAX_REASON = 2000


def verdict(score: int | None, answer: str | None, *, at_most: int) -> str | None:
    """"unsatisfied", "satisfied" or None (so-so, or nothing said).

    Unsatisfied: the answer was "unsatisfied" or the score is `at_most` or under. Satisfied:
    not unsatisfied, and the answer was "satisfied" (or, with no answer, the score is over
    `at_most`)."""
    if answer == UNSATISFIED or (score is not None and score <= at_most):
        return UNSATISFIED
    if answer == SATISFIED or (not answer and score is not None):
        return SATISFIED
    return None


def open_loop_of(*, session: Session, complaint_id: int) -> ComplaintLoop | None:
    """The complaint's open loop (None: none is open)."""
    return session.execute(
        select(ComplaintLoop).where(
            ComplaintLoop.complaint_id == complaint_id, ComplaintLoop.status == OPEN
        ).order_by(ComplaintLoop.id).limit(1)
    ).scalar_one_or_none()


def open_loop_exists(complaint_id: object) -> object:
    """A condition for a statement on complaints: the complaint has an open loop."""
    return exists().where(
        ComplaintLoop.complaint_id == complaint_id, ComplaintLoop.status == OPEN
    )


def refusal_to_close(complaint_id: int) -> str:
    return _(
        "Complaint #{id} came from an unsatisfied callback: it closes once a follow-up "
        "callback finds the customer satisfied, or a supervisor closes the loop with a reason "
        "(l)."
    ).format(id=complaint_id)


def _complaint_event(
    session: Session, c: Complaint, *, agent_id: int, now: datetime, action: str, comment: str
) -> None:
    lifecycle.record_event(
        session, c, agent_id=agent_id, at=now, action=action, from_status=c.status,
        comment=comment,
    )  # fmt: skip


def open_loop(
    *, session: Session, complaint_id: int, callback: Callback, agent_id: int, now: datetime,
    said: str = "",
) -> ComplaintLoop:
    """Link the unsatisfied `callback` to the complaint: the loop is open until a satisfied
    follow-up or a supervisor closes it. A complaint already in an open loop keeps that one."""
    c = session.get(Complaint, complaint_id)
    if c is None:
        raise MoveRefused(_("Complaint #{id} does not exist.").format(id=complaint_id))
    existing = open_loop_of(session=session, complaint_id=complaint_id)
    if existing is not None:
        return existing
    loop = ComplaintLoop(
        complaint_id=complaint_id, callback_id=callback.id, opened_at=now,  # type: ignore[arg-type]
        opened_by_id=agent_id, status=OPEN,
    )  # fmt: skip
    session.add(loop)
    comment = f"Unsatisfied on callback #{callback.id}" + (
        f" (score {callback.score})" if callback.score is not None else ""
    )
    if said:
        comment += f": {said}"
    _complaint_event(session, c, agent_id=agent_id, now=now, action="loop_open",
                     comment=comment[:5000])  # fmt: skip
    session.flush()
    return loop


def decline(*, session: Session, callback: Callback, reason: str) -> None:
    """Unsatisfied, yet no complaint: the reason is kept on the callback (required)."""
    errors: dict[str, str] = {}
    reason = check_text(
        errors, REASON_FIELD, reason, N_("Why no complaint is opened"), MAX_REASON
    )
    if errors:
        raise ValidationError(errors)
    callback.no_complaint_reason = reason
    session.add(callback)


def _close(
    session: Session, loop: ComplaintLoop, *, now: datetime, by_id: int,
    by_callback_id: int | None, reason: str | None,
) -> None:
    """The conditional UPDATE: only an open loop closes (another seat closed it: refused)."""
    done = session.execute(
        update(ComplaintLoop)
        .where(ComplaintLoop.id == loop.id, ComplaintLoop.status == OPEN)
        .values(status=CLOSED, closed_at=now, closed_by_id=by_id,
                closed_by_callback_id=by_callback_id, close_reason=reason)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise MoveRefused(_("The loop was closed at another seat meanwhile."))
    session.refresh(loop)


def follow_up_done(
    *, session: Session, callback: Callback, result: str | None, agent_id: int, now: datetime,
    said: str = "",
) -> ComplaintLoop | None:
    """A follow-up callback of a complaint in an open loop was done: satisfied after the
    complaint was resolved closes the loop; anything else keeps it open (noted on the
    complaint). Returns the loop (None: the complaint has no open loop)."""
    if callback.complaint_id is None:
        return None
    loop = open_loop_of(session=session, complaint_id=callback.complaint_id)
    if loop is None or loop.callback_id == callback.id:
        return None
    c = session.get(Complaint, callback.complaint_id)
    assert c is not None
    resolved = c.implemented_at is not None and c.status in ("implemented", "closed")
    if result == SATISFIED and resolved:
        _close(session, loop, now=now, by_id=agent_id, by_callback_id=callback.id, reason=None)
        _complaint_event(
            session, c, agent_id=agent_id, now=now, action="loop_close",
            comment=f"Satisfied on follow-up callback #{callback.id}; the loop is closed",
        )  # fmt: skip
        return loop
    how = {SATISFIED: "satisfied before it was resolved", UNSATISFIED: "still unsatisfied"}
    comment = f"Follow-up callback #{callback.id}: {how.get(result or '', 'not satisfied yet')}"
    if said:
        comment += f": {said}"
    _complaint_event(session, c, agent_id=agent_id, now=now, action="loop_follow_up",
                     comment=comment[:5000] + "; the loop stays open")  # fmt: skip
    return loop


def supervisor_close(
    *, session: Session, complaint_id: int, actor_id: int, now: datetime, reason: str,
    version: int | None = None,
) -> ComplaintLoop:
    """A supervisor closes the complaint's open loop with a reason (the case can then close)."""
    actor = session.get(Agent, actor_id)
    require(actor, CLOSE_LOOP)
    c = session.get(Complaint, complaint_id)
    if c is None:
        raise MoveRefused(_("Complaint #{id} does not exist.").format(id=complaint_id))
    if version is not None and version != c.version:
        raise MoveRefused(
            _(
                "Complaint #{id} was changed at another seat meanwhile; "
                "the screen now shows the latest. Check and try again."
            ).format(id=complaint_id)
        )
    loop = open_loop_of(session=session, complaint_id=complaint_id)
    if loop is None:
        raise MoveRefused(_("Complaint #{id} has no open loop.").format(id=complaint_id))
    errors: dict[str, str] = {}
    reason = check_text(errors, "reason", reason, N_("Why the loop is closed"), MAX_REASON)
    if errors:
        raise ValidationError(errors)
    _close(session, loop, now=now, by_id=actor_id, by_callback_id=None, reason=reason)
    _complaint_event(session, c, agent_id=actor_id, now=now, action="loop_close",
                     comment=f"Loop closed by a supervisor: {reason}")  # fmt: skip
    return loop


@dataclass(frozen=True)
class LoopView:
    """What the complaint page shows of its loop."""

    id: int
    status: str
    callback_id: int
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    closed_by_callback_id: int | None
    close_reason: str | None


def loop_view(*, session: Session, complaint_id: int) -> LoopView | None:
    """The complaint's latest loop (open first), for its page; None: it never had one."""
    loop = session.execute(
        select(ComplaintLoop)
        .where(ComplaintLoop.complaint_id == complaint_id)
        .order_by((ComplaintLoop.status == OPEN).desc(), ComplaintLoop.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if loop is None:
        return None
    who = session.get(Agent, loop.closed_by_id) if loop.closed_by_id else None
    return LoopView(
        id=loop.id, status=loop.status, callback_id=loop.callback_id,  # type: ignore[arg-type]
        opened_at=loop.opened_at, closed_at=loop.closed_at,
        closed_by=who.display_name if who else None,
        closed_by_callback_id=loop.closed_by_callback_id, close_reason=loop.close_reason,
    )  # fmt: skip


def count_open(*, session: Session) -> int:
    """How many loops are open now (the complaint statistics)."""
    return session.execute(
        select(func.count()).select_from(ComplaintLoop).where(ComplaintLoop.status == OPEN)
    ).scalar_one()
