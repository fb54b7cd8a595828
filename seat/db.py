"""Engine factory and migrations. Nothing is created at import time."""

from __future__ import annotations

import gc
import logging
import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, CursorResult, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000

WRITE: dict[str, Any] = {"seat_begin": "IMMEDIATE"}
"""Execution options of a write transaction: on SQLite it takes the write lock at BEGIN
(`session.connection(execution_options=WRITE)` before the first statement). A deferred
transaction that has read cannot wait for the lock when it then writes: SQLite refuses it at
once (SQLITE_BUSY_SNAPSHOT), busy timeout or not. PostgreSQL ignores the option."""

# SQLite primary result codes; PostgreSQL SQLSTATEs (serialization_failure, deadlock_detected).
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def make_engine(
    url: str, *, migrate: bool = True, echo: bool = False, read_only: bool = False,
    background_checkpoints: bool = False,
) -> Engine:
    """Build the engine for a SQLAlchemy URL; SQLite gets WAL, a busy timeout and FKs.

    `read_only` opens an SQLite file for reading only (faults.unwritable said it cannot be
    written): nothing is created or migrated, and a schema older than the code's is
    faults.ReadOnlyOutdated. `background_checkpoints`: an SQLite file's log is copied back
    into it on a background thread (`Checkpoints`), never in a save: for the seat's screens
    and the phone-system server, where a person waits for each save."""
    from seat import audit, faults, textguard

    textguard.install()
    audit.install()
    if read_only:
        return _read_only_engine(url, echo=echo)
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url not in ("sqlite://", "sqlite:///:memory:"):
            create_private(Path(url.removeprefix("sqlite:///")))
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        database = engine.url.database
        if background_checkpoints and database and database != ":memory:":
            CHECKPOINTS.serve(engine, str(Path(database).resolve()))
    if migrate:
        stored = stored_revisions(engine)
        if stored != {head_from_files()}:
            unknown = (stored or set()) - known_revisions()
            if unknown:  # Alembic would fail with "Can't locate revision"
                engine.dispose()
                raise faults.NewerSchema(url, unknown)
            upgrade(engine)  # Alembic costs 150-250 ms to import and run: only when needed
    return engine


def has_rows(engine: Engine, table_name: str) -> bool:
    """Whether the table has a row, named without its mapped class: a seat's start-up asks
    before the mapped tables exist (seat.lazy)."""
    from sqlalchemy import literal, select, table

    with engine.connect() as conn:
        found = conn.execute(select(literal(1)).select_from(table(table_name)).limit(1))
        return found.first() is not None


def _read_only_engine(url: str, *, echo: bool) -> Engine:
    from seat import faults

    path = faults.sqlite_file(url)
    if path is None:
        raise ValueError(f"only an SQLite file opens read-only: {url}")
    query = {"mode": "ro", "uri": "true"}
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if not os.access(path.parent, os.W_OK) and not shm.exists() and not _has_content(wal):
        # No -shm and no folder to make it in: SQLite reads such a file only as immutable,
        # which is right while no -wal holds commits. (With one, SQLite's own error tells.)
        query["immutable"] = "1"
    target = URL.create("sqlite", database="file:" + quote(str(path.resolve())), query=query)
    connect_args = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    engine = create_engine(target, echo=echo, connect_args=connect_args)
    event.listen(engine, "connect", _sqlite_read_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    stored = stored_revisions(engine)
    if stored != {head_from_files()}:
        try:
            if stored is None:  # a damaged file says so here (faults.explain tells it)
                with engine.connect() as conn:
                    conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()
        finally:
            engine.dispose()
        if stored and stored - known_revisions():
            raise faults.NewerSchema(url, stored - known_revisions())
        raise faults.ReadOnlyOutdated(url)
    return engine


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def refresh_statistics(engine: Engine, tables: Sequence[str] = ()) -> None:
    """Fresh planner statistics after a bulk write (seeding, an import): without them SQLite
    guesses, and picks e.g. the kind index for `work_order_id IN (...) AND kind = ...`.

    `tables`: only these (an import touches two tables: a full ANALYZE of a big desk costs
    seconds); none: all of them. A full ANALYZE (about a second on a million calls): a
    sampled one (analysis_limit=1000) still took the kind index, its sample being mostly rows
    without a work order.
    """
    with engine.connect() as conn:
        names = [conn.dialect.identifier_preparer.quote(table) for table in tables]
        if conn.dialect.name == "sqlite":
            raw = conn.connection.dbapi_connection
            raw.execute("PRAGMA analysis_limit=0")  # type: ignore[union-attr]
            for statement in [f"ANALYZE {name}" for name in names] or ["ANALYZE"]:
                raw.execute(statement)  # type: ignore[union-attr]
        else:
            conn.exec_driver_sql("ANALYZE " + ", ".join(names))
            conn.commit()


_ANALYZE = re.compile(r'^ANALYZE "main"\."((?:[^"]|"")+)"$')
GROWTH = 25
"""How many times larger than at its last ANALYZE a table is before PRAGMA optimize (SQLite
3.40's rule) analyses it again."""


def optimize_statistics(conn: Connection) -> list[str]:
    """SQLite's `PRAGMA optimize` (fresh planner statistics for the tables this connection
    queried, where they went stale), less the ANALYZE it would repeat for nothing.

    SQLite analyses a table every time when one of its indexes has no statistics; ANALYZE
    writes none for an index with no entries (a partial index none of the rows match yet,
    as `call`'s on callback_id), so each run read the whole table again (`call`: a million
    rows, most of a second) and wrote the same statistics. Such a table is analysed here
    when its statistics are stale as for any other table (it grew GROWTH times since its
    last ANALYZE, by its highest rowid, an upper bound of its rows) or when an index lacking
    statistics now has entries. Returns the ANALYZE statements run."""
    ran = []
    # 0xfffe (the default) | 1: list the ANALYZE statements instead of running them.
    for (statement,) in conn.exec_driver_sql("PRAGMA optimize(65535)").all():
        found = _ANALYZE.match(statement)
        if found is not None and _statistics_hold(conn, found.group(1).replace('""', '"')):
            continue
        conn.exec_driver_sql(statement)
        ran.append(statement)
    return ran


def _statistics_hold(conn: Connection, table: str) -> bool:
    """True when `table`'s statistics are as ANALYZE would write them again but for its
    empty indexes (it did not grow GROWTH times, and every index lacking statistics has no
    entries)."""
    quoted = '"' + table.replace('"', '""') + '"'
    stats = dict(
        conn.exec_driver_sql("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = ?", (table,)).all()
    )
    counted = [int(str(stat).split()[0]) for stat in stats.values() if stat]
    if not counted:
        return False  # never analysed (or empty then): ANALYZE it
    try:
        highest = conn.exec_driver_sql(f"SELECT max(rowid) FROM {quoted}").scalar()
    except DBAPIError:  # WITHOUT ROWID
        return False
    if (highest or 0) >= GROWTH * max(max(counted), 1):
        return False
    indexes = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
    ).all()
    for name, sql in indexes:
        if name in stats:
            continue
        where = sql.split(" WHERE ", 1)[1] if sql and " WHERE " in sql else None
        if where is None:
            return False  # a full index made since the last ANALYZE
        index = '"' + name.replace('"', '""') + '"'
        probe = f"SELECT 1 FROM {quoted} INDEXED BY {index} WHERE {where} LIMIT 1"
        if conn.exec_driver_sql(probe).first() is not None:
            return False  # it has entries now: its statistics are worth writing
    return True


class ChangeWatch:
    """Tells whether anything was committed to the database since the last look, for a
    screen that refreshes every few seconds and should do nothing when nothing changed.

    `token()` returns a value that differs after any commit (None: this database cannot tell;
    read again every time). Read it *before* reading the data: a commit between the two
    only costs one extra read. SQLite: `PRAGMA data_version` on a connection of its own that
    never writes (the pragma counts other connections' commits). PostgreSQL: the current
    snapshot (`xmin:xmax:running`), which moves when a transaction that wrote commits; a write
    to another database of the cluster only costs a read. An in-memory SQLite cannot tell.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._raw: Any = None
        name = engine.dialect.name
        memory = name == "sqlite" and engine.url.database in (None, "", ":memory:")
        self._kind = "none" if memory else name

    def token(self) -> object | None:
        if self._kind == "sqlite":
            with self._lock:
                if self._raw is None:
                    self._raw = self.engine.raw_connection()
                cur = self._raw.cursor()
                try:
                    cur.execute("PRAGMA data_version")
                    return cur.fetchone()[0]
                finally:
                    cur.close()
        if self._kind == "postgresql":
            with self.engine.connect() as conn:
                return conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar()
        return None

    def close(self) -> None:
        with self._lock:
            if self._raw is not None:
                self._raw.close()
                self._raw = None


LISTS = ("complaints", "callbacks", "orders", "customers")
"""The lists whose writes PostgreSQL's triggers log in `list_change` (migration 0038)."""


class ListChanges:
    """Which lists were written to since the last look, on PostgreSQL, for a screen that keeps
    what it read list by list (the wallboard's seat.supervisor.BoardCache).

    On SQLite the newest id of a table tells (writers take turns, so ids follow commit
    order); on PostgreSQL a transaction still open may commit a row below the newest id. So
    statement triggers log each writing transaction's id per list (`list_change`), and a look
    asks for the lists written to by a transaction the last look's snapshot could not see (in
    progress then, or begun after it): those lists' generations move. Nothing written is
    missed: a transaction still open now is outside this look's snapshot in turn, and is
    found by the next look once it has committed. A look more than `MAX_AGE` seconds after
    the last (the log keeps a day) moves every generation. Safe to share between threads."""

    MAX_AGE = 3600.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: tuple[int, list[int], float] | None = None
        self._epoch = 0
        self._moved: dict[str, int] = dict.fromkeys(LISTS, 0)

    def generations(self, conn: Any) -> dict[str, tuple[int, int]]:
        """Per list, a value that moves with every write to it since the last look (call it
        in the reading transaction before reading the lists: a write committed in between
        costs one more read)."""
        import time

        snapshot = conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar()
        __, xmax, running = snapshot.split(":")
        xip = [int(x) for x in running.split(",") if x]
        at = time.monotonic()
        with self._lock:
            seen = self._seen
            self._seen = (int(xmax), xip, at)
        if seen is None or not 0 <= at - seen[2] < self.MAX_AGE:
            moved: list[str] = list(LISTS)
            epoch = True
        else:
            moved = list(
                conn.exec_driver_sql(
                    "SELECT DISTINCT list FROM list_change WHERE xid >= %(xmax)s "
                    "OR xid = ANY(%(xip)s)",
                    {"xmax": seen[0], "xip": seen[1]},
                ).scalars()
            )
            epoch = False
        with self._lock:
            if epoch:
                self._epoch += 1
            for name in moved:
                if name in self._moved:
                    self._moved[name] += 1
            return {name: (self._epoch, n) for name, n in self._moved.items()}


def prune_list_changes(conn: Any, keep_seconds: int = 86_400) -> None:
    """Delete the PostgreSQL list-change log's rows older than `keep_seconds` (server time)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "DELETE FROM list_change WHERE at < extract(epoch FROM now())::bigint - %(keep)s",
            {"keep": keep_seconds},
        )


_START_UP_FROZEN = [False]


def freeze_start_up() -> None:
    """gc.freeze() what start-up made (seat.cli.run_app: never scanned again while the seat
    runs), and tell few_collections so: gc.get_freeze_count() counts the frozen objects one
    by one (~12 ms of CPU for a seat's ~110,000), which few_collections asked at every
    sidebar read."""
    gc.freeze()
    _START_UP_FROZEN[0] = True


def thaw_start_up() -> None:
    """gc.unfreeze() what freeze_start_up froze (the seat closing)."""
    _START_UP_FROZEN[0] = False
    gc.unfreeze()


@contextmanager
def few_collections(pause: bool = True) -> Iterator[None]:
    """Python's cycle collector paused (when `pause`) while many plain rows are read and
    built (a report's lines, a board's complaints and clocks): tens of thousands of new
    objects would have it walk the process's objects again and again, for cycles such rows
    never make. Reference counting still frees everything as usual.

    On the way out what was made meanwhile (the rows, often still alive: the report about to
    be written) goes straight to the oldest generation, not through a young pass as the
    collector comes back on (one walk over every row list, ~30 ms for a year's report): a
    freeze and unfreeze moves the young objects there without looking at them, as a young
    pass would move the survivors, and a cycle among them is found by the next full pass.
    Not while the seat's start-up is frozen (freeze_start_up, seat.cli.run_app): unfreezing
    would hand it back to the collector; then the collector simply comes back on. (Whether
    anything is frozen is that flag, not gc.get_freeze_count(), which walks every frozen
    object: something frozen by a plain gc.freeze() would be handed back, scanned again
    but never wrong.)"""
    paused = pause and gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            if not _START_UP_FROZEN[0]:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


class Checkpoints:
    """Copies committed pages from an SQLite file's write-ahead log back into the file on a
    background thread, so that no save waits for it.

    SQLite does it itself by default in the commit that takes the log past 1,000 pages: every
    fiftieth or so call saved waited 8-30 ms for a thousand pages to be written into the
    database file (the slowest one in a hundred saves was that one). A seat's own connections
    are told not to (`wal_autocheckpoint=0`); each commit tells this thread instead, which a
    moment later runs a PASSIVE checkpoint on a short-lived connection of its own: it takes no
    lock that a reader or a writer waits for, and what it cannot copy yet (a reader still on
    an older snapshot) the next one copies. Commits that come faster than that are copied
    together. The log is as durable as before; a seat that exits, or a crash, leaves nothing
    that SQLite does not already recover. One daemon thread serves every file of the process.
    """

    DELAY_S = 0.2
    """How long after a commit the copy starts: a burst of commits (an import) is copied once."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[str, None] = {}
        self._busy = False
        self._thread: threading.Thread | None = None
        self.done = 0

    def serve(self, engine: Engine, path: str) -> None:
        """Take over the checkpoints of `engine`'s file at `path`."""
        event.listen(engine, "connect", _no_autocheckpoint)
        event.listen(engine, "commit", lambda conn: self._committed(conn, path))

    def _committed(self, conn: Connection, path: str) -> None:
        """A transaction on `path` commits: copy its log soon if it changed rows. A read's
        commit wrote nothing to copy (a screen reading every few seconds, or a bench reading
        hundreds of times a second, had this thread open the file and copy nothing four
        times a second, beside the reads: seat bench's sidebar row). The connection's
        `total_changes` (rows written, by triggers too) tells whether it wrote since its last
        commit; a write it does not count (a schema change) is copied with the next one."""
        record = conn.connection
        changes = getattr(record.dbapi_connection, "total_changes", None)
        if changes is not None and record.info.get("seat_changes", 0) == changes:
            return
        record.info["seat_changes"] = changes
        self.poke(path)

    def poke(self, path: str) -> None:
        """A transaction on `path` commits: copy its log soon."""
        with self._cond:
            self._due[path] = None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="seat-checkpoints", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until every poked file has been copied (tests); False if it took too long."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._due or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due:
                    self._cond.wait()
                self._busy = True
            paths: list[str] = []
            try:
                pause(self.DELAY_S)
                with self._cond:
                    paths = list(self._due)
                    self._due.clear()
                for path in paths:
                    checkpoint(path)
            except Exception:  # never a traceback on the agent's terminal; the next commit retries
                logging.getLogger("seat").debug("checkpoint failed", exc_info=True)
            finally:
                with self._cond:
                    self.done += len(paths)
                    self._busy = False
                    self._cond.notify_all()


_NEVER = threading.Event()


def pause(seconds: float) -> None:
    """Wait `seconds` (a retry's backoff, the checkpoint thread's delay). Not time.sleep: under
    libfaketime (the way seats are tried at a chosen hour) clock_nanosleep fails with EINVAL,
    while a timed wait on an event works."""
    _NEVER.wait(seconds)


def checkpoint(path: str) -> bool:
    """One PASSIVE checkpoint of the SQLite file at `path` (never created when it is gone);
    whether it ran. Busy or failing, it is simply left to the next one."""
    try:
        con = sqlite3.connect(
            "file:" + quote(path) + "?mode=rw", uri=True, timeout=0, isolation_level=None,
            check_same_thread=False,
        )  # fmt: skip
    except sqlite3.Error:
        return False
    try:
        con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return True
    except sqlite3.Error:
        return False
    finally:
        con.close()


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")


CHECKPOINTS = Checkpoints()


def is_read_only(engine: Engine) -> bool:
    """Whether this engine was opened read-only (make_engine(read_only=True))."""
    return engine.url.query.get("mode") == "ro"


def create_private(path: Path) -> None:
    """Make a new database (or backup) file readable by its owner only; an existing file keeps
    the permissions its administrator gave it. SQLite gives its -wal and -shm files the
    permissions of the database file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:  # another seat made it meanwhile
            pass


MMAP_BYTES = 0x7FFF0000
"""SQLite reads the database file through a memory map (up to this much, SQLite's own
ceiling; the rest as before): a page is read where the operating system already holds it,
not copied in by a system call into each connection's small page cache. A report or the
callbacks view reads tens of megabytes of index; the copying cost a third of that time.
Writes still go through the journal as before (SQLite maps for reading only)."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own transaction handling starts a transaction only at the first write,
    # which breaks SAVEPOINTs; SQLAlchemy emits BEGIN itself instead (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    # INSERT OR REPLACE deletes the row it replaces: with recursive triggers that delete
    # meets the append-only triggers of the history tables instead of slipping past them.
    cur.execute("PRAGMA recursive_triggers=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    # A write to a table with triggers (migration 0051's kept counts on callback and
    # work_order) keeps a statement journal of the pages it changes; in a temporary file
    # that cost about 25 us a callback inserted (the day's rules: ~100 ms a run), in
    # memory about 8.
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_read_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # As _sqlite_pragmas, without setting the journal mode (a write) on a read-only file.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get("seat_begin", "")
    conn.exec_driver_sql(f"BEGIN {mode}" if mode in ("IMMEDIATE", "EXCLUSIVE") else "BEGIN")


def retryable(exc: BaseException) -> bool:
    """A lock or conflict that goes away when the transaction is simply run again, told by
    the driver's error code (never the English text): SQLite BUSY or LOCKED with any extended
    code, PostgreSQL SQLSTATE 40001 or 40P01."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def backoff(
    attempt: int, *, base: float = 0.05, cap: float = 2.0, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before trying again after `attempt` (0-based) failed: doubling, capped,
    half of it random so seats that collided once do not collide again in step."""
    span = min(cap, base * 2**attempt)
    return span / 2 + rand() * span / 2


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("sqlalchemy.url", str(engine.url) if engine is not None else "")
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to `revision` (creating it on an empty database)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*(['\"])([^'\"]+)\1", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.*)$", re.MULTILINE)


@cache
def known_revisions(versions: Path = MIGRATIONS / "versions") -> frozenset[str]:
    """Every revision this seat's migration scripts define (read without Alembic)."""
    found = (_REVISION.search(p.read_text(encoding="utf-8")) for p in versions.glob("*.py"))
    return frozenset(m.group(2) for m in found if m is not None)


@cache
def head_from_files(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The head revision read from the migration scripts without importing Alembic: the one
    revision no script names as its down_revision (None when that is not a single one, so
    the caller asks Alembic). tests/unit/test_db.py checks it against head_revision()."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        down = _DOWN_REVISION.search(text)
        if found is None or down is None:
            return None
        revisions.add(found.group(2))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revisions(engine: Engine) -> set[str] | None:
    """The revisions alembic_version holds, read with plain SQL (None: no such table)."""
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError:
        return None
    return {row[0] for row in rows}


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()  # type: ignore[arg-type]


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class Prepared:
    """A SELECT compiled once per dialect and run at the driver level
    (`Connection.exec_driver_sql`, so the engine's events still see every statement): no
    cache key, no compiled-parameter work, and rows as the driver gives them, without
    SQLAlchemy's per-value result processing (the caller converts what it reads, e.g. with
    `stored_at`). For the few statements a screen runs on every refresh, where that work cost
    more than the statement (seat bench: the sidebar).

    The statement's parameters are given by name at each call, through their types' bind
    processors; an IN of constants is expanded once, with the values it was built with."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._built: dict[tuple[str, str], tuple[str, Any, dict[str, Any],
                                                 dict[str, Callable[[Any], Any]]]] = {}  # fmt: skip
        self._plain: dict[tuple[str, str], Any] = {}

    def execute(
        self, conn: Connection, params: Mapping[str, Any], *, stream: bool = False
    ) -> CursorResult[Any]:
        """Run it on `conn` (a session's connection: the same transaction); `stream`: its
        rows fetched as they are read (a server-side cursor on PostgreSQL), for a caller
        that may stop early."""
        dialect = conn.dialect
        built = self._built.get((dialect.name, dialect.driver))
        if built is None:
            built = self._build(dialect, params)
        sql, (positional, names), fixed, processors = built
        values = {**fixed, **params}
        for name, process in processors.items():
            values[name] = process(values[name])
        options = {"stream_results": True, "max_row_buffer": 100} if stream else None
        if positional:
            return conn.exec_driver_sql(sql, tuple(values[n] for n in names), options)
        return conn.exec_driver_sql(sql, {n: values[n] for n in names}, options)

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, as the driver's own tuples (`plain_rows`): for a statement run on every
        refresh, where SQLAlchemy's result (its columns worked out again, a Row a row, a
        call a row to iterate) cost more than the rows."""
        return plain_rows(conn, *self.plain_call(conn.dialect, params))

    def plain_call(self, dialect: Any, params: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL and the arguments (the driver's paramstyle) `rows` runs for `params`."""
        plain = self._plain.get((dialect.name, dialect.driver))
        if plain is None:
            plain = self._plain_args(dialect, params)
        sql, template, slots, processors = plain
        given = dict(params)
        for name, process in processors.items():
            given[name] = process(given[name])
        if type(template) is list:
            args: Any = template.copy()  # the constants in place; the caller's values put in
            for i, name in slots:
                args[i] = given[name]
            return sql, tuple(args)
        return sql, {**template, **{name: given[name] for name in slots}}

    def _plain_args(self, dialect: Any, params: Mapping[str, Any]) -> Any:
        """`rows`' form of the statement: its SQL, its parameters with the constants in
        place (a list, positional; a dict, named), where the caller's go, their processors."""
        built = self._built.get((dialect.name, dialect.driver))
        if built is None:
            built = self._build(dialect, params)
        sql, (positional, names), fixed, processors = built
        plain: tuple[str, Any, tuple[Any, ...], dict[str, Callable[[Any], Any]]]
        if positional:
            slots = tuple((i, n) for i, n in enumerate(names) if n not in fixed)
            plain = (sql, [fixed.get(n) for n in names], slots, processors)
        else:
            named = tuple(n for n in names if n not in fixed)
            plain = (sql, {n: fixed[n] for n in names if n in fixed}, named, processors)
        self._plain[dialect.name, dialect.driver] = plain
        return plain

    def _build(self, dialect: Any, params: Mapping[str, Any]) -> Any:
        compiled = self.statement.compile(dialect=dialect)
        expanded = compiled.construct_expanded_state(dict(params))
        processors = {}
        for name, bind in compiled.binds.items():
            if name in params and bind.expanding:
                raise ValueError(f"{name}: an expanding parameter is built in, not given")
            if name in params:
                process = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    processors[name] = process
        fixed = {k: v for k, v in expanded.parameters.items() if k not in params}
        # Positional (sqlite3): the names in order; named (psycopg): the statement's own
        # names, none of the caller's extras.
        names = (True, tuple(expanded.positiontup)) if compiled.positional else (
            False, tuple(expanded.parameters))  # fmt: skip
        built = (expanded.statement, names, fixed, processors)
        self._built[dialect.name, dialect.driver] = built
        return built


_PREPARED: dict[int, tuple[Any, Prepared]] = {}


def prepared(statement: Any) -> Prepared:
    """The Prepared of a statement built once (kept by the caller, e.g. in a module's cache),
    made at its first use."""
    hit = _PREPARED.get(id(statement))
    if hit is None or hit[0] is not statement:
        if len(_PREPARED) > 256:
            _PREPARED.clear()
        hit = _PREPARED[id(statement)] = (statement, Prepared(statement))
    return hit[1]


class PreparedIds:
    """A SELECT over a list of ids (`id IN (...)`) run as Prepared: an expanding IN is
    compiled again at every call (seat bench: the sidebar's pages of orders and callbacks),
    so the IN here is a fixed number of plain parameters, built once per size (8, 16, 32,
    ... the first at or above the list's length), the list padded with its last id (a value
    repeated in an IN changes nothing)."""

    def __init__(self, build: Callable[[list[Any]], Any]) -> None:
        self._build = build
        """Given the IN's parameters, the statement."""
        self._sizes: dict[int, Prepared] = {}

    def execute(
        self, conn: Connection, ids: Sequence[Any], params: Mapping[str, Any] | None = None
    ) -> CursorResult[Any]:
        """Run it on `conn` for `ids` (at least one) and any other named parameters."""
        statement, values = self._sized(ids, params)
        return statement.execute(conn, values)

    def rows(
        self, conn: Connection, ids: Sequence[Any], params: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """`execute`'s rows as `Prepared.rows` gives them."""
        statement, values = self._sized(ids, params)
        return statement.rows(conn, values)

    def _sized(
        self, ids: Sequence[Any], params: Mapping[str, Any] | None
    ) -> tuple[Prepared, dict[str, Any]]:
        """The statement of the size `ids` fit in (built once), and its parameters."""
        if not ids:
            raise ValueError("no ids")
        size = 8
        while size < len(ids):
            size *= 2
        statement = self._sizes.get(size)
        if statement is None:
            from sqlalchemy import bindparam

            statement = Prepared(self._build([bindparam(f"id_{i}") for i in range(size)]))
            self._sizes[size] = statement
        values = dict(params or {})
        last = ids[-1]
        for i in range(size):
            values[f"id_{i}"] = ids[i] if i < len(ids) else last
        return statement, values


def plain_rows(conn: Connection, sql: str, args: Any) -> list[Any]:
    """Every row of `sql` (the driver's paramstyle, `args` as the driver takes them) on
    `conn`'s transaction, as the driver's tuples.

    With a listener on the engine's statements (a test counting them, seat bench capturing
    its floor) it runs through `Connection.exec_driver_sql`, so they see it; otherwise on a
    cursor of the driver's connection, without SQLAlchemy's result, its error wrapped as
    SQLAlchemy wraps it (retries and messages see the same errors). On SQLite the texts are
    decoded by sqlite3 itself and checked in bulk (`_plain_fetch`): the same values as the
    connection's text factory gives."""
    dispatch = conn.dispatch
    if dispatch.before_cursor_execute or dispatch.after_cursor_execute:
        for _attempt in range(2):
            result = conn.exec_driver_sql(sql, args)
            try:
                rows = _plain_fetch(result.cursor, plain=not _attempt)
            finally:
                result.close()
            if rows is not None:
                return rows
        raise AssertionError("unreachable")
    raw = conn.connection.dbapi_connection
    dbapi = conn.dialect.loaded_dbapi
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        for _attempt in range(2):
            cursor.execute(sql, args)
            rows = _plain_fetch(cursor, plain=not _attempt)
            if rows is not None:
                return rows
        raise AssertionError("unreachable")
    except dbapi.Error as exc:
        from sqlalchemy.exc import DBAPIError

        raise DBAPIError.instance(sql, args, exc, dbapi.Error) from exc
    finally:
        cursor.close()


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def snapshot_twin(session: Session) -> Connection | None:
    """A second connection of the session's engine whose transaction reads the same state of
    the database as the session's, both begun here: for statements shared with a thread
    (sqlite3 lets go of the GIL while a statement steps, so two connections use two cores).
    None where that cannot be or would not help: not an SQLite file (PostgreSQL; a database
    in memory is another database on another connection), one core, a session that already
    began its transaction (it could hold writes of its own, and its snapshot can no longer be
    matched), or a listener watching the session's statements (a test counting them, seat
    bench capturing its floor: they would miss the second connection's).

    SQLite cannot hand a snapshot from one connection to another here, so they are matched:
    `PRAGMA data_version` on the second connection (it moves when another connection has
    committed since its last read), then the session's first read, then the second's first,
    in its own transaction, and data_version again. The same number: nothing was committed
    from before the session's read began to after the second's began, so both read the
    same state. Another number (a seat saved meanwhile): None, the session reads alone."""
    bind = session.get_bind()
    if (
        not isinstance(bind, Engine) or bind.dialect.name != "sqlite" or cores() < 2
        or session.in_transaction() or session.new or session.dirty or session.deleted
        or bind.url.database in (None, "", ":memory:")
        or "memory" in str(bind.url.query.get("mode", ""))
        or bind.dispatch.before_cursor_execute or bind.dispatch.after_cursor_execute
    ):  # fmt: skip
        return None
    other = bind.connect()
    try:
        raw = other.connection.dbapi_connection
        before = raw.execute("PRAGMA data_version").fetchone()[0]  # type: ignore[union-attr]
        session.connection().exec_driver_sql("PRAGMA data_version")  # its snapshot, taken
        after = other.exec_driver_sql("PRAGMA data_version").scalar()  # BEGIN, then its own
    except BaseException:
        other.close()
        raise
    if after != before:  # a commit came between: not the same state
        other.close()
        return None
    return other


class ReadAhead:
    """Statements of a session's transaction run ahead on a second connection, in a thread,
    while the session reads and works on what it needs first: sqlite3 lets go of the GIL
    while a statement steps, so a statement that reads much and returns little (a GROUP BY
    over a year's rows) takes the second core meanwhile. Their rows come back as
    `Prepared.rows` gives them, in the order asked for (`rows`).

    Both connections read one state of the database (`snapshot_twin`); where they cannot,
    `start` gives None and the caller runs the statements on the session as before."""

    def __init__(
        self, conn: Connection, jobs: list[tuple[str, str, Any]], dbapi: Any, *,
        as_json: bool = True,
    ) -> None:  # fmt: skip
        from concurrent.futures import Future

        self._conn = conn
        self._raw: Any = conn.connection  # the pool's DBAPI connection: cursors, interrupt
        self._jobs = jobs
        self._dbapi = dbapi
        self._as_json = as_json
        self._stop = False
        self._results: dict[str, Future[list[Any]]] = {key: Future() for key, *__ in jobs}
        self._thread = threading.Thread(target=self._run, name="seat-read-ahead", daemon=True)
        self._thread.start()

    @classmethod
    def start(
        cls, session: Session, jobs: Sequence[tuple[str, Prepared, Mapping[str, Any]]], *,
        as_json: bool = True,
    ) -> ReadAhead | None:  # fmt: skip
        """The jobs (key, statement, parameters) started on a second connection reading the
        session's snapshot (`snapshot_twin`, which takes it); None when that cannot be.
        `as_json`: each job's rows read as one JSON text (`_one_row`), for statements that
        return thousands of rows; else as the driver gives them, for many statements of a
        few rows each (the wrapping statements would cost more than the rows)."""
        other = snapshot_twin(session)
        if other is None:
            return None
        dialect = other.dialect
        try:
            planned = [(key, *statement.plain_call(dialect, params))
                       for key, statement, params in jobs]  # fmt: skip
            return cls(other, planned, dialect.loaded_dbapi, as_json=as_json)
        except BaseException:
            other.close()
            raise

    def _run(self) -> None:
        cursor = self._raw.cursor()
        try:
            for key, sql, args in self._jobs:
                result = self._results[key]
                if self._stop:
                    result.cancel()
                    continue
                try:
                    rows = self._one_row(cursor, sql, args) if self._as_json else None
                    if rows is None and self._stop:  # interrupted by close()
                        result.cancel()
                        continue
                    for attempt in range(2 if rows is None else 0):
                        cursor.execute(sql, args)
                        rows = _plain_fetch(cursor, plain=not attempt)
                        if rows is not None:
                            break
                except BaseException as exc:  # handed to the caller, who reads it
                    result.set_exception(exc)
                else:
                    result.set_result(rows)  # type: ignore[arg-type]
        finally:
            cursor.close()

    def _one_row(self, cursor: Any, sql: str, args: Any) -> list[Any] | None:
        """The rows of `sql` read as one JSON text (SQLite's json_group_array), or None when
        they cannot be (a column name twice, a BLOB, a float, a text not UTF-8): a row at a
        time, sqlite3 takes the GIL back for each, and every time this thread has it the
        session's thread, reading rows of its own a step at a time, waits for it (with
        other work on the machine, a switch of threads each: the two took turns rather than
        running side by side). The texts as `_plain_fetch` gives them."""
        import json

        raw = self._raw.dbapi_connection
        factory = raw.text_factory
        try:
            described = cursor.execute(f"SELECT * FROM ({sql}) LIMIT 0", args).description
            names = [d[0] for d in described]
            if len(set(names)) != len(names):
                return None
            columns = ", ".join('"' + name.replace('"', '""') + '"' for name in names)
            raw.text_factory = str
            cursor.execute(
                f"SELECT json_group_array(json_array({columns})) FROM ({sql})", args
            )  # fmt: skip
            text = cursor.fetchone()[0]
        except sqlite3.Error:  # read row by row, where a real error is raised as such
            return None
        finally:
            raw.text_factory = factory
        rows = list(map(tuple, json.loads(text)))
        for column in zip(*rows, strict=False):
            if not {type(v) for v in column} <= {int, str, type(None)}:
                return None  # a float (JSON keeps 15 digits) or anything else: row by row
        if not getattr(factory, "keeps_printable", False):
            return rows if factory is str else None
        return _plain_texts(rows, factory)

    def rows(self, key: str) -> list[Any]:
        """The rows of the job `key`, once read (its error, as `plain_rows` raises it)."""
        try:
            return self._results[key].result()
        except self._dbapi.Error as exc:
            sql, args = next((sql, args) for k, sql, args in self._jobs if k == key)
            raise DBAPIError.instance(sql, args, exc, self._dbapi.Error) from exc

    def close(self) -> None:
        """Stop what is left (a statement still running is interrupted) and give the second
        connection back."""
        if self._thread.is_alive():
            self._stop = True
            self._raw.interrupt()
            self._thread.join()
        self._conn.close()  # its transaction rolled back, the connection given back


def _plain_fetch(cursor: Any, *, plain: bool) -> list[Any] | None:
    """The cursor's rows. On an SQLite connection whose text factory keeps printable texts as
    they are (seat.textguard's, marked `keeps_printable`), with `plain` the texts are decoded
    by sqlite3 (C) and checked in bulk (`_plain_texts`) instead of a Python call per text;
    None when a text is not UTF-8 (run it again without `plain`: the factory reads it)."""
    raw = getattr(cursor, "connection", None)
    factory = getattr(raw, "text_factory", None) if isinstance(raw, sqlite3.Connection) else None
    if not plain or not getattr(factory, "keeps_printable", False):
        return cursor.fetchall()  # type: ignore[no-any-return]
    raw.text_factory = str  # type: ignore[union-attr]
    try:
        rows = cursor.fetchall()
    except sqlite3.OperationalError:  # "Could not decode to UTF-8"
        return None
    finally:
        raw.text_factory = factory  # type: ignore[union-attr]
    return _plain_texts(rows, factory)  # type: ignore[arg-type]


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))
"""The ASCII characters str.isprintable takes as printable."""


def _plain_texts(rows: list[Any], factory: Callable[[bytes], Any]) -> list[Any]:
    """`rows` as read through `factory`: a text sqlite3 decoded is what the factory makes of
    its bytes when it is printable (seat.textguard's factory keeps those as they are); the
    others (rare: a line break, a control character) go through the factory itself. Checked a
    column at a time in C (a join, then translate or isprintable), not a call per value."""
    for column in zip(*rows, strict=False):
        try:
            joined = "".join(filter(None, column))
        except TypeError:  # numbers and NULLs, or numbers and texts (SQLite's types are values')
            if str in set(map(type, column)) and not all(
                v.isprintable() for v in column if type(v) is str
            ):
                break
            continue
        # ASCII (times, codes): printable is no byte outside 0x20-0x7e, which translate finds
        # a few times faster than isprintable looks each character up
        if joined.isascii():
            if joined.encode("ascii").translate(None, _PRINTABLE_ASCII):
                break
        elif not joined.isprintable():
            break
    else:
        return rows
    return [
        tuple(
            factory(v.encode()) if type(v) is str and not v.isprintable() else v for v in row
        )
        for row in rows
    ]


_INSERTS: dict[tuple[str, str, str, tuple[str, ...]], tuple[str, list[Any]]] = {}
_GIVEN = object()  # insert_many: the value is the row's


def insert_many(conn: Connection, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (dicts of the same keys) into `table` with one driver-level executemany
    (`Connection.exec_driver_sql`, so the engine's events still see it): the statement is
    compiled once per dialect and set of columns, each value through its type's bind
    processor; no RETURNING, no per-row work of SQLAlchemy's. A column the rows leave out
    gets its scalar default, as SQLAlchemy's INSERT would give it (a callable one is
    refused)."""
    if not rows:
        return
    dialect = conn.dialect
    given = tuple(rows[0])
    key = (dialect.name, dialect.driver, table.name, given)
    built = _INSERTS.get(key)
    if built is None:
        columns: list[tuple[str, Any]] = []  # (name, _GIVEN or the default)
        for column in table.columns:
            if column.name in given:
                columns.append((column.name, _GIVEN))
            elif column.default is not None and not column.primary_key:
                if not column.default.is_scalar:
                    raise ValueError(f"{table.name}.{column.name}: a default not a constant")
                columns.append((column.name, column.default.arg))
        names = [name for name, __ in columns]
        extra = set(given) - {c.name for c in table.columns}
        if extra:
            raise ValueError(f"{table.name}: no column {sorted(extra)}")
        preparer = dialect.identifier_preparer
        style = "?" if dialect.paramstyle == "qmark" else "%s"
        if dialect.paramstyle not in ("qmark", "format", "pyformat"):
            raise ValueError(f"paramstyle {dialect.paramstyle} not handled")
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            preparer.format_table(table),
            ", ".join(preparer.quote(n) for n in names),
            ", ".join(style for __ in names),
        )
        plan = []
        for name, default in columns:
            process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            plan.append((name, default, process))
        built = _INSERTS[key] = (sql, plan)
    sql, plan = built
    # Made column by column (a list comprehension per column, then zipped into rows in C),
    # not a Python loop per row and column: the callback rules insert 4,000 rows of 16.
    columns: list[list[Any]] = []
    for name, default, process in plan:
        column = [row[name] for row in rows] if default is _GIVEN else [default] * len(rows)
        if process is not None:
            # A bulk's rows share their times (made at one `now`, due at a few instants):
            # each datetime is processed once per statement (by value: equal instants bind
            # alike).
            seen: dict[datetime, Any] = {}
            bound = []
            for value in column:
                if type(value) is datetime:
                    done = seen.get(value, _GIVEN)
                    if done is _GIVEN:
                        done = seen[value] = process(value)
                    bound.append(done)
                else:
                    bound.append(process(value))
            column = bound
        columns.append(column)
    conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))


KEPT_AT_MAX = 16384
"""How many stored times kept_at keeps converted (a few MB at most; then it starts again)."""

_KEPT_AT: dict[str, datetime] = {}


def kept_at(value: Any) -> datetime | None:
    """stored_at of a time read again at every refresh (the sidebar's complaints, callbacks and
    orders): a stored text's datetime is kept from the first time it was converted, for up to
    KEPT_AT_MAX texts. The conversion depends on the text alone, so a kept one is the same
    value (datetimes are immutable); a driver's datetime (PostgreSQL) is converted as before.
    Parsing was a fifth of the sidebar's Python: ~560 texts per read of the heaviest agent."""
    if type(value) is str:
        found = _KEPT_AT.get(value)
        if found is None:
            found = stored_at(value)
            if len(_KEPT_AT) >= KEPT_AT_MAX:
                _KEPT_AT.clear()
            _KEPT_AT[value] = found  # type: ignore[assignment]
        return found
    return stored_at(value)


def stored_at(value: Any) -> datetime | None:
    """A UTCDateTime column's value as the driver read it (Prepared): an aware datetime in
    UTC, as the column type gives it (SQLite stores UTC text without an offset; PostgreSQL
    gives an aware datetime)."""
    if value is None:
        return None
    if type(value) is str:
        try:  # read as UTC by the parser: a fifth of the time of replace(tzinfo=UTC)
            at = datetime.fromisoformat(value + "+00:00")
        except ValueError:  # a text with an offset of its own
            at = None
        if at is not None and at.tzinfo is not None:  # (a date alone reads naive)
            return at
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
