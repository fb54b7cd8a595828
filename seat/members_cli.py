"""`seat purchases import` and `seat members ...`: purchase records and the member rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seat.cli_help import add_db_option, example
from seat.clock import SystemClock
from seat.config import Settings
from seat.db import make_engine, session_scope
from seat.i18n import _
from seat.purchases import PurchaseFileError, format_report, import_csv


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


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "purchases":
        return cmd_import(settings, args.file)
    raise ValueError(args.command)


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
