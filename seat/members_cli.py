"""`seat purchases import` and `seat members ...`: purchase records and the member rules."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from seat import members, privacy
from seat.cli_help import add_db_option, add_identity_option, example
from seat.cli_identity import sign_in
from seat.clock import SystemClock
from seat.config import Settings
from seat.db import make_engine, session_scope
from seat.errors import PermissionDenied, ValidationError
from seat.export import FORMATS, write
from seat.i18n import _
from seat.models import TIER_LEVEL
from seat.purchases import PurchaseFileError, format_report, import_csv
from seat.reports import members as member_report


def add_parsers(sub: argparse._SubParsersAction) -> None:
    pur = sub.add_parser(
        "purchases",
        help=_("import purchase records"),
        description=_("Import purchase records (order lines) from a CSV file."),
        epilog=example("seat purchases import orders.csv"),
    )
    psub = pur.add_subparsers(
        dest="purchases_command", required=True, title=_("commands"), metavar="COMMAND"
    )
    imp = psub.add_parser(
        "import",
        help=_("import purchases from a CSV file"),
        description=_(
            "Read a UTF-8 CSV with a header row: phone or customer (the customer number), "
            "date, order, product required; category, quantity, amount, store, delivered, "
            "line optional. A bad row is reported with its line number and not imported; an "
            "order line already on file is a duplicate (importing again changes nothing).\n"
            "Exit code 0: all imported or duplicates; 1: some rows rejected; "
            "2: the file cannot be read."
        ),
        epilog=example("seat purchases import orders.csv --db desk.db"),
    )
    imp.add_argument("file", type=Path, metavar="FILE.csv", help=_("the CSV file to import"))
    add_db_option(imp)


    mem = sub.add_parser(
        "members",
        help=_("member tiers by the rules, pinned tiers, dedicated owners"),
        description=_(
            "Apply the tier rules of policy/members.toml, pin a tier by hand, name a "
            "customer's dedicated owner."
        ),
        epilog=example(
            "seat members retier --dry-run",
            "seat members pin 1042 vip --reason 'group account' --as zhao.lei",
        ),
    )
    msub = mem.add_subparsers(
        dest="members_command", required=True, title=_("commands"), metavar="COMMAND"
    )
    ret = msub.add_parser(
        "retier",
        help=_("give every customer the tier the rules call for"),
        description=_(
            "Give every customer whose tier is not pinned the tier the rules of "
            "policy/members.toml call for; each change goes in the customer's history with "
            "its reason."
        ),
        epilog=example("seat members retier", "seat members retier --dry-run"),
    )
    ret.add_argument("--dry-run", dest="dry_run", action="store_true",
                     help=_("print the changes without making them"))  # fmt: skip
    add_db_option(ret)
    pin = msub.add_parser(
        "pin",
        help=_("set a customer's tier by hand (supervisors); retier leaves it"),
        description=_("Set a customer's tier by hand and pin it; recorded with the reason."),
        epilog=example("seat members pin 1042 vip --reason 'group account' --as zhao.lei"),
    )
    pin.add_argument("customer", type=int, metavar="CUSTOMER", help=_("the customer number"))
    pin.add_argument("tier", choices=[str(t) for t in TIER_LEVEL], metavar="TIER",
                     help=_("vip, diamond, platinum, gold or ordinary"))  # fmt: skip
    pin.add_argument("--reason", required=True, help=_("why (goes in the customer's history)"))
    add_identity_option(pin)
    add_db_option(pin)
    unpin = msub.add_parser(
        "unpin",
        help=_("let the rules decide a customer's tier again (supervisors)"),
        description=_("Lift a pinned tier: the next retier applies the rules; recorded."),
        epilog=example("seat members unpin 1042 --reason 'contract ended' --as zhao.lei"),
    )
    unpin.add_argument("customer", type=int, metavar="CUSTOMER", help=_("the customer number"))
    unpin.add_argument("--reason", required=True, help=_("why (goes in the customer's history)"))
    add_identity_option(unpin)
    add_db_option(unpin)
    own = msub.add_parser(
        "owner",
        help=_("name a level-1 customer's dedicated owner (supervisors)"),
        description=_(
            "Name the agent who owns a level-1 customer and gets their callbacks first, or "
            "take the owner away with --none; recorded."
        ),
        epilog=example("seat members owner 1042 li.na --as zhao.lei"),
    )
    own.add_argument("customer", type=int, metavar="CUSTOMER", help=_("the customer number"))
    own.add_argument("login", nargs="?", metavar="LOGIN", help=_("the owner's login"))
    own.add_argument("--none", action="store_true", help=_("no dedicated owner"))
    add_identity_option(own)
    add_db_option(own)
    exp = msub.add_parser(
        "expiring",
        help=_("list the memberships ending in a month, with the renewal rule"),
        description=_(
            "List the memberships ending in a month (next month unless --month), each with "
            "the renewal rule of policy/members.toml (fee waived or due) and the day it is "
            "called by. Phone numbers are masked unless you are a supervisor."
        ),
        epilog=example("seat members expiring", "seat members expiring --month 2027-01 "
                       "--format csv --output renewals.csv"),  # fmt: skip
    )
    exp.add_argument("--month", type=_month, metavar="YYYY-MM",
                     help=_("the month the memberships end in (default: next month)"))  # fmt: skip
    exp.add_argument("--format", choices=FORMATS, default="txt", help=_("output format"))
    exp.add_argument("--output", type=Path, metavar="FILE",
                     help=_("write to FILE instead of standard output"))  # fmt: skip
    add_identity_option(exp)
    add_db_option(exp)


def _month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("{text!r} is not a month like 2027-01").format(text=text)
        ) from None


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "purchases":
        return cmd_import(settings, args.file)
    if args.members_command == "retier":
        return cmd_retier(settings, dry_run=args.dry_run)
    if args.members_command == "expiring":
        return cmd_expiring(settings, args)
    return cmd_by_hand(settings, args)


def cmd_expiring(settings: Settings, args: argparse.Namespace) -> int:
    """`seat members expiring`: the month's memberships ending, to stdout unless --output."""
    try:
        policy = members.load_policy(settings)
    except members.PolicyError as exc:
        print(f"seat members expiring: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    me = sign_in(engine, args, "members expiring", zone=settings.local_timezone)
    if me is None:
        return 2
    now = SystemClock().now()
    month = args.month
    if month is None:
        today = now.astimezone(ZoneInfo(settings.local_timezone)).date()
        month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    with session_scope(engine) as session:
        table = member_report.expiring_table(session=session, month=month, now=now,
                                             policy=policy)  # fmt: skip
    if not me.supervisor:
        privacy.mask_tables([table], settings.region)
    write([table], args.format, args.output)
    return 0


def cmd_retier(settings: Settings, *, dry_run: bool) -> int:
    try:
        policy = members.load_policy(settings)
    except members.PolicyError as exc:
        print(f"seat members retier: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        report = members.retier(
            session, now=SystemClock().now(), policy=policy, dry_run=dry_run
        )
        if dry_run:
            session.rollback()
    for change in report.changed:
        print(f"#{change.customer_id:<7} {change.old:>8} -> {change.new:<8} {change.reason}")
    print(report.summary())
    return 0


def cmd_by_hand(settings: Settings, args: argparse.Namespace) -> int:
    command = f"members {args.members_command}"
    if args.members_command == "owner" and (args.login is None) == (not args.none):
        print(f"seat {command}: " + _("name the owner's login, or --none"), file=sys.stderr)
        return 2
    try:
        policy = members.load_policy(settings)
    except members.PolicyError as exc:
        print(f"seat {command}: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    me = sign_in(engine, args, command, zone=settings.local_timezone)
    if me is None:
        return 2
    now = SystemClock().now()
    try:
        with session_scope(engine) as session:
            if args.members_command == "pin":
                members.pin_tier(session, customer_id=args.customer, tier=args.tier,
                                 agent_id=me.id, now=now, reason=args.reason)  # fmt: skip
            elif args.members_command == "unpin":
                members.unpin_tier(session, customer_id=args.customer, agent_id=me.id,
                                   now=now, reason=args.reason)  # fmt: skip
            else:
                members.set_owner(session, customer_id=args.customer, owner_login=args.login,
                                  agent_id=me.id, now=now, policy=policy)  # fmt: skip
    except PermissionDenied as exc:
        print(f"seat {command}: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        for message in exc.errors.values():
            print(f"seat {command}: {message}", file=sys.stderr)
        return 1
    print(_("Done: customer #{id}.").format(id=args.customer))
    return 0


def cmd_import(settings: Settings, path: Path) -> int:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            report = import_csv(
                session=session, path=path, now=SystemClock().now(),
                zone=settings.local_timezone, region=settings.region,
            )  # fmt: skip
    except (PurchaseFileError, OSError) as exc:
        print(f"seat purchases import: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0 if not report.errors else 1
