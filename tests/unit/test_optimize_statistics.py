"""seat.db.optimize_statistics: SQLite's PRAGMA optimize, less the ANALYZE it repeated at
every run of the callback rules for a table with an empty partial index (no statistics are
ever written for it, so SQLite analysed the whole table each time)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from seat.db import optimize_statistics


@pytest.fixture
def conn(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as c:
        c.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER)")
        c.exec_driver_sql("CREATE INDEX ix_t_a ON t (a)")
        c.exec_driver_sql("CREATE INDEX ix_t_b ON t (b) WHERE b IS NOT NULL")  # empty
        c.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) "
            "INSERT INTO t (a) SELECT i % 7 FROM n"
        )
        c.exec_driver_sql("ANALYZE")
        c.commit()
        yield c
    engine.dispose()


def _use(conn) -> None:
    """A query that uses the table's statistics (PRAGMA optimize looks at those only)."""
    conn.exec_driver_sql("SELECT count(*) FROM t WHERE a = 3").all()


def test_sqlite_itself_would_analyse_the_table_every_time(conn):
    assert sqlite3.sqlite_version_info >= (3, 18)
    _use(conn)
    assert conn.exec_driver_sql("PRAGMA optimize(-1)").all() == [('ANALYZE "main"."t"',)]


def test_a_table_whose_only_unanalysed_index_is_empty_is_left_as_it_is(conn):
    _use(conn)
    assert optimize_statistics(conn) == []


def test_an_unanalysed_index_with_entries_gets_its_statistics(conn):
    conn.exec_driver_sql("UPDATE t SET b = id WHERE id <= 10")
    _use(conn)
    assert optimize_statistics(conn) == ['ANALYZE "main"."t"']
    stats = dict(conn.exec_driver_sql("SELECT idx, stat FROM sqlite_stat1").all())
    assert stats["ix_t_b"].split()[0] == "10"


def test_a_table_grown_past_the_threshold_is_analysed_again(conn):
    conn.exec_driver_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) "
        "INSERT INTO t (a) SELECT i % 7 FROM n"
    )
    _use(conn)
    assert optimize_statistics(conn) == ['ANALYZE "main"."t"']
    stats = dict(conn.exec_driver_sql("SELECT idx, stat FROM sqlite_stat1").all())
    assert stats["ix_t_a"].split()[0] == "10400"


def test_a_table_never_analysed_is_analysed(conn):
    conn.exec_driver_sql("CREATE TABLE u (id INTEGER PRIMARY KEY, a INTEGER)")
    conn.exec_driver_sql("CREATE INDEX ix_u_a ON u (a)")
    conn.exec_driver_sql("INSERT INTO u (a) VALUES (1), (2), (3)")
    conn.exec_driver_sql("SELECT count(*) FROM u WHERE a = 2").all()
    assert optimize_statistics(conn) == ['ANALYZE "main"."u"']
