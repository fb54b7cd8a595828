"""The `seat` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from seat.config import Settings, demo_database_url, load_settings, to_database_url
from seat.i18n import _


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seat", description=_("A keyboard-driven call-center seat."))
    p.add_argument("--db", help=_("database file or SQLAlchemy URL (or SEAT_DATABASE_URL)"))
    p.add_argument("--agent", help=_("sign in as this agent (login, e.g. li.na)"))
    p.add_argument("--demo", action="store_true", help=_("open a demo desk on its own SQLite file"))
    p.add_argument("--region", help=_("default phone region, e.g. CN (or SEAT_REGION)"))
    from seat.i18n import LanguageAction  # sets the language as soon as it is parsed

    p.add_argument("--lang", action=LanguageAction, help=_("zh_CN or en (or SEAT_LANG, LANG)"))
    sub = p.add_subparsers(dest="command")

    d = sub.add_parser("demo", help=_("seed a database for demos and benchmarks"))
    d.add_argument("--db", dest="sub_db", help=_("database file or URL to seed"))
    d.add_argument("--customers", type=int, default=300)
    d.add_argument("--calls", type=int, default=3000)
    d.add_argument("--seed", type=int, default=7)

    c = sub.add_parser("customers", help=_("import and find customers"))
    csub = c.add_subparsers(dest="customers_command", required=True)
    imp = csub.add_parser("import", help=_("import customers from a CSV file"))
    imp.add_argument("file", type=Path)
    imp.add_argument("--db", dest="sub_db")
    find = csub.add_parser("find", help=_("find a customer by phone number"))
    find.add_argument("phone")
    find.add_argument("--json", action="store_true", help=_("print JSON"))
    find.add_argument("--db", dest="sub_db")

    from seat.reports import REPORTS

    rep = sub.add_parser("report", help=_("statistics for spreadsheets and meetings"))
    rsub = rep.add_subparsers(dest="report_name", required=True)
    for name in REPORTS:
        r = rsub.add_parser(name, help=_("the {name} report").format(name=name))
        r.add_argument("--from", dest="date_from", required=True, type=_date, help="YYYY-MM-DD")
        r.add_argument("--to", dest="date_to", required=True, type=_date, help="YYYY-MM-DD")
        r.add_argument("--format", choices=("csv", "xlsx", "json", "txt"), default="csv")
        r.add_argument("--output", type=Path, help=_("write to FILE instead of standard output"))
        r.add_argument("--db", dest="sub_db")

    from seat import bench, ops

    ops.add_parsers(sub)
    bench.add_parser(sub)

    wp = sub.add_parser("workplan", help=_("the daily work plan (工作计划表) for printing"))
    wp.add_argument("--date", dest="day", required=True, type=_date, help="YYYY-MM-DD")
    wp.add_argument("--assignee", help=_("technician login (default: everyone)"))
    wp.add_argument("--work-center", dest="work_center", help=_("only this work center"))
    wp.add_argument("--format", choices=("csv", "txt"), default="txt")
    wp.add_argument("--output", type=Path, help=_("write to FILE instead of standard output"))
    wp.add_argument("--db", dest="sub_db")

    cb = sub.add_parser("callbacks", help=_("callbacks by the rules (回访)"))
    cbsub = cb.add_subparsers(dest="callbacks_command", required=True)
    sch = cbsub.add_parser(
        "schedule", help=_("create the callbacks the rules call for (idempotent)")
    )
    sch.add_argument("--db", dest="sub_db")
    return p


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("{text!r} is not a date like 2026-11-23").format(text=text)
        ) from None


def settings_for(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    db = getattr(args, "sub_db", None) or args.db
    if db:
        settings = settings.with_database(to_database_url(db))
    elif args.demo:
        settings = settings.with_database(demo_database_url())
    if args.region:
        from dataclasses import replace

        settings = replace(settings, region=args.region.upper())
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings_for(args)
    if args.command == "demo":
        return cmd_demo(settings, args)
    if args.command in ("pop", "db", "backup", "restore"):
        from seat import ops

        return ops.run(settings, args)
    if args.command == "bench":
        from seat.bench import main as bench_main

        return bench_main(args)
    if args.command == "report":
        return cmd_report(settings, args)
    if args.command == "workplan":
        return cmd_workplan(settings, args)
    if args.command == "callbacks":
        return cmd_callbacks_schedule(settings)
    if args.command == "customers":
        if args.customers_command == "import":
            return cmd_import(settings, args.file)
        return cmd_find(settings, args.phone, as_json=args.json)
    return run_app(settings, agent=args.agent, demo=args.demo)


def run_app(settings: Settings, *, agent: str | None, demo: bool) -> int:
    from seat.app import make_app
    from seat.clock import SystemClock
    from seat.db import make_engine

    engine = make_engine(settings.database_url)
    clock = SystemClock()
    if demo:
        from seat.demo import ensure_demo

        if ensure_demo(engine, now=clock.now()):
            print(_("Seeded a demo desk at"), settings.database_url, file=sys.stderr)
    make_app(settings=settings, clock=clock, agent=agent, engine=engine).run()
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from seat.clock import SystemClock
    from seat.db import make_engine
    from seat.demo import seed

    engine = make_engine(settings.database_url)
    try:
        report = seed(
            engine,
            customers=args.customers,
            calls=args.calls,
            seed=args.seed,
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


def cmd_find(settings: Settings, text: str, *, as_json: bool) -> int:
    from seat import customers, phone
    from seat.db import make_engine, session_scope

    try:
        e164 = phone.normalise(text, settings.region)
    except phone.PhoneError as exc:
        print(f"seat customers find: {text!r}: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        hit = customers.find_by_phone(session=session, e164=e164)
        card = customers.card(session=session, customer_id=hit.id) if hit else None
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
        phones = ", ".join(phone.display(p, settings.region) for p in card.phones)
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

    from seat.clock import SystemClock
    from seat.db import make_engine, session_scope
    from seat.export import write

    if args.date_to < args.date_from:
        print("seat report: " + _("--to is before --from"), file=sys.stderr)
        return 2
    module = importlib.import_module(f"seat.reports.{args.report_name}")
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        tables = module.tables(
            session=session,
            date_from=args.date_from,
            date_to=args.date_to,
            settings=settings,
            now=SystemClock().now(),
        )
    write(tables, args.format, args.output)
    return 0


def cmd_callbacks_schedule(settings: Settings) -> int:
    from seat.callbacks import PolicyError, load_policy, schedule
    from seat.clock import SystemClock
    from seat.db import make_engine, session_scope

    try:
        policy = load_policy(settings)
    except PolicyError as exc:
        print(f"seat callbacks schedule: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        report = schedule(session=session, now=SystemClock().now(), policy=policy)
    for s in report.created:
        print(
            f"{s.due_at:%Y-%m-%d %H:%M}Z  {s.rule:<12} customer #{s.customer_id:<6} "
            f"agent #{s.owner_id:<4} {s.source_key}"
        )
    print(report.summary())
    return 0


def cmd_workplan(settings: Settings, args: argparse.Namespace) -> int:
    from seat.db import make_engine, session_scope
    from seat.export import write
    from seat.workplan import tables

    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            result = tables(
                session=session,
                day=args.day,
                assignee=args.assignee,
                work_center=args.work_center,
                settings=settings,
            )
    except LookupError as exc:
        print(f"seat workplan: {exc}", file=sys.stderr)
        return 2
    write(result, args.format, args.output)
    return 0
