"""Faults end in one line naming the file and what to do, a non-zero exit code, and (for the
unexpected ones) a traceback in the log file, never on the terminal."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys

import pytest
from textual.app import App

from seat import cli, logs
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
                          text=True, timeout=120, env=environ)


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
