"""Faults end in one line naming the file and what to do, a non-zero exit code, and (for the
unexpected ones) a traceback in the log file, never on the terminal."""

from __future__ import annotations

import asyncio
import shutil
import stat
import subprocess
import sys
from contextlib import contextmanager

import pytest
from textual.app import App

from seat import cli, faults, logs
from seat.cli import main

SAMPLE = "data/customers-sample.csv"


@pytest.fixture
def env(monkeypatch, tmp_path):
    for var in ("SEAT_DATABASE_URL", "SEAT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("SEAT_LOG_DIR", str(tmp_path / "logs"))
    return tmp_path


def run_seat(*argv, env_dir):
    import os

    environ = {**os.environ, "SEAT_CONFIG": str(env_dir / "none.toml"),
               "SEAT_LOG_DIR": str(env_dir / "logs")}
    environ.pop("SEAT_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "seat", *argv], capture_output=True,
                          text=True, timeout=120, env=environ, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("damage", ["truncated", "junk"])
def test_a_damaged_database_is_one_line_and_exit_1(env, damage):
    good = env / "good.db"
    assert main(["demo", "--db", str(good), "--customers", "5", "--calls", "10"]) == 0
    bad = env / "bad.db"
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[:5000])
    else:
        bad.write_bytes(b"not a database at all " * 300)
    done = run_seat("customers", "find", "13800138000", "--db", str(bad), env_dir=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "seat restore" in lines[0]


@pytest.mark.parametrize("read_only", [False, True])
def test_a_database_upgraded_by_a_newer_seat_is_one_line_and_exit_1(env, capsys, read_only):
    """A file a newer seat migrated (a revision these scripts do not know) is said so, not
    "Can't locate revision" from Alembic; nothing is written to it."""
    import sqlite3

    db = env / "newer.db"
    assert main(["demo", "--db", str(db), "--customers", "5", "--calls", "10"]) == 0
    capsys.readouterr()
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    if read_only and (shutil.which("chattr") is None or subprocess.run(
        ["chattr", "+i", str(db)], capture_output=True
    ).returncode):
        pytest.skip("needs chattr +i (root may write any file otherwise)")
    try:
        assert main(["report", "complaints", "--from", "2026-01-01", "--to", "2026-12-31",
                     "--db", str(db)]) == 1  # fmt: skip
    finally:
        if read_only:
            subprocess.run(["chattr", "-i", str(db)], check=True)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"seat: {db} was upgraded by a newer seat (schema 9999): this seat cannot "
                   "use it. Install that seat's version, or use another file with --db."]
    con = sqlite3.connect(db)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999",)]
    con.close()


def test_a_read_only_database_reads_and_refuses_writes_in_one_line(env, capsys):
    db = env / "ro.db"
    assert main(["demo", "--db", str(db), "--customers", "5", "--calls", "10"]) == 0
    capsys.readouterr()
    if shutil.which("chattr") is None or subprocess.run(
        ["chattr", "+i", str(db)], capture_output=True
    ).returncode:
        pytest.skip("needs chattr +i (root may write any file otherwise)")
    try:
        # Reading works ...
        assert main(["report", "complaints", "--from", "2026-01-01", "--to", "2026-12-31",
                     "--db", str(db)]) == 0  # fmt: skip
        capsys.readouterr()
        # ... a write names the file and what to do.
        assert main(["customers", "import", SAMPLE, "--db", str(db)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"seat: {db} is read-only: the seat cannot save. Give this user write "
                       "access to the file and its folder, or use another file with --db."]
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)


def test_an_unexpected_error_goes_to_the_log_with_its_traceback(env, monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise RuntimeError("induced failure")

    monkeypatch.setattr(cli, "cmd_find", boom)
    assert main(["customers", "find", "13800138000", "--db", str(env / "x.db")]) == 1
    err = capsys.readouterr().err
    log = env / "logs" / "seat.log"
    assert err.strip() == (f"seat: Unexpected error: induced failure. The details are in {log}.")
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "RuntimeError: induced failure" in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_the_log_rotates_and_stays_private(env):
    from dataclasses import replace

    from seat.config import Settings

    path = logs.setup(replace(Settings(), log_dir=env / "logs"))
    try:
        for __ in range(3):
            logs.log.info("x" * (logs.MAX_BYTES // 2))
    finally:
        logs.close()
    rotated = sorted(p.name for p in (env / "logs").iterdir())
    assert rotated[:2] == ["seat.log", "seat.log.1"]
    for name in rotated:
        assert stat.S_IMODE((env / "logs" / name).stat().st_mode) == 0o600, name
    assert path == env / "logs" / "seat.log"


class Broken(App[None]):
    def on_mount(self) -> None:
        raise RuntimeError("induced in the TUI")


class BrokenWorker(App[None]):
    def on_mount(self) -> None:
        self.run_worker(self.fail, thread=True)

    def fail(self) -> None:
        raise RuntimeError("induced in a worker")


@pytest.mark.parametrize(("app", "words"), [(Broken, "induced in the TUI"),
                                            (BrokenWorker, "induced in a worker")])
def test_an_error_in_the_tui_ends_in_a_short_message_and_exit_1(env, capsys, app, words):
    from dataclasses import replace

    from seat.config import Settings

    logs.setup(replace(Settings(), log_dir=env / "logs"))
    try:
        code = cli.run_tui(app(), headless=True)
    finally:
        logs.close()
    assert code == 1
    err = capsys.readouterr().err
    log = env / "logs" / "seat.log"
    assert err.strip() == (
        f"seat: The seat stopped on an unexpected error. The details are in {log}."
    )
    text = log.read_text(encoding="utf-8")
    assert words in text and "Traceback" in text


class BrokenKey(App[None]):
    BINDINGS = [("x", "explode", "Explode")]

    def action_explode(self) -> None:
        raise RuntimeError("induced in a key handler")


async def press_x(pilot) -> None:
    await pilot.press("x")
    await pilot.pause()


def test_an_error_in_a_key_handler_ends_in_a_short_message_and_exit_1(env, capsys):
    from dataclasses import replace

    from seat.config import Settings

    logs.setup(replace(Settings(), log_dir=env / "logs"))
    try:
        code = cli.run_tui(BrokenKey(), headless=True, auto_pilot=press_x)
    finally:
        logs.close()
    assert code == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"seat: The seat stopped on an unexpected error. The details are in "
        f"{env / 'logs' / 'seat.log'}."
    ]
    assert "induced in a key handler" in (env / "logs" / "seat.log").read_text(encoding="utf-8")


# -- the real seat: errors in its handlers and workers, a database gone mid-shift ----------


@pytest.fixture
def desk_file(env):
    """A populated SQLite desk file and the settings of a seat on it."""
    from dataclasses import replace

    from seat.config import Settings
    from seat.db import make_engine
    from tests.conftest import populate

    path = env / "desk" / "desk.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    populate(engine)
    engine.dispose()
    settings = replace(Settings(), database_url=url, drafts_base=env / "drafts",
                       schedule_on_start=False, log_dir=env / "logs")  # fmt: skip
    return path, settings


def seat_app(settings, **kw):
    from seat.app import make_app
    from seat.clock import FixedClock
    from tests.conftest import NOW

    return make_app(settings=settings, clock=FixedClock(NOW), agent="li.na", **kw)


async def settled(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("where", ["handler", "worker"])
def test_an_error_in_the_seat_ends_in_a_short_message_and_exit_1(desk_file, capsys, where):
    from seat.services import Desk

    __, settings = desk_file

    def boom(self, *args, **kwargs):
        raise RuntimeError(f"induced in the seat's {where}")

    async def walk(pilot) -> None:
        await settled(pilot)
        await pilot.press("n")  # new call: Desk.new_call on the UI thread
        await settled(pilot)
        await pilot.press(*"13800138000", "enter")  # the lookup runs in a worker
        # Not wait_for_complete: it raises the worker's error here, racing the seat's own
        # handling of it. Wait until the seat has ended on it (or give up and end it).
        for __ in range(400):
            if pilot.app.return_code is not None or not pilot.app.is_running:
                return
            await asyncio.sleep(0.05)
        pilot.app.exit()  # not reached when the error ended the seat

    method = "new_call" if where == "handler" else "lookup_callers"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Desk, method, boom)
        logs.setup(settings)
        try:
            code = cli.run_tui(seat_app(settings), headless=True, auto_pilot=walk)
        finally:
            logs.close()
    assert code == 1
    log = settings.log_dir / "seat.log"
    assert capsys.readouterr().err.strip().splitlines() == [
        f"seat: The seat stopped on an unexpected error. The details are in {log}."
    ]
    text = log.read_text(encoding="utf-8")
    assert f"induced in the seat's {where}" in text and "Traceback" in text


def test_a_database_gone_mid_shift_is_told_and_the_seat_keeps_the_input(desk_file, capsys):
    """The folder of the desk's file moves away while the seat runs: the seat does not die
    (with 0 or otherwise); each attempt says the database cannot be reached and keeps what was
    typed, and the agent can still leave."""
    from seat.screens.calls.call import CallScreen

    path, settings = desk_file
    seen: dict[str, object] = {}

    async def walk(pilot) -> None:
        await settled(pilot)
        pilot.app.desk.engine.dispose()
        path.parent.rename(path.parent.with_name("moved"))
        await pilot.press("n")
        await settled(pilot)
        await pilot.press(*"13800138000", "enter")
        await settled(pilot)
        screen = pilot.app.screen
        seen["screen"] = screen
        seen["number"] = screen.query_one("#number").value if isinstance(
            screen, CallScreen) else None  # fmt: skip
        seen["error"] = str(screen.query_one("#number-error").render())
        pilot.app.exit()

    logs.setup(settings)
    try:
        code = cli.run_tui(seat_app(settings), headless=True, auto_pilot=walk)
    finally:
        logs.close()
    assert code == 0  # the agent left; nothing ended the seat
    assert isinstance(seen["screen"], CallScreen) and seen["number"] == "13800138000"
    assert seen["error"] == "The database could not be reached; your input is kept."
    assert capsys.readouterr().err == ""


# -- a database that cannot be written -------------------------------------------------------


@contextmanager
def immutable(*paths):
    """chattr +i on each path (root may write any file otherwise); skips where unavailable."""
    done = []
    try:
        for path in paths:
            if shutil.which("chattr") is None or subprocess.run(
                ["chattr", "+i", str(path)], capture_output=True
            ).returncode:
                pytest.skip("needs chattr +i (root may write any file otherwise)")
            done.append(path)
        yield
    finally:
        for path in reversed(done):
            subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize(("blocked", "companions", "found"), [
    ("nothing", False, None),
    ("file", False, "file"),
    ("folder", False, "folder"),
    ("folder", True, None),  # SQLite writes only its -wal and -shm, which it can
])  # fmt: skip
def test_what_keeps_a_database_from_being_written_is_found(desk_file, blocked, companions,
                                                           found):  # fmt: skip
    path, settings = desk_file
    if companions:
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).touch()
    targets = {"nothing": [], "file": [path], "folder": [path.parent]}[blocked]
    with immutable(*targets):
        got = faults.unwritable(settings.database_url)
    assert got == {None: None, "file": path, "folder": path.parent}[found]


def test_unwritable_is_none_for_other_databases():
    assert faults.unwritable("postgresql+psycopg://u:p@localhost/seat") is None
    assert faults.unwritable("sqlite://") is None
    assert faults.unwritable("sqlite:////nowhere/at/all.db") is None  # made at start


@pytest.mark.parametrize("blocked", ["file", "folder"])
def test_seat_opens_an_unwritable_database_read_only(desk_file, monkeypatch, blocked):
    from seat import db

    path, __ = desk_file
    started = []

    def run_tui(app, **kwargs):
        started.append(app)
        return 0

    monkeypatch.setattr(cli, "run_tui", run_tui)
    with immutable(path if blocked == "file" else path.parent):
        assert main(["--db", str(path), "--agent", "li.na"]) == 0
        with started[0].desk.engine.connect() as conn:  # it reads
            assert conn.exec_driver_sql("SELECT count(*) FROM customer").scalar() == 3
    desk = started[0].desk
    assert desk.read_only and db.is_read_only(desk.engine)
    started[0].desk.engine.dispose()


def test_a_writable_database_opens_for_writing(desk_file, monkeypatch):
    path, __ = desk_file
    started = []
    monkeypatch.setattr(cli, "run_tui", lambda app, **kw: started.append(app) or 0)
    assert main(["--db", str(path), "--agent", "li.na"]) == 0
    assert not started[0].desk.read_only


@pytest.fixture
def old_desk(env):
    """A desk file one schema revision behind the code."""
    from seat import db

    path = env / "old" / "desk.db"
    engine = db.make_engine(f"sqlite:///{path}", migrate=False)
    db.upgrade(engine, "0008")
    engine.dispose()
    return path


def test_a_read_only_desk_is_never_migrated(old_desk):
    from seat import db

    url = f"sqlite:///{old_desk}"
    before = old_desk.read_bytes()
    with pytest.raises(faults.ReadOnlyOutdated) as caught:
        db.make_engine(url, read_only=True)
    assert faults.explain(caught.value, url) == str(caught.value)
    assert str(old_desk) in str(caught.value)
    assert old_desk.read_bytes() == before
    assert db.stored_revisions(db.make_engine(url, migrate=False)) == {"0008"}


def test_a_read_only_desk_at_an_older_schema_is_one_line_and_exit_1(old_desk, capsys):
    with immutable(old_desk):
        assert main(["--db", str(old_desk), "--agent", "li.na"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert err[0].startswith(f"seat: {old_desk} is read-only and its schema is older")


# -- a broken policy override in <config dir>/policy/ stops the seat at start ---------------


@pytest.mark.parametrize("name", ["complaints", "callbacks", "work_orders"])
@pytest.mark.parametrize(("damage", "words"), [
    ("x = = 1\n", "Invalid value"),
    ("bogus_key = 1\n", "bogus_key"),
])  # fmt: skip
def test_a_broken_policy_override_names_the_file_and_exits_2(env, name, damage, words):
    from seat.config import DATA_DIR

    shipped = (DATA_DIR / "policy" / f"{name}.toml").read_text(encoding="utf-8")
    override = env / "policy" / f"{name}.toml"  # beside SEAT_CONFIG (env / "none.toml")
    override.parent.mkdir()
    override.write_text(damage + shipped, encoding="utf-8")
    done = run_seat("--db", str(env / "desk.db"), "--agent", "li.na", env_dir=env)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"seat: Policy not usable: {override}: ") and words in lines[0]


def test_an_unwritable_folder_with_commits_left_in_the_wal_is_one_line(desk_file, env, capsys,
                                                                       monkeypatch):  # fmt: skip
    """Immutable reading would skip the -wal's commits: SQLite's refusal is told instead."""
    import sqlite3

    path, __ = desk_file
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE customer SET name = 'Changed' WHERE id = 1")
    writer.commit()
    copy = env / "copy" / "desk.db"
    copy.parent.mkdir()
    shutil.copyfile(path, copy)
    shutil.copyfile(f"{path}-wal", f"{copy}-wal")  # commits not yet in the file, no -shm
    writer.close()
    assert copy.with_name("desk.db-wal").stat().st_size > 0
    monkeypatch.setattr(cli, "run_tui", lambda app, **kw: pytest.fail("the seat opened"))
    with immutable(copy.parent):
        assert main(["--db", str(copy), "--agent", "li.na"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"seat: {copy} cannot be opened")
