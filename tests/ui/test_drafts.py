"""Nothing lost: a call in progress is kept as a draft and offered back after a crash."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import re
import signal
import struct
import sys
import termios
import time
from pathlib import Path

from sqlmodel import Session, select

from seat import drafts
from seat.models import Call
from seat.screens.calls.call import CallScreen
from seat.screens.confirm import ConfirmScreen
from seat.screens.desk import DeskScreen
from tests.ui.helpers import choose, settle


def draft_file(settings, agent: str = "li.na") -> Path:
    return settings.drafts_dir / f"{agent}.json"


async def wait_until(pilot, predicate, seconds: float = 5.0) -> bool:
    for __ in range(int(seconds / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
        await pilot.pause()
    return predicate()


async def test_draft_follows_typing_and_resumes(make_seat, settings, engine, clock, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter", "f2")
        await settle(pilot)
        await choose(pilot, "repair")
        await pilot.press("tab", *"Washer leaks")
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press(*"Third leak", "tab", *"A new washer", "ctrl+s")
        await settle(pilot)
        path = draft_file(settings)
        assert await wait_until(
            pilot, lambda: path.exists() and '"complaint"' in path.read_text("utf-8")
        )
        started = app.screen.state.started_at
    # The first seat is gone (as if killed); the next start offers the call back.
    data = json.loads(path.read_text("utf-8"))
    assert data["stage_id"] == "discovery" and data["values"]["need_category"] == "repair"
    assert data["created"][0][0] == "complaint"
    clock.advance(minutes=3)
    again = make_seat()
    async with again.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        screen = again.screen
        assert isinstance(screen, CallScreen)
        assert screen.state.stage_id == "discovery"
        assert screen.state.started_at == started
        assert screen.query_one("#sf-need_notes").value == "Washer leaks"
        assert "complaint" in str(screen.query_one("#created").render())
        for __ in range(3):
            await pilot.press("f2")
            await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(again.screen, DeskScreen)
    assert not path.exists()
    with Session(engine) as s:
        call = s.exec(select(Call)).one()  # the complaint's call row, completed: not a second one
        assert call.started_at == started and call.outcome == "complaint_opened"
        assert "Washer leaks" in call.notes


async def test_declining_a_draft_without_work_discards_it(make_seat, settings, world):
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        assert await wait_until(pilot, draft_file(settings).exists)
    again = make_seat()
    async with again.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        # Asked once more before anything typed is thrown away.
        assert isinstance(again.screen, ConfirmScreen)
        assert draft_file(settings).exists()
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(again.screen, DeskScreen)
    assert not draft_file(settings).exists()


def test_unreadable_draft_is_set_aside(tmp_path, world):
    (tmp_path / "li.na.json").write_text("{not json", encoding="utf-8")
    assert drafts.load(tmp_path, "li.na", {}) is None
    assert (tmp_path / "li.na.unreadable.json").exists()


F2 = b"\x1bOQ"


# Bounds on a hang, not timings: each wait returns as soon as its condition holds, and a slow
# machine (a loaded CI runner, a cold start) only makes it wait longer.
HANG = 120.0
PASSWORD = "powder-drawer-42"


def _wait_for_screen(fd: int, text: bytes, seconds: float = HANG) -> bytes:
    """Read the terminal until `text` has been drawn (since this call); the output so far."""
    out = b""
    end = time.monotonic() + seconds
    while text not in out and time.monotonic() < end:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            time.sleep(0.05)
            continue
        except OSError:
            break
        out += chunk
    assert text in out, f"{text!r} never drawn; the screen said: {out[-2000:]!r}"
    return out


def _row_of(screen: bytes, text: bytes) -> int:
    """The terminal row `text` was drawn on: the last cursor move before it."""
    before = screen[: screen.index(text)]
    return int(re.findall(rb"\x1b\[(\d+);\d+H", before)[-1])


def _wait_for_draft(fd: int, path: Path, done, seconds: float = HANG) -> dict:
    """Keep the terminal drained until the draft file says `done(data)`; the draft."""
    data: dict = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            os.read(fd, 65536)  # a seat whose terminal is not read blocks on writing it
        except (BlockingIOError, OSError):
            pass
        try:
            data = json.loads(path.read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            data = {}
        if data and done(data):
            return data
        time.sleep(0.05)
    raise AssertionError(f"the draft never got there: {data!r}")


def test_kill_9_mid_call_leaves_the_draft(tmp_path, db_url, engine, world):
    """A real `seat` process in a terminal, killed with SIGKILL in the middle of a call."""
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "SEAT_DRAFTS_DIR": str(tmp_path / "d"),
        "SEAT_CONFIG": str(tmp_path / "none.toml"),
        "COLUMNS": "100",
        "LINES": "34",
    }
    from seat import identity
    from seat.config import Settings

    with Session(engine) as s:  # `--agent` only fills in the login: li.na signs in
        identity.set_password(session=s, agent_id=world["li"], password=PASSWORD)
        s.commit()
    draft = Settings(database_url=db_url, drafts_base=tmp_path / "d").drafts_dir / "li.na.json"
    pid, fd = pty.fork()
    if pid == 0:  # the child: a seat in a terminal
        os.execvpe(
            sys.executable, [sys.executable, "-m", "seat", "--db", db_url, "--agent", "li.na"], env
        )
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 34, 100, 0, 0))
        os.set_blocking(fd, False)
        # Each key goes in once the seat shows it is ready for it: a key sent early is lost
        # (before the desk is up) or refused (F2 before the number's lookup came back).
        _wait_for_screen(fd, b"(li.na)")  # signing in: the agents are listed, password next
        os.write(fd, PASSWORD.encode() + b"\r")
        _wait_for_screen(fd, b"My last calls")  # the desk is up
        os.write(fd, b"n")
        _wait_for_screen(fd, b"number not taken")  # the call screen asks for the number
        os.write(fd, b"13800138000\r")
        _wait_for_screen(fd, b"138 0013 8000")  # looked up: the call bar shows it
        os.write(fd, F2)
        stage = _wait_for_screen(fd, b"What the caller needs")  # the notes field's label
        notes_row = _row_of(stage, b"What the caller needs") + 1
        _wait_for_draft(fd, draft, lambda d: d["stage_id"] == "discovery")
        os.write(fd, b"\r")
        _wait_for_screen(fd, b"suggestion")  # the need's choices are open
        os.write(fd, b"\x1b[B\x1b[B\r")
        _wait_for_draft(fd, draft, lambda d: d["values"].get("need_category") == "repair")
        os.write(fd, b"\t")
        # Typed before Tab is handled, the words would go to the need's Select: wait until
        # the notes field is drawn again (focused), then type.
        _wait_for_screen(fd, f"\x1b[{notes_row};".encode())
        os.write(fd, b"Powder drawer leaks")
        _wait_for_draft(
            fd, draft, lambda d: d["values"].get("need_notes") == "Powder drawer leaks"
        )
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    data = json.loads(draft.read_text("utf-8"))  # what the killed seat left behind
    assert data["from_number"] == "+8613800138000"
    assert data["stage_id"] == "discovery"
    assert data["values"]["need_category"] == "repair"
    assert data["values"]["need_notes"] == "Powder drawer leaks"


async def test_ctrl_s_while_the_draft_writer_is_mid_write(
    make_seat, settings, engine, world, monkeypatch
):
    """The reported race, forced: the draft writer is held inside fsync when the call is
    saved. The saved call's draft must not come back, and the next start offers nothing."""
    import threading

    in_fsync, release, armed = threading.Event(), threading.Event(), threading.Event()
    real_fsync = drafts.os.fsync

    def slow_fsync(fd: int) -> None:
        if armed.is_set():
            in_fsync.set()
            release.wait(10)
        real_fsync(fd)

    monkeypatch.setattr(drafts.os, "fsync", slow_fsync)
    writes_done, count, active = threading.Event(), threading.Lock(), [0]
    real_write = drafts.DraftFile.write

    def write(self, data):  # noqa: ANN001, ANN202
        with count:
            active[0] += 1
        try:
            return real_write(self, data)
        finally:
            with count:
                active[0] -= 1
                if not active[0] and in_fsync.is_set():
                    writes_done.set()  # every write begun (held ones too) has ended

    monkeypatch.setattr(drafts.DraftFile, "write", write)
    app = make_seat()
    try:
        async with app.run_test(size=(100, 34)) as pilot:
            await settle(pilot)
            await pilot.press("n")
            await settle(pilot)
            await pilot.press(*"13800138000", "enter", "f2")
            await settle(pilot)
            await choose(pilot, "repair")  # the need category
            await settle(pilot)
            for __ in range(3):
                await pilot.press("f2")
                await settle(pilot)
            screen = app.screen
            assert isinstance(screen, CallScreen) and screen.state.in_wrapup
            armed.set()
            screen._dirty = True  # something typed: the next tick writes the draft
            assert await wait_until(pilot, in_fsync.is_set)
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen))
            release.set()
            assert writes_done.wait(10)
    finally:
        release.set()
    assert not draft_file(settings).exists()
    assert not list(settings.drafts_dir.glob(".draft-*"))
    with Session(engine) as s:
        assert len(s.exec(select(Call).where(Call.ended_at.is_not(None))).all()) == 1
    again = make_seat()
    async with again.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, DeskScreen)  # no "resume the call?" question


async def test_a_draft_that_outlived_its_saved_call_is_not_offered_again(
    make_seat, settings, engine, world
):
    """The draft of a call saved after all (a writer that raced the save, a copy restored by
    hand) is tidied away at the next start: resuming it would drop whatever is typed again."""
    app = make_seat()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"13800138000", "enter")
        await settle(pilot)
        path = draft_file(settings)
        assert await wait_until(pilot, path.exists)
        kept = path.read_text("utf-8")
        await pilot.press("f2")
        await choose(pilot, "inquiry")
        for __ in range(3):
            await pilot.press("f2")
            await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
    path.write_text(kept, encoding="utf-8")  # the stale draft comes back
    again = make_seat()
    async with again.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, DeskScreen)
        assert not any(isinstance(s, ConfirmScreen) for s in again.screen_stack)
    assert not path.exists()
    with Session(engine) as s:
        assert len(s.exec(select(Call)).all()) == 1
