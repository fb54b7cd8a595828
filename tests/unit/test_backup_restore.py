"""`seat backup` under load and `seat restore` refusing what would lose work (issue 16 #3)."""

from __future__ import annotations

import hashlib
import sqlite3
import threading

import pytest
from sqlmodel import Session

from seat import ops, seats
from seat.cli import main
from seat.clock import SystemClock
from seat.db import make_engine
from tests.conftest import populate


def _desk(path, *, filler_mb: int = 0):
    engine = make_engine(f"sqlite:///{path}")
    ids = populate(engine)
    if filler_mb:
        with engine.begin() as c:
            c.exec_driver_sql("CREATE TABLE filler(b BLOB)")
            c.exec_driver_sql(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                "INSERT INTO filler SELECT randomblob(4000) FROM n",
                (filler_mb * 256,),
            )
    return engine, ids


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _count(path, table: str) -> int:
    with sqlite3.connect(path) as c:
        return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_backup_finishes_under_a_steady_write_load(tmp_path, capsys):
    """20 writes a second against a 24 MB desk: a step-wise copy restarts forever (the old
    4096-page steps, 0.25 s apart, never finished); one step finishes, consistent."""
    db, copy = tmp_path / "live.db", tmp_path / "copy.db"
    engine, __ = _desk(db, filler_mb=24)
    stop, wrote = threading.Event(), []

    def seat_writing() -> None:
        while not stop.is_set():
            with engine.begin() as c:
                c.exec_driver_sql("UPDATE customer SET occupation = 'x' WHERE id = 1")
            wrote.append(1)
            stop.wait(0.05)

    writer = threading.Thread(target=seat_writing)
    writer.start()
    result: list[int] = []
    backup = threading.Thread(target=lambda: result.append(main(["backup", str(copy),
                                                                 "--db", str(db)])))
    try:
        backup.start()
        backup.join(120)  # a safety net only: the old code never returned at all
        assert not backup.is_alive(), "the backup never finished under load"
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert result == [0] and wrote
    with sqlite3.connect(copy) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _count(copy, "filler") == 24 * 256
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


def test_a_failed_backup_leaves_no_file_under_the_target_name(tmp_path, monkeypatch, capsys):
    db, copy = tmp_path / "live.db", tmp_path / "copy.db"
    _desk(db)[0].dispose()

    def half_then_fail(source, target) -> None:
        source.backup(target, pages=2)  # some pages are written...
        raise sqlite3.OperationalError("disk I/O error")  # ...then the disk gives up

    monkeypatch.setattr(ops, "_copy", half_then_fail)
    assert main(["backup", str(copy), "--db", str(db)]) == 1
    assert "disk I/O error" in capsys.readouterr().err
    assert not copy.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.db", "live.db-shm", "live.db-wal"]


@pytest.fixture
def backup_and_live(tmp_path):
    """A backup taken now, and a live desk that has moved on since (one more customer)."""
    live, backup = tmp_path / "desk.db", tmp_path / "backup.db"
    engine, __ = _desk(live)
    assert main(["backup", str(backup), "--db", str(live)]) == 0
    with engine.begin() as c:
        c.exec_driver_sql("UPDATE customer SET name = 'After the backup' WHERE id = 1")
    engine.dispose()
    return live, backup


def _seat_connected(live) -> None:
    engine = make_engine(f"sqlite:///{live}")
    with Session(engine) as s:
        seats.heartbeat(session=s, now=SystemClock().now(), agent_id=1, state="desk",
                        presence_id=None)  # fmt: skip
        s.commit()
    engine.dispose()


def _name(path) -> str:
    with sqlite3.connect(path) as c:
        return c.execute("SELECT name FROM customer WHERE id = 1").fetchone()[0]


def test_restore_refuses_while_a_seat_is_connected(backup_and_live, capsys):
    live, backup = backup_and_live
    _seat_connected(live)
    before = _digest(live)
    assert main(["restore", str(backup), "--db", str(live)]) == 2
    err = capsys.readouterr().err
    assert "1 seat is connected" in err and "--force" in err
    assert _digest(live) == before
    assert not list(live.parent.glob("*.replaced-*"))


def test_forced_restore_keeps_the_replaced_database(backup_and_live, capsys):
    live, backup = backup_and_live
    _seat_connected(live)
    assert main(["restore", str(backup), "--db", str(live), "--force"]) == 0
    [kept] = live.parent.glob("desk.db.replaced-*")
    assert str(kept) in capsys.readouterr().out
    assert _name(kept) == "After the backup"  # the work since the backup is not gone
    assert _name(live) == "Wang Fang"  # the backup's content is live


def test_restore_without_seats_needs_no_force(backup_and_live):
    live, backup = backup_and_live
    assert main(["restore", str(backup), "--db", str(live)]) == 0
    assert _name(live) == "Wang Fang"
    assert len(list(live.parent.glob("desk.db.replaced-*"))) == 1


def test_a_backup_from_a_newer_schema_is_refused_before_anything_changes(
    backup_and_live, capsys
):
    live, backup = backup_and_live
    with sqlite3.connect(backup) as c:
        c.execute("UPDATE alembic_version SET version_num = '0099'")
    before = _digest(live)
    assert main(["restore", str(backup), "--db", str(live)]) == 2
    err = capsys.readouterr().err
    assert "newer seat (schema 0099)" in err and "Nothing was changed" in err
    assert _digest(live) == before
    assert not list(live.parent.glob("*.replaced-*"))
    assert _name(live) == "After the backup"


def test_backups_and_kept_files_are_readable_by_their_owner_only(backup_and_live):
    live, backup = backup_and_live
    assert backup.stat().st_mode & 0o777 == 0o600
    assert main(["restore", str(backup), "--db", str(live)]) == 0
    [kept] = live.parent.glob("desk.db.replaced-*")
    assert kept.stat().st_mode & 0o777 == 0o600
