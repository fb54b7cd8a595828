"""Call events from the phone system (`seat cti serve`): the generic CTI contract.

The contract is the one Zammad's CTI and many PBX scripts speak: a POST with
`event=newCall|answer|hangup`, `from`, `to`, `direction` (in/out), `callId`, `user` (the
agent's extension or login), `queue`, and for hangup `cause` (and `recording`, a URL or path,
when the phone system made one). This module checks an event and applies it in one
transaction; the HTTP server (seat.cti_server) only carries it.

- newCall (inbound) announces a screen pop (seat.seats) for the agent `user` maps to, or for
  any free seat when the call waits in a queue; a withheld or anonymous caller pops as
  unknown. The same callId announced twice pops once.
- answer records when the call was answered and, for a queue call, sends its pop to the agent
  who answered (if no seat has taken it yet).
- hangup records when and why it ended and its recording.

The seat's own call row carries the same call id (`call_ref`) once it is saved
(`link_call`), with the answer and hang-up times and the recording.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlmodel import Session

from seat import phone, seats
from seat.models import Agent, Call, CtiCall, ScreenPop

EVENTS = ("newCall", "answer", "hangup")
DIRECTIONS = {"in": "inbound", "inbound": "inbound", "out": "outbound", "outbound": "outbound"}
LIMITS = {"callId": 120, "from": 40, "to": 40, "user": 40, "queue": 80, "cause": 40,
          "recording": 500, "direction": 16, "event": 16}  # fmt: skip
ANONYMOUS = {"", "anonymous", "unknown", "withheld", "restricted", "private", "unavailable"}


class CtiError(ValueError):
    """A request the endpoint refuses (HTTP 4xx), with the reason; nothing was changed."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class CtiEvent:
    event: str
    call_ref: str
    direction: str = "inbound"
    from_number: str = ""
    to_number: str = ""
    user: str = ""
    queue: str = ""
    cause: str = ""
    recording: str = ""


@dataclass(frozen=True)
class Applied:
    """What an event did: the call's row, and the pop it announced or moved (if any)."""

    cti_call_id: int
    pop_id: int | None = None
    agent_id: int | None = None
    duplicate: bool = False


def _clean(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise CtiError(f"{name} must be text")
    text = value.strip()
    if len(text) > LIMITS[name]:
        raise CtiError(f"{name} is longer than {LIMITS[name]} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise CtiError(f"{name} holds control characters")
    return text


def parse(fields: Mapping[str, object]) -> CtiEvent:
    """The event in a request's fields (form or JSON), checked; CtiError says what is wrong."""
    unknown = sorted(set(fields) - set(LIMITS))
    if unknown:
        raise CtiError("unknown field(s): " + ", ".join(k[:40] for k in unknown[:5]))
    got = {name: _clean(name, value) for name, value in fields.items()}
    event = got.get("event", "")
    if event not in EVENTS:
        raise CtiError("event must be one of " + ", ".join(EVENTS))
    call_ref = got.get("callId", "")
    if not call_ref:
        raise CtiError("callId is required")
    direction = DIRECTIONS.get(got.get("direction", "in").lower() or "in")
    if direction is None:
        raise CtiError("direction must be in or out")
    if got.get("recording") and event != "hangup":
        raise CtiError("recording comes with hangup")
    return CtiEvent(
        event=event, call_ref=call_ref, direction=direction,
        from_number=got.get("from", ""), to_number=got.get("to", ""), user=got.get("user", ""),
        queue=got.get("queue", ""), cause=got.get("cause", ""), recording=got.get("recording", ""),
    )  # fmt: skip


def caller_e164(raw: str, region: str) -> str:
    """The caller as the seat looks them up: E.164, or "" (unknown) when withheld,
    anonymous or not a number the seat can read."""
    if raw.strip().lower() in ANONYMOUS:
        return ""
    given = phone.caller_id(raw)
    if given is None:
        return ""
    try:
        return phone.normalise(given, region)
    except phone.PhoneError:
        return ""


def agent_for(session: Session, user: str) -> int | None:
    """The agent the phone system names: by extension, else by login; None if nobody."""
    if not user:
        return None
    return session.execute(
        select(Agent.id)
        .where(Agent.active, or_(Agent.extension == user, Agent.name == user.lower()))
        .order_by((Agent.extension == user).desc())
        .limit(1)
    ).scalar()


def apply(*, session: Session, event: CtiEvent, now: datetime, region: str) -> Applied:
    """Apply one event in the caller's transaction; CtiError (nothing changed) when it
    cannot be (an answer or hangup for a call never announced)."""
    row = session.execute(select(CtiCall).where(CtiCall.call_ref == event.call_ref)).scalar()
    if event.event == "newCall":
        return _new_call(session, event, row, now=now, region=region)
    if row is None:
        raise CtiError(f"no call with callId {event.call_ref!r} was announced", status=404)
    agent_id = agent_for(session, event.user)
    if event.event == "answer":
        if row.answered_at is None:
            row.answered_at = now
        if agent_id is not None:
            row.agent_id = agent_id
            if row.pop_id is not None:  # a queue call rings the one who answered
                session.execute(
                    update(ScreenPop)
                    .where(ScreenPop.id == row.pop_id, ScreenPop.claimed_at.is_(None))
                    .values(agent_id=agent_id)
                )
        session.execute(
            update(Call).where(Call.call_ref == row.call_ref, Call.answered_at.is_(None))
            .values(answered_at=row.answered_at)
        )  # fmt: skip
    else:  # hangup
        if row.ended_at is None:
            row.ended_at = now
        row.cause = event.cause or row.cause
        if event.recording:
            row.recording = event.recording
        session.execute(
            update(Call).where(Call.call_ref == row.call_ref)
            .values(hung_up_at=row.ended_at, recording=row.recording)
        )  # fmt: skip
    session.add(row)
    session.flush()
    return Applied(row.id, row.pop_id, row.agent_id)  # type: ignore[arg-type]


def ring(*, session: Session, call_ref: str, user: str) -> int | None:
    """A queue rings another member (Asterisk's AgentCalled after the first): the call's pop,
    if no seat has taken it yet, moves to that agent. The agent's id, or None if unknown."""
    agent_id = agent_for(session, user)
    row = session.execute(select(CtiCall).where(CtiCall.call_ref == call_ref)).scalar()
    if agent_id is None or row is None:
        return None
    row.agent_id = agent_id
    if row.pop_id is not None:
        session.execute(
            update(ScreenPop)
            .where(ScreenPop.id == row.pop_id, ScreenPop.claimed_at.is_(None))
            .values(agent_id=agent_id)
        )
    session.add(row)
    return agent_id


def _new_call(
    session: Session, event: CtiEvent, row: CtiCall | None, *, now: datetime, region: str
) -> Applied:
    if row is not None:  # announced already: the phone system said it twice
        return Applied(row.id, row.pop_id, row.agent_id, duplicate=True)  # type: ignore[arg-type]
    agent_id = agent_for(session, event.user)
    pop_id = None
    if event.direction == "inbound":
        e164 = caller_e164(event.from_number, region)
        pop = seats.announce(session=session, now=now, e164=e164, agent_id=agent_id)
        pop_id = pop.id
        session.execute(
            update(ScreenPop).where(ScreenPop.id == pop_id).values(call_ref=event.call_ref)
        )
    row = CtiCall(
        call_ref=event.call_ref, direction=event.direction, from_number=event.from_number,
        to_number=event.to_number, extension=event.user, queue=event.queue, agent_id=agent_id,
        pop_id=pop_id, new_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return Applied(row.id, pop_id, agent_id)  # type: ignore[arg-type]


def link_call(*, session: Session, call: Call) -> None:
    """A saved call the phone system announced gets its answer and hang-up times and its
    recording (events that came before the save; later ones update the call themselves)."""
    if not call.call_ref:
        return
    row = session.execute(select(CtiCall).where(CtiCall.call_ref == call.call_ref)).scalar()
    if row is None:
        return
    call.answered_at = call.answered_at or row.answered_at
    call.hung_up_at = call.hung_up_at or row.ended_at
    call.recording = call.recording or row.recording
