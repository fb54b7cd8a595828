"""`seat bench`: p50/p99 of the hot paths on a call-center-sized database, beside sqlite3.

Speed is proven by figures a person reads, never by timed assertions in tests. Each row
runs the seat's own code (the Desk facade, one transaction per step, as the screens do)
and, beside it, the same queries hand-written for plain `sqlite3` on the same file; the
ratio is what the ORM and the Python around the query cost.

The database is built once with `seat.demo.seed` (about a minute and a half at the default
size) and reused while its row counts match; a `.bench.json` file beside it records the
size and the seed's clock. That clock is pinned to 18:00 of the last weekday in the desk's
zone, so "calls today" on the wallboard is a full working day whatever the hour.

This module's top level imports only the standard library: `seat --help` builds its parser.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from seat.cli_help import add_db_option, example
from seat.i18n import _

if TYPE_CHECKING:
    from sqlmodel import Session

    from seat.desk import Desk

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

    def describe(self) -> str:
        return (
            f"{self.customers:,} customers, {self.calls:,} calls, "
            f"{self.callbacks:,} callbacks, {self.work_orders:,} work orders"
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
    name: str
    seat: Stats
    raw: Stats | None
    target_ms: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.raw is None or self.raw.p50 <= 0:
            return None
        return self.seat.p50 / self.raw.p50

    @property
    def verdict(self) -> str:
        """PASS/MISS against the target, judged on p99; '' when there is no target."""
        if self.target_ms is None:
            return ""
        return "PASS" if self.seat.p99 < self.target_ms else "MISS"


@dataclass
class Report:
    db: Path
    size: Size
    now: datetime
    reused: bool
    rounds: int
    startup_rounds: int
    rows: list[Row] = field(default_factory=list)
    sidebar_parts: list[str] = field(default_factory=list)
    import_total_ms: float = 0.0
    import_top: list[tuple[str, float]] = field(default_factory=list)
    optional_at_import: list[str] = field(default_factory=list)
    optional_at_ready: list[str] = field(default_factory=list)
    slow: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    """Rows in the database as timed (the callback rules add callbacks to the seeded ones)."""
    load: tuple[float, float] = (0.0, 0.0)
    """The machine's 1-minute load average when the timing began and when it ended."""
    sidebar_split: list[tuple[str, float]] = field(default_factory=list)
    """p50 ms of each sidebar part alone (seat side)."""
    startup_phases: dict[str, float] = field(default_factory=dict)
    """Median ms of each phase inside the start-up process."""

    def row(self, prefix: str) -> Row:
        return next(r for r in self.rows if r.name.startswith(prefix))


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


def _meta_path(db: Path) -> Path:
    return db.with_name(db.name + ".bench.json")


def _counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {
            key: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for key, table in (
                ("customers", "customer"),
                ("calls", "call"),
                ("callbacks", "callback"),
                ("work_orders", "work_order"),
            )
        }
    except sqlite3.DatabaseError as exc:
        raise BenchError(f"{db} is not a seat database ({exc}); pass another --db") from None
    finally:
        con.close()


def _read_meta(meta: Path) -> dict[str, Any] | None:
    try:
        known = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return known if isinstance(known, dict) else None


def ensure_database(
    db: Path, size: Size, *, real_now: datetime, say: Callable[[str], None] = lambda _m: None
) -> tuple[datetime, bool]:
    """Build the benchmark database, or reuse it while it is as built; (seed clock, reused).

    Building seeds `size`, then runs the callback rules once, as a seat's first start does
    (they add callbacks), so every later run times the same rows. A file this module did not
    build (no .bench.json beside it) is refused and never deleted.
    """
    meta = _meta_path(db)
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
    from seat.demo import seed

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
            now=at,
            progress=say,
        )
        say(f"seeded {db} in {report.seconds:.0f} s; running the callback rules once")
        _first_start(engine, sqlite_url(db), at)
    finally:
        engine.dispose()
    meta.write_text(
        json.dumps({"size": asdict(size), "counts": _counts(db), "now": at.isoformat()})
    )
    return at, False


def _first_start(engine: Any, url: str, at: datetime) -> None:
    """What the first seat to open the database does to it: the callback rules' rows."""
    try:
        from seat.callbacks import run_scheduler
    except ImportError:
        return
    from seat.clock import FixedClock
    from seat.config import Settings
    from seat.desk import Desk

    desk = Desk(engine=engine, clock=FixedClock(at), settings=Settings(database_url=url))
    run_scheduler(desk)


# -- the wallboard query set: seat.supervisor owns it, the bench times it ------------------


def wallboard_queries(
    *, session: Session, now: datetime, zone: str | ZoneInfo = ZONE, limit: int = 20
) -> Any:
    """seat.supervisor.wallboard_queries, imported late: `seat --help` builds its parser
    from this module, which must stay standard-library only at import."""
    from seat.supervisor import wallboard_queries as queries

    return queries(session=session, now=now, zone=zone, limit=limit)


# -- plain sqlite3: the same queries, hand-written ------------------------------------------


def _ts(at: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _raw_connect(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(db)
    for pragma in ("busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL"):
        con.execute(f"PRAGMA {pragma}")
    return con


SQL_FIND = (
    "SELECT c.id, c.name, c.tier, p.e164 FROM customer c "
    "JOIN phone_number p ON p.customer_id = c.id WHERE p.e164 = ?"
)
SQL_CARD = (
    "SELECT id, name, tier, gender, birthday, address FROM customer WHERE id = ?",
    "SELECT e164 FROM phone_number WHERE customer_id = ?",
    "SELECT id, status, what_happened FROM complaint WHERE customer_id = ? "
    "AND status NOT IN ('closed', 'invalid') ORDER BY created_at DESC LIMIT 5",
    "SELECT id, status, short_text, urgent FROM work_order WHERE customer_id = ? "
    "AND status NOT IN ('closed') ORDER BY urgent DESC, due_at LIMIT 5",
)
SQL_CALL_PAGE = (
    "SELECT k.id, k.started_at, a.display_name, k.need_category, k.outcome, k.notes "
    "FROM call k JOIN agent a ON a.id = k.agent_id WHERE k.customer_id = ? "
    "ORDER BY k.started_at DESC LIMIT ? OFFSET ?"
)
# The sidebar's queries as Desk.sidebar runs them; :a is the agent, :h the callback horizon.
SQL_SIDEBAR = (
    "SELECT b.id, b.customer_id, c.name, b.due_at, b.reason, b.kind, b.attempts, "
    "(SELECT p.e164 FROM phone_number p WHERE p.customer_id = b.customer_id "
    "AND p.wrong_number = 0 ORDER BY p.id LIMIT 1) "
    "FROM callback b JOIN customer c ON c.id = b.customer_id "
    "WHERE b.owner_id = :a AND b.status = 'open' AND b.due_at <= :h ORDER BY b.due_at LIMIT 50",
    "WITH RECURSIVE own(status) AS (SELECT min(status) FROM work_order WHERE assignee_id = :a "
    "UNION ALL SELECT (SELECT min(w.status) FROM work_order w WHERE w.assignee_id = :a "
    "AND w.status > own.status) FROM own WHERE own.status IS NOT NULL) "
    "SELECT status FROM own WHERE status IS NOT NULL",
    "SELECT count(*) FROM complaint WHERE owner_id = :a AND status NOT IN ('closed', 'invalid')",
)
SQL_SIDEBAR_ORDER_PART = (
    "SELECT * FROM (SELECT id, urgent, due_at FROM work_order WHERE assignee_id = :a "
    "AND status = '{status}' AND urgent = {urgent} ORDER BY due_at, id LIMIT 50)"
)
SQL_SIDEBAR_ORDERS = (
    "SELECT w.id, w.customer_id, c.name, w.short_text, w.status, w.urgent, w.due_at "
    "FROM work_order w JOIN customer c ON c.id = w.customer_id WHERE w.id IN ({ids}) "
    "ORDER BY w.urgent DESC, w.due_at, w.id"
)
SQL_SIDEBAR_COMPLAINTS = (
    "SELECT k.id, k.status, k.created_at, k.closed_at, k.category, k.first_reply_at, "
    "k.solution_at, k.implemented_at, k.waiting_since, k.customer_id, c.name, c.tier "
    "FROM complaint k JOIN customer c ON c.id = k.customer_id "
    "WHERE k.owner_id = :a AND k.status IN ({statuses}) "
    "ORDER BY k.implemented_at IS NULL, k.created_at, k.id",
    "SELECT e.complaint_id, e.action, e.at FROM complaint_event e "
    "JOIN complaint k ON k.id = e.complaint_id WHERE k.owner_id = :a "
    "AND k.status IN ({statuses}) AND e.action IN ('pause', 'resume') ORDER BY e.id",
)
SQL_WALLBOARD = (
    "SELECT a.id, a.display_name, count(k.id), "
    "avg((julianday(k.ended_at) - julianday(k.started_at)) * 86400.0) "
    "FROM agent a LEFT JOIN call k ON k.agent_id = a.id AND k.started_at >= ? "
    "AND k.started_at < ? WHERE a.active GROUP BY a.id, a.display_name ORDER BY a.display_name",
    "SELECT status, count(*) FROM complaint WHERE status NOT IN ('closed', 'invalid') "
    "GROUP BY status ORDER BY status",
    "SELECT a.id, a.display_name, count(b.id) FROM agent a JOIN callback b ON b.owner_id = a.id "
    "WHERE b.status = 'open' AND b.due_at < ? GROUP BY a.id, a.display_name "
    "ORDER BY a.display_name",
    "SELECT count(*) FROM work_order WHERE status NOT IN ('closed') AND assignee_id IS NULL",
    "SELECT count(*) FROM work_order WHERE status NOT IN ('closed') AND urgent",
    "SELECT w.id, w.short_text, w.urgent, w.due_at, a.display_name FROM work_order w "
    "LEFT JOIN agent a ON a.id = w.assignee_id WHERE w.status NOT IN ('closed') "
    "AND (w.assignee_id IS NULL OR w.urgent) ORDER BY w.due_at LIMIT 20",
)
SQL_RECENT = (
    "SELECT k.id, k.started_at, c.name, k.from_number, k.need_category, k.outcome FROM call k "
    "LEFT JOIN customer c ON c.id = k.customer_id WHERE k.agent_id = ? AND k.ended_at IS NOT NULL "
    "ORDER BY k.started_at DESC LIMIT 8"
)
SQL_INSERT_CALL = (
    "INSERT INTO call (uid, agent_id, customer_id, from_number, direction, script, callback_id, "
    "started_at, ended_at, greeting_at, discovery_at, resolution_at, closing_at, wrapup_at, "
    "need_category, outcome, satisfaction, notes) "
    "VALUES (lower(hex(randomblob(16))), ?, ?, ?, 'inbound', 'inbound', NULL, ?, ?, ?, ?, ?, ?, "
    "?, 'inquiry', 'resolved', NULL, ?)"
)


def _raw_card(con: sqlite3.Connection, customer_id: int, calls: int) -> list[Any]:
    out = [con.execute(sql, (customer_id,)).fetchall() for sql in SQL_CARD]
    out.append(con.execute(SQL_CALL_PAGE, (customer_id, calls, 0)).fetchall())
    return out


# -- the seat's side ------------------------------------------------------------------------


def _sidebar_parts(desk: Desk) -> list[tuple[str, Callable[[Session, int, datetime], object]]]:
    """What Desk.sidebar runs, one by one: work.sidebar (orders and the complaint count),
    the callback and the complaint sidebars."""
    from seat import work
    from seat.callbacks import load_policy, sidebar_callbacks
    from seat.complaints import sidebar_complaints
    from seat.sla import load_policy as sla_policy

    cb_policy = load_policy(desk.settings)
    k_policy = sla_policy(desk.settings)
    return [
        ("work.sidebar", lambda s, a, _now: work.sidebar(session=s, agent_id=a)),
        (
            "callbacks.sidebar_callbacks",
            lambda s, a, now: sidebar_callbacks(session=s, agent_id=a, now=now, policy=cb_policy),
        ),
        (
            "complaints.sidebar_complaints",
            lambda s, a, now: sidebar_complaints(session=s, agent_id=a, now=now, policy=k_policy),
        ),
    ]


def call_page(
    *, session: Session, customer_id: int, offset: int = 0, limit: int = PAGE
) -> list[tuple[Any, ...]]:
    """One page of a customer's calls, newest first (the columns a history list shows)."""
    from sqlalchemy import select

    from seat.models import Agent, Call

    return [
        tuple(r)
        for r in session.execute(
            select(
                Call.id, Call.started_at, Agent.display_name, Call.need_category, Call.outcome,
                Call.notes,
            )
            .join(Agent, Agent.id == Call.agent_id)
            .where(Call.customer_id == customer_id)
            .order_by(Call.started_at.desc())
            .offset(offset)
            .limit(limit)
        )
    ]  # fmt: skip


def _walk_call(desk: Desk, agent_id: int, customer_id: int, e164: str) -> int:
    """A whole inbound call: every stage's fields filled, walked to wrap-up, saved, committed."""
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


def _pair(
    name: str,
    seat_fn: Callable[[int], object],
    raw_fn: Callable[[int], object],
    rounds: int,
    target_ms: float | None = None,
) -> Row:
    """Time both sides round by round, interleaved, so a busy machine slows both alike."""
    for i in range(min(5, rounds)):  # warm caches and pools: steady state is the question
        seat_fn(i)
        raw_fn(i)
    seat: list[int] = []
    raw: list[int] = []
    for i in range(rounds):
        for fn, samples in ((seat_fn, seat), (raw_fn, raw)):
            t = time.perf_counter_ns()
            fn(i)
            samples.append(time.perf_counter_ns() - t)
    return Row(name, Stats.of(seat), Stats.of(raw), target_ms)


# -- processes: start-up and imports ---------------------------------------------------------


STARTUP_CHILD = "import sys; from seat.bench import startup_child; startup_child(*sys.argv[1:])"
FLOOR_CHILD = (
    "import sqlite3, sys; con = sqlite3.connect(sys.argv[1]); "
    "[con.execute(q, {'a': 1, 'h': sys.argv[2]}).fetchall() for q in "
    f"{SQL_SIDEBAR!r}]; print('READY', flush=True)"
)


def startup_child(db_url: str, now_iso: str) -> None:
    """Run in a fresh interpreter: build the seat, print READY when the desk's sidebar shows.

    After READY: the optional modules loaded and the milliseconds of each phase, as JSON.
    """
    import asyncio

    t0 = time.perf_counter()
    from seat.app import make_app
    from seat.clock import FixedClock
    from seat.config import Settings

    t1 = time.perf_counter()
    app = make_app(
        settings=Settings(database_url=db_url),
        clock=FixedClock(datetime.fromisoformat(now_iso)),
        agent=AGENT,
    )
    t2 = time.perf_counter()

    async def go() -> None:
        async with app.run_test(headless=True, size=(80, 24)) as pilot:
            deadline = time.monotonic() + 60
            while not _desk_ready(app) and time.monotonic() < deadline:
                await pilot.pause(0.002)
            t3 = time.perf_counter()
            tail = {
                "optional": [m for m in OPTIONAL_MODULES if m in sys.modules],
                "phases": {
                    "import seat.app": (t1 - t0) * 1000,
                    "engine, migrations, scripts": (t2 - t1) * 1000,
                    "app to ready desk": (t3 - t2) * 1000,
                },
            }
            print("READY" if _desk_ready(app) else "TIMEOUT", json.dumps(tail), flush=True)
            app.exit()

    asyncio.run(go())


def _desk_ready(app: Any) -> bool:
    from textual.css.query import NoMatches
    from textual.widgets import OptionList

    from seat.screens.desk import DeskScreen
    from seat.widgets.sidebar import Sidebar

    if not isinstance(app.screen, DeskScreen):
        return False
    try:
        return app.screen.query_one(Sidebar).query_one(OptionList).option_count > 0
    except NoMatches:
        return False


def _time_process(argv: Sequence[str], *, until_ready: bool) -> tuple[int, str]:
    """Nanoseconds from spawn to the READY line (or to exit), and what followed READY."""
    import subprocess

    t = time.perf_counter_ns()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not until_ready:
        _out, err = proc.communicate(timeout=120)
        elapsed = time.perf_counter_ns() - t
        if proc.returncode:
            raise BenchError(f"{' '.join(argv[:3])} failed: {err.strip()[-500:]}")
        return elapsed, ""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter_ns() - t
    _rest, err = proc.communicate(timeout=120)
    if not line.startswith("READY"):
        raise BenchError(
            f"the seat did not reach a ready desk: {line.strip()} {err.strip()[-800:]}"
        )
    return elapsed, line.removeprefix("READY").strip()


def _seat_command() -> list[str]:
    found = shutil.which("seat")
    return [found] if found else [sys.executable, "-m", "seat"]


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
    db: Path,
    size: Size = Size(),
    rounds: int = 300,
    startup_rounds: int = 10,
    real_now: datetime | None = None,
    say: Callable[[str], None] = lambda _m: None,
) -> Report:
    """Build or reuse the database and time every figure (print with format_report)."""
    from sqlalchemy import select

    from seat import agents, phone
    from seat.clock import FixedClock
    from seat.config import Settings, sqlite_url
    from seat.db import make_engine
    from seat.desk import Desk
    from seat.models import Customer, PhoneNumber

    if rounds < 1 or startup_rounds < 1:
        raise BenchError("rounds must be at least 1")
    now, reused = ensure_database(db, size, real_now=real_now or datetime.now(UTC), say=say)
    report = Report(
        db=db, size=size, now=now, reused=reused, rounds=rounds, startup_rounds=startup_rounds
    )
    report.counts = _counts(db)
    url = sqlite_url(db)
    settings = Settings(database_url=url, local_timezone=ZONE)
    engine = make_engine(url)
    desk = Desk(engine=engine, clock=FixedClock(now), settings=settings)
    con = _raw_connect(db)
    logged: list[int] = []
    load_before = _load()
    try:
        agent_id = desk.run(lambda s: agents.get_by_name(session=s, name=AGENT)).id  # type: ignore[union-attr]
        heavy = desk.run(lambda s: s.execute(select(Customer.id).order_by(Customer.id)).scalar())
        heavy_calls = con.execute("SELECT count(*) FROM call WHERE customer_id = ?", (heavy,))
        n_heavy = heavy_calls.fetchone()[0]
        numbers = _sample_numbers(con, 1000)
        typed = [_typed(e) for e in numbers]
        heavy_phone = desk.run(
            lambda s: s.execute(
                select(PhoneNumber.e164).where(PhoneNumber.customer_id == heavy)
            ).scalar()
        )
        region = settings.region

        say("timing: caller lookup")

        def seat_lookup(i: int) -> object:
            _e164, hit = desk.lookup(typed[i % len(typed)])
            return desk.card(hit.id) if hit else None

        def raw_lookup(i: int) -> object:
            e164 = phone.normalise(typed[i % len(typed)], region)
            hit = con.execute(SQL_FIND, (e164,)).fetchone()
            return _raw_card(con, hit[0], 5) if hit else None

        report.rows.append(
            _pair("caller lookup: parse+find+card", seat_lookup, raw_lookup, rounds, 2.0)
        )

        say("timing: sidebar")
        parts = _sidebar_parts(desk)
        report.sidebar_parts = [name for name, __ in parts]

        def seat_sidebar(_i: int) -> object:  # the seat's own query set, one transaction
            return desk.sidebar(agent_id)

        raw_sidebar = _raw_sidebar(con, agent_id, now, report.sidebar_parts)
        for name, fn in parts:
            one = _pair(name, lambda _i, fn=fn: desk.run(lambda s: fn(s, agent_id, now)),
                        lambda _i: None, max(1, rounds // 3))  # fmt: skip
            report.sidebar_split.append((name, one.seat.p50))
        report.rows.append(
            _pair("sidebar: Desk.sidebar, 1 agent", seat_sidebar, raw_sidebar, rounds, 5.0)
        )

        say("timing: logging a call")

        def seat_log(_i: int) -> object:
            logged.append(_walk_call(desk, agent_id, heavy, heavy_phone))
            return None

        def raw_log(_i: int) -> object:
            t = _ts(now)
            cur = con.execute(
                SQL_INSERT_CALL, (agent_id, heavy, heavy_phone, t, t, t, t, t, t, t, "seat bench")
            )
            con.commit()
            logged.append(cur.lastrowid)  # type: ignore[arg-type]
            return None

        report.rows.append(_pair("logging a call (commit incl.)", seat_log, raw_log, rounds, 10.0))
        _forget_calls(con, logged)

        say("timing: customer with many calls")
        from seat import customers

        def seat_history(_i: int) -> object:
            return desk.run(
                lambda s: (
                    customers.card(session=s, customer_id=heavy),
                    call_page(session=s, customer_id=heavy),
                )
            )

        def raw_history(_i: int) -> object:
            return _raw_card(con, heavy, 5), con.execute(SQL_CALL_PAGE, (heavy, PAGE, 0)).fetchall()

        report.rows.append(
            _pair(f"customer, {n_heavy:,} calls: 1st page", seat_history, raw_history, rounds, 50.0)
        )

        say("timing: wallboard")

        def seat_wallboard(_i: int) -> object:
            return desk.run(lambda s: wallboard_queries(session=s, now=now, zone=desk.zone))

        raw_wallboard = _raw_wallboard(con, now, desk.zone)
        wb_rounds = max(1, rounds // 10)  # unindexed, these take a second: fewer rounds
        report.rows.append(
            _pair("supervisor wallboard set", seat_wallboard, raw_wallboard, wb_rounds)
        )
        say("timing: my last calls")

        def raw_recent(_i: int) -> object:
            return con.execute(SQL_RECENT, (agent_id,)).fetchall()

        report.rows.append(
            _pair(
                "desk: my last calls", lambda _i: desk.recent_calls(agent_id), raw_recent, wb_rounds
            )
        )
        report.slow = _slow_plans(con, agent_id, now, desk.zone, heavy, report.sidebar_parts)
    finally:
        _forget_calls(con, logged)
        con.close()
        engine.dispose()

    say("timing: start-up (processes)")
    report.rows.extend(_process_rows(url, db, now, startup_rounds, report))
    say("import profile")
    report.import_total_ms, report.import_top, report.optional_at_import = import_profile()
    report.load = (load_before, _load())
    return report


def _load() -> float:
    """Other work on the machine shows in p99 first: the figures say how busy it was."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return 0.0


def _sample_numbers(con: sqlite3.Connection, n: int) -> list[str]:
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


def _forget_calls(con: sqlite3.Connection, ids: list[int]) -> None:
    """The calls the benchmark logged go again: the database keeps the size it was built at."""
    while ids:
        chunk, ids[:] = ids[:500], ids[500:]
        con.execute(f"DELETE FROM call WHERE id IN ({', '.join(map(str, chunk))})")
    con.commit()


def _raw_sidebar(
    con: sqlite3.Connection, agent_id: int, now: datetime, parts: Sequence[str]
) -> Callable[[int], object]:
    from seat.complaints import OPEN_STATUSES
    from seat.models import OPEN_WORK_ORDER_EXCLUDES

    params = {"a": agent_id, "h": _ts(now + timedelta(hours=24))}
    statuses = _in(OPEN_STATUSES)

    def go(_i: int) -> object:
        cbs, own, count = (con.execute(sql, params).fetchall() for sql in SQL_SIDEBAR)
        page = " UNION ALL ".join(
            SQL_SIDEBAR_ORDER_PART.format(status=status.replace("'", "''"), urgent=urgent)
            for (status,) in own
            if status not in OPEN_WORK_ORDER_EXCLUDES
            for urgent in (1, 0)
        )
        ids = (
            con.execute(f"{page} ORDER BY urgent DESC, due_at, id LIMIT 50", params).fetchall()
            if page
            else []
        )
        orders = con.execute(
            SQL_SIDEBAR_ORDERS.format(ids=", ".join(str(r[0]) for r in ids) or "NULL")
        ).fetchall()
        complaints = [
            con.execute(sql.format(statuses=statuses), params).fetchall()
            for sql in SQL_SIDEBAR_COMPLAINTS
        ]
        return cbs, orders, count, complaints

    return go


def _wallboard_params(now: datetime, zone: ZoneInfo) -> list[tuple[Any, ...]]:
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return [(_ts(midnight), _ts(now)), (), (_ts(now),), (), (), ()]


def _raw_wallboard(
    con: sqlite3.Connection, now: datetime, zone: ZoneInfo
) -> Callable[[int], object]:
    params = _wallboard_params(now, zone)

    def go(_i: int) -> object:
        return [
            con.execute(sql, p).fetchall() for sql, p in zip(SQL_WALLBOARD, params, strict=True)
        ]

    return go


SLOW_MS = 2.0


def _slow_plans(
    con: sqlite3.Connection,
    agent_id: int,
    now: datetime,
    zone: ZoneInfo,
    customer_id: int,
    parts: Sequence[str],
) -> list[str]:
    """Every hand-written query that takes SLOW_MS or more, with its EXPLAIN QUERY PLAN."""
    horizon = _ts(now + timedelta(hours=24))
    checks: list[tuple[str, str, Any]] = [("lookup", SQL_FIND, ("+8613800000000",))]
    checks += [(f"card #{i}", sql, (customer_id,)) for i, sql in enumerate(SQL_CARD, 1)]
    checks.append(("history page", SQL_CALL_PAGE, (customer_id, PAGE, 0)))
    named = {"a": agent_id, "h": horizon}
    checks += [(f"sidebar #{i}", sql, named) for i, sql in enumerate(SQL_SIDEBAR, 1)]
    from seat.complaints import OPEN_STATUSES

    checks += [
        (f"sidebar complaints #{i}", sql.format(statuses=_in(OPEN_STATUSES)), named)
        for i, sql in enumerate(SQL_SIDEBAR_COMPLAINTS, 1)
    ]
    checks += [
        (f"wallboard #{i}", sql, p)
        for i, (sql, p) in enumerate(
            zip(SQL_WALLBOARD, _wallboard_params(now, zone), strict=True), 1
        )
    ]
    checks.append(("my last calls", SQL_RECENT, (agent_id,)))
    found = []
    for where, sql, params in checks:
        con.execute(sql, params).fetchall()
        t = time.perf_counter_ns()
        con.execute(sql, params).fetchall()
        ms = (time.perf_counter_ns() - t) / 1e6
        if ms >= SLOW_MS:
            plan = "; ".join(r[-1] for r in con.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            found.append(f"{where} ({_ms(ms)} ms): {plan}")
    return found


def _process_rows(url: str, db: Path, now: datetime, rounds: int, report: Report) -> list[Row]:
    py = sys.executable
    floor = [py, "-c", "import sqlite3"]
    loaded: set[str] = set()
    phases: dict[str, list[float]] = {}

    def ready(_i: int) -> int:
        ns, tail = _time_process([py, "-c", STARTUP_CHILD, url, now.isoformat()], until_ready=True)
        data = json.loads(tail)
        loaded.update(data["optional"])
        for name, ms in data["phases"].items():
            phases.setdefault(name, []).append(ms)
        return ns

    def floor_ready(_i: int) -> int:
        return _time_process([py, "-c", FLOOR_CHILD, str(db), _ts(now)], until_ready=True)[0]

    def exits(argv: list[str]) -> Callable[[int], int]:
        return lambda _i: _time_process(argv, until_ready=False)[0]

    rows = [
        Row("start-up to ready desk (headless)", *_timed(ready, floor_ready, rounds), 1500.0),
        Row("python -c 'import seat.cli'",
            *_timed(exits([py, "-c", "import seat.cli"]), exits(floor), rounds)),
        Row("seat --help", *_timed(exits([*_seat_command(), "--help"]), exits(floor), rounds)),
    ]  # fmt: skip
    report.optional_at_ready = sorted(loaded)
    report.startup_phases = {name: statistics.median(v) for name, v in phases.items()}
    return rows


def _timed(
    seat_fn: Callable[[int], int], floor_fn: Callable[[int], int], rounds: int
) -> tuple[Stats, Stats]:
    """Processes time themselves (fn returns nanoseconds), interleaved with their floor.

    One untimed run of each first warms the disk cache.
    """
    if rounds > 1:
        seat_fn(-1)
        floor_fn(-1)
    seat: list[int] = []
    floor: list[int] = []
    for i in range(rounds):
        seat.append(seat_fn(i))
        floor.append(floor_fn(i))
    return Stats.of(seat), Stats.of(floor)


# -- output ---------------------------------------------------------------------------------


def _ms(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _scheduled(report: Report) -> str:
    extra = report.counts.get("callbacks", report.size.callbacks) - report.size.callbacks
    return f" (+{extra:,} callbacks by the callback rules)" if extra else ""


def format_report(report: Report) -> str:
    local = report.now.astimezone(ZoneInfo(ZONE))
    lines = [
        f"seat bench · {report.db} ({'reused' if report.reused else 'built'})",
        report.size.describe() + _scheduled(report),
        f"clock pinned to {local:%a %Y-%m-%d %H:%M} {ZONE}; {report.rounds} rounds per query "
        f"figure, {report.startup_rounds} per process figure; times in ms; targets on p99",
        f"{os.cpu_count()} CPUs, load average {report.load[0]:.1f} at the start, "
        f"{report.load[1]:.1f} at the end",
        "",
        f"{'':36}{'seat':>20}   {'plain sqlite3':>20}",
        f"{'what':36}{'p50':>6}{'p99':>7}{'mean':>7}   {'p50':>6}{'p99':>7}{'mean':>7}"
        f"{'ratio':>7}  target",
    ]
    for r in report.rows:
        raw = (
            f"{_ms(r.raw.p50):>6}{_ms(r.raw.p99):>7}{_ms(r.raw.mean):>7}"
            if r.raw
            else f"{'-':>6}{'-':>7}{'-':>7}"
        )
        ratio = f"{r.ratio:.1f}x" if r.ratio is not None else "-"
        target = f"< {r.target_ms:g} ms {r.verdict}" if r.target_ms is not None else ""
        lines.append(
            f"{r.name:36}{_ms(r.seat.p50):>6}{_ms(r.seat.p99):>7}{_ms(r.seat.mean):>7}   "
            f"{raw}{ratio:>7}  {target}".rstrip()
        )
    lines += [
        "",
        "sidebar parts alone, p50: "
        + ", ".join(f"{name} {_ms(ms)}" for name, ms in report.sidebar_split),
        "start-up phases in the process, median: "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in report.startup_phases.items()),
        "start-up floor: python importing sqlite3 and running the sidebar SQL; "
        "process floor: python -c 'import sqlite3'",
        f"import seat.app: {report.import_total_ms:.0f} ms; most self time: "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in report.import_top[:8]),
        "optional phonenumbers data at import: "
        + (", ".join(report.optional_at_import) or "none")
        + "; by a ready desk: "
        + (", ".join(report.optional_at_ready) or "none"),
    ]
    if report.slow:
        lines.append(f"queries of {SLOW_MS:g} ms or more (plain sqlite3) and their plans:")
        lines += [f"  {s}" for s in report.slow]
    return "\n".join(lines)


# -- command line ---------------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction) -> None:
    size = Size()
    b = sub.add_parser(
        "bench",
        help=_("time the hot paths on a call-center-sized database"),
        description=_(
            "Build (or reuse) a large SQLite desk and time caller lookup, the sidebar, lists "
            "and saves; see the README's Performance section."
        ),
        epilog=example("seat bench", "seat bench --customers 20000 --calls 100000 --rounds 50"),
    )
    add_db_option(b, _("SQLite file to build or reuse (default: bench.db in the user data "
                       "directory)"))  # fmt: skip
    b.add_argument("--customers", type=int, default=size.customers, metavar="N",
                   help=_("how many customers (default: %(default)s)"))
    b.add_argument("--calls", type=int, default=size.calls, metavar="N",
                   help=_("how many calls (default: %(default)s)"))
    b.add_argument("--callbacks", type=int, default=size.callbacks, metavar="N",
                   help=_("how many callbacks (default: %(default)s)"))
    b.add_argument("--work-orders", dest="work_orders", type=int, default=size.work_orders,
                   metavar="N", help=_("how many work orders (default: %(default)s)"))
    b.add_argument("--rounds", type=int, default=300, metavar="N",
                   help=_("timed rounds per query figure (default: %(default)s)"))


def main(args: argparse.Namespace) -> int:
    """`seat bench`: print the table; 0 when it ran (missed targets are figures, not errors)."""
    raw = args.sub_db or args.db
    if raw and "://" in raw:
        if not raw.startswith("sqlite:///"):
            print("seat bench: the benchmark needs a SQLite file", file=sys.stderr)
            return 2
        raw = raw.removeprefix("sqlite:///")
    db = Path(raw).expanduser().resolve() if raw else default_db()
    size = Size(args.customers, args.calls, args.callbacks, args.work_orders)
    if min(asdict(size).values()) < 1:
        print("seat bench: every count must be at least 1", file=sys.stderr)
        return 2
    try:
        report = run(
            db=db,
            size=size,
            rounds=args.rounds,
            startup_rounds=max(1, min(10, args.rounds // 30)),
            say=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except (BenchError, ValueError) as exc:
        print(f"seat bench: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0
