"""`seat policy calendar`: the business calendar of a year, as the seat counts it or as a
library gives it (to paste into policy/complaints.toml)."""

from __future__ import annotations

import argparse
import sys

from seat.cli_help import example
from seat.config import Settings
from seat.i18n import _


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "policy",
        help=_("look at the policy files (the business calendar)"),
        description=_("Look at the policy files the seat works by."),
        epilog=example("seat policy calendar --year 2026 --format json"),
    )
    psub = p.add_subparsers(dest="policy_command", required=True, title=_("commands"),
                            metavar="COMMAND")  # fmt: skip
    cal = psub.add_parser(
        "calendar",
        help=_("the holidays and make-up working days (调休) of a year"),
        description=_(
            "Print the business calendar of a year as the complaint clocks count it "
            "(policy/complaints.toml), or with --generate the official one from a library, "
            "as TOML to paste into the policy file."
        ),
        epilog=example(
            "seat policy calendar --year 2026 --format json",
            "seat policy calendar --year 2026 --generate",
            "seat policy calendar --year 2026 --generate --region DE-BY",
        ),
    )
    cal.add_argument("--year", type=int, required=True, metavar="YEAR", help=_("the year"))
    cal.add_argument("--format", choices=("text", "json"), default="text",
                     help=_("output format (default: %(default)s)"))  # fmt: skip
    cal.add_argument(
        "--generate", action="store_true",
        help=_("print the year's calendar from chinese-calendar or holidays as TOML "
               "(the optional extra seat[calendar])"),
    )  # fmt: skip
    cal.add_argument("--region", default="CN", metavar="REGION",
                     help=_("with --generate: CN, or a country code such as US or DE-BY "
                            "(default: %(default)s)"))  # fmt: skip


def run(settings: Settings, args: argparse.Namespace) -> int:
    from seat import holiday_calendar, sla

    if not 1900 <= args.year <= 2200:
        print("seat policy: " + _("--year must be a year such as 2026"), file=sys.stderr)
        return 2
    try:
        if args.generate:
            year = holiday_calendar.generate(args.year, args.region)
        else:
            policy = sla.load_policy(settings)
            holidays, workdays = policy.calendar.entries(args.year)
            year = holiday_calendar.YearCalendar(
                args.year, tuple(holidays), tuple(workdays), policy.source
            )
    except sla.PolicyError as exc:
        print(f"seat policy: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(year.as_json())
    elif args.generate:
        print(year.as_toml(args.region.upper()), end="")
    else:
        print(_("{year}: {source}").format(year=year.year, source=year.source))
        print(_("holidays ({n}): {days}").format(
            n=len(year.holidays), days=", ".join(d.isoformat() for d in year.holidays) or "-"))
        print(_("make-up working days ({n}): {days}").format(
            n=len(year.workdays), days=", ".join(d.isoformat() for d in year.workdays) or "-"))
    return 0
