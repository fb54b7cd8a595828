"""`seat bench`: p50/p99 of what people wait for, on a call-center-sized database.

Speed is proven by figures a person reads, never by timed assertions in tests. Each row
calls exactly what a screen's worker or a command calls (the Desk facade, the domain and
report functions, looked up at call time: tests/unit/test_bench.py checks the screens call
the same ones). Its floor is the same SELECTs the seat sent (captured from SQLAlchemy's
cursor events) replayed on plain `sqlite3`, or a hand-written equivalent where the row
writes (logging a call, import, seeding); ratios and verdicts are on p99. Start-up is a real
seat in a pseudo-terminal until the desk is drawn, against a bare interpreter importing
textual, sqlmodel and phonenumbers.

The database is built once with `seat.tools.demo.seed` and reused while its row counts match; a
`.bench.json` file beside it records the size, the seed's clock and the seeding figures.
`--db postgresql+psycopg://…` runs the same rows on an (empty, or bench-built) PostgreSQL
database, its floor the same statements replayed on plain psycopg; its `.bench.json` lives in
the user data directory, named after the URL.
That clock is pinned to 18:00 of the last weekday in the desk's zone, so "calls today" on
the wallboard is a full working day whatever the hour.

This module's top level imports only the standard library: `seat --help` builds its parser.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from seat.cli_help import add_db_option, example
from seat.i18n import _

if TYPE_CHECKING:

    from seat.services import Desk

ZONE = "Asia/Shanghai"
AGENT = "li.na"
PAGE = 50
# Optional phonenumbers data: none of it belongs in `import seat.app`.
OPTIONAL_MODULES = ("phonenumbers.geocoder", "phonenumbers.carrier", "phonenumbers.timezone")


class BenchError(RuntimeError):
    """The benchmark cannot run; the message says why, for the command line."""


@dataclass(frozen=True)
class Size:
    customers: int = 200_000
    calls: int = 1_000_000
    callbacks: int = 50_000
    work_orders: int = 50_000
    purchases: int = 2_000_000

    def describe(self) -> str:
        return (
            f"{self.customers:,} customers, {self.calls:,} calls, "
            f"{self.callbacks:,} callbacks, {self.work_orders:,} work orders, "
            f"{self.purchases:,} purchases"
        )


@dataclass(frozen=True)
class Stats:
    """Milliseconds over n timed rounds."""

    n: int
    p50: float
    p99: float
    mean: float

    @classmethod
    def of(cls, samples_ns: Sequence[int]) -> Stats:
        if not samples_ns:
            raise ValueError("no samples")
        ms = sorted(s / 1e6 for s in samples_ns)
        return cls(
            n=len(ms), p50=percentile(ms, 50), p99=percentile(ms, 99), mean=statistics.fmean(ms)
        )


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on sorted values."""
    if not sorted_values:
        raise ValueError("no values")
    pos = (len(sorted_values) - 1) * pct / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass(frozen=True)
class Row:
    """One thing a person waits for: the seat's figure, its floor (the same statements on
    plain sqlite3, or the hand-written equivalent), and the target it is judged by."""

    name: str
    seat: Stats
    raw: Stats | None
    target_ms: float | None = None
    calls: tuple[str, ...] = ()
    """The functions timed ("module:attr"), the ones the screen or command calls."""
    target_ratio: float | None = None
    """A target on the p99 ratio to the floor instead of milliseconds (start-up, import)."""
    peak_mb: float | None = None
    target_mb: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """p99 against the floor's p99: verdicts are on p99."""
        if self.raw is None or self.raw.p99 <= 0:
            return None
        return self.seat.p99 / self.raw.p99

    @property
    def verdict(self) -> str:
        """PASS/MISS against every target the row has, judged on p99; '' without one."""
        checks = []
        if self.target_ms is not None:
            checks.append(self.seat.p99 < self.target_ms)
        if self.target_ratio is not None:
            checks.append(self.ratio is not None and self.ratio <= self.target_ratio)
        if self.target_mb is not None:
            checks.append(self.peak_mb is not None and self.peak_mb < self.target_mb)
        if not checks:
            return ""
        return "PASS" if all(checks) else "MISS"

    def target(self) -> str:
        parts = []
        if self.target_ms is not None:
            parts.append(f"< {self.target_ms:g} ms")
        if self.target_ratio is not None:
            parts.append(f"<= {self.target_ratio:g}x")
        if self.target_mb is not None:
            parts.append(f"< {self.target_mb:g} MB")
        return " ".join(parts)


@dataclass
class Report:
    db: Path | str
    """The SQLite file, or the PostgreSQL URL (password hidden)."""
    size: Size
    now: datetime
    reused: bool
    rounds: int
    startup_rounds: int
    rows: list[Row] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    """Rows in the database as timed (the callback rules add callbacks to the seeded ones)."""
    load: tuple[float, float] = (0.0, 0.0)
    """The machine's 1-minute load average when the timing began and when it ended."""
    slow: list[str] = field(default_factory=list)
    """Statements of 2 ms or more on plain sqlite3, with their query plans."""
    import_total_ms: float = 0.0
    import_top: list[tuple[str, float]] = field(default_factory=list)
    optional_at_import: list[str] = field(default_factory=list)

    def row(self, prefix: str) -> Row:
        return next(r for r in self.rows if r.name.startswith(prefix))

    def as_json(self) -> dict[str, Any]:
        """The same figures for scripts (`seat bench --json`)."""
        rows = []
        for r in self.rows:
            rows.append(
                {
                    "name": r.name, "calls": list(r.calls), "seat": asdict(r.seat),
                    "floor": asdict(r.raw) if r.raw else None, "ratio_p99": r.ratio,
                    "target": r.target() or None, "verdict": r.verdict or None,
                    "peak_mb": r.peak_mb, "note": r.note or None,
                }
            )  # fmt: skip
        return {
            "db": str(self.db), "size": asdict(self.size), "counts": self.counts,
            "now": self.now.isoformat(), "reused": self.reused, "cpus": os.cpu_count(),
            "load": list(self.load), "rows": rows, "slow": self.slow,
            "import_seat_app_ms": self.import_total_ms,
        }  # fmt: skip


# -- the database --------------------------------------------------------------------------


def default_db() -> Path:
    from seat.config import user_data_dir

    return user_data_dir() / "bench.db"


def bench_now(real_now: datetime, zone: str = ZONE) -> datetime:
    """18:00 local of the latest weekday at or before real_now (UTC): a full day of calls."""
    local = real_now.astimezone(ZoneInfo(zone))
    day = local.date()
    while True:
        at = datetime(day.year, day.month, day.day, 18, tzinfo=ZoneInfo(zone))
        if day.weekday() < 5 and at <= local:
            return at.astimezone(UTC)
        day -= timedelta(days=1)


def _meta_path(db: Path | str) -> Path:
    if is_postgres(db):
        import hashlib

        from seat.config import user_data_dir

        key = hashlib.sha256(str(db).encode()).hexdigest()[:12]
        return user_data_dir() / f"bench-postgresql-{key}.bench.json"
    db = Path(db)
    return db.with_name(db.name + ".bench.json")


COUNTED = (
    ("customers", "customer"),
    ("calls", "call"),
    ("callbacks", "callback"),
    ("work_orders", "work_order"),
    ("purchases", "purchase"),
)


def _counts(db: Path | str) -> dict[str, int]:
    """Rows per counted table; a PostgreSQL database without the seat's tables counts 0."""
    if is_postgres(db):
        return _pg_counts(str(db))
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {
            key: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for key, table in COUNTED
        }
    except sqlite3.DatabaseError as exc:
        raise BenchError(f"{db} is not a seat database ({exc}); pass another --db") from None
    finally:
        con.close()


def is_postgres(db: Path | str) -> bool:
    return isinstance(db, str) and db.startswith("postgresql")


def _pg_conninfo(url: str) -> str:
    """psycopg's own connection string for a SQLAlchemy URL (postgresql+psycopg://…)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def shown_url(db: Path | str) -> str:
    """The database as printed: a URL never shows its password."""
    if not is_postgres(db):
        return str(db)
    from sqlalchemy.engine import make_url

    return make_url(str(db)).render_as_string(hide_password=True)


def _pg_counts(url: str) -> dict[str, int]:
    import psycopg

    try:
        with psycopg.connect(_pg_conninfo(url), autocommit=True) as con:
            present = {
                name
                for (name,) in con.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            }
            return {
                key: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
                if table in present else 0
                for key, table in COUNTED
            }  # fmt: skip
    except psycopg.Error as exc:
        raise BenchError(f"cannot read {shown_url(url)}: {exc}") from None


def _read_meta(meta: Path) -> dict[str, Any] | None:
    try:
        known = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return known if isinstance(known, dict) else None


def ensure_database(
    db: Path | str, size: Size, *, real_now: datetime,
    say: Callable[[str], None] = lambda _m: None,
) -> tuple[datetime, bool]:  # fmt: skip
    """Build the benchmark database, or reuse it while it is as built; (seed clock, reused).

    Building seeds `size`, then runs the callback rules once, as a seat's first start does
    (they add callbacks), so every later run times the same rows. A file this module did not
    build (no .bench.json beside it) is refused and never deleted.
    """
    meta = _meta_path(db)
    if is_postgres(db):
        return _ensure_postgres(str(db), size, meta, real_now=real_now, say=say)
    assert isinstance(db, Path)
    if db.exists():
        counts = _counts(db)
        known = _read_meta(meta)
        if known is None:
            raise BenchError(
                f"{db} holds other data ({counts['customers']:,} customers, "
                f"{counts['calls']:,} calls) and was not built by seat bench; pass another --db"
            )
        if known.get("size") == asdict(size) and known.get("counts") == counts:
            return datetime.fromisoformat(known["now"]), True
        say(f"{db} is not as seat bench built it (another size, or a seat added rows); rebuilding")
        for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), meta):
            stale.unlink(missing_ok=True)
    from seat.config import sqlite_url
    from seat.db import make_engine
    from seat.tools.demo import seed

    at = bench_now(real_now)
    db.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(sqlite_url(db))
    try:
        report = seed(
            engine,
            customers=size.customers,
            calls=size.calls,
            callbacks=size.callbacks,
            work_orders=size.work_orders,
            purchases=size.purchases,
            now=at,
            progress=say,
        )
        say(f"seeded {db} in {report.seconds:.0f} s")
        say("the floor of seeding: the rows it wrote, written again by plain sqlite3")
        floor = raw_seed_floor(db.with_name(db.name + ".floor.db"), db)
        say("running the callback rules once")
        _first_start(engine, sqlite_url(db), at)
    finally:
        engine.dispose()
    meta.write_text(
        json.dumps(
            {
                "size": asdict(size), "counts": _counts(db), "now": at.isoformat(),
                "seed_seconds": report.seconds, "seed_floor_seconds": floor,
            }
        )
    )  # fmt: skip
    return at, False


def _ensure_postgres(
    url: str, size: Size, meta: Path, *, real_now: datetime, say: Callable[[str], None]
) -> tuple[datetime, bool]:
    """As ensure_database, on PostgreSQL: an empty database is seeded; one seat bench built
    at this size is reused; anything else is refused (a database is never emptied here).
    Seeding has no floor on PostgreSQL (the sqlite3 rewrite is SQLite's)."""
    from seat.db import make_engine
    from seat.tools.demo import seed

    counts = _counts(url)
    if counts["customers"]:
        known = _read_meta(meta)
        if known and known.get("size") == asdict(size) and known.get("counts") == counts:
            return datetime.fromisoformat(known["now"]), True
        raise BenchError(
            f"{shown_url(url)} holds {counts['customers']:,} customers and "
            f"{counts['calls']:,} calls not built by seat bench at this size; "
            "pass an empty database (dropdb and createdb it)"
        )
    at = bench_now(real_now)
    engine = make_engine(url)
    try:
        report = seed(
            engine, customers=size.customers, calls=size.calls, callbacks=size.callbacks,
            work_orders=size.work_orders, purchases=size.purchases, now=at, progress=say,
        )  # fmt: skip
        say(f"seeded {shown_url(url)} in {report.seconds:.0f} s")
        say("running the callback rules once")
        _first_start(engine, url, at)
        with engine.begin() as conn:  # the planner's statistics, as after seeding a file
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(
        json.dumps(
            {
                "size": asdict(size), "counts": _counts(url), "now": at.isoformat(),
                "seed_seconds": report.seconds, "seed_floor_seconds": None,
            }
        )
    )  # fmt: skip
    return at, False


TRIGGER_KEPT = frozenset({"callback_owner_hour", "work_order_agent_hour", "purchase_hour",
                          "complaint_owner_stamp", "new_buyer_line"})
"""Tables the triggers on others fill as those are written (a seed's floor writes them so)."""


def raw_seed_floor(path: Path, seeded: Path) -> float:
    """Seconds plain sqlite3 takes to write the rows seeding wrote into `seeded` (every table,
    read back in rowid order: the same values the seed sent) with executemany, in one
    transaction, into a migrated empty file under the seed's pragmas: what seeding cannot go
    below. Only the writes and the commit are timed, not the reads. (Made-up rows of the same
    counts are no floor: tiny constant texts and keys in order write several times faster
    than the seed's, and left out the second numbers and the history.)"""
    from seat.config import sqlite_url
    from seat.db import make_engine
    from seat.search import SCHEMA_EXTRAS
    from seat.tools.demo import SEEDING_PRAGMAS

    def forget() -> None:
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)

    forget()
    make_engine(sqlite_url(path)).dispose()  # migrated, empty
    source = sqlite3.connect(f"file:{seeded}?mode=ro", uri=True)
    con = sqlite3.connect(path, isolation_level=None)
    spent = 0.0
    try:
        for pragma in SEEDING_PRAGMAS:
            con.execute(f"PRAGMA {pragma}")
        # The search index is no table of its own here: the triggers fill it as the
        # customers and their numbers are written, as they did while seeding; so do the
        # callbacks' and work orders' kept hours (migration 0051) as those are written.
        tables = [
            name
            for (name,) in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite%' AND name != 'alembic_version' ORDER BY rowid"
            )
            if name not in SCHEMA_EXTRAS and name not in TRIGGER_KEPT
        ]
        t = time.perf_counter()
        con.execute("BEGIN")
        spent += time.perf_counter() - t
        for table in tables:
            names = [f'"{c[1]}"' for c in source.execute(f'PRAGMA table_info("{table}")')]
            columns, marks = ", ".join(names), ", ".join("?" * len(names))
            insert = f'INSERT INTO "{table}" ({columns}) VALUES ({marks})'
            rows = source.execute(f'SELECT {columns} FROM "{table}" ORDER BY rowid')
            while batch := rows.fetchmany(20_000):
                t = time.perf_counter()
                con.executemany(insert, batch)
                spent += time.perf_counter() - t
        t = time.perf_counter()
        con.execute("COMMIT")
        return spent + time.perf_counter() - t
    finally:
        source.close()
        con.close()
        forget()


def _first_start(engine: Any, url: str, at: datetime) -> None:
    """What the first seat to open the database does to it: the callback rules' rows."""
    try:
        from seat.callbacks import run_scheduler
    except ImportError:
        return
    from seat.clock import FixedClock
    from seat.config import Settings
    from seat.services import Desk

    desk = Desk(engine=engine, clock=FixedClock(at), settings=Settings(database_url=url))
    run_scheduler(desk)


# -- plain sqlite3: the floor -------------------------------------------------------------


def _ts(at: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _raw_connect(db: Path | str) -> Any:
    """The floor's plain connection: sqlite3 on a file, psycopg (autocommit) on PostgreSQL;
    both take `execute(sql, params)` and the statements SQLAlchemy sent them."""
    if is_postgres(db):
        import psycopg

        return psycopg.connect(_pg_conninfo(str(db)), autocommit=True)
    con = sqlite3.connect(db, isolation_level=None)
    from seat.db import MMAP_BYTES

    # The seat's own connection settings that change how fast a read is (seat.db): the same
    # memory map, so the floor is like for like.
    for pragma in ("busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL",
                   f"mmap_size={MMAP_BYTES}", "temp_store=MEMORY"):  # fmt: skip
        con.execute(f"PRAGMA {pragma}")
    return con


SQL_INSERT_CALL = (
    "INSERT INTO call (uid, agent_id, customer_id, from_number, direction, script, callback_id, "
    "started_at, ended_at, greeting_at, discovery_at, resolution_at, closing_at, wrapup_at, "
    "need_category, outcome, satisfaction, notes) "
    "VALUES (lower(hex(randomblob(16))), ?, ?, ?, 'inbound', 'inbound', NULL, ?, ?, ?, ?, ?, ?, "
    "?, 'inquiry', 'resolved', NULL, ?)"
)
PG_INSERT_CALL = (
    "INSERT INTO call (uid, agent_id, customer_id, from_number, direction, script, callback_id, "
    "started_at, ended_at, greeting_at, discovery_at, resolution_at, closing_at, wrapup_at, "
    "need_category, outcome, satisfaction, notes) "
    "VALUES (md5(random()::text), %s, %s, %s, 'inbound', 'inbound', NULL, %s, %s, %s, %s, %s, "
    "%s, %s, 'inquiry', 'resolved', NULL, %s) RETURNING id"
)


def raw_insert_call(con: Any, agent_id: int, customer_id: int, e164: str, at: datetime) -> int:
    """The floor of logging a call: one INSERT on the plain connection; the new id."""
    if isinstance(con, sqlite3.Connection):
        t = _ts(at)
        cur = con.execute(SQL_INSERT_CALL, (agent_id, customer_id, e164, t, t, t, t, t, t, t,
                                            "seat bench"))  # fmt: skip
        return cur.lastrowid  # type: ignore[return-value]
    t = at.astimezone(UTC).replace(tzinfo=None)
    row = con.execute(
        PG_INSERT_CALL, (agent_id, customer_id, e164, t, t, t, t, t, t, t, "seat bench")
    ).fetchone()
    return int(row[0])


Statement = tuple[str, Any]


class Capture:
    """The statements the seat sends while a function runs (SQLAlchemy's cursor events):
    replayed on plain sqlite3 they are the floor, the same SQL with the same parameters."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[Statement] = []
        self.writes = 0

    def _seen(self, _conn: Any, _cur: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        head = sql.lstrip()[:6].upper()
        if head.startswith(("SELECT", "WITH")) and not many:
            self.statements.append((sql, params))
        elif not head.startswith(("PRAGMA", "BEGIN", "COMMIT", "ROLLBA", "SAVEPO", "RELEAS")):
            self.writes += 1

    def __enter__(self) -> Capture:
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)


def replay(con: Any, statements: Sequence[Statement]) -> object:
    con.execute("BEGIN")
    try:
        return [con.execute(sql, params).fetchall() for sql, params in statements]
    finally:
        con.execute("COMMIT")


# -- timing -------------------------------------------------------------------------------


@dataclass
class Probe:
    """A row being timed: the seat's function (round number -> anything) and its floor."""

    name: str
    seat: Callable[[int], object]
    calls: tuple[str, ...]
    target_ms: float | None = None
    floor: Callable[[int], object] | None | str = "replay"
    """A hand-written floor, None for none, or "replay" (the captured statements)."""
    note: Callable[[], str] | None = None
    """What the row's note adds once it is timed (the day's run: the days' totals)."""


def _time_probe(
    probe: Probe, *, engine: Any, con: Any, rounds: int, budget_s: float
) -> tuple[Row, list[Statement]]:
    """Warm up (capturing the statements), then time seat and floor round by round,
    interleaved, until `rounds` or the time budget is spent (at least 3 rounds)."""
    captures: list[list[Statement]] = []
    writes = 0
    t = time.perf_counter()
    for i in range(min(5, rounds)):
        with Capture(engine) as cap:
            probe.seat(i)
        captures.append(cap.statements)
        writes = max(writes, cap.writes)
        if time.perf_counter() - t > min(2.0, budget_s / 5):
            break  # a slow function: its first rounds are warm-up enough
    floor: Callable[[int], object] | None
    if probe.floor == "replay":
        floor = (lambda i: replay(con, captures[i % len(captures)])) if captures[0] else None
    else:
        floor = probe.floor  # type: ignore[assignment]
    seat: list[int] = []
    raw: list[int] = []
    start = time.perf_counter()
    for i in range(rounds):
        for fn, samples in ((probe.seat, seat), (floor, raw)):
            if fn is None:
                continue
            t0 = time.perf_counter_ns()
            fn(i)
            samples.append(time.perf_counter_ns() - t0)
        if len(seat) >= 3 and time.perf_counter() - start > budget_s:
            break
    note = f"{len(captures[0])} statements" if probe.floor == "replay" else ""
    if probe.floor == "replay" and writes:
        note += f" (+{writes} writes, not in the floor)"
    if probe.note is not None:
        note = "; ".join(n for n in (note, probe.note()) if n)
    row = Row(
        probe.name, Stats.of(seat), Stats.of(raw) if raw else None, probe.target_ms,
        calls=probe.calls, note=note,
    )  # fmt: skip
    return row, captures[0]


def _walk_call(desk: Desk, agent_id: int, customer_id: int, e164: str) -> int:
    """A whole inbound call: every stage's fields filled, walked to wrap-up, then saved
    with Desk.save_call (the call screen's save)."""
    state = desk.new_call(agent_id=agent_id, customer_id=customer_id, from_number=e164)
    now = desk.now()
    for __ in range(len(state.script.stages) + 1):
        if state.in_wrapup:
            break
        for f in state.stage.fields:
            state.values.setdefault(f.id, f.choices[0] if f.choices else "bench")
        state.advance(now)
    state.outcome = "resolved"
    state.notes = "seat bench"
    return desk.save_call(state)


def _typed(e164: str) -> str:
    """How an agent types a Chinese mobile: national digits in groups."""
    if e164.startswith("+86") and len(e164) == 14:
        d = e164[3:]
        return f"{d[:3]} {d[3:7]} {d[7:]}"
    return e164


def probes(
    desk: Desk, con: Any, *, agent_id: int, supervisor_id: int, heavy: int,
    heavy_phone: str, typed: Sequence[str], logged: list[int], searched: Sequence[str] = (),
    rules_engine: Any = None,
) -> list[Probe]:  # fmt: skip
    """Every in-process row: each calls what the screen's worker (or the command) calls,
    looked up at call time (so a test can watch the very same functions being called)."""
    from seat import callbacks, leases, seats
    from seat import supervisor as wallboard
    from seat.clock import FixedClock
    from seat.screens.callbacks import view as callbacks_screen
    from seat.screens.complaints import stats as complaint_stats
    from seat.screens.supervisor import statistics
    from seat.screens.work_orders.list import Filters
    from seat.services import Desk

    now = desk.now()
    today = desk.today()
    k_policy = desk.complaint_policy()
    days = callbacks_screen.CallbacksScreen.days._default  # the view's default period
    first_cb = today - timedelta(days=days - 1)
    trend_first, trend_last = statistics.window(today, statistics.Step.DAY)
    # The day's first `g` also keeps the closed days' call slots (seat.call_slots); made here
    # so the rows time the opens after it (and their floor replays no slot-making).
    desk.trends(trend_first, trend_last, statistics.Step.DAY)
    month = complaint_stats.month_range(today)

    def lookup(i: int) -> object:  # the call screen's lookup worker (a number typed)
        __, hits = desk.lookup_callers(typed[i % len(typed)])
        return desk.card(hits[0].id) if len(hits) == 1 else None

    terms = list(searched) or list(typed)

    def search(i: int) -> object:  # the find screen's worker (f), the call's (ctrl+f)
        return desk.search_customers(terms[i % len(terms)])

    def log_call(_i: int) -> object:
        logged.append(_walk_call(desk, agent_id, heavy, heavy_phone))
        return None

    def raw_log(_i: int) -> object:
        logged.append(raw_insert_call(con, agent_id, heavy, heavy_phone, now))
        return None

    def callbacks_view(_i: int) -> object:
        return desk.callback_coverage(
            first_cb, today, owner_id=agent_id, limit=callbacks_screen.SHOWN
        )

    def rules(_i: int) -> object:  # a seat's start on a day already run: the first step
        return callbacks.run_step(callbacks.DayRun(desk))

    # The day's run as it happens: the next day's, after the last run (its watermark), on a
    # desk whose clock moves a day each round; the first run of a database (or under other
    # rules) reads everything. Their callbacks stay (the history is append-only), so on
    # SQLite they run on a copy of the database made for this bench (`rules_engine`), which
    # stays as built; on PostgreSQL each bench carries on from the day the last one reached
    # (`_keep_counts`).
    day = FixedClock(now)
    day_desk = Desk(engine=rules_engine or desk.engine, clock=day, settings=desk.settings)
    job = leases.CALLBACK_RULES

    def next_day() -> None:
        mark, __ = day_desk.run(lambda s: leases.watermark(session=s, name=job))
        day.set(max(now, mark or now) + timedelta(days=1))

    # The day's run a step at a time, as a seat runs it (seat.app): each round times one
    # step; the day moves on when its last step is done. The days' totals (every step of
    # a day) are the row's note.
    stepping: list[callbacks.DayRun] = []
    whole_days: list[tuple[float, int]] = []  # (ms of all its steps, steps) of each day done
    spent = [0.0]

    def ran(day: callbacks.DayRun) -> None:
        """A timed run that another seat's lease made skip would time nothing."""
        if day.report is not None and day.report.skipped:
            raise BenchError("the day's callback rules were skipped (the lease was held)")

    def rules_today(_i: int) -> object:
        if not stepping or stepping[-1].done:
            next_day()
            stepping[:] = [callbacks.DayRun(day_desk)]
            spent[0] = 0.0
        t0 = time.perf_counter()
        done = callbacks.run_step(stepping[-1])
        spent[0] += time.perf_counter() - t0
        if done:
            ran(stepping[-1])
            whole_days.append((spent[0] * 1000, stepping[-1].steps))
        return done

    def days_note() -> str:
        if not whole_days:
            return "no day finished"
        totals = sorted(ms for ms, __ in whole_days)
        steps = [n for __, n in whole_days]
        return (f"each round one step; {len(whole_days)} whole days: {min(steps)}-{max(steps)} "
                f"steps, all steps p50 {percentile(totals, 50):,.0f} ms, max {totals[-1]:,.0f} ms")

    def rules_first(_i: int) -> object:
        if stepping and not stepping[-1].done:  # the day row's last day, left part way
            stepping[-1].stop()
            stepping.clear()
        next_day()
        day_desk.run(lambda s: leases.forget(session=s, name=job), write=True)
        day = callbacks.DayRun(day_desk)  # every step of the day, back to back
        while not callbacks.run_step(day):
            pass
        ran(day)
        return day.report

    presence: list[int | None] = [None]

    def beat_and_refresh(_i: int) -> object:
        """A write every refresh sees on a floor: a seat's heartbeat (seat.app's), then
        the wallboard's read (the beat is timed too: a few hundred microseconds)."""
        presence[0] = desk.run(lambda s: seats.heartbeat(
            session=s, now=now, agent_id=agent_id, state="desk", presence_id=presence[0],
        ), write=True)  # fmt: skip
        return desk.wallboard(k_policy, offsets={}, limit=wallboard.PAGE)

    return [
        # Read in full, as after any commit (a refresh with nothing committed reads nothing).
        Probe("sidebar, heaviest agent", lambda _i: desk.sidebar(agent_id, fresh=True),
              ("seat.services:Desk.sidebar",), 5.0),
        Probe("sidebar refresh, nothing changed", lambda _i: desk.sidebar(agent_id),
              ("seat.services:Desk.sidebar",), 5.0, floor=None),
        Probe("caller lookup: parse+find+card", lookup,
              ("seat.services:Desk.lookup_callers", "seat.services:Desk.card"), 2.0),
        Probe("customer search: names, addresses, numbers", search,
              ("seat.services:Desk.search_customers",), 50.0),
        Probe("card, customer with most calls", lambda _i: desk.card(heavy),
              ("seat.services:Desk.card",), 50.0),
        Probe("logging a call (commit incl.)", log_call, ("seat.services:Desk.save_call",), 10.0,
              floor=raw_log),
        Probe("my last calls", lambda _i: desk.recent_calls(agent_id),
              ("seat.services:Desk.recent_calls",), 100.0),
        Probe("complaint list, 1st page", lambda _i: desk.complaint_list(
                "mine", agent_id=agent_id, policy=k_policy, offset=0, limit=50),
              ("seat.services:Desk.complaint_list",), 100.0),
        Probe("work-order list, 1st page", lambda _i: desk.work_orders(
                Filters().query(desk.zone), page=1, page_size=50),
              ("seat.services:Desk.work_orders",), 100.0),
        Probe(f"callbacks view ({days} d)", callbacks_view,
              ("seat.services:Desk.callback_coverage",), 100.0),
        Probe("wallboard opens", lambda _i: desk.wallboard(
                k_policy, offsets={}, limit=wallboard.PAGE, fresh=True),
              ("seat.services:Desk.wallboard",), 100.0),
        Probe("wallboard refresh, nothing changed", lambda _i: desk.wallboard(
                k_policy, offsets={}, limit=wallboard.PAGE),
              ("seat.services:Desk.wallboard",), 20.0),
        Probe("wallboard refresh after a seat's heartbeat", beat_and_refresh,
              ("seat.services:Desk.wallboard",), 20.0, floor=None),
        Probe("trends (g), 28 days", lambda _i: desk.trends(
                trend_first, trend_last, statistics.Step.DAY),
              ("seat.services:Desk.trends",), 100.0),
        Probe("complaint statistics, month", lambda _i: desk.complaint_stats(
                month[0], month[1]),
              ("seat.services:Desk.complaint_stats",), 100.0),
        Probe("callback rules (each start)", rules, ("seat.callbacks:run_step",), 200.0,
              floor=None),
        Probe("callback rules (the day's run, a step)", rules_today,
              ("seat.callbacks:run_step",), 200.0, floor=None, note=days_note),
        Probe("callback rules, first run (no watermark)", rules_first,
              ("seat.callbacks:run_step",), None, floor=None),
    ]  # fmt: skip


REPORTS = ("complaints", "callbacks", "summary", "agents", "members")


def report_probe(desk: Desk, name: str, out: Path) -> Probe:
    """`seat report NAME` over the year before the bench clock, as cmd_report runs it:
    the module's tables, written as CSV."""
    import importlib

    module = importlib.import_module(f"seat.reports.{name}")
    last = desk.today()
    first = last - timedelta(days=364)

    def go(_i: int) -> object:
        from seat.db import few_collections
        from seat.export import write

        with few_collections():  # as cmd_report: the collector paused for the run
            tables = desk.run(
                lambda s: module.tables(
                    session=s, date_from=first, date_to=last, settings=desk.settings,
                    now=desk.now(),
                )
            )  # fmt: skip
            write(tables, "csv", out)
        return None

    return Probe(f"seat report {name}, a year", go, (f"seat.reports.{name}:tables",), 1000.0)


def _peak_mb(fn: Callable[[int], object]) -> float:
    """Peak Python memory of one run (tracemalloc; the timed rounds run without it)."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        fn(0)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# -- customer import -------------------------------------------------------------------------


def import_rows(db_dir: Path, rows: int, *, now: datetime, say: Callable[[str], None]) -> Row:
    """`seat customers import` (importer.import_csv, as cmd_import calls it) of `rows`
    customers into an empty migrated file, beside plain sqlite3 parsing every number
    (phone.normalise) and inserting the same rows with executemany."""
    import csv
    import random

    from seat import phone
    from seat.config import sqlite_url
    from seat.db import make_engine, session_scope
    from seat.importer import import_csv

    work = db_dir / "bench-import"
    work.mkdir(exist_ok=True)
    path = work / "customers.csv"
    rng = random.Random(5)
    numbers = rng.sample(range(10**8), rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["name", "phone", "tier", "birthday", "gender", "address"])
        for i, n in enumerate(numbers):
            out.writerow([f"客户{i}", f"137 {n // 10**4:04d} {n % 10**4:04d}", "gold",
                          "1980-05-17", "female", f"上海市徐汇区漕溪北路{i}号"])  # fmt: skip
    dbs = [work / "seat.db", work / "floor.db"]
    for db in dbs:
        for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            stale.unlink(missing_ok=True)
    say(f"timing: customer import, {rows:,} rows")
    engine = make_engine(sqlite_url(dbs[0]))
    try:
        t = time.perf_counter_ns()
        with session_scope(engine) as session:
            report = import_csv(session=session, path=path, now=now, region="CN")
        seat_ns = time.perf_counter_ns() - t
    finally:
        engine.dispose()
    make_engine(sqlite_url(dbs[1])).dispose()
    con = _raw_connect(dbs[1])
    try:
        t = time.perf_counter_ns()
        con.execute("BEGIN")
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            next(reader)
            parsed = [(i + 1, r[0], r[2], r[3], r[4], r[5], phone.normalise(r[1], "CN"))
                      for i, r in enumerate(reader)]  # fmt: skip
        at = _ts(now)
        con.executemany(
            "INSERT INTO customer (id, name, tier, birthday, gender, address, language, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'zh_CN', ?, ?)",
            ((i, n, tier, b, g, a, at, at) for i, n, tier, b, g, a, __ in parsed),
        )
        con.executemany(
            "INSERT INTO phone_number (customer_id, e164, label, wrong_number) "
            "VALUES (?, ?, 'mobile', 0)",
            ((row[0], row[-1]) for row in parsed),
        )
        con.execute("COMMIT")
        raw_ns = time.perf_counter_ns() - t
    finally:
        con.close()
    shutil.rmtree(work, ignore_errors=True)
    seat_s = seat_ns / 1e9
    return Row(
        f"seat customers import, {rows:,} rows", Stats.of([seat_ns]), Stats.of([raw_ns]),
        calls=("seat.importer:import_csv",), target_ratio=3.0,
        note=f"{report.imported:,} imported, {rows / seat_s:,.0f} rows/s",
    )  # fmt: skip


def seeding_row(meta: dict[str, Any], size: Size) -> Row | None:
    seat_s, floor_s = meta.get("seed_seconds"), meta.get("seed_floor_seconds")
    if not seat_s:
        return None
    if not floor_s:  # PostgreSQL: the seconds, with no floor to judge them by
        return Row(
            f"seat demo, {size.customers:,}/{size.calls:,}/{size.purchases:,}",
            Stats.of([int(seat_s * 1e9)]),
            None, calls=("seat.tools.demo:seed",),
            note="measured when the database was built; no floor on PostgreSQL",
        )  # fmt: skip
    return Row(
        f"seat demo, {size.customers:,}/{size.calls:,}/{size.purchases:,}",
        Stats.of([int(seat_s * 1e9)]), Stats.of([int(floor_s * 1e9)]),
        calls=("seat.tools.demo:seed",), target_ratio=2.0,
        note="measured when the database was built",
    )  # fmt: skip


# -- processes: start-up in a real terminal ----------------------------------------------------


STARTUP_MARK = b"My queue"
FLOOR_IMPORT = "import textual, sqlmodel, phonenumbers"
FLOOR_MARK = b"imported"
"""The floor is timed until the bare import is done (it prints this), as the seat is timed
until its desk is drawn: not until the interpreter has exited, whose teardown of the
imported modules took ~300 ms more (the floor looked half again as slow as it is)."""


def floor_command() -> list[str]:
    """The start-up floor: a bare interpreter importing textual, sqlmodel and phonenumbers,
    saying FLOOR_MARK when it has."""
    return [sys.executable, "-c", f"{FLOOR_IMPORT}; print({FLOOR_MARK.decode()!r}, flush=True)"]


def _seat_command() -> list[str]:
    found = shutil.which("seat")
    return [found] if found else [sys.executable, "-m", "seat"]


def time_in_pty(argv: Sequence[str], *, mark: bytes | None, timeout: float = 60) -> int:
    """Nanoseconds from spawn until `mark` shows in the terminal (80x24; then q is sent and
    the seat left to quit), or until the process exits when `mark` is None."""
    import fcntl
    import pty
    import select
    import signal
    import struct
    import termios

    env = {**os.environ, "TERM": "xterm-256color", "SEAT_LANG": "en", "COLUMNS": "80",
           "LINES": "24"}  # fmt: skip
    # As on a person's machine, where an installed seat has its bytecode: a sandbox's
    # PYTHONDONTWRITEBYTECODE would have the seat compile its sources at every start while
    # the floor's libraries (installed with theirs) do not.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t = time.perf_counter_ns()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its own
        try:
            os.execvpe(argv[0], list(argv), env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen = b""
    elapsed: int | None = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, __, __ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:  # the process is gone
                elapsed = time.perf_counter_ns() - t
                break
            seen = (seen + chunk)[-4096:]
            if mark is not None and mark in seen:
                elapsed = time.perf_counter_ns() - t
                os.write(fd, b"q")
                break
        if elapsed is None:
            os.kill(pid, signal.SIGKILL)
            raise BenchError(f"{' '.join(argv)} showed no {mark!r} in {timeout:.0f} s")
        end = time.monotonic() + 10
        while time.monotonic() < end:  # drain, so the seat can finish writing and quit
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    if not os.read(fd, 65536):
                        break
                except OSError:
                    break
            if os.waitpid(pid, os.WNOHANG)[0]:
                pid = 0
                break
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pid = 0
        return elapsed
    finally:
        os.close(fd)
        if pid:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def startup_row(rounds: int, say: Callable[[str], None]) -> Row:
    """`seat --demo --agent li.na` until the desk ("My queue") is drawn in a pseudo-terminal,
    against a bare interpreter until it has imported textual, sqlmodel and phonenumbers."""
    seat = [*_seat_command(), "--demo", "--agent", AGENT]
    floor = floor_command()
    say("timing: start-up in a pseudo-terminal")
    time_in_pty(seat, mark=STARTUP_MARK, timeout=300)  # the demo file is made the first time
    time_in_pty(floor, mark=FLOOR_MARK)
    seat_ns, floor_ns = [], []
    for __ in range(rounds):
        seat_ns.append(time_in_pty(seat, mark=STARTUP_MARK))
        floor_ns.append(time_in_pty(floor, mark=FLOOR_MARK))
    return Row(
        "start-up to a drawn desk (pty, --demo)", Stats.of(seat_ns), Stats.of(floor_ns),
        calls=("seat.cli:main",), target_ratio=1.5,
        note=f"floor: python -c '{FLOOR_IMPORT}' until imported (not its exit)",
    )  # fmt: skip


def import_profile(module: str = "seat.app") -> tuple[float, list[tuple[str, float]], list[str]]:
    """`python -X importtime`: total ms, self ms per top package, optional modules seen."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    per_package: dict[str, float] = {}
    total = 0.0
    seen: set[str] = set()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        head, cumulative_us, name = line.split("|", 2)
        self_us = head.removeprefix("import time:")
        name = name.strip()
        seen.add(name)
        root = name.split(".")[0]
        per_package[root] = per_package.get(root, 0.0) + int(self_us) / 1000
        if name == module:
            total = int(cumulative_us) / 1000
    top = sorted(per_package.items(), key=lambda kv: -kv[1])
    return total, top, [m for m in OPTIONAL_MODULES if m in seen]


# -- the run --------------------------------------------------------------------------------


def run(
    *,
    db: Path | str,
    size: Size = Size(),
    rounds: int = 300,
    startup_rounds: int = 5,
    budget_s: float = 20.0,
    import_rows_n: int = 20_000,
    real_now: datetime | None = None,
    say: Callable[[str], None] = lambda _m: None,
) -> Report:
    """Build or reuse the database and time every figure (print with format_report)."""
    from sqlalchemy import select

    from seat import agents
    from seat.clock import FixedClock
    from seat.config import Settings, sqlite_url
    from seat.db import freeze_start_up, make_engine, thaw_start_up
    from seat.models import Customer, PhoneNumber
    from seat.services import Desk

    if rounds < 1 or startup_rounds < 1:
        raise BenchError("rounds must be at least 1")
    now, reused = ensure_database(db, size, real_now=real_now or datetime.now(UTC), say=say)
    report = Report(
        db=shown_url(db), size=size, now=now, reused=reused, rounds=rounds,
        startup_rounds=startup_rounds,
    )  # fmt: skip
    postgres = is_postgres(db)
    url = str(db) if postgres else sqlite_url(db)
    settings = Settings(database_url=url, local_timezone=ZONE)
    # As the seat's screens open it (seat.cli): the log copied back in the background.
    engine = make_engine(url, background_checkpoints=True)
    desk = Desk(engine=engine, clock=FixedClock(now), settings=settings)
    con = _raw_connect(db)
    logged: list[int] = []
    report.load = (_load(), 0.0)
    statements: dict[str, list[Statement]] = {}
    scratch = None if postgres else _scratch_copy(Path(db), say)
    # Opened as the seat's screens open theirs (the rules run on a seat's start and on `g`):
    # the log copied back on the background thread, not in the run's commit.
    rules_engine = None if scratch is None else make_engine(
        sqlite_url(scratch), background_checkpoints=True
    )
    try:
        agent_id = desk.run(lambda s: agents.get_by_name(session=s, name=AGENT)).id  # type: ignore[union-attr]
        boss = desk.run(lambda s: agents.get_by_name(session=s, name="zhao.lei")).id  # type: ignore[union-attr]
        heavy = desk.run(lambda s: s.execute(select(Customer.id).order_by(Customer.id)).scalar())
        heavy_phone = desk.run(
            lambda s: s.execute(
                select(PhoneNumber.e164).where(PhoneNumber.customer_id == heavy)
            ).scalar()
        )
        typed = [_typed(e) for e in _sample_numbers(con, 1000)]
        searched = _search_terms(con, 1000)
        out = _meta_path(db).with_suffix(".report.csv")
        every = probes(desk, con, agent_id=agent_id, supervisor_id=boss, heavy=heavy,
                       heavy_phone=heavy_phone, typed=typed, logged=logged,
                       searched=searched, rules_engine=rules_engine)  # fmt: skip
        in_seat = len(every)
        every += [report_probe(desk, name, out) for name in REPORTS]
        for n, probe in enumerate(every):
            say(f"timing: {probe.name}")
            # The screens' rows run as in a seat, whose start-up is frozen (seat.cli.run_app:
            # the collector never scans it again, few_collections knows); the reports as
            # `seat report` runs them, nothing frozen.
            if n < in_seat:
                freeze_start_up()
            try:
                row, statements[probe.name] = _time_probe(
                    probe, engine=engine, con=con, rounds=rounds, budget_s=budget_s
                )
            finally:
                if n < in_seat:
                    thaw_start_up()
            if probe.name.startswith("seat report"):
                row = replace(row, peak_mb=_peak_mb(probe.seat), target_mb=100.0)
            report.rows.append(row)
            _forget_calls(con, logged)
        out.unlink(missing_ok=True)
        report.slow = _slow_statements(con, statements)
        _forget_calls(con, logged)
        if postgres:
            _keep_counts(db)
    finally:
        _forget_calls(con, logged)
        con.close()
        engine.dispose()
        if rules_engine is not None:
            rules_engine.dispose()
        if scratch is not None:
            for stale in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm")):
                stale.unlink(missing_ok=True)
    report.counts = _counts(db)
    seeded = seeding_row(_read_meta(_meta_path(db)) or {}, size)
    if seeded is not None:
        report.rows.append(seeded)
    if import_rows_n > 0 and not postgres:  # the import's floor is plain sqlite3
        assert isinstance(db, Path)
        report.rows.append(import_rows(db.parent, import_rows_n, now=now, say=say))
    report.rows.append(startup_row(startup_rounds, say))
    say("import profile")
    report.import_total_ms, report.import_top, report.optional_at_import = import_profile()
    report.load = (report.load[0], _load())
    return report


def _load() -> float:
    """Other work on the machine shows in p99 first: the figures say how busy it was."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return 0.0


def _sample_numbers(con: Any, n: int) -> list[str]:
    import random

    top = con.execute("SELECT max(id) FROM phone_number").fetchone()[0] or 0
    rng = random.Random(8)
    ids = [rng.randint(1, top) for __ in range(n)]
    rows = con.execute(
        f"SELECT e164 FROM phone_number WHERE id IN ({', '.join(map(str, ids))})"
    ).fetchall()
    if not rows:
        raise BenchError("the benchmark database has no phone numbers")
    return [r[0] for r in rows]


def _search_terms(con: Any, n: int) -> list[str]:
    """What agents type into the search, from random customers: a whole name, a surname
    (one character: the most common names are thousands), four characters of an address,
    the last four digits of a number, a customer number, a number typed in full."""
    import random

    top = con.execute("SELECT max(id) FROM customer").fetchone()[0] or 0
    rng = random.Random(9)
    ids = sorted({rng.randint(1, top) for __ in range(n)})
    rows = con.execute(
        "SELECT c.id, c.name, coalesce(c.address, ''), "
        "(SELECT e164 FROM phone_number WHERE customer_id = c.id ORDER BY id LIMIT 1) "
        f"FROM customer AS c WHERE c.id IN ({', '.join(map(str, ids))})"
    ).fetchall()
    if not rows:
        raise BenchError("the benchmark database has no customers")
    terms: list[str] = []
    for i, (cid, name, address, e164) in enumerate(rows):
        kind = i % 6
        if kind == 0 or (kind == 2 and len(address) < 8):
            terms.append(name)
        elif kind == 1:
            terms.append(name[:1])
        elif kind == 2:
            start = rng.randint(0, len(address) - 4)
            terms.append(address[start : start + 4])
        elif kind == 3 and e164:
            terms.append(e164[-4:])
        elif kind == 5 and e164:
            terms.append(_typed(e164))
        else:
            terms.append(str(cid))
    return terms


def _scratch_copy(db: Path, say: Callable[[str], None]) -> Path:
    """A copy of the benchmark database for the rows that write what cannot be taken back
    (the callback rules' runs of the next days), made with SQLite's online backup."""
    copy = db.with_name(db.name + ".rules.db")
    for stale in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        stale.unlink(missing_ok=True)
    say("copying the database for the callback rules' rows")
    source = sqlite3.connect(db)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return copy


def _keep_counts(db: Path | str) -> None:
    """The callbacks the timed runs of the callback rules made for the days after the bench
    clock stay (due after it: no other row reads them): the database is still as this bench
    left it, and is reused."""
    meta = _meta_path(db)
    known = _read_meta(meta)
    if known is not None:
        known["counts"] = _counts(db)
        meta.write_text(json.dumps(known))


def _forget_calls(con: Any, ids: list[int]) -> None:
    """The calls the benchmark logged go again (with the history and callbacks a save
    writes for them): the database keeps the size it was built at."""
    while ids:
        chunk, ids[:] = ids[:500], ids[500:]
        listed = ", ".join(map(str, chunk))
        for table in ("call_stage", "call_check"):  # what happened on them (seat.calls)
            con.execute(f"DELETE FROM {table} WHERE call_id IN ({listed})")
        con.execute(f"DELETE FROM call WHERE id IN ({listed})")


SLOW_MS = 2.0
SLOW_TOP = 25


def _slow_statements(con: Any, captured: dict[str, list[Statement]]) -> list[str]:
    """The SLOW_TOP slowest captured statements of SLOW_MS or more on plain sqlite3, with
    their plans, slowest first."""
    found: list[tuple[float, str]] = []
    for where, statements in captured.items():
        for n, (sql, params) in enumerate(statements, 1):
            con.execute(sql, params).fetchall()
            t = time.perf_counter_ns()
            con.execute(sql, params).fetchall()
            ms = (time.perf_counter_ns() - t) / 1e6
            if ms >= SLOW_MS:
                explain = "EXPLAIN QUERY PLAN" if isinstance(con, sqlite3.Connection) else "EXPLAIN"
                plan = "; ".join(
                    str(r[-1]).strip() for r in con.execute(f"{explain} {sql}", params)
                )
                plan = plan if len(plan) <= 400 else plan[:399] + "…"  # PostgreSQL's are long
                text = " ".join(sql.split())[:160]
                found.append((ms, f"{where} #{n} ({_ms(ms)} ms): {text} | {plan}"))
    return [line for __, line in sorted(found, key=lambda f: -f[0])[:SLOW_TOP]]


# -- output ---------------------------------------------------------------------------------


def _ms(value: float) -> str:
    if value >= 100_000:  # seeding: seconds, or the column runs into the next
        return f"{value / 1000:.0f}s"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _scheduled(report: Report) -> str:
    extra = report.counts.get("callbacks", report.size.callbacks) - report.size.callbacks
    return f" (+{extra:,} callbacks by the callback rules)" if extra else ""


def _driver(report: Report) -> str:
    return "psycopg" if is_postgres(report.db) else "sqlite3"


def format_report(report: Report) -> str:
    local = report.now.astimezone(ZoneInfo(ZONE))
    lines = [
        f"seat bench · {report.db} ({'reused' if report.reused else 'built'})",
        report.size.describe() + _scheduled(report),
        f"clock pinned to {local:%a %Y-%m-%d %H:%M} {ZONE}; up to {report.rounds} rounds a "
        f"figure, {report.startup_rounds} per start-up; times in ms; ratio and verdicts on p99",
        f"{os.cpu_count()} CPUs, load average {report.load[0]:.1f} at the start, "
        f"{report.load[1]:.1f} at the end",
        f"floor: the same SELECTs the seat sent, replayed on plain {_driver(report)} (or as noted)",
        "",
        f"{'':38}{'seat':>19}   {'floor':>13}",
        f"{'what':38}{'n':>5}{'p50':>7}{'p99':>7}   {'p50':>6}{'p99':>7}{'ratio':>8}  target",
    ]
    for r in report.rows:
        raw = f"{_ms(r.raw.p50):>6}{_ms(r.raw.p99):>7}" if r.raw else f"{'-':>6}{'-':>7}"
        ratio = f"{r.ratio:.1f}x" if r.ratio is not None else "-"
        target = f"{r.target()} {r.verdict}" if r.verdict else ""
        lines.append(
            f"{r.name:38}{r.seat.n:>5}{_ms(r.seat.p50):>7}{_ms(r.seat.p99):>7}   "
            f"{raw}{ratio:>8}  {target}".rstrip()
        )
    lines += ["", "notes:"]
    for r in report.rows:
        extra = [r.note] if r.note else []
        if r.peak_mb is not None:
            extra.append(f"peak Python memory (tracemalloc) {r.peak_mb:.1f} MB")
        extra.append("calls " + ", ".join(r.calls))
        lines.append(f"  {r.name}: " + "; ".join(extra))
    lines += [
        f"import seat.app: {report.import_total_ms:.0f} ms; most self time: "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in report.import_top[:8]),
        "optional phonenumbers data at import: " + (", ".join(report.optional_at_import) or "none"),
    ]
    if report.slow:
        lines.append(
            f"statements of {SLOW_MS:g} ms or more (plain {_driver(report)}) and their plans:"
        )
        lines += [f"  {s}" for s in report.slow]
    return "\n".join(lines)


# -- command line ---------------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction) -> None:
    size = Size()
    b = sub.add_parser(
        "bench",
        help=_("time the hot paths on a call-center-sized database"),
        description=_(
            "Build (or reuse) a large SQLite desk and time what people wait for: the "
            "sidebar, lookup, lists, the wallboard, reports, import, seeding and start-up; "
            "see the README's Performance section."
        ),
        epilog=example("seat bench", "seat bench --customers 20000 --calls 100000 --rounds 50"),
    )
    add_db_option(b, _("SQLite file to build or reuse (default: bench.db in the user data "
                       "directory)"))  # fmt: skip
    b.add_argument(
        "--customers",
        type=int,
        default=size.customers,
        metavar="N",
        help=_("how many customers (default: %(default)s)"),
    )
    b.add_argument(
        "--calls",
        type=int,
        default=size.calls,
        metavar="N",
        help=_("how many calls (default: %(default)s)"),
    )
    b.add_argument(
        "--callbacks",
        type=int,
        default=size.callbacks,
        metavar="N",
        help=_("how many callbacks (default: %(default)s)"),
    )
    b.add_argument(
        "--work-orders",
        dest="work_orders",
        type=int,
        default=size.work_orders,
        metavar="N",
        help=_("how many work orders (default: %(default)s)"),
    )
    b.add_argument(
        "--purchases",
        type=int,
        default=size.purchases,
        metavar="N",
        help=_("how many purchase lines (default: %(default)s)"),
    )
    b.add_argument(
        "--rounds",
        type=int,
        default=300,
        metavar="N",
        help=_("timed rounds per figure at most (default: %(default)s)"),
    )
    b.add_argument(
        "--budget",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help=_("time spent on one figure at most (default: %(default)s)"),
    )
    b.add_argument(
        "--import-rows",
        dest="import_rows",
        type=int,
        default=20_000,
        metavar="N",
        help=_("customers in the timed import, 0 for none (default: %(default)s)"),
    )
    b.add_argument(
        "--startup-rounds",
        dest="startup_rounds",
        type=int,
        default=5,
        metavar="N",
        help=_("seat start-ups timed (default: %(default)s)"),
    )
    b.add_argument("--json", action="store_true",
                   help=_("print the figures as JSON for scripts"))  # fmt: skip


def main(args: argparse.Namespace) -> int:
    """`seat bench`: print the table; 0 when it ran (missed targets are figures, not errors)."""
    raw = args.sub_db or args.db
    db: Path | str
    if raw and raw.startswith("postgresql"):
        db = raw
    else:
        if raw and "://" in raw:
            if not raw.startswith("sqlite:///"):
                print("seat bench: the benchmark needs a SQLite file or a PostgreSQL URL",
                      file=sys.stderr)  # fmt: skip
                return 2
            raw = raw.removeprefix("sqlite:///")
        db = Path(raw).expanduser().resolve() if raw else default_db()
    size = Size(args.customers, args.calls, args.callbacks, args.work_orders, args.purchases)
    if min(asdict(size).values()) < 1:
        print("seat bench: every count must be at least 1", file=sys.stderr)
        return 2
    try:
        report = run(
            db=db,
            size=size,
            rounds=args.rounds,
            startup_rounds=max(1, args.startup_rounds),
            budget_s=args.budget,
            import_rows_n=max(0, args.import_rows),
            say=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except (BenchError, ValueError) as exc:
        print(f"seat bench: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_json(), indent=2) if args.json else format_report(report))
    return 0
