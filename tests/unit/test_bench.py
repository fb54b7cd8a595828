"""`seat bench`: the table's rows and shape on a tiny database, the database reuse rules,
the wallboard queries. Never timings: speed is read from the printed figures."""

from __future__ import annotations

import importlib
import inspect
import json
import sqlite3
import types
from datetime import UTC, datetime, timedelta

import pytest

from seat.cli import main
from seat.config import sqlite_url
from seat.db import make_engine
from seat.tools import bench
from seat.tools.bench import BenchError, Row, Size, Stats
from tests.conftest import NOW, PG_ADMIN_URL

TINY = Size(customers=50, calls=400, callbacks=40, work_orders=30, purchases=150)


def _calls(db) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM call").fetchone()[0]
    finally:
        con.close()


# -- pure parts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("real_now", "expected"),
    [
        # Mon 10:00 Shanghai: Monday's 18:00 is still ahead, so Friday's.
        (NOW, datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        # Mon 18:00 exactly: that instant.
        (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        # Mon 20:00: Monday's.
        (datetime(2026, 11, 23, 12, 0, tzinfo=UTC), datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        # Sat 19:00 and Sun noon: Friday's.
        (datetime(2026, 11, 21, 11, 0, tzinfo=UTC), datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        (datetime(2026, 11, 22, 4, 0, tzinfo=UTC), datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
    ],
)
def test_bench_clock_is_six_pm_of_the_last_weekday(real_now, expected):
    assert bench.bench_now(real_now) == expected


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([float(v) for v in range(1, 101)], 50, 50.5),
        ([float(v) for v in range(1, 101)], 99, 99.01),
        ([3.0], 99, 3.0),
        ([1.0, 2.0], 50, 1.5),
    ],
)
def test_percentile_interpolates_between_ranks(values, pct, expected):
    assert bench.percentile(values, pct) == pytest.approx(expected)


def test_stats_are_milliseconds():
    stats = Stats.of([1_000_000, 3_000_000, 2_000_000])
    assert (stats.n, stats.p50, stats.mean) == (3, 2.0, 2.0)


@pytest.mark.parametrize(
    ("p99", "target", "verdict"),
    [(1.9, 2.0, "PASS"), (2.0, 2.0, "MISS"), (7.0, 5.0, "MISS"), (7.0, None, "")],
)
def test_verdict_is_judged_on_p99(p99, target, verdict):
    seat = Stats(n=10, p50=1.0, p99=p99, mean=1.0)
    row = Row("x", seat, Stats(n=10, p50=0.5, p99=0.6, mean=0.5), target)
    assert row.verdict == verdict
    assert row.ratio == pytest.approx(p99 / 0.6)  # p99 against the floor's p99


@pytest.mark.parametrize(
    ("seat_p99", "peak", "verdict"),
    [(1.4, None, "PASS"), (1.5, None, "PASS"), (1.6, None, "MISS"), (1.0, 120.0, "MISS")],
)
def test_ratio_and_memory_targets(seat_p99, peak, verdict):
    row = Row("x", Stats(n=3, p50=1.0, p99=seat_p99, mean=1.0),
              Stats(n=3, p50=1.0, p99=1.0, mean=1.0), target_ratio=1.5, peak_mb=peak,
              target_mb=100.0 if peak else None)  # fmt: skip
    assert row.verdict == verdict


# -- the database --------------------------------------------------------------------------


def test_reuses_its_database_while_the_counts_match(tmp_path):
    db = tmp_path / "bench.db"
    at, reused = bench.ensure_database(db, TINY, real_now=NOW)
    assert not reused and at == bench.bench_now(NOW)
    stamp = db.stat().st_mtime_ns
    again, reused = bench.ensure_database(db, TINY, real_now=NOW + timedelta(days=9))
    assert reused and again == at  # the seed's clock, not today's
    assert db.stat().st_mtime_ns == stamp


def test_rebuilds_its_own_database_for_other_counts(tmp_path):
    db = tmp_path / "bench.db"
    bench.ensure_database(db, TINY, real_now=NOW)
    bigger = Size(customers=60, calls=500, callbacks=40, work_orders=30, purchases=180)
    _at, reused = bench.ensure_database(db, bigger, real_now=NOW)
    assert not reused
    assert _calls(db) == 500


def test_rebuilds_its_own_database_when_a_seat_added_rows(tmp_path):
    db = tmp_path / "bench.db"
    bench.ensure_database(db, TINY, real_now=NOW)
    con = sqlite3.connect(db)
    con.execute("DELETE FROM call WHERE id = (SELECT max(id) FROM call)")
    con.commit()
    con.close()
    _at, reused = bench.ensure_database(db, TINY, real_now=NOW)
    assert not reused
    assert _calls(db) == TINY.calls


def test_never_touches_a_database_it_did_not_build(tmp_path, capsys):
    db = tmp_path / "desk.db"
    make_engine(sqlite_url(db)).dispose()
    with pytest.raises(BenchError, match="not built by seat bench"):
        bench.ensure_database(db, TINY, real_now=NOW)
    assert db.exists()
    assert main(["bench", "--db", str(db), "--customers", "50", "--calls", "400"]) == 2
    assert "pass another --db" in capsys.readouterr().err


def test_bench_needs_a_sqlite_file_or_postgresql(capsys):
    assert main(["bench", "--db", "mysql://x@localhost/seat"]) == 2
    assert "a SQLite file or a PostgreSQL URL" in capsys.readouterr().err


def test_a_postgresql_url_is_shown_without_its_password():
    url = "postgresql+psycopg://seat:s3cret@db.example/seat"
    assert bench.is_postgres(url) and not bench.is_postgres(bench.default_db())
    assert "s3cret" not in bench.shown_url(url)
    assert bench._pg_conninfo(url) == "postgresql://seat:s3cret@db.example/seat"


@pytest.mark.skipif(not PG_ADMIN_URL, reason="PostgreSQL: SEAT_TEST_POSTGRES_URL")
def test_the_same_rows_run_on_postgresql(tmp_path, monkeypatch):
    """`seat bench --db postgresql+psycopg://…`: seeded once, every in-process row timed
    with its floor replayed on plain psycopg, then reused; a database it did not build at
    this size is refused, never emptied."""
    from tests.pg import fresh_database

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with fresh_database(PG_ADMIN_URL) as url:
        report = bench.run(
            db=url, size=TINY, rounds=2, startup_rounds=1, budget_s=1, import_rows_n=20,
            real_now=NOW,
        )  # fmt: skip
        names = [r.name for r in report.rows]
        for prefix in SCREEN_ROWS:
            if prefix != "seat customers import":  # its floor is plain sqlite3
                assert any(n.startswith(prefix) for n in names), prefix
        assert not report.reused and report.counts["customers"] == TINY.customers
        assert report.row("sidebar").raw is not None  # replayed on psycopg
        assert report.row("logging a call").raw is not None
        assert report.row("seat demo").raw is None
        assert "psycopg" in bench.format_report(report)
        assert bench.ensure_database(url, TINY, real_now=NOW)[1] is True  # reused
        with pytest.raises(BenchError, match="not built by seat bench at this size"):
            bench.ensure_database(url, Size(60, 400, 40, 30), real_now=NOW)
        assert bench._counts(url)["customers"] == TINY.customers


# -- the whole run, tiny ---------------------------------------------------------------------

SCREEN_ROWS = {
    # row name prefix -> where its function is called in the seat
    "sidebar": "seat.widgets.sidebar:Sidebar.refresh_data",
    "caller lookup": "seat.screens.calls.call",
    "customer search": "seat.screens.calls.find_customer",
    "card": "seat.screens.calls.call:CallScreen._read_customer",
    "logging a call": "seat.screens.calls.call:CallScreen._save_call",
    "my last calls": "seat.screens.desk:DeskScreen.load_recent",
    "complaint list": "seat.screens.complaints.list:ComplaintListScreen.load",
    "work-order list": "seat.screens.work_orders.list:WorkOrderListScreen.load",
    "callbacks view": "seat.screens.callbacks.view:CallbacksScreen.load",
    "wallboard": "seat.screens.supervisor.wallboard:WallboardScreen.load",
    "trends": "seat.screens.supervisor.statistics:StatisticsScreen.load",
    "complaint statistics": "seat.screens.complaints.stats:ComplaintStatsScreen.load",
    "callback rules": "seat.app",
    "seat report": "seat.cli:cmd_report",
    "seat customers import": "seat.cli:cmd_import",
    "seat demo": "seat.cli",
}


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    db = tmp_path_factory.mktemp("bench") / "bench.db"
    report = bench.run(
        db=db, size=TINY, rounds=3, startup_rounds=1, budget_s=1, import_rows_n=20, real_now=NOW
    )
    return db, report


def test_tiny_run_prints_every_figure(tiny_report):
    db, report = tiny_report
    names = [r.name for r in report.rows]
    for prefix in SCREEN_ROWS:
        assert any(n.startswith(prefix) for n in names), prefix
    assert [n for n in names if n.startswith("seat report")] == [
        f"seat report {k}, a year"
        for k in ("complaints", "callbacks", "summary", "agents", "members")
    ]
    assert names[-1].startswith("start-up to a drawn desk")
    # The view's period in days (a list of the day row's totals once took its name).
    assert [n for n in names if n.startswith("callbacks view")] == ["callbacks view (30 d)"]
    for row in report.rows:
        assert row.calls, row.name
        assert row.seat.p50 <= row.seat.p99
        if row.name == "callback rules, first run (no watermark)":
            assert row.verdict == ""  # once per database (or rules): no target
            continue
        assert row.verdict in {"PASS", "MISS"}, row.name  # every row has a target
        if row.raw is not None:
            assert row.ratio == pytest.approx(row.seat.p99 / row.raw.p99)
    floors = {r.name.split(",")[0] for r in report.rows if r.raw is None}
    assert floors == {  # they write: no floor to replay
        "callback rules (each start)",
        "callback rules (the day's run",
        "callback rules",  # first run (no watermark)
        "wallboard refresh after a seat's heartbeat",
        "wallboard refresh",  # nothing changed: not one statement to replay
        "sidebar refresh",  # the same
    }
    for name in ("complaints", "callbacks", "summary", "agents", "members"):
        row = report.row(f"seat report {name}")
        assert row.peak_mb is not None and row.peak_mb > 0 and row.target_mb == 100
    assert report.row("start-up").target_ratio == 1.5
    assert report.row("seat demo").target_ratio == 2.0
    assert report.row("seat customers import").target_ratio == 3.0
    assert report.row("sidebar").note.endswith("statements")

    text = bench.format_report(report)
    for row in report.rows:
        assert row.name in text
    assert "50 customers, 400 calls, 40 callbacks, 30 work orders" in text
    assert report.counts["customers"] == 50 and report.counts["callbacks"] >= 40
    assert _calls(db) == TINY.calls  # the calls the benchmark logged are gone again
    data = json.loads(json.dumps(report.as_json()))
    assert [r["name"] for r in data["rows"]] == names
    assert all(r["seat"]["p99"] >= r["seat"]["p50"] for r in data["rows"])


def _resolve(dotted: str) -> tuple[object, str]:
    """'seat.services:Desk.sidebar' -> (the class or module holding it, 'sidebar')."""
    module, __, path = dotted.partition(":")
    owner = importlib.import_module(module)
    *parents, attr = path.split(".")
    for name in parents:
        owner = getattr(owner, name)
    return owner, attr


def _names(code: types.CodeType) -> set[str]:
    """Every global and attribute name a function's code (and its nested lambdas) uses."""
    found = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _names(const)
    return found


def _screen_names(where: str) -> tuple[set[str], dict[str, object]]:
    module_name, __, path = where.partition(":")
    module = importlib.import_module(module_name)
    if not path:  # the whole module
        names: set[str] = set()
        for obj in vars(module).values():
            for fn in [obj, *vars(obj).values()] if isinstance(obj, type) else [obj]:
                code = getattr(inspect.unwrap(fn), "__code__", None) if callable(fn) else None
                if code is not None and getattr(fn, "__module__", None) == module_name:
                    names |= _names(code)
        return names, vars(module)
    owner, attr = _resolve(where)
    fn = inspect.unwrap(vars(owner)[attr] if isinstance(owner, type) else getattr(owner, attr))
    fn = getattr(fn, "__wrapped__", fn)
    code = getattr(fn, "__code__", None) or fn._method.__code__  # textual's @work
    return _names(code), vars(module)


def test_every_row_calls_what_its_screen_or_command_calls(tiny_report, monkeypatch):
    """Each row's functions are the ones the screen's worker (or the command) references,
    by name and by identity (the module the screen reaches them through), and running the
    row calls them (spies put where the screen would find them)."""
    __, report = tiny_report
    for row in report.rows:
        if row.name.startswith("start-up"):
            continue  # runs the `seat` program itself, in a pseudo-terminal
        where = next(w for prefix, w in SCREEN_ROWS.items() if row.name.startswith(prefix))
        names, screen_globals = _screen_names(where)
        for dotted in row.calls:
            owner, attr = _resolve(dotted)
            target = getattr(owner, attr)
            assert attr in names, f"{row.name}: {where} never calls {attr}"
            if isinstance(owner, types.ModuleType):
                reached = {n for n, v in screen_globals.items() if v is owner}
                reached |= {n for n, v in screen_globals.items() if v is target}
                # imported inside the function: `from seat import x`, `from seat.x import f`
                reached |= {owner.__name__, owner.__name__.rpartition(".")[2]} & names
                if owner.__name__.startswith("seat.reports.") and "import_module" in names:
                    reached.add("import_module")  # cmd_report: seat.reports.<name>, by name
                assert reached & names, f"{row.name}: {where} reaches {dotted} otherwise"
            else:  # a Desk method: the screen holds the app's Desk
                assert callable(target)


def _spy(real, name: str, seen: list[str]):
    def spy(*args, **kwargs):
        seen.append(name)
        return real(*args, **kwargs)

    return spy


def test_each_probe_calls_its_functions(tmp_path, monkeypatch):
    db = tmp_path / "bench.db"
    bench.ensure_database(db, TINY, real_now=NOW)
    from seat.clock import FixedClock
    from seat.config import Settings
    from seat.services import Desk

    url = sqlite_url(db)
    engine = make_engine(url)
    now = bench.bench_now(NOW)
    desk = Desk(engine=engine, clock=FixedClock(now), settings=Settings(database_url=url,
                local_timezone=bench.ZONE))  # fmt: skip
    con = sqlite3.connect(db, isolation_level=None)
    logged: list[int] = []
    try:
        every = bench.probes(desk, con, agent_id=1, supervisor_id=6, heavy=1,
                             heavy_phone="+8613800138000", typed=["138 0013 8000"],
                             logged=logged)  # fmt: skip
        every += [bench.report_probe(desk, n, tmp_path / "r.csv") for n in bench.REPORTS]
        for probe in every:
            seen: list[str] = []
            for dotted in probe.calls:
                owner, attr = _resolve(dotted)
                monkeypatch.setattr(owner, attr, _spy(getattr(owner, attr), dotted, seen))
            probe.seat(0)
            monkeypatch.undo()
            assert set(seen) == set(probe.calls), probe.name
        bench._forget_calls(con, logged)
    finally:
        con.close()
        engine.dispose()


def test_no_row_times_a_function_only_the_bench_calls():
    assert not hasattr(bench, "call_page")
    assert not hasattr(bench, "wallboard_queries")


def test_a_bench_leaves_its_database_as_built(tiny_report):
    """The callback rules' rows run the next days on a copy: the database keeps the rows it
    was built with (its callbacks too), and the copy is gone."""
    db, report = tiny_report
    known = json.loads(bench._meta_path(db).read_text())
    assert report.counts == known["counts"] == bench._counts(db)
    assert not db.with_name(db.name + ".rules.db").exists()
    con = sqlite3.connect(db)
    try:
        marks = [r[0] for r in con.execute("SELECT watermark FROM daily_job")]
    finally:
        con.close()
    # The build's first start ran the rules at the bench clock; the next days ran elsewhere.
    assert marks and all(m[:10] == report.now.strftime("%Y-%m-%d") for m in marks), marks


def test_the_start_up_floor_is_timed_to_its_import_not_its_exit():
    # Timed to the process's exit, the floor carried the interpreter's teardown (~300 ms of
    # ~850): the seat, timed to its drawn desk, looked 1.4x the import when it was 2x.
    import subprocess

    floor = bench.floor_command()
    assert bench.FLOOR_IMPORT in floor[-1]
    assert floor[-1].index(bench.FLOOR_IMPORT) < floor[-1].index("print(")
    done = subprocess.run(floor, capture_output=True, check=True)
    assert done.stdout.strip() == bench.FLOOR_MARK
    assert bench.time_in_pty(floor, mark=bench.FLOOR_MARK) > 0
