"""The day's callback rules a step at a time (callbacks.DayRun, as a seat runs them) write
exactly what one whole run (run_scheduler) writes: the same callbacks (every column: ids,
owners, due times, joint days), the same events in the same hash chain, the same day's
marks. Two databases seeded alike, one run whole and one in steps, day after day. A run
stopped part way leaves the day to be run, and the next run makes the rest, nothing twice;
while one seat's steps run, the others skip."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from seat import callbacks, leases
from seat.clock import FixedClock
from seat.db import make_engine
from seat.errors import StorageError
from seat.services import Desk
from seat.tools import demo

NOW = datetime.fromisoformat("2026-03-02T02:00:00+00:00")


def _desks(urls: tuple[str, ...], settings: Any, seed: int, start: datetime) -> list[Desk]:
    desks = []
    for url in urls:
        engine = make_engine(url)
        demo.seed(engine, customers=600, calls=3000, callbacks=300, work_orders=120,
                  purchases=3000, seed=seed, now=start)  # fmt: skip
        desks.append(Desk(engine=engine, clock=FixedClock(start),
                          settings=replace(settings, database_url=url)))  # fmt: skip
    return desks


def _state(desk: Desk) -> tuple[Any, ...]:
    with Session(desk.engine) as s:
        made = [tuple(r) for r in s.execute(text("SELECT * FROM callback ORDER BY id"))]
        events = [tuple(r) for r in s.execute(text("SELECT * FROM callback_event ORDER BY id"))]
        job = [tuple(r) for r in s.execute(text(
            "SELECT name, done_on, lease_until, finished_at, watermark, rules, purchase_mark "
            "FROM daily_job ORDER BY name"))]  # fmt: skip
        hours = [tuple(r) for r in s.execute(text(
            "SELECT owner_id, zones, hour, n FROM callback_owner_hour "
            "ORDER BY owner_id, zones, hour"))]  # fmt: skip
    return made, events, job, hours


def _in_steps(desk: Desk) -> callbacks.DayRun:
    day = callbacks.DayRun(desk)
    while not callbacks.run_step(day):
        assert not day.done
    return day


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEAT_CONFIG", str(tmp_path / "none" / "config.toml"))  # no override
    # Chunks and steps of a few rows: the seeded days make tens to hundreds of callbacks.
    monkeypatch.setattr(callbacks, "WRITE_CHUNK", 7)
    monkeypatch.setattr(callbacks, "STEP_ROWS", 21)


@pytest.mark.parametrize("seed", [4, 9])
def test_the_day_in_steps_writes_what_one_run_writes(
    db_url, other_url, settings, small_steps, seed: int
):
    start = NOW - timedelta(days=seed)
    whole, stepped = _desks((db_url, other_url), settings, seed, start)
    try:
        assert _state(whole) == _state(stepped)  # seeded alike
        made = 0
        for days, hours in ((0, 0), (1, 0), (1, 3), (2, 0), (8, 1)):  # a first (full) run too
            for desk in (whole, stepped):
                desk.clock.advance(days=days, hours=hours)  # type: ignore[attr-defined]
            report = callbacks.run_scheduler(whole)
            day = _in_steps(stepped)
            assert day.report is not None and not day.report.skipped
            assert [s.source_key for s in day.report.created] == [
                s.source_key for s in report.created
            ]
            assert day.report.created == report.created
            assert day.report.cancelled == report.cancelled
            assert _state(whole) == _state(stepped)
            n = len(report.created)
            made += n
            assert day.steps >= 7 + (n - 1) // 21  # the rules' steps, the owners', the writes
        assert made > 100  # the days made callbacks of several write steps
    finally:
        for desk in (whole, stepped):
            desk.engine.dispose()


def test_a_day_stopped_part_way_is_run_again_and_makes_the_rest_once(
    db_url, other_url, settings, small_steps, monkeypatch, caplog
):
    start = NOW - timedelta(days=3)
    whole, stepped = _desks((db_url, other_url), settings, 5, start)
    try:
        report = callbacks.run_scheduler(whole)  # the first run: every rule reads all
        assert len(report.created) > 42

        # The second write step fails (the seat died there, the file refused the write).
        real = callbacks._Run.write
        writes: list[int] = []

        def fails(self: Any, start: int, stop: int) -> None:
            writes.append(start)
            if len(writes) == 2:
                raise StorageError("the disk is full")
            real(self, start, stop)

        monkeypatch.setattr(callbacks._Run, "write", fails)
        day = callbacks.DayRun(stepped)
        with pytest.raises(StorageError):
            while not callbacks.run_step(day):
                pass
        monkeypatch.setattr(callbacks._Run, "write", real)
        with pytest.raises(RuntimeError):  # a stopped run does no more
            callbacks.run_step(day)
        __, __, job, __ = _state(stepped)
        marks_before = _state(whole)[2]
        # The day is not done, the lease is back, the watermark where it was.
        assert job[0][1] != marks_before[0][1] and job[0][2] is None
        # The next start runs the day again: the rest is made, nothing twice.
        again = _in_steps(stepped)
        assert again.report is not None and not again.report.skipped
        assert len(again.report.created) == len(report.created) - 21
        with Session(stepped.engine) as s:
            keys = s.execute(text(
                "SELECT source_key, count(*) FROM callback WHERE source_key IS NOT NULL "
                "GROUP BY source_key ORDER BY source_key")).all()  # fmt: skip
            scheduled = s.execute(text(
                "SELECT count(*), count(DISTINCT callback_id) FROM callback_event "
                "WHERE action = 'scheduled'")).one()  # fmt: skip
            recount = s.execute(text(
                "SELECT owner_id, zones, count(*) FROM callback WHERE status = 'open' "
                "AND zones IS NOT NULL GROUP BY owner_id, zones ORDER BY owner_id, zones"
            )).all()  # fmt: skip
            kept = s.execute(text(
                "SELECT owner_id, zones, sum(n) FROM callback_owner_hour WHERE n > 0 "
                "GROUP BY owner_id, zones ORDER BY owner_id, zones")).all()  # fmt: skip
        with Session(whole.engine) as s:
            whole_keys = s.execute(text(
                "SELECT source_key, count(*) FROM callback WHERE source_key IS NOT NULL "
                "GROUP BY source_key ORDER BY source_key")).all()  # fmt: skip
        assert [tuple(k) for k in keys] == [tuple(k) for k in whole_keys]
        assert all(n == 1 for __, n in keys)
        assert scheduled[0] == scheduled[1]  # one "scheduled" event each
        assert [tuple(r) for r in recount] == [tuple(r) for r in kept]
        assert _state(stepped)[2] == _state(whole)[2]  # the day done, the same marks

        # A seat that closes part way gives the lease back, and says the day is not done.
        for desk in (whole, stepped):
            desk.clock.advance(days=1)  # type: ignore[attr-defined]
        day = callbacks.DayRun(stepped)
        callbacks.run_step(day)
        callbacks.run_step(day)
        with caplog.at_level(logging.WARNING, logger="seat.callbacks"):
            day.stop()
        assert "stopped after step 2" in caplog.text
        assert _state(stepped)[2][0][2] is None  # the lease is free
        assert not _in_steps(stepped).report.skipped  # type: ignore[union-attr]
    finally:
        for desk in (whole, stepped):
            desk.engine.dispose()


def test_while_a_seat_runs_the_day_in_steps_the_others_skip(db_url, settings, small_steps):
    start = NOW - timedelta(days=2)
    (desk,) = _desks((db_url,), settings, 6, start)
    try:
        day = callbacks.DayRun(desk)
        assert not callbacks.run_step(day)  # the lease taken, the first rules run
        assert callbacks.run_step(callbacks.DayRun(desk))  # another seat's start: skipped
        other = callbacks.DayRun(desk)
        other.step()
        assert other.report is not None and other.report.skipped
        assert callbacks.run_scheduler(desk).skipped
        while not callbacks.run_step(day):
            assert callbacks.run_scheduler(desk).skipped
        assert day.report is not None and day.report.created
        # Done for the day: the next start skips too.
        assert callbacks.run_step(callbacks.DayRun(desk))
        marks = desk.run(lambda s: leases.watermark(session=s, name=leases.CALLBACK_RULES))
        assert marks[0] is not None
    finally:
        desk.engine.dispose()


class _Busy(Exception):
    sqlite_errorcode = 5  # SQLITE_BUSY: the desk runs the transaction again (seat.db.retryable)


def test_a_step_run_again_after_a_busy_file_makes_what_it_would_have(
    db_url, other_url, settings, small_steps, monkeypatch
):
    """The desk runs a step's transaction again after a busy file or a serialization
    failure: the step starts from the run as it was before it (its rows, due times and
    owners not made twice)."""
    from sqlalchemy.exc import OperationalError

    whole, stepped = _desks((db_url, other_url), settings, 8, NOW - timedelta(days=5))
    failed: list[str] = []

    def once(name: str, real: Any) -> Any:
        def step(*args: Any) -> Any:
            out = real(*args)
            if name not in failed:  # the work done, then the transaction refused
                failed.append(name)
                raise OperationalError("COMMIT", {}, _Busy())
            return out

        return step

    try:
        report = callbacks.run_scheduler(whole)
        for name in ("_birthdays", "_maintenance_made", "_routine", "_join_same_day"):
            monkeypatch.setattr(callbacks, name, once(name, getattr(callbacks, name)))
        monkeypatch.setattr(callbacks._Run, "assign", once("assign", callbacks._Run.assign))
        day = _in_steps(stepped)
        assert len(failed) == 5
        assert day.report is not None and day.report.created == report.created
        assert _state(whole) == _state(stepped)
    finally:
        for desk in (whole, stepped):
            desk.engine.dispose()
