"""Who runs a command: commands that print personal data, and `seat agents …`, sign in first.

A person passes `--as LOGIN` and types the password (asked on the terminal; a script without
a terminal gives it as one line on standard input), or a script sets SEAT_TOKEN to a token
from `seat agents token`. On the demo desk (`seat --demo …`) no password is needed. Every use
is a row of the sign-in history naming the command (seat.identity).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine

from seat import identity
from seat.cli_help import add_identity_option  # noqa: F401  (re-exported)
from seat.clock import SystemClock
from seat.db import session_scope
from seat.i18n import _
from seat.identity import Identity, SignInError
from seat.models import Agent, Role

TOKEN_ENV = "SEAT_TOKEN"


def read_secret(prompt: str) -> str:
    """A password from the terminal (not echoed), or one line of standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def _fail(via: str, message: str) -> None:
    print(f"seat {via}: {message}", file=sys.stderr)


def sign_in(
    engine: Engine,
    args: argparse.Namespace,
    via: str,
    *,
    zone: str | None = None,
    ask: Callable[[str], str] = read_secret,
) -> Identity | None:
    """The identity a command runs as, or None after saying why (the caller exits 2).
    `zone` is the desk's time zone (the time a locked login opens again)."""
    now = SystemClock().now()
    tz = ZoneInfo(zone) if zone else None
    token = os.environ.get(TOKEN_ENV, "")
    login = getattr(args, "as_login", None)
    demo = bool(getattr(args, "demo", False))
    failure: SignInError | None = None
    found: Identity | None = None
    with session_scope(engine) as session:
        try:
            if token and not login:
                found = identity.by_token(session=session, token=token, now=now, via=via)
            elif demo:
                login = login or _demo_supervisor(session)
                found = identity.authenticate(
                    session=session, login=login or "", password=None, now=now, via=via, demo=True
                )
            elif not login:
                failure = SignInError(
                    _("sign in first: --as LOGIN (the password is asked) or {env}=TOKEN.").format(
                        env=TOKEN_ENV
                    ),
                    "no_login",
                )
            else:
                password = ask(_("Password for {login}: ").format(login=login))
                found = identity.authenticate(
                    session=session, login=login, password=password, now=now, via=via, tz=tz
                )
        except SignInError as exc:
            failure = exc  # the refusal's record is committed with the session
    if failure is not None:
        _fail(via, str(failure))
        return None
    return found


def _demo_supervisor(session: object) -> str | None:
    return session.execute(  # type: ignore[attr-defined]
        select(Agent.name).where(Agent.role == Role.SUPERVISOR, Agent.active).order_by(Agent.name)
    ).scalar()
