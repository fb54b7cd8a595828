"""The `seat` command line."""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from seat import __version__, faults, logs
from seat.cli_help import SeatParser, add_db_option, add_identity_option, example
from seat.config import (
    SOURCE_DEFAULT,
    ConfigError,
    LoadedSettings,
    Settings,
    demo_database_url,
    load_config,
    to_database_url,
    user_data_dir,
)
from seat.i18n import LanguageAction, _, set_language

if TYPE_CHECKING:
    from textual.app import App

    from seat.app import SeatApp


def version() -> str:
    """The installed distribution's version (the source tree's when not installed)."""
    try:
        return metadata.version("seat")
    except metadata.PackageNotFoundError:
        return __version__


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, in the current language (choose it first: `choose_language`)."""
    p = _seat_parser()
    _add_commands(p)
    return p


def _seat_parser(parser_class: type[SeatParser] = SeatParser) -> SeatParser:
    """`seat` and its own options, without the commands."""
    p = parser_class(
        prog="seat",
        description=_("A keyboard-driven call-center seat."),
        epilog=example(
            "seat --demo",
            "seat --db /srv/seat/floor.db --agent li.na",
            "seat --lang zh_CN --help",
            "seat report summary --from 2026-11-01 --to 2026-11-30 --format xlsx "
            "--output nov.xlsx",
        ),
    )
    p.add_argument(
        "--version",
        action="version",
        version=f"seat {version()}",
        help=_("print the version and exit"),
    )
    p.add_argument(
        "--db",
        metavar="PATH|URL",
        help=_("database file or SQLAlchemy URL (or SEAT_DATABASE_URL)"),
    )
    p.add_argument("--agent", metavar="LOGIN", help=_("sign in as this agent (login, e.g. li.na)"))
    p.add_argument("--demo", action="store_true", help=_("open a demo desk on its own SQLite file"))
    p.add_argument(
        "--region", metavar="CC", help=_("default phone region, e.g. CN (or SEAT_REGION)")
    )
    p.add_argument(
        "--lang",
        action=LanguageAction,
        metavar="LANG",
        help=_("zh_CN or en (or SEAT_LANG, LANG)"),
    )
    return p


def _add_commands(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="command", title=_("commands"), metavar="COMMAND")

    d = sub.add_parser(
        "demo",
        help=_("seed a database for demos and benchmarks"),
        description=_(
            "Fill a database with realistic customers, calls, callbacks and work orders."
        ),
        epilog=example("seat demo --db demo.db --customers 300 --calls 3000 --seed 7"),
    )
    add_db_option(d, _("database file or URL to seed"))
    d.add_argument("--customers", type=int, default=300, metavar="N",
                   help=_("how many customers (default: %(default)s)"))
    d.add_argument("--calls", type=int, default=3000, metavar="N",
                   help=_("how many calls (default: %(default)s)"))
    d.add_argument("--purchases", type=int, default=None, metavar="N",
                   help=_("how many purchase lines (default: 3 per customer)"))
    d.add_argument("--seed", type=int, default=7, metavar="N",
                   help=_("random seed: the same seed gives the same data (default: %(default)s)"))

    c = sub.add_parser(
        "customers",
        help=_("import and find customers"),
        description=_(
            "Import customers from a CSV file, find them, merge a duplicate into another."
        ),
        epilog=example("seat customers import customers.csv", "seat customers find 13800138000"),
    )
    csub = c.add_subparsers(
        dest="customers_command", required=True, title=_("commands"), metavar="COMMAND"
    )
    imp = csub.add_parser(
        "import",
        help=_("import customers from a CSV file"),
        description=_(
            "Read a UTF-8 CSV with a header row (name, phone required); a bad row is "
            "reported with its line number and not imported.\n"
            "Exit code 0: all imported or duplicates; 1: some rows rejected; "
            "2: the file cannot be read."
        ),
        epilog=example("seat customers import data/customers-sample.csv --db desk.db"),
    )
    imp.add_argument("file", type=Path, metavar="FILE.csv", help=_("the CSV file to import"))
    add_db_option(imp)
    find = csub.add_parser(
        "find",
        help=_("find a customer by phone number"),
        description=_(
            "Print the customer with this phone number (exit code 1 if none, 2 if the number "
            "is not valid)."
        ),
        epilog=example("seat customers find '+86 138 0013 8000' --json"),
    )
    find.add_argument("phone", metavar="PHONE", help=_("the phone number, in any usual format"))
    find.add_argument("--json", action="store_true", help=_("print JSON"))
    add_identity_option(find)
    add_db_option(find)
    look = csub.add_parser(
        "search",
        help=_("find customers by name, address, customer, order or phone number"),
        description=_(
            "Print the customers the text finds, best first: an exact customer, order or "
            "phone number, then names that start with it, then names, addresses and numbers "
            "that hold it. Phone numbers and addresses are masked. Exit code 1 if none."
        ),
        epilog=example("seat customers search 王芳", "seat customers search 1234 --json"),
    )
    look.add_argument("text", metavar="TEXT", help=_("what to look for"))
    look.add_argument("--json", action="store_true", help=_("print JSON"))
    look.add_argument("--limit", type=int, default=20, metavar="N",
                      help=_("at most N customers (default: %(default)s)"))  # fmt: skip
    add_identity_option(look)
    add_db_option(look)
    from seat import merge_cli

    merge_cli.add_parser(csub)

    from seat.reports import REPORT_FORMATS, REPORTS

    rep = sub.add_parser(
        "report",
        help=_("statistics for spreadsheets and meetings"),
        description=_("Write a report for a date range as CSV, XLSX, JSON or text."),
        epilog=example(
            "seat report complaints --from 2026-11-01 --to 2026-11-30",
            "seat report summary --from 2026-11-01 --to 2026-11-30 --format xlsx "
            "--output nov.xlsx",
        ),
    )
    rsub = rep.add_subparsers(
        dest="report_name", required=True, title=_("reports"), metavar="REPORT"
    )
    for name in REPORTS:
        r = rsub.add_parser(
            name,
            help=_("the {name} report").format(name=name),
            description=_("The {name} report from one day to another (both included).").format(
                name=name
            ),
            epilog=example(
                f"seat report {name} --from 2026-11-01 --to 2026-11-30 --format "
                + ("json" if name not in REPORT_FORMATS else REPORT_FORMATS[name][-1])
            ),
        )
        r.add_argument("--from", dest="date_from", required=True, type=_date, metavar="DATE",
                       help=_("first day, YYYY-MM-DD"))
        r.add_argument("--to", dest="date_to", required=True, type=_date, metavar="DATE",
                       help=_("last day, YYYY-MM-DD"))
        formats = REPORT_FORMATS.get(name, ("csv", "xlsx", "json", "txt"))
        r.add_argument("--format", choices=formats, default=formats[0],
                       help=_("output format (default: %(default)s)"))
        r.add_argument("--output", type=Path, metavar="FILE",
                       help=_("write to FILE instead of standard output"))
        add_identity_option(r)
        add_db_option(r)

    from seat import agents_cli, ami, audit_cli, cti_server, members_cli, ops, policy_cli
    from seat.tools import bench

    ops.add_parsers(sub)
    audit_cli.add_parsers(sub)
    members_cli.add_parsers(sub)
    agents_cli.add_parser(sub)
    ami.add_parser(cti_server.add_parser(sub))
    policy_cli.add_parser(sub)
    bench.add_parser(sub)

    wp = sub.add_parser(
        "workplan",
        help=_("the daily work plan (工作计划表) for printing"),
        description=_("The work orders planned for one day, by technician, for printing."),
        epilog=example(
            "seat workplan --date 2026-11-23",
            "seat workplan --date 2026-11-23 --assignee zhao.lei --format csv --output plan.csv",
        ),
    )
    wp.add_argument("--date", dest="day", required=True, type=_date, metavar="DATE",
                    help=_("the day, YYYY-MM-DD"))
    wp.add_argument("--assignee", metavar="LOGIN",
                    help=_("technician login (default: everyone)"))
    wp.add_argument("--work-center", dest="work_center", metavar="CENTER",
                    help=_("only this work center"))
    wp.add_argument("--format", choices=("csv", "txt"), default="txt",
                    help=_("output format (default: %(default)s)"))
    wp.add_argument("--output", type=Path, metavar="FILE",
                    help=_("write to FILE instead of standard output"))
    add_identity_option(wp)
    add_db_option(wp)

    cb = sub.add_parser(
        "callbacks",
        help=_("callbacks by the rules (回访)"),
        description=_("Run the callback rules of policy/callbacks.toml."),
        epilog=example("seat callbacks schedule"),
    )
    cbsub = cb.add_subparsers(
        dest="callbacks_command", required=True, title=_("commands"), metavar="COMMAND"
    )
    sch = cbsub.add_parser(
        "schedule",
        help=_("create the callbacks the rules call for (idempotent)"),
        description=_(
            "Create the callbacks the rules call for now; running it again creates nothing twice."
        ),
        epilog=example("seat callbacks schedule --db /srv/seat/floor.db"),
    )
    add_db_option(sch)

    cfg = sub.add_parser(
        "config",
        help=_("show the effective settings"),
        description=_(
            "Settings come from the defaults, config.toml (or SEAT_CONFIG), SEAT_* environment "
            "variables and options, the later winning."
        ),
        epilog=example("seat config show", "seat --db floor.db config show --format json"),
    )
    cfgsub = cfg.add_subparsers(
        dest="config_command", required=True, title=_("commands"), metavar="COMMAND"
    )
    show = cfgsub.add_parser(
        "show",
        help=_("print each setting, its value and where it came from"),
        description=_(
            "Print each setting, its value and its source: default, file, environment or option."
        ),
        epilog=example("seat config show", "seat config show --format json"),
    )
    show.add_argument("--format", choices=("table", "json"), default="table",
                      help=_("output format (default: %(default)s)"))
    add_db_option(show)


class _NotJustTheSeat(Exception):
    """The short parser met something only the whole command line may answer."""


class _SeatOnlyParser(SeatParser):
    def error(self, message: str) -> NoReturn:
        raise _NotJustTheSeat(message)


_SEAT_FLAGS = ("--demo",)
_SEAT_VALUES = ("--db", "--agent", "--region", "--lang")


def _only_seat_options(argv: Sequence[str]) -> bool:
    """Only `seat`'s own options, each spelt out in full (no command, no help, no version,
    no abbreviation, no value that looks like an option)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _SEAT_FLAGS:
            i += 1
        elif arg in _SEAT_VALUES and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            i += 2
        elif arg.partition("=")[0] in _SEAT_VALUES and "=" in arg:
            i += 1
        else:
            return False
    return True


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line, parsed. Opening the seat (`seat --demo --agent li.na`: only seat's
    own options) needs no command's parser: building them all (and importing the modules that
    add theirs) would cost every start ~20 ms. Anything else, or anything the short parser
    refuses, goes to the whole parser: help, errors and results are the same."""
    if _only_seat_options(argv):
        seat_only = _seat_parser(_SeatOnlyParser)
        seat_only.set_defaults(command=None)
        try:
            return seat_only.parse_args(argv)
        except _NotJustTheSeat:
            pass
    return build_parser().parse_args(argv)


def choose_language(argv: Sequence[str]) -> None:
    """`--lang` before anything is built, so `seat --lang zh_CN --help` is Chinese: the last
    `--lang` before `--` wins; without one, SEAT_LANG and the locale decide (i18n)."""
    chosen = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            chosen = argv[i + 1]
        elif arg.startswith("--lang="):
            chosen = arg.partition("=")[2]
    if chosen is not None:
        set_language(chosen)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("{text!r} is not a date like 2026-11-23").format(text=text)
        ) from None


def config_for(args: argparse.Namespace) -> LoadedSettings:
    """Defaults, config file, environment, then this command line's options (ConfigError when
    the config file is not valid)."""
    loaded = load_config()
    db = getattr(args, "sub_db", None) or args.db
    if db:
        loaded = loaded.with_option("database_url", to_database_url(db))
    elif args.demo:
        loaded = loaded.with_option("database_url", demo_database_url())
    if args.region:
        loaded = loaded.with_option("region", args.region.upper())
    return loaded


def settings_for(args: argparse.Namespace) -> Settings:
    return config_for(args).settings


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every fault a person can fix ends in one line and a non-zero exit code,
    anything else in a short message naming the log file (the traceback is in the log)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    choose_language(argv)
    args = parse_args(argv)
    if args.command is not None:
        gc.enable()  # off for the start-up (seat.__main__); run_app turns it on for the seat
    try:
        loaded = config_for(args)
    except ConfigError as exc:
        return _fail(str(exc))
    settings = loaded.settings
    logs.setup(settings)
    try:
        return dispatch(args, loaded)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`seat report … | head`): not an error of the seat. Python
        # would complain again while flushing stdout at exit, so it goes to /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141
    except Exception as exc:
        known = faults.explain(exc, settings.database_url)
        if known is not None:
            logs.log.warning("%s", known)
            return _fail(known, 1)
        logs.log.exception("seat %s failed", " ".join(argv))
        return _fail(unexpected(exc, settings), 1)
    finally:
        logs.close()


def unexpected(exc: BaseException, settings: Settings) -> str:
    """The short message for an error nobody foresaw: what it was and where the details are."""
    where = logs.current_path()
    if where is None:
        return _("Unexpected error: {problem}").format(problem=_one_line(exc))
    return _("Unexpected error: {problem}. The details are in {log}.").format(
        problem=_one_line(exc), log=where
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


def _fail(message: str, code: int = 2) -> int:
    for line in message.splitlines():
        print(f"seat: {line}", file=sys.stderr)
    return code


def dispatch(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    settings = loaded.settings
    if args.command == "config":
        return cmd_config_show(loaded, args.format)
    if args.command == "demo":
        return cmd_demo(settings, args)
    if args.command in ("pop", "db", "backup", "restore"):
        from seat import ops

        return ops.run(settings, args)
    if args.command == "audit":
        from seat import audit_cli

        return audit_cli.run(settings, args)
    if args.command in ("purchases", "members"):
        from seat import members_cli

        return members_cli.run(settings, args)
    if args.command == "bench":
        from seat.tools.bench import main as bench_main

        return bench_main(args)
    if args.command == "report":
        return cmd_report(settings, args)
    if args.command == "policy":
        from seat import policy_cli

        return policy_cli.run(settings, args)
    if args.command == "workplan":
        return cmd_workplan(settings, args)
    if args.command == "callbacks":
        return cmd_callbacks_schedule(settings)
    if args.command == "customers":
        if args.customers_command == "import":
            return cmd_import(settings, args.file)
        if args.customers_command == "search":
            return cmd_search(settings, args)
        if args.customers_command == "merge":
            from seat import merge_cli

            return merge_cli.run(settings, args)
        return cmd_find(settings, args.phone, as_json=args.json, args=args)
    if args.command == "cti":
        if args.cti_command == "ami":
            from seat import ami

            return ami.run(settings, args)
        from seat import cti_server

        return cti_server.run(settings, args)
    if args.command == "agents":
        from seat import agents_cli
        from seat.db import make_engine

        return agents_cli.run(
            make_engine(settings.database_url), args, zone=settings.local_timezone
        )
    # Passwords are waived on the demo desk's own file only, never on a --db named with it.
    demo = bool(args.demo) and settings.database_url == demo_database_url()
    return run_app(settings, agent=args.agent, demo=demo)


def cmd_config_show(loaded: LoadedSettings, fmt: str) -> int:
    """Each effective setting, its value and where it came from."""
    rows = effective_rows(loaded)
    if fmt == "json":
        print(
            json.dumps(
                {
                    "config_file": str(loaded.path),
                    "config_file_found": loaded.path.is_file(),
                    "settings": {k: {"value": v, "source": src} for k, v, src in rows},
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    found = _("found") if loaded.path.is_file() else _("not found")
    print(_("config file: {path} ({found})").format(path=loaded.path, found=found))
    width = max(len(k) for k, __, __ in rows)
    vwidth = max(len(v) for __, v, __ in rows)
    print(f"{_('key'):<{width}}  {_('value'):<{vwidth}}  {_('source')}")
    for key, value, source in rows:
        print(f"{key:<{width}}  {value:<{vwidth}}  {_(source)}")
    return 0


def effective_rows(loaded: LoadedSettings) -> list[tuple[str, str, str]]:
    """(key, value as text, source) for every setting; paths left unset show where they go."""
    from sqlalchemy.engine import make_url

    s = loaded.settings
    shown: dict[str, object] = {f.name: getattr(s, f.name) for f in fields(Settings)}
    shown["database_url"] = make_url(s.database_url).render_as_string(hide_password=True)
    shown["drafts_base"] = s.drafts_base or user_data_dir() / "drafts"
    shown["log_dir"] = logs.log_dir(s)
    rows = []
    for key, value in shown.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, tuple):  # dial_command: as written in config.toml
            text = json.dumps(list(value), ensure_ascii=False)
        else:
            text = str(value)
        rows.append((key, text, loaded.sources.get(key, SOURCE_DEFAULT)))
    return rows


def run_app(settings: Settings, *, agent: str | None, demo: bool) -> int:
    # Start-up makes some hundred thousand objects (modules, classes, the tables' mappers) that
    # live as long as the seat, and frees few: the cyclic collector's passes over them cost
    # every start ~80 ms. Off while the seat is built; then what start-up made is frozen (never
    # scanned again while the seat runs) and collection goes on as usual for the rest.
    from seat.db import freeze_start_up, thaw_start_up

    gc.disable()
    try:
        app = _build_seat(settings, agent=agent, demo=demo)
        freeze_start_up()
        gc.enable()
        return 2 if app is None else run_tui(app)
    finally:
        gc.enable()
        thaw_start_up()


def _build_seat(settings: Settings, *, agent: str | None, demo: bool) -> SeatApp | None:
    """The seat, ready to run; None when it may not open (each problem said on stderr)."""
    from seat import preflight
    from seat.app import make_app
    from seat.clock import SystemClock
    from seat.db import has_rows, make_engine
    from seat.scripts import load_with_fallback

    scripts = load_with_fallback(settings.scripts_dir, settings.scripts_cache)  # read once
    problems = preflight.check(settings, scripts)
    if problems:  # said before the screen opens, never a silent fallback
        for problem in problems:
            print(f"seat: {problem}", file=sys.stderr)
        return None
    # A file (or folder) that cannot be written opens for reading, with READ-ONLY on every
    # screen; SQLite would otherwise fail at the first write, or at opening without -wal/-shm.
    blocked = faults.unwritable(settings.database_url)
    if blocked is not None:
        logs.log.warning("%s cannot be written: the desk opens read-only", blocked)
    engine = make_engine(
        settings.database_url, read_only=blocked is not None, background_checkpoints=True
    )
    clock = SystemClock()
    # Seeded once: the check names no mapped class, the seeding (the first time) maps them.
    if demo and not has_rows(engine, "customer"):
        from seat.tools.demo import ensure_demo

        if ensure_demo(engine, now=clock.now()):
            print(_("Seeded a demo desk at"), settings.database_url, file=sys.stderr)
    # Only the demo desk signs in without a password; elsewhere --agent fills in the login.
    app = make_app(
        settings=settings, clock=clock, engine=engine, demo=demo,
        agent=agent if demo else None, login=None if demo else agent, scripts=scripts,
    )  # fmt: skip
    return app


def run_tui(app: App[Any], **run_options: Any) -> int:
    """Run the seat; an error that ends it is told in one short line naming the log file,
    with a non-zero exit code, and its traceback goes to the log instead of the terminal.

    Textual renders the traceback of an error that ends the app (in a handler or a worker)
    to `App.error_console` once the screen is restored: that console writes into the log."""
    from rich.console import Console

    captured = io.StringIO()
    app.error_console = Console(file=captured, width=120, markup=False, highlight=False)
    app.run(**run_options)  # an error of the driver itself propagates to main()
    report = captured.getvalue()
    code = app.return_code or 0
    if code == 0:
        if report.strip():  # App.exit(message=...) goes to this console too
            sys.stderr.write(report)
        return 0
    logs.log.error("the seat stopped on an unexpected error:\n%s", report.rstrip())
    where = logs.current_path()
    first = next((line for line in reversed(report.splitlines()) if line.strip()), "")
    message = (
        _("The seat stopped on an unexpected error. The details are in {log}.").format(log=where)
        if where is not None
        else _("The seat stopped on an unexpected error: {problem}").format(problem=first)
    )
    return _fail(message, code)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from seat.clock import SystemClock
    from seat.db import make_engine
    from seat.tools.demo import seed

    engine = make_engine(settings.database_url)
    try:
        report = seed(
            engine,
            customers=args.customers,
            calls=args.calls,
            seed=args.seed,
            purchases=args.purchases,
            now=SystemClock().now(),
            progress=lambda msg: print(msg, file=sys.stderr),
        )
    except ValueError as exc:
        print(f"seat demo: {exc}", file=sys.stderr)
        return 1
    print(
        _(
            "Seeded {url}: {customers} customers, {calls} calls, {callbacks} callbacks, "
            "{work_orders} work orders in {seconds:.1f} s"
        ).format(
            url=settings.database_url,
            customers=report.customers,
            calls=report.calls,
            callbacks=report.callbacks,
            work_orders=report.work_orders,
            seconds=report.seconds,
        )
    )
    return 0


def cmd_import(settings: Settings, path: Path) -> int:
    from seat.clock import SystemClock
    from seat.db import make_engine, session_scope
    from seat.importer import ImportFileError, format_report, import_csv

    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            report = import_csv(
                session=session, path=path, now=SystemClock().now(), region=settings.region
            )
    except (ImportFileError, OSError) as exc:
        print(f"seat customers import: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0 if not report.errors else 1


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    """`seat customers search TEXT`: ranked, masked; exit code 1 when nothing is found."""
    from seat import labels, search
    from seat.cli_identity import sign_in
    from seat.db import make_engine, session_scope

    if args.limit < 1:
        print(_("seat customers search: --limit must be at least 1"), file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    me = sign_in(engine, args, "customers search", zone=settings.local_timezone)
    if me is None:
        return 2
    with session_scope(engine) as session:
        hits = search.search(
            session=session, text=args.text, region=settings.region, limit=args.limit
        )
    if args.json:
        print(json.dumps([h.as_json() for h in hits], ensure_ascii=False))
    elif not hits:
        print(_("{text}: no customer found").format(text=args.text))
    for h in hits if not args.json else ():
        parts = [f"#{h.id} {h.name}", labels.label(labels.TIERS, h.tier)]
        parts += [p for p in (" / ".join(h.phones), h.address) if p]
        print(" · ".join(parts))
    return 0 if hits else 1


def cmd_find(settings: Settings, text: str, *, as_json: bool, args: argparse.Namespace) -> int:
    from seat import customers, phone, privacy
    from seat.cli_identity import sign_in
    from seat.db import make_engine, session_scope

    try:
        e164 = phone.normalise(text, settings.region)
    except phone.PhoneError as exc:
        print(f"seat customers find: {text!r}: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    me = sign_in(engine, args, "customers find", zone=settings.local_timezone)
    if me is None:
        return 2
    with session_scope(engine) as session:
        hit = customers.find_by_phone(session=session, e164=e164)
        card = customers.card(session=session, customer_id=hit.id) if hit else None
    if card is not None and not me.supervisor:  # masked as on the screens
        card = replace(
            card,
            address=privacy.mask_address(card.address) if card.address else card.address,
            second_address=privacy.mask_address(card.second_address)
            if card.second_address
            else card.second_address,
            phones=tuple(privacy.mask_phone(p, settings.region) for p in card.phones),
        )
    if card is None:
        if as_json:
            print(json.dumps({"phone": e164, "found": False}))
        else:
            print(
                _("{number}: no customer on file").format(
                    number=phone.display(e164, settings.region)
                )
            )
        return 1
    if as_json:
        print(
            json.dumps(
                {
                    "phone": e164,
                    "found": True,
                    "customer": {
                        "id": card.id,
                        "name": card.name,
                        "tier": card.tier,
                        "level": card.level,
                        "gender": card.gender,
                        "birthday": card.birthday.isoformat() if card.birthday else None,
                        "address": card.address,
                        "phones": list(card.phones),
                        "open_complaints": len(card.open_complaints),
                        "open_work_orders": len(card.open_work_orders),
                        "last_calls": [
                            {
                                "started_at": c.started_at.isoformat(),
                                "agent": c.agent,
                                "need": c.need_category,
                                "outcome": c.outcome,
                            }
                            for c in card.last_calls
                        ],
                    },
                },
                ensure_ascii=False,
            )
        )
    else:
        phones = ", ".join(
            phone.display(p, settings.region) if me.supervisor else p for p in card.phones
        )
        print(
            _("#{id} {name} · {tier} (level {level}) · {phones}").format(
                id=card.id, name=card.name, tier=card.tier, level=card.level, phones=phones
            )
        )
        if card.address:
            print(f"  {card.address}")
        print(
            "  "
            + _("open complaints: {complaints} · open work orders: {orders}").format(
                complaints=len(card.open_complaints), orders=len(card.open_work_orders)
            )
        )
        for c in card.last_calls:
            print(
                f"  {c.started_at:%Y-%m-%d %H:%M} {c.need_category or '-'} -> "
                f"{c.outcome or '-'} ({c.agent})"
            )
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    import importlib

    from seat import callbacks, privacy, sla
    from seat.cli_identity import sign_in
    from seat.clock import SystemClock
    from seat.db import few_collections, make_engine, session_scope
    from seat.export import write
    from seat.reports import PERSONAL_REPORTS

    if args.date_to < args.date_from:
        print("seat report: " + _("--to is before --from"), file=sys.stderr)
        return 2
    module = importlib.import_module(f"seat.reports.{args.report_name}")
    engine = make_engine(settings.database_url)
    me = None
    if args.report_name in PERSONAL_REPORTS:
        me = sign_in(engine, args, f"report {args.report_name}", zone=settings.local_timezone)
        if me is None:
            return 2
    # The cycle collector paused while the report's rows are built and written (one
    # command; rows make no cycles): a year's tens of thousands of lines would have it walk
    # them again and again while they are made and written (seat bench times it so too).
    with few_collections():
        try:
            policy = sla.load_policy(settings)
            for warning in sla.calendar_warnings(
                policy.calendar, SystemClock().now().astimezone(policy.calendar.zone).date(),
                source=policy.source,
            ):
                print("seat report: " + _("warning: {problem}").format(problem=warning),
                      file=sys.stderr)  # fmt: skip
            with session_scope(engine) as session:
                tables = module.tables(
                    session=session,
                    date_from=args.date_from,
                    date_to=args.date_to,
                    settings=settings,
                    now=SystemClock().now(),
                )
        except (sla.PolicyError, callbacks.PolicyError) as exc:  # no report by rules nobody chose
            print(f"seat report: {exc}", file=sys.stderr)
            return 2
        if me is not None and not me.supervisor:
            privacy.mask_tables(tables, settings.region)
        write(tables, args.format, args.output, pages=getattr(module, "PAGES", False))
        return 0


def cmd_callbacks_schedule(settings: Settings) -> int:
    from seat import members
    from seat.callbacks import PolicyError, load_policy, schedule
    from seat.clock import SystemClock
    from seat.db import make_engine, session_scope

    try:
        policy = load_policy(settings)
        member_policy = members.load_policy(settings)
    except PolicyError as exc:
        print(f"seat callbacks schedule: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        report = schedule(session=session, now=SystemClock().now(), policy=policy,
                          member_policy=member_policy)  # fmt: skip
    for s in report.created:
        print(
            f"{s.due_at:%Y-%m-%d %H:%M}Z  {s.rule:<12} customer #{s.customer_id:<6} "
            f"agent #{s.owner_id:<4} {s.source_key}"
        )
    print(report.summary())
    return 0


def cmd_workplan(settings: Settings, args: argparse.Namespace) -> int:
    from seat import privacy
    from seat.cli_identity import sign_in
    from seat.clock import SystemClock
    from seat.db import make_engine, session_scope
    from seat.export import write
    from seat.workplan import tables

    engine = make_engine(settings.database_url)
    me = sign_in(engine, args, "workplan", zone=settings.local_timezone)
    if me is None:
        return 2
    try:
        with session_scope(engine) as session:
            result = tables(
                session=session,
                day=args.day,
                assignee=args.assignee,
                work_center=args.work_center,
                settings=settings,
                now=SystemClock().now(),
            )
    except LookupError as exc:
        print(f"seat workplan: {exc}", file=sys.stderr)
        return 2
    if not me.supervisor:  # technicians' addresses: whole for a supervisor's printout only
        privacy.mask_tables(result, settings.region)
    write(result, args.format, args.output)
    return 0
