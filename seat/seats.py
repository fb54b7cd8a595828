"""Running seats: presence heartbeats and screen pops carried by the shared database.

`seat pop NUMBER` inserts a pop; every running seat polls for pops it may take. A pop
for a named agent goes to that agent's seat; if nobody takes it within FALLBACK (the agent
has no seat running, or is on a call), any free seat may. Claiming is one conditional
UPDATE, so two seats never take the same call.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlmodel import Session

from seat.models import Presence, ScreenPop

POP_TTL = timedelta(seconds=90)
FALLBACK = timedelta(seconds=5)
PRESENCE_TTL = timedelta(seconds=20)


@dataclass(frozen=True)
class Pop:
    id: int
    e164: str
    agent_id: int | None
    call_ref: str | None = None
    """The phone system's call id (seat cti serve), carried onto the saved call."""


def announce(*, session: Session, now: datetime, e164: str, agent_id: int | None = None) -> Pop:
    pop = ScreenPop(e164=e164, agent_id=agent_id, created_at=now)
    session.add(pop)
    session.flush()
    return Pop(pop.id, e164, agent_id)  # type: ignore[arg-type]


def claim_next(*, session: Session, now: datetime, agent_id: int) -> Pop | None:
    """Take the oldest pop this (free) seat may answer, or None."""
    candidates = session.execute(
        select(ScreenPop.id, ScreenPop.e164, ScreenPop.agent_id, ScreenPop.call_ref)
        .where(
            ScreenPop.claimed_at.is_(None),
            ScreenPop.created_at >= now - POP_TTL,
            or_(
                ScreenPop.agent_id == agent_id,
                ScreenPop.agent_id.is_(None),
                ScreenPop.created_at <= now - FALLBACK,
            ),
        )
        # Own pops first; CASE, because NULL = x sorts differently on SQLite and PostgreSQL.
        .order_by(case((ScreenPop.agent_id == agent_id, 0), else_=1), ScreenPop.id)
        .limit(3)
    ).all()
    for pop_id, e164, target, call_ref in candidates:
        won = session.execute(
            update(ScreenPop)
            .where(ScreenPop.id == pop_id, ScreenPop.claimed_at.is_(None))
            .values(claimed_at=now, claimed_by_id=agent_id)
        ).rowcount
        if won == 1:
            return Pop(pop_id, e164, target, call_ref)
    return None


def release(*, session: Session, pop_id: int) -> None:
    """Give a claimed pop back so another seat (or this one, later) takes it."""
    session.execute(
        update(ScreenPop).where(ScreenPop.id == pop_id).values(claimed_at=None, claimed_by_id=None)
    )


def waiting_for(*, session: Session, now: datetime, agent_id: int) -> list[Pop]:
    """Pops addressed to this agent that nobody has taken yet (shown while on a call)."""
    rows = session.execute(
        select(ScreenPop.id, ScreenPop.e164, ScreenPop.agent_id, ScreenPop.call_ref).where(
            ScreenPop.claimed_at.is_(None),
            ScreenPop.agent_id == agent_id,
            ScreenPop.created_at >= now - POP_TTL,
        )
    ).all()
    return [Pop(*r) for r in rows]


def heartbeat(
    *, session: Session, now: datetime, agent_id: int, state: str, presence_id: int | None
) -> int:
    """Record that this seat is alive and what it is doing; returns its presence id."""
    if presence_id is not None:
        done = session.execute(
            update(Presence)
            .where(Presence.id == presence_id)
            .values(heartbeat_at=now, state=state, agent_id=agent_id)
        ).rowcount
        if done:
            return presence_id
    row = Presence(
        agent_id=agent_id,
        host=socket.gethostname()[:120],
        pid=os.getpid(),
        state=state,
        started_at=now,
        heartbeat_at=now,
    )
    session.add(row)
    session.flush()
    session.execute(delete(Presence).where(Presence.heartbeat_at < now - timedelta(days=1)))
    return row.id  # type: ignore[return-value]


def leave(*, session: Session, presence_id: int) -> None:
    session.execute(delete(Presence).where(Presence.id == presence_id))


def live_seats(*, session: Session, now: datetime) -> list[tuple[int, str]]:
    """(agent id, state) of every seat whose heartbeat is recent."""
    return [
        (r.agent_id, r.state)
        for r in session.execute(
            select(Presence.agent_id, Presence.state).where(
                Presence.heartbeat_at >= now - PRESENCE_TTL
            )
        )
    ]
