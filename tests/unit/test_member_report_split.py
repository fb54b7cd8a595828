"""The member report read in runs of customer ids, on two connections in two threads, writes
byte for byte what one statement on one connection writes: on a seeded desk with purchases at
the months' edges, merged and imported customers (tests/unit/test_member_report_same.py's),
with runs cut at a customer's id (who goes to the later run), runs with nobody in them, and the
real split of a fresh session on SQLite. The second connection reads the session's snapshot
or is not used. Both backends (SEAT_TEST_POSTGRES_URL)."""

from __future__ import annotations

import io
import sqlite3
from contextlib import redirect_stdout
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import event, func, select
from sqlmodel import Session

from seat import db, members
from seat.db import make_engine
from seat.export import write
from seat.models import Purchase
from seat.reports import members as report
from tests.conftest import NOW
from tests.unit.member_desk import ZONE, seeded_desk


@pytest.fixture(scope="module")
def desk(request, module_db_url, tmp_path_factory):
    """(engine, settings, url) of a seeded desk, shared by this module's tests (read only)."""
    engine, settings = seeded_desk(request, module_db_url, tmp_path_factory, customers=400,
                                   calls=100, work_orders=20, purchases=3000)  # fmt: skip
    return engine, settings, module_db_url


@pytest.fixture(autouse=True)
def two_cores(monkeypatch):
    """The second connection is used on a machine of one core too (CI)."""
    monkeypatch.setattr(db, "cores", lambda: 2)


RANGES = [
    (date(2025, 11, 24), date(2026, 11, 23)),  # a year, to today
    (date(2023, 11, 1), date(2026, 11, 30)),  # three years: more than one column of bits
    (date(2026, 2, 15), date(2026, 4, 14)),  # months cut mid-way
]


def _written(data) -> str:
    out = io.StringIO()
    tables = report.tables_of(data, now=NOW, zone=ZONE)
    with redirect_stdout(out):
        write(tables, "json", None)
        write(tables, "csv", None)
    return out.getvalue()


def _args(settings, first, last, period):
    policy = replace(members.MemberPolicy(), churn_after_days=period)
    return dict(date_from=first, date_to=last, settings=settings, now=NOW, policy=policy)


def _ids(engine) -> tuple[int, int, int]:
    """The lowest, a middle and the highest customer id of a purchase."""
    with Session(engine) as s:
        ids = s.execute(select(Purchase.customer_id).distinct().order_by(Purchase.customer_id))
        found = ids.scalars().all()
    return found[0], found[len(found) // 2], found[-1]


@pytest.mark.parametrize("period", [90, 30])
@pytest.mark.parametrize(("first", "last"), RANGES)
def test_runs_of_customers_read_as_one_statement(desk, first, last, period):
    engine, settings, __ = desk
    lo, mid, hi = _ids(engine)
    args = _args(settings, first, last, period)
    with Session(engine) as s:
        one = _written(report._analysis(s, None, cuts=[], **args))
    cut_sets = [
        [mid],  # the customer at the cut: the later run's first
        [mid, mid + 1],  # a run of that one customer
        [lo - 5, mid, mid, hi + 1],  # no one below the first cut, in [mid, mid), after the last
        [lo, lo + 1, *range(lo + 3, hi, 37), hi],  # many runs, the ends alone
    ]
    for cuts in cut_sets:
        with Session(engine) as s:
            assert _written(report._analysis(s, None, cuts=cuts, **args)) == one, cuts
        with Session(engine) as s, engine.connect() as other:  # two threads, static data
            assert _written(report._analysis(s, other, cuts=cuts, **args)) == one, cuts
    with Session(engine) as s:  # as the seat runs it: split on SQLite, one statement else
        assert _written(report.analyse(session=s, **args)) == one


def test_a_fresh_session_on_sqlite_reads_with_a_second_connection(desk, monkeypatch):
    engine, settings, url = desk
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL reads in one statement")
    runs: list[int] = []
    read_runs = report._read_runs

    def counted(connection, other, statements, read):
        runs.append(len(statements) if other is not None else 1)
        return read_runs(connection, other, statements, read)

    monkeypatch.setattr(report, "_read_runs", counted)
    args = _args(settings, *RANGES[0], 90)
    with Session(engine) as s:
        split = _written(report.analyse(session=s, **args))
    with Session(engine) as s:
        s.execute(select(func.count()).select_from(Purchase)).one()  # begun: read alone
        alone = _written(report.analyse(session=s, **args))
    assert runs == [report.PARTS, 1]
    assert split == alone


def test_the_second_connection_reads_the_session_s_snapshot(desk):
    engine, __, url = desk
    if not url.startswith("sqlite"):
        pytest.skip("SQLite only")
    writer = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=10)
    writer.execute("CREATE TABLE split_probe (x)")
    probes = "SELECT count(*) FROM split_probe"
    try:
        with Session(engine) as s:
            other = db.snapshot_twin(s)
            assert other is not None
            try:  # a commit after both began: seen by neither
                writer.execute("INSERT INTO split_probe VALUES (1)")
                seen = s.connection().exec_driver_sql(probes).scalar()
                assert seen == other.exec_driver_sql(probes).scalar() == 0
            finally:
                other.close()

        # A commit landing between the second's first look and the session's read: no second.
        connection = Session.connection

        def commit_first(self, *a, **k):
            writer.execute("INSERT INTO split_probe VALUES (2)")
            return connection(self, *a, **k)

        with Session(engine) as s:
            with pytest.MonkeyPatch.context() as m:
                m.setattr(Session, "connection", commit_first)
                assert db.snapshot_twin(s) is None
        assert writer.execute(probes).fetchone()[0] == 2

        # A listener watching the engine's statements (a test counting them, the bench's
        # floor): they would miss the second connection's, so there is none.
        event.listen(engine, "before_cursor_execute", watch := lambda *a: None)
        try:
            with Session(engine) as s:
                assert db.snapshot_twin(s) is None
        finally:
            event.remove(engine, "before_cursor_execute", watch)
    finally:
        writer.execute("DROP TABLE split_probe")
        writer.close()


def test_no_second_connection_where_it_cannot_share_the_snapshot(desk, tmp_path):
    engine, __, url = desk
    with Session(engine) as s:  # begun
        s.execute(select(1)).one()
        assert db.snapshot_twin(s) is None
    memory = make_engine("sqlite://")
    try:
        with Session(memory) as s:
            assert db.snapshot_twin(s) is None
    finally:
        memory.dispose()
    if not url.startswith("sqlite"):
        with Session(engine) as s:
            assert db.snapshot_twin(s) is None
