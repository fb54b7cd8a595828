"""Agents: who sits at the seat."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import Session

from seat.customers import ValidationError
from seat.models import Agent, Role

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def list_agents(*, session: Session) -> list[Agent]:
    return list(session.execute(select(Agent).where(Agent.active).order_by(Agent.name)).scalars())


def assignable_agents(*, session: Session) -> list[tuple[int, str]]:
    """(id, display name) of everyone work may be given to: the active agents, by name."""
    return [
        (r.id, r.display_name)
        for r in session.execute(
            select(Agent.id, Agent.display_name).where(Agent.active).order_by(Agent.display_name)
        )
    ]


def get_by_name(*, session: Session, name: str) -> Agent | None:
    return session.execute(
        select(Agent).where(Agent.name == name.strip().lower())
    ).scalar_one_or_none()


def ensure_agent(
    *, session: Session, name: str, display_name: str | None = None, role: str = Role.AGENT
) -> Agent:
    """The agent with this login, created if new (login: lower-case letters, digits, . _ -)."""
    login = (name or "").strip().lower()
    if not _LOGIN.match(login):
        raise ValidationError(
            {"name": "Use a login of letters, digits, '.', '_' or '-' (e.g. li.na)."}
        )
    agent = get_by_name(session=session, name=login)
    if agent is None:
        pretty = display_name or " ".join(p.capitalize() for p in re.split(r"[._-]", login) if p)
        agent = Agent(name=login, display_name=pretty, role=role)
        session.add(agent)
        session.flush()
    return agent
