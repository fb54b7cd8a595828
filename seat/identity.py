"""Who is at the seat: passwords (argon2), lockout after failed tries, script tokens, and the
sign-in history. No Textual here: the sign-in screen and the command line both call it.

A login that does not exist is refused, never created. An agent without a password cannot
sign in except on the demo desk. Several wrong passwords in a row lock the login for a while;
every sign-in and every refusal is a row of `sign_in_event` (append-only, hash-chained).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlmodel import Session

from seat.agents import get_by_name
from seat.customers import ValidationError
from seat.i18n import _, format_time
from seat.models import Agent, Role, SignInEvent

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD = 8
TOKEN_PREFIX = "seat_"

_hasher = PasswordHasher()


class SignInError(Exception):
    """A refused sign-in, with the sentence to show."""

    def __init__(self, message: str, outcome: str) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True)
class Identity:
    id: int
    name: str
    display_name: str
    role: str

    @property
    def supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR


def _identity(agent: Agent) -> Identity:
    return Identity(agent.id, agent.name, agent.display_name, agent.role)  # type: ignore[arg-type]


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def _matches(stored: str | None, secret: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            {"password": _("Use at least {n} characters.").format(n=MIN_PASSWORD)}
        )
    if password.strip() != password or not password.isprintable():
        raise ValidationError(
            {"password": _("No spaces at the ends and no control characters, please.")}
        )


def record(
    *, session: Session, login: str, agent_id: int | None, now: datetime, outcome: str, via: str
) -> None:
    session.add(
        SignInEvent(agent_id=agent_id, login=login[:64], at=now, outcome=outcome, via=via[:64])
    )


def _locked(agent: Agent, now: datetime) -> bool:
    until = agent.locked_until
    return until is not None and until > now


def authenticate(
    *, session: Session, login: str, password: str | None, now: datetime, via: str,
    demo: bool = False, tz: tzinfo | None = None, read_only: bool = False,
) -> Identity:
    """The agent with this login and password, or SignInError (recorded either way).

    On the demo desk (`demo`) agents sign in without a password; `tz` is the desk's time zone
    for the time a locked login opens again. The caller commits: the
    refusal's record and the failure count must be kept even though the sign-in failed.
    On a database that cannot be written (`read_only`) the password and a lock are checked
    but nothing is counted; the caller rolls back the record and says so in the log.
    """
    name = (login or "").strip().lower()
    agent = get_by_name(session=session, name=name) if name else None
    if agent is None:
        record(session=session, login=name, agent_id=None, now=now, outcome="unknown", via=via)
        raise SignInError(_("Wrong login or password."), "unknown")
    if not agent.active:
        record(session=session, login=name, agent_id=agent.id, now=now, outcome="disabled",
               via=via)  # fmt: skip
        raise SignInError(_("This login is disabled: ask a supervisor."), "disabled")
    if demo:
        record(session=session, login=name, agent_id=agent.id, now=now, outcome="ok_demo", via=via)
        return _identity(agent)
    if _locked(agent, now):
        record(session=session, login=name, agent_id=agent.id, now=now, outcome="locked", via=via)
        raise SignInError(
            _("Too many wrong passwords: this login is locked until {time}.").format(
                time=format_time(agent.locked_until.astimezone(tz))  # type: ignore[union-attr]
            ),
            "locked",
        )
    if agent.password_hash is None:
        record(session=session, login=name, agent_id=agent.id, now=now, outcome="no_password",
               via=via)  # fmt: skip
        raise SignInError(
            _("{login} has no password yet: a supervisor sets one with "
              "`seat agents passwd {login}`.").format(login=name),
            "no_password",
        )
    if not _matches(agent.password_hash, password or ""):
        failures = agent.failed_sign_ins + 1
        values: dict[str, object] = {"failed_sign_ins": Agent.failed_sign_ins + 1}
        if failures >= MAX_FAILURES:
            values.update(failed_sign_ins=0, locked_until=now + LOCK_FOR)
        if not read_only:
            session.execute(update(Agent).where(Agent.id == agent.id).values(**values))
        record(session=session, login=name, agent_id=agent.id, now=now,
               outcome="wrong_password", via=via)  # fmt: skip
        raise SignInError(_("Wrong login or password."), "wrong_password")
    if not read_only:
        session.execute(
            update(Agent).where(Agent.id == agent.id).values(failed_sign_ins=0, locked_until=None)
        )
    if not read_only and _hasher.check_needs_rehash(agent.password_hash):
        agent.password_hash = hash_secret(password or "")
    record(session=session, login=name, agent_id=agent.id, now=now, outcome="ok", via=via)
    return _identity(agent)


def by_token(*, session: Session, token: str, now: datetime, via: str) -> Identity:
    """The agent a script token belongs to (SEAT_TOKEN), or SignInError."""
    login, sep, secret = (token or "").removeprefix(TOKEN_PREFIX).partition(":")
    agent = get_by_name(session=session, name=login) if sep else None
    if agent is None or not agent.active or not _matches(agent.token_hash, secret):
        record(session=session, login=login, agent_id=agent.id if agent else None, now=now,
               outcome="bad_token", via=via)  # fmt: skip
        raise SignInError(_("The token in SEAT_TOKEN is not valid."), "bad_token")
    record(session=session, login=login, agent_id=agent.id, now=now, outcome="ok_token", via=via)
    return _identity(agent)


def issue_token(*, session: Session, agent_id: int) -> str:
    """A new token for scripts (replacing any earlier one); only its hash is kept."""
    agent = session.get(Agent, agent_id)
    assert agent is not None
    secret = secrets.token_urlsafe(24)
    agent.token_hash = hash_secret(secret)
    session.add(agent)
    return f"{TOKEN_PREFIX}{agent.name}:{secret}"


def set_password(*, session: Session, agent_id: int, password: str) -> None:
    check_password_rules(password)
    agent = session.get(Agent, agent_id)
    assert agent is not None
    agent.password_hash = hash_secret(password)
    agent.failed_sign_ins = 0
    agent.locked_until = None
    session.add(agent)


def has_supervisor_with_password(*, session: Session) -> bool:
    return (
        session.execute(
            select(Agent.id).where(
                Agent.role == Role.SUPERVISOR, Agent.active, Agent.password_hash.is_not(None)  # type: ignore[union-attr]
            )
        ).first()
        is not None
    )


def has_agents(*, session: Session) -> bool:
    return session.execute(select(Agent.id)).first() is not None
