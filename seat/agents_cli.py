"""`seat agents list|add|passwd|disable|role|token`: who may sign in, managed by a supervisor.

Every subcommand signs in first (`--as LOGIN` and the password, or SEAT_TOKEN) and needs a
supervisor, except an agent changing their own password or token. A database whose
supervisors have no password yet (a new floor, or one upgraded from before sign-in) lets
`add --role supervisor` and `passwd` of a supervisor run without signing in, once: that is
how the first supervisor gets a password.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from seat.cli_help import add_db_option, add_identity_option, example
from seat.i18n import _

if TYPE_CHECKING:  # the parser is built at every start: the rest is imported when it runs
    from sqlalchemy.engine import Engine

ROLES = ("agent", "shift_lead", "supervisor", "quality")
"""seat.roles.ROLES, written out: the parser is built before the models are imported
(tests/unit/test_roles.py keeps the two the same)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "agents",
        help=_("who may sign in: list, add, passwords, disable, roles (supervisors)"),
        description=_(
            "Manage the agents who may sign in. Each command asks for a supervisor's "
            "password (--as LOGIN), or reads SEAT_TOKEN."
        ),
        epilog=example(
            "seat agents list --as zhao.lei",
            "seat agents add wu.fang --name 'Wu Fang' --as zhao.lei",
            "seat agents passwd li.na --as zhao.lei",
            "seat agents role li.na supervisor --as zhao.lei",
            "seat agents add qian.yu --role quality --as zhao.lei",
        ),
    )
    asub = p.add_subparsers(dest="agents_command", required=True, title=_("commands"),
                            metavar="COMMAND")  # fmt: skip

    def cmd(name: str, text: str, *examples: str) -> argparse.ArgumentParser:
        c = asub.add_parser(name, help=text, description=text[:1].upper() + text[1:] + ".",
                            epilog=example(*examples))  # fmt: skip
        add_identity_option(c)
        add_db_option(c)
        return c

    cmd("list", _("list the agents, their roles and whether they can sign in"),
        "seat agents list --as zhao.lei")  # fmt: skip
    add = cmd("add", _("add an agent (asks for their first password)"),
              "seat agents add wu.fang --name 'Wu Fang' --as zhao.lei")  # fmt: skip
    add.add_argument("login", metavar="LOGIN", help=_("the new login, e.g. wu.fang"))
    add.add_argument("--name", metavar="NAME", help=_("the name shown to others"))
    add.add_argument("--role", choices=ROLES, default="agent",
                     help=_("agent, shift_lead, supervisor or quality (a quality "
                            "inspector) (default: agent)"))  # fmt: skip
    pw = cmd("passwd", _("set an agent's password (asked twice)"),
             "seat agents passwd li.na --as zhao.lei")  # fmt: skip
    pw.add_argument("login", metavar="LOGIN", help=_("whose password"))
    dis = cmd("disable", _("stop a login from signing in"),
              "seat agents disable li.na --as zhao.lei")  # fmt: skip
    dis.add_argument("login", metavar="LOGIN", help=_("the login to disable"))
    role = cmd("role", _("change an agent's role: agent, shift lead, supervisor, quality"),
               "seat agents role li.na shift_lead --as zhao.lei")  # fmt: skip
    role.add_argument("login", metavar="LOGIN", help=_("whose role"))
    role.add_argument("role", choices=ROLES, metavar="ROLE",
                      help=_("agent, shift_lead, supervisor or quality"))  # fmt: skip
    ext = cmd("extension", _("set the phone extension the phone system names an agent by"),
              "seat agents extension li.na 201 --as zhao.lei")  # fmt: skip
    ext.add_argument("login", metavar="LOGIN", help=_("whose extension"))
    ext.add_argument("extension", metavar="EXT",
                     help=_("the extension (letters, digits, . _ -), or - for none"))  # fmt: skip
    tok = cmd("token", _("issue a token for scripts (SEAT_TOKEN); shown once"),
              "seat agents token zhao.lei --as zhao.lei")  # fmt: skip
    tok.add_argument("login", metavar="LOGIN", help=_("whose token"))


def _extension(text: str) -> str | None:
    """An extension as stored, or None when the text is not one ("-" clears it)."""
    value = text.strip()
    ok = 0 < len(value) <= 20 and all(c.isascii() and (c.isalnum() or c in "._-") for c in value)
    return value if ok and value != "-" else None


def _fail(message: str, code: int = 2) -> int:
    print(f"seat agents: {message}", file=sys.stderr)
    return code


def _bootstrap(engine: Engine, args: argparse.Namespace) -> bool:
    """No supervisor can sign in yet: the first one is being made (add/passwd a supervisor)."""
    from seat import agents, identity
    from seat.db import session_scope

    if args.agents_command not in ("add", "passwd") or getattr(args, "as_login", None):
        return False
    with session_scope(engine) as s:
        if identity.has_supervisor_with_password(session=s):
            return False
        if args.agents_command == "add":
            return args.role == "supervisor"
        target = agents.get_by_name(session=s, name=args.login)
        return target is not None and target.role == "supervisor"


def _new_password(login: str) -> str | None:
    from seat.cli_identity import read_secret

    first = read_secret(_("New password for {login}: ").format(login=login))
    if sys.stdin is not None and sys.stdin.isatty():
        if read_secret(_("Again: ")) != first:
            print(_("The two passwords differ; nothing changed."), file=sys.stderr)
            return None
    return first


def run(engine: Engine, args: argparse.Namespace, *, zone: str | None = None) -> int:
    from sqlalchemy import select

    from seat import agents, identity
    from seat.cli_identity import sign_in
    from seat.clock import SystemClock
    from seat.customers import ValidationError
    from seat.db import session_scope
    from seat.identity import Identity
    from seat.models import Agent

    command = args.agents_command
    if _bootstrap(engine, args):
        me: Identity | None = None
    else:
        me = sign_in(engine, args, f"agents {command}", zone=zone)
        if me is None:
            return 2
        self_service = command in ("passwd", "token") and args.login.strip().lower() == me.name
        if not me.supervisor and not self_service:
            return _fail(_("Only a supervisor can manage agents; ask your shift lead."))
    if command == "list":
        return _list(engine)
    login = args.login.strip().lower()
    password = None
    if command in ("add", "passwd"):
        password = _new_password(login)
        if password is None:
            return 2
    try:
        with session_scope(engine) as s:
            now = SystemClock().now()
            target = agents.get_by_name(session=s, name=login)
            if command == "add":
                if target is not None:
                    return _fail(_("{login} already exists.").format(login=login))
                identity.check_password_rules(password or "")
                target = agents.ensure_agent(session=s, name=login, display_name=args.name,
                                             role=args.role)  # fmt: skip
            elif target is None:
                return _fail(_("No agent with the login {login}.").format(login=login))
            if command in ("add", "passwd"):
                identity.set_password(session=s, agent_id=target.id, password=password or "")  # type: ignore[arg-type]
            elif command == "disable":
                target.active = False
            elif command == "role":
                target.role = args.role
            elif command == "extension":
                wanted = _extension(args.extension)
                if wanted is None and args.extension.strip() != "-":
                    return _fail(_("An extension is up to 20 letters, digits, dots, dashes "
                                   "or underscores (- for none)."))  # fmt: skip
                holder = s.execute(
                    select(Agent.name).where(Agent.extension == wanted, Agent.id != target.id)
                ).scalar() if wanted else None  # fmt: skip
                if holder is not None:
                    return _fail(_("Extension {ext} belongs to {login}.").format(
                        ext=wanted, login=holder))  # fmt: skip
                target.extension = wanted
            elif command == "token":
                print(identity.issue_token(session=s, agent_id=target.id))  # type: ignore[arg-type]
            s.add(target)
            identity.record(session=s, login=target.name, agent_id=me.id if me else target.id,
                            now=now, outcome=f"agents_{command}", via="agents")  # fmt: skip
    except ValidationError as exc:
        return _fail(next(iter(exc.errors.values())))
    if command != "token":
        print(_("{login}: done ({command}).").format(login=login, command=command))
    return 0


def _list(engine: Engine) -> int:
    from sqlalchemy import select

    from seat.db import session_scope
    from seat.models import Agent

    with session_scope(engine) as s:
        rows = s.execute(select(Agent).order_by(Agent.name)).scalars().all()
        for a in rows:
            state = (
                _("disabled") if not a.active
                else _("no password") if a.password_hash is None
                else _("can sign in")
            )  # fmt: skip
            print(f"{a.name:<20} {a.display_name:<24} {a.role:<11} {state}")
    return 0
