"""Operations commands: `seat pop`, `seat db upgrade|check`, `seat backup`, `seat restore`."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from seat.cli_help import add_db_option, example
from seat.config import Settings
from seat.i18n import _, ngettext

COMMANDS = ("pop", "db", "backup", "restore")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    pop = sub.add_parser(
        "pop",
        help=_("announce an incoming call to a running seat (PBX hook)"),
        description=_(
            "Tell a running seat that a call is coming in: its desk opens the caller's card. "
            "Phone systems call this from their dial plan."
        ),
        epilog=example("seat pop 13800138000", "seat pop '+86 138 0013 8000' --agent li.na"),
    )
    pop.add_argument("number", metavar="NUMBER", help=_("the caller's number, any usual format"))
    pop.add_argument("--agent", dest="pop_agent", metavar="LOGIN",
                     help=_("the agent whose seat should ring (default: the first free seat)"))
    add_db_option(pop)

    db = sub.add_parser(
        "db",
        help=_("schema migrations"),
        description=_("Upgrade the database schema, or check its revision and health."),
        epilog=example("seat db check", "seat db upgrade --db /srv/seat/floor.db"),
    )
    dsub = db.add_subparsers(dest="db_command", required=True, title=_("commands"),
                             metavar="COMMAND")
    for name, text in (
        ("upgrade", _("migrate the database to the newest schema")),
        ("check", _("report the schema revision and database health")),
    ):
        p = dsub.add_parser(
            name, help=text, description=text[:1].upper() + text[1:] + ".",
            epilog=example(f"seat db {name} --db desk.db"),
        )
        add_db_option(p)
    from seat import audit_cli

    audit_cli.add_grant_parser(dsub)

    backup = sub.add_parser(
        "backup",
        help=_("consistent copy of a live SQLite desk"),
        description=_(
            "Copy a live SQLite desk database consistently while seats keep working "
            "(PostgreSQL: use pg_dump)."
        ),
        epilog=example("seat backup /backups/desk-2026-11-23.db"),
    )
    backup.add_argument("path", type=Path, metavar="PATH",
                        help=_("the new backup file (must not exist)"))
    add_db_option(backup)
    restore = sub.add_parser(
        "restore",
        help=_("bring a backup back into the desk database"),
        description=_(
            "Replace the desk database with a backup (check it first with seat db check "
            "--db FILE); an older backup is upgraded to the newest schema."
        ),
        epilog=example("seat restore /backups/desk-2026-11-23.db"),
    )
    restore.add_argument("path", type=Path, metavar="PATH", help=_("the backup file to restore"))
    restore.add_argument(
        "--force", action="store_true",
        help=_("restore even though seats are connected (their work since the backup is lost)"),
    )  # fmt: skip
    add_db_option(restore)


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "pop":
        return cmd_pop(settings, args.number, args.pop_agent)
    if args.command == "db":
        if args.db_command == "grant":
            from seat import audit_cli

            return audit_cli.grant(settings, args.role)
        return cmd_db(settings, args.db_command)
    if args.command == "backup":
        return cmd_backup(settings, args.path)
    return cmd_restore(settings, args.path, force=args.force)


def _fail(command: str, message: str, code: int = 2) -> int:
    print(f"seat {command}: {message}", file=sys.stderr)
    return code


def cmd_pop(settings: Settings, number: str, agent: str | None) -> int:
    from seat import phone

    given = phone.caller_id(number)
    if given is None:
        e164 = ""  # withheld: the seat opens the call and asks the caller for a number
    else:
        try:
            e164 = phone.normalise(given, settings.region)
        except phone.PhoneError as exc:
            return _fail("pop", f"{number!r}: {exc}")
    try:
        pop_id = _announce(settings, e164, agent)
    except LookupError as exc:
        return _fail("pop", str(exc))
    except Exception as exc:  # the phone system logs this line; a traceback helps nobody
        from seat.db import retryable

        if retryable(exc):
            return _fail("pop", _("the database stayed busy; the call was not announced"), 1)
        return _fail("pop", _("cannot announce the call: {error}").format(error=exc), 1)
    target = f"{agent}'s seat" if agent else "the first free seat"
    shown = e164 or _("withheld number")
    print(f"pop #{pop_id}: {shown} -> {target}")
    return 0


POP_ATTEMPTS = 8


def _announce(settings: Settings, e164: str, agent: str | None) -> int:
    """Insert the pop, trying again while the database is busy (a long write elsewhere)."""
    from seat import agents, seats
    from seat.clock import SystemClock
    from seat.db import backoff, make_engine, pause, retryable, session_scope

    engine = make_engine(settings.database_url)
    try:
        for attempt in range(POP_ATTEMPTS):
            try:
                with session_scope(engine) as session:
                    agent_id = None
                    if agent:
                        found = agents.get_by_name(session=session, name=agent)
                        if found is None:
                            raise LookupError(f"no agent with login {agent!r}")
                        agent_id = found.id
                    pop = seats.announce(
                        session=session, now=SystemClock().now(), e164=e164, agent_id=agent_id
                    )
                return pop.id
            except Exception as exc:
                if not retryable(exc) or attempt == POP_ATTEMPTS - 1:
                    raise
                pause(backoff(attempt, cap=2.0))
    finally:
        engine.dispose()
    raise AssertionError("unreachable")


def cmd_db(settings: Settings, command: str) -> int:
    from seat.db import current_revision, head_revision, make_engine, upgrade

    engine = make_engine(settings.database_url, migrate=False)
    url = engine.url.render_as_string(hide_password=True)
    try:
        if command == "upgrade":
            before = current_revision(engine)
            upgrade(engine)
            print(f"{url}: {before or 'empty'} -> {current_revision(engine)}")
            return 0
        current, head = current_revision(engine), head_revision()
        problems = []
        if current != head:
            problems.append(
                f"schema is at {current or 'nothing'}, newest is {head}: run `seat db upgrade`"
            )
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                result = conn.exec_driver_sql("PRAGMA quick_check").scalar()
                if result != "ok":
                    problems.append(f"integrity check: {result}")
                mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                print(f"{url}: sqlite, journal {mode}")
            else:
                version = conn.exec_driver_sql("SHOW server_version").scalar()
                print(f"{url}: {engine.dialect.name} {version}")
    except Exception as exc:  # unreachable server, unreadable file: say so, no traceback
        return _fail("db", f"cannot use {url}: {exc}", 1)
    print(f"schema revision {current} (newest {head})")
    for p in problems:
        print(f"problem: {p}")
    for warning in _calendar_warnings(settings):
        print(f"warning: {warning}")
    return 1 if problems else 0


def _calendar_warnings(settings: Settings) -> list[str]:
    """This year's or next year's business calendar not entered yet (a broken policy file
    is the seat's start-up check's to report)."""
    from seat import sla
    from seat.clock import SystemClock

    try:
        policy = sla.load_policy(settings)
    except sla.PolicyError:
        return []
    today = SystemClock().now().astimezone(policy.calendar.zone).date()
    return sla.calendar_warnings(policy.calendar, today, source=policy.source)


def _sqlite_path(settings: Settings, command: str) -> Path | None:
    url = settings.database_url
    if not url.startswith("sqlite:///"):
        print(
            f"seat {command}: {url.split('://')[0]} is not an SQLite file. For PostgreSQL use "
            "pg_dump / pg_restore (see README, Backups).",
            file=sys.stderr,
        )
        return None
    return Path(url.removeprefix("sqlite:///"))


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    # One step (pages=-1): a step-wise copy restarts whenever a seat writes, and under a
    # steady 10-20 writes/s it never finishes. One step reads one consistent snapshot; WAL
    # lets the seats keep writing meanwhile.
    source.backup(target, pages=-1)


def _copy_to(source: sqlite3.Connection, path: Path) -> None:
    """Copy into a temp file beside `path`, then rename: `path` is whole or absent, never part.

    Refuses (FileExistsError) if `path` appeared meanwhile; the temp file never stays.
    """
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        from seat.db import create_private

        create_private(tmp)  # a backup holds every customer's data: owner-only
        dst = sqlite3.connect(tmp)
        try:
            _copy(source, dst)
        finally:
            dst.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic, and never over a file someone made meanwhile
        except OSError as exc:
            if isinstance(exc, FileExistsError):
                raise
            if path.exists():
                raise FileExistsError(str(path)) from exc
            os.replace(tmp, path)  # a file system without hard links
    finally:
        tmp.unlink(missing_ok=True)


def cmd_backup(settings: Settings, path: Path) -> int:
    db = _sqlite_path(settings, "backup")
    if db is None:
        return 2
    if not db.is_file():
        return _fail("backup", f"no desk database at {db}")
    if path.exists():
        return _fail("backup", f"{path} exists; choose a new file")
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as src:
            _copy_to(src, path)  # SQLite's online backup: consistent while seats keep working
    except FileExistsError:
        return _fail("backup", f"{path} exists; choose a new file")
    except (sqlite3.Error, OSError) as exc:
        return _fail("backup", _("could not copy {db}: {error}").format(db=db, error=exc), 1)
    print(f"backed up {db} to {path}")
    return 0


def known_revisions() -> set[str]:
    """Every schema revision this version of seat has a migration for."""
    from seat.db import _REVISION, MIGRATIONS

    found: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        match = _REVISION.search(script.read_text(encoding="utf-8"))
        if match:
            found.add(match.group(2))
    return found


def _restore_refusal(db: Path, backup: sqlite3.Connection, path: Path, force: bool) -> str | None:
    """Why the backup must not replace the desk (nothing has been touched yet), or None."""
    if backup.execute("PRAGMA quick_check").fetchone()[0] != "ok":
        return f"{path} fails SQLite's integrity check"
    tables = {r[0] for r in backup.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "alembic_version" not in tables:
        return f"{path} is not a seat backup"
    revisions = {r[0] for r in backup.execute("SELECT version_num FROM alembic_version")}
    unknown = revisions - known_revisions()
    if unknown or not revisions:
        return _(
            "{path} comes from a newer seat (schema {revision}); this seat cannot read it. "
            "Restore it with that version of seat. Nothing was changed."
        ).format(path=path, revision=", ".join(sorted(unknown)) or "?")
    if force or not db.is_file():
        return None
    seats = _live_seats(db)
    if seats:
        return ngettext(
            "{n} seat is connected to {db} (a heartbeat in the last {s} s): its work since the "
            "backup would be lost and its ids reused. Close it first, or use --force.",
            "{n} seats are connected to {db} (a heartbeat in the last {s} s): their work since "
            "the backup would be lost and their ids reused. Close them first, or use --force.",
            seats,
        ).format(n=seats, db=db, s=_presence_seconds())
    return None


def _live_seats(db: Path) -> int:
    from seat.clock import SystemClock
    from seat.seats import PRESENCE_TTL

    cutoff = (SystemClock().now() - PRESENCE_TTL).astimezone(UTC)
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as live:
        has = live.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='presence'"
        ).fetchone()
        if not has:
            return 0
        stamps = [r[0] for r in live.execute("SELECT heartbeat_at FROM presence")]
    return sum(1 for at in stamps if _aware(at) >= cutoff)


def _presence_seconds() -> int:
    from seat.seats import PRESENCE_TTL

    return int(PRESENCE_TTL.total_seconds())


def _aware(stamp: str) -> datetime:
    at = datetime.fromisoformat(stamp)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def cmd_restore(settings: Settings, path: Path, *, force: bool = False) -> int:
    db = _sqlite_path(settings, "restore")
    if db is None:
        return 2
    if not path.is_file():
        return _fail("restore", f"no backup at {path}")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as src:
        why = _restore_refusal(db, src, path, force)
        if why:
            return _fail("restore", why)
        kept = None
        db.parent.mkdir(parents=True, exist_ok=True)
        if db.is_file():
            from seat.clock import SystemClock

            stamp = SystemClock().now().astimezone(UTC).strftime("%Y%m%d-%H%M%S")
            kept = db.with_name(f"{db.name}.replaced-{stamp}")
            with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as live:
                _copy_to(live, kept)  # the database as it was, whole, before anything changes
        with closing(sqlite3.connect(db, timeout=10)) as dst:
            _copy(src, dst)
    from seat.db import make_engine

    make_engine(f"sqlite:///{db}").dispose()  # an older backup is brought to the newest schema
    print(f"restored {path} into {db}")
    if kept:
        print(_("the replaced database is kept as {path}").format(path=kept))
    return 0
