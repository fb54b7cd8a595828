"""Once a day per database: the lease the callback rules run under (seat.leases)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlmodel import Session

from seat import leases
from seat.db import retryable
from seat.models import DailyJob
from tests.conftest import NOW

TODAY = date(2026, 11, 20)
JOB = leases.CALLBACK_RULES


def _take(engine, holder, *, now=NOW, today=TODAY, force=False) -> bool:
    with Session(engine) as s:
        got = leases.take(session=s, name=JOB, now=now, today=today, holder=holder, force=force)
        s.commit()
        return got


def _finish(engine, holder, *, now=NOW, today=TODAY) -> None:
    with Session(engine) as s:
        leases.finish(session=s, name=JOB, now=now, today=today, holder=holder)
        s.commit()


@pytest.mark.parametrize(
    ("later", "next_day", "force", "expected"),
    [
        (timedelta(minutes=1), False, False, False),  # the first seat is still running
        (timedelta(minutes=1), False, True, False),  # not even a person beside a live run
        (leases.LEASE + timedelta(seconds=1), False, False, True),  # that seat died mid-run
        (leases.LEASE + timedelta(seconds=1), True, False, True),
    ],
)
def test_a_lease_held_by_a_running_seat(engine, later, next_day, force, expected):
    assert _take(engine, "seat-a")
    today = TODAY + timedelta(days=1) if next_day else TODAY
    assert _take(engine, "seat-b", now=NOW + later, today=today, force=force) is expected


@pytest.mark.parametrize(
    ("next_day", "force", "expected"),
    [
        (False, False, False),  # ran today: every other start skips
        (False, True, True),  # a person asked for a run
        (True, False, True),  # a new day
    ],
)
def test_a_finished_run(engine, next_day, force, expected):
    assert _take(engine, "seat-a")
    _finish(engine, "seat-a")
    today = TODAY + timedelta(days=1) if next_day else TODAY
    assert _take(engine, "seat-b", now=NOW + timedelta(minutes=5), today=today,
                 force=force) is expected  # fmt: skip


def test_a_failed_run_gives_the_day_back(engine):
    assert _take(engine, "seat-a")
    with Session(engine) as s:
        leases.release(session=s, name=JOB, holder="seat-a")
        s.commit()
        row = s.get(DailyJob, JOB)
        assert row.done_on is None and row.lease_until is None
    assert _take(engine, "seat-b", now=NOW + timedelta(minutes=1))


def test_only_the_holder_finishes(engine):
    assert _take(engine, "seat-a")
    _finish(engine, "seat-b")  # not its lease: nothing changes
    with Session(engine) as s:
        assert s.get(DailyJob, JOB).done_on is None


def test_seats_starting_together_run_the_rules_once(engine):
    """Eight seats ask at the same instant, each in its own thread: exactly one runs."""
    start = threading.Barrier(8)
    won: list[str] = []
    errors: list[BaseException] = []

    def seat(n: int) -> None:
        start.wait()
        for __ in range(50):  # a locked SQLite file: try again as Desk.run would
            try:
                if _take(engine, f"seat-{n}"):
                    won.append(f"seat-{n}")
                return
            except Exception as exc:  # noqa: BLE001
                if not retryable(exc):
                    errors.append(exc)
                    return
        errors.append(RuntimeError("never got through"))

    threads = [threading.Thread(target=seat, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(won) == 1
