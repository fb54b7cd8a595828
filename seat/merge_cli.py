"""`seat customers merge SURVIVOR OTHER [--yes]`: a supervisor merges a duplicate customer.

Prints what would move and asks (unless --yes). Exit code 0: merged; 1: refused (not a
supervisor, a customer not on file or merged already, changed meanwhile, or answered no);
2: usage, or the sign-in failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from seat import merge
from seat.cli_help import add_db_option, add_identity_option, example
from seat.cli_identity import sign_in
from seat.clock import SystemClock
from seat.config import Settings
from seat.db import make_engine, session_scope
from seat.errors import PermissionDenied, ValidationError
from seat.i18n import _

COMMAND = "customers merge"


def add_parser(customers_sub: argparse._SubParsersAction) -> None:
    """`merge` under `seat customers`."""
    m = customers_sub.add_parser(
        "merge",
        help=_("merge a duplicate customer into another (supervisors)"),
        description=_(
            "Move everything of customer OTHER (phone numbers, calls, callbacks, work orders, "
            "complaints, suggestions, purchases) to customer SURVIVOR, fill SURVIVOR's empty "
            "fields from OTHER's, and keep OTHER only as a record of the merge. Prints what "
            "would move and asks first, unless --yes.\n"
            "Exit code 0: merged; 1: refused, not found or not confirmed; 2: usage."
        ),
        epilog=example("seat customers merge 1042 2317 --as zhao.lei"),
    )
    m.add_argument("survivor", type=int, metavar="SURVIVOR",
                   help=_("the customer number that stays"))  # fmt: skip
    m.add_argument("other", type=int, metavar="OTHER",
                   help=_("the duplicate's customer number, merged into SURVIVOR"))  # fmt: skip
    m.add_argument("--yes", action="store_true", help=_("merge without asking"))
    add_identity_option(m)
    add_db_option(m)


def _ask(question: str) -> str:
    print(question, end="", flush=True)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.strip()


def run(settings: Settings, args: argparse.Namespace, ask: Callable[[str], str] = _ask) -> int:
    engine = make_engine(settings.database_url)
    me = sign_in(engine, args, COMMAND, zone=settings.local_timezone)
    if me is None:
        return 2
    try:
        with session_scope(engine) as session:
            plan = merge.plan(session, survivor_id=args.survivor, other_id=args.other)
        for line in plan.lines():
            print(line)
        if not args.yes:
            answer = ask(_("Merge? [y/N] ")).lower()
            if answer not in ("y", "yes"):
                print(_("Not merged."))
                return 1
        with session_scope(engine) as session:
            done = merge.merge(session, survivor_id=args.survivor, other_id=args.other,
                               agent_id=me.id, now=SystemClock().now())  # fmt: skip
    except PermissionDenied as exc:
        print(f"seat {COMMAND}: {exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        for message in exc.errors.values():
            print(f"seat {COMMAND}: {message}", file=sys.stderr)
        return 1
    print(_("Merged: customer #{other} into #{survivor} ({n} rows moved).").format(
        other=done.other_id, survivor=done.survivor_id, n=done.moved
    ))  # fmt: skip
    return 0
