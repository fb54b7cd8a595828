"""`seat bench`: the table's rows and shape on a tiny database, the database reuse rules,
the wallboard queries. Never timings: speed is read from the printed figures."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from seat import bench, work
from seat.bench import BenchError, Row, Size, Stats
from seat.cli import main
from seat.config import sqlite_url
from seat.db import make_engine
from seat.models import Call, Complaint, WorkOrder
from tests.conftest import NOW

TINY = Size(customers=50, calls=400, callbacks=40, work_orders=30)


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
    assert row.ratio == pytest.approx(2.0)


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
    bigger = Size(customers=60, calls=500, callbacks=40, work_orders=30)
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


def test_bench_needs_a_sqlite_file(capsys):
    assert main(["bench", "--db", "postgresql+psycopg://x@localhost/seat"]) == 2
    assert "SQLite" in capsys.readouterr().err


# -- the whole run, tiny ---------------------------------------------------------------------


def test_tiny_run_prints_every_figure_beside_sqlite3(tmp_path):
    db = tmp_path / "bench.db"
    report = bench.run(db=db, size=TINY, rounds=3, startup_rounds=1, real_now=NOW)

    names = [r.name for r in report.rows]
    expected = [
        "caller lookup",
        "sidebar",
        "logging a call",
        "customer, 20 calls",  # min(10000, calls // 20) for the first customer
        "supervisor wallboard",
        "desk: my last calls",
        "start-up to ready desk",
        "python -c 'import seat.cli'",
        "seat --help",
    ]
    assert len(names) == len(expected)
    assert all(n.startswith(e) for n, e in zip(names, expected, strict=True))
    for row in report.rows:
        assert row.raw is not None and row.ratio is not None
        assert row.seat.n == row.raw.n
        assert row.seat.p50 <= row.seat.p99
    targets = {r.name.split()[0].rstrip(":,"): r.verdict for r in report.rows if r.target_ms}
    assert set(targets) == {"caller", "sidebar", "logging", "customer", "start-up"}
    assert set(targets.values()) <= {"PASS", "MISS"}
    assert report.sidebar_parts[0] == "work.sidebar"
    assert [name for name, _ms in report.sidebar_split] == report.sidebar_parts
    assert set(report.startup_phases) == {
        "import seat.app",
        "engine, migrations, scripts",
        "app to ready desk",
    }
    assert "phonenumbers.geocoder" not in report.optional_at_import
    assert report.import_total_ms > 0 and report.import_top

    text = bench.format_report(report)
    header = next(line for line in text.splitlines() if line.startswith("what"))
    assert header.split() == ["what", "p50", "p99", "mean", "p50", "p99", "mean", "ratio", "target"]
    for row in report.rows:
        assert row.name in text
    assert "50 customers, 400 calls, 40 callbacks, 30 work orders" in text
    assert report.counts["customers"] == 50 and report.counts["callbacks"] >= 40
    assert _calls(db) == TINY.calls  # the calls the benchmark logged are gone again


# -- the wallboard -------------------------------------------------------------------------


def test_wallboard_queries(engine, world):
    li, wang = world["li"], world["wang"]
    with Session(engine, expire_on_commit=False) as s:
        for agent, start, seconds in (
            (li, NOW - timedelta(hours=1), 300),
            (li, NOW - timedelta(hours=2), 100),
            (li, NOW - timedelta(days=1), 60),  # yesterday
            (wang, NOW - timedelta(minutes=30), None),  # still on the line
        ):
            end = start + timedelta(seconds=seconds) if seconds else None
            s.add(Call(agent_id=agent, customer_id=world["fang"], started_at=start, ended_at=end))
        s.add(
            WorkOrder(
                short_text="Nobody's yet",
                customer_id=world["tom"],
                assignee_id=None,
                due_at=NOW + timedelta(hours=5),
                created_at=NOW,
            )
        )
        s.add(WorkOrder(short_text="Done", customer_id=world["tom"], assignee_id=li, urgent=True,
                        status="closed", due_at=NOW, created_at=NOW))  # fmt: skip
        work.create_complaint(session=s, now=NOW, customer_id=world["min"], owner_id=li,
                              what_happened="Late", customer_wants="A date")  # fmt: skip
        closed = work.create_complaint(session=s, now=NOW, customer_id=world["min"], owner_id=li,
                                       what_happened="Old", customer_wants="-")  # fmt: skip
        s.get(Complaint, closed.id).status = "closed"
        s.commit()

        board = bench.wallboard_queries(session=s, now=NOW, zone="Asia/Shanghai")

    today = {d.agent: (d.calls, d.avg_handling_seconds) for d in board.calls_today}
    assert today["Li Na"][0] == 2 and today["Li Na"][1] == pytest.approx(200, abs=0.01)
    assert today["Wang Wei"] == (1, None)
    assert board.complaints_by_status == (("intake", 1),)
    assert board.overdue_callbacks == ((li, "Li Na", 1),)
    assert (board.unassigned_work_orders, board.urgent_work_orders) == (1, 1)
    assert [(a[1], a[4]) for a in board.attention] == [
        ("Sofa cover torn on delivery", "Li Na"),
        ("Nobody's yet", None),
    ]
