"""Files that hold customers' data are created readable by their owner only."""

from __future__ import annotations

import stat

from seat.cli import main
from seat.db import make_engine


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_are_owner_only(tmp_path):
    db = tmp_path / "floor" / "desk.db"
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
        assert _mode(db) == 0o600
        wal = db.with_name("desk.db-wal")
        if wal.exists():
            assert _mode(wal) == 0o600
    engine.dispose()
    assert _mode(db.parent) == 0o700


def test_an_existing_database_keeps_the_modes_its_administrator_gave_it(tmp_path):
    db = tmp_path / "shared.db"
    make_engine(f"sqlite:///{db}").dispose()
    db.chmod(0o660)  # a floor whose seats share a group
    make_engine(f"sqlite:///{db}").dispose()
    assert _mode(db) == 0o660


def test_a_backup_is_owner_only(tmp_path, capsys):
    db = tmp_path / "desk.db"
    assert main(["demo", "--db", str(db), "--customers", "5", "--calls", "10"]) == 0
    target = tmp_path / "backup.db"
    assert main(["backup", str(target), "--db", str(db)]) == 0
    assert _mode(target) == 0o600
