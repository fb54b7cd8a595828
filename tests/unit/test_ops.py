"""`seat db`, `seat backup` and `seat restore`."""

from __future__ import annotations

import sqlite3
import threading

from seat.cli import main
from seat.db import make_engine, upgrade


def _count(path, table="customer") -> int:
    with sqlite3.connect(path) as c:
        return c.execute(f"select count(*) from {table}").fetchone()[0]


def test_db_check_and_upgrade(tmp_path, capsys):
    db = tmp_path / "d.db"
    engine = make_engine(f"sqlite:///{db}", migrate=False)
    upgrade(engine, "0001")
    assert main(["db", "check", "--db", str(db)]) == 1
    assert "run `seat db upgrade`" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    assert "0001 ->" in capsys.readouterr().out
    assert main(["db", "check", "--db", str(db)]) == 0
    assert "journal wal" in capsys.readouterr().out


def test_backup_of_a_live_desk_and_restore(tmp_path, capsys):
    db, copy = tmp_path / "live.db", tmp_path / "copy.db"
    assert main(["demo", "--db", str(db), "--customers", "40", "--calls", "100"]) == 0
    # A seat writing while the backup runs: the copy is consistent either way.
    engine = make_engine(f"sqlite:///{db}")
    stop = threading.Event()

    def writer() -> None:
        with engine.begin() as c:
            while not stop.is_set():
                c.exec_driver_sql("update customer set occupation = 'x' where id = 1")

    t = threading.Thread(target=writer)
    t.start()
    try:
        assert main(["backup", str(copy), "--db", str(db)]) == 0
    finally:
        stop.set()
        t.join()
    with sqlite3.connect(copy) as c:
        assert c.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert _count(copy) == 40 and _count(copy, "call") == 100
    assert main(["backup", str(copy), "--db", str(db)]) == 2  # never overwrites
    target = tmp_path / "restored.db"
    assert main(["restore", str(copy), "--db", str(target)]) == 0
    assert _count(target) == 40


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path, capsys):
    junk = tmp_path / "junk.db"
    with sqlite3.connect(junk) as c:
        c.execute("create table t(x)")
    assert main(["restore", str(junk), "--db", str(tmp_path / "d.db")]) == 2
    assert "not a seat backup" in capsys.readouterr().err


def test_backup_on_postgresql_points_to_pg_dump(capsys):
    assert main(["backup", "/tmp/x.db", "--db", "postgresql+psycopg://u@localhost/seat"]) == 2
    assert "pg_dump" in capsys.readouterr().err
