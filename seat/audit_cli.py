"""`seat audit verify`: walk the hash chains of the history tables (seat.audit);
`seat db grant ROLE`: give the seats' own PostgreSQL role what it needs and no more."""

from __future__ import annotations

import argparse
import json
import re
import sys

from seat.cli_help import add_db_option, example
from seat.config import Settings
from seat.i18n import N_, _

REASONS = {
    "unsealed": N_("a row without a hash (written around the seat)"),
    "chain": N_("the row before it was changed, replaced or removed"),
    "content": N_("its content was changed"),
}


def add_parsers(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser(
        "audit",
        help=_("check that the histories were not rewritten"),
        description=_(
            "Every history row (complaint, work order and callback events, customer changes, "
            "reveals) carries a hash chained to the row before it. verify walks the chains "
            "and names the first broken link; exit 1 if there is one."
        ),
        epilog=example("seat audit verify", "seat audit verify --format json --db desk.db"),
    )
    asub = audit.add_subparsers(dest="audit_command", required=True, title=_("commands"),
                                metavar="COMMAND")
    verify = asub.add_parser(
        "verify", help=_("walk the hash chains"),
        description=_("Walk the hash chains of the history tables."),
        epilog=example("seat audit verify"),
    )
    verify.add_argument("--format", choices=("txt", "json"), default="txt",
                        help=_("output format (default: txt)"))
    add_db_option(verify)


def add_grant_parser(dsub: argparse._SubParsersAction) -> None:
    """`seat db grant ROLE` (PostgreSQL), added to `seat db`'s subcommands."""
    grant = dsub.add_parser(
        "grant",
        help=_("PostgreSQL: give the seats' role what it needs (run as the tables' owner)"),
        description=_(
            "Give the role the seats connect with read and write access to the working "
            "tables and only SELECT and INSERT on the history tables. Run it as the owner "
            "of the tables (the role that runs seat db upgrade), after every upgrade."
        ),
        epilog=example("seat db grant seat_app --db postgresql+psycopg://owner@db-host/seat"),
    )
    grant.add_argument("role", metavar="ROLE", help=_("the role the seats connect with"))
    add_db_option(grant)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from seat import audit
    from seat.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            checks = audit.verify(conn)
    finally:
        engine.dispose()
    broken = next((c.broken for c in checks if c.broken is not None), None)
    if args.format == "json":
        out = {
            "ok": broken is None,
            "tables": [{"table": c.table, "rows": c.rows} for c in checks],
            "first_broken": None
            if broken is None
            else {"table": broken.table, "id": broken.row_id, "reason": broken.reason},
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for c in checks:
            state = _("ok") if c.broken is None else _("BROKEN")
            line = _("{table}: {rows} rows, {state}")
            print(line.format(table=c.table, rows=c.rows, state=state))
        if broken is not None:
            print(
                _("First broken link: {table} row {id}: {reason}.").format(
                    table=broken.table, id=broken.row_id, reason=_(REASONS[broken.reason])
                ),
                file=sys.stderr,
            )
    return 0 if broken is None else 1


_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def grant(settings: Settings, role: str) -> int:
    from sqlalchemy import text

    from seat import audit
    from seat.db import make_engine

    if not _ROLE.match(role):
        print(_("seat db grant: {role!r} is not a role name").format(role=role), file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        if engine.dialect.name != "postgresql":
            print(_("seat db grant: only for PostgreSQL (a SQLite file has no roles)"),
                  file=sys.stderr)
            return 2
        with engine.begin() as conn:
            tables = list(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                ).scalars()
            )
            conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
            for table in tables:
                if table == "alembic_version":
                    rights = "SELECT"  # migrations run as the owner, never as the seats
                elif table in audit.HISTORY_TABLES:
                    rights = "SELECT, INSERT"
                else:
                    rights = "SELECT, INSERT, UPDATE, DELETE"
                conn.execute(text(f'GRANT {rights} ON "{table}" TO "{role}"'))
            conn.execute(text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"'))
    finally:
        engine.dispose()
    print(_("{role} may now use the seat's tables; the histories are append-only for it.").format(
        role=role))
    return 0
