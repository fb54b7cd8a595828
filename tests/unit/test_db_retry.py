"""Busy databases: retryable errors are told by the driver's codes, writers take their lock
up front, retries back off with jitter, and what still fails reaches the agent in words."""

from __future__ import annotations

import sqlite3

import psycopg.errors
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from seat import db
from seat.clock import FixedClock
from seat.models import Agent
from seat.services import Desk, StorageError
from tests.conftest import NOW


def sqlite_error(code: int, message: str = "some text") -> sqlite3.Error:
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorcode = code
    return exc


def wrapped(orig: BaseException) -> OperationalError:
    return OperationalError("UPDATE agent SET name = ?", {}, orig)


@pytest.mark.parametrize(
    ("orig", "expected"),
    [
        (sqlite_error(5), True),  # SQLITE_BUSY
        (sqlite_error(6), True),  # SQLITE_LOCKED
        (sqlite_error(517), True),  # SQLITE_BUSY_SNAPSHOT: a deferred reader tried to write
        (sqlite_error(261), True),  # SQLITE_BUSY_RECOVERY
        (sqlite_error(262), True),  # SQLITE_LOCKED_SHAREDCACHE
        (sqlite_error(8, "attempt to write a readonly database"), False),
        (sqlite_error(13, "database or disk is full"), False),
        (sqlite_error(2067, "UNIQUE constraint failed"), False),
        # The English words alone decide nothing: no code, no retry.
        (sqlite3.OperationalError("database is locked"), False),
        (psycopg.errors.SerializationFailure("could not serialize access"), True),
        (psycopg.errors.DeadlockDetected("deadlock detected"), True),
        (psycopg.errors.UniqueViolation("duplicate key"), False),
        (psycopg.errors.LockNotAvailable("could not obtain lock"), False),
        (Exception("deadlock"), False),
    ],
)
def test_retryable_by_driver_code(orig, expected):
    assert db.retryable(wrapped(orig)) is expected
    assert db.retryable(orig) is expected


@pytest.mark.parametrize("attempt", range(8))
def test_backoff_doubles_is_capped_and_half_random(attempt):
    span = min(2.0, 0.05 * 2**attempt)
    assert db.backoff(attempt, rand=lambda: 0.0) == pytest.approx(span / 2)
    assert db.backoff(attempt, rand=lambda: 1.0) == pytest.approx(span)
    assert span / 2 <= db.backoff(attempt) <= span


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("SQLite's lock modes")


def test_a_deferred_reader_that_writes_after_another_commit_is_refused_at_once(
    sqlite_only, engine, db_url, world
):
    """The cause of the busy errors: busy_timeout does not help a deferred transaction that
    read before another seat committed; the code says so (BUSY_SNAPSHOT), the words may not."""
    other = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0)
    with Session(engine) as s:
        s.execute(select(Agent.id)).all()  # the snapshot starts here
        other.execute("UPDATE agent SET display_name = 'x' WHERE id = ?", (world["wang"],))
        other.commit()
        with pytest.raises(OperationalError) as err:
            s.execute(update(Agent).where(Agent.id == world["li"]).values(display_name="y"))
        s.rollback()
    other.close()
    assert err.value.orig.sqlite_errorcode == 517
    assert db.retryable(err.value)


def test_a_write_transaction_holds_the_write_lock_from_begin(sqlite_only, engine, db_url, world):
    other = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    with Session(engine) as s:
        s.connection(execution_options=db.WRITE)
        s.execute(select(Agent.id)).all()  # nothing written yet
        with pytest.raises(sqlite3.OperationalError) as err:
            other.execute("BEGIN IMMEDIATE")
        assert err.value.sqlite_errorcode & 0xFF == 5
        s.rollback()
    with Session(engine) as s:
        s.execute(select(Agent.id)).all()  # a deferred reader takes no write lock
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        s.rollback()
    other.close()


@pytest.fixture
def desk(engine, settings, monkeypatch):
    monkeypatch.setattr("seat.services.pause", lambda seconds: None)
    return Desk(engine=engine, clock=FixedClock(NOW), settings=settings, scripts={})


def test_a_busy_attempt_is_run_again_with_the_write_lock(desk, world):
    seen: list[dict] = []

    def go(s: Session) -> int:
        seen.append(dict(s.connection().get_execution_options()))
        if len(seen) < 3:
            raise wrapped(sqlite_error(5, "database is locked"))
        s.execute(text("UPDATE agent SET display_name = 'Li' WHERE id = :id"), {"id": world["li"]})
        return len(seen)

    assert desk.run(go) == 3
    assert [o.get("seat_begin") for o in seen] == [None, "IMMEDIATE", "IMMEDIATE"]
    assert desk.run(lambda s: s.get(Agent, world["li"]).display_name) == "Li"


def test_writes_start_with_the_write_lock(desk):
    assert desk.run(lambda s: s.connection().get_execution_options().get("seat_begin"),
                    write=True) == "IMMEDIATE"  # fmt: skip
    assert desk.run(lambda s: s.connection().get_execution_options().get("seat_begin")) is None


def test_busy_to_the_end_is_told_in_words(desk):
    attempts: list[int] = []

    def go(s: Session) -> None:
        attempts.append(1)
        raise wrapped(sqlite_error(5))

    with pytest.raises(StorageError, match="The database is busy; nothing was lost"):
        desk.run(go)
    assert len(attempts) == 6


@pytest.mark.parametrize(
    ("orig", "message"),
    [
        (sqlite_error(8), "read-only"),
        (sqlite_error(13), "disk is full"),
        (sqlite_error(14), "could not be reached"),
        (psycopg.errors.ReadOnlySqlTransaction("read only"), "read-only"),
        (psycopg.errors.DiskFull("disk full"), "disk is full"),
    ],
)
def test_faults_that_a_retry_cannot_fix_are_not_retried(desk, orig, message):
    attempts: list[int] = []

    def go(s: Session) -> None:
        attempts.append(1)
        raise wrapped(orig)

    with pytest.raises(StorageError, match=message):
        desk.run(go)
    assert attempts == [1]


def test_a_refused_row_is_not_retried(desk):
    attempts: list[int] = []

    def go(s: Session) -> None:
        attempts.append(1)
        raise IntegrityError("INSERT", {}, sqlite_error(2067, "UNIQUE constraint failed"))

    with pytest.raises(StorageError, match="Could not save: IntegrityError"):
        desk.run(go)
    assert attempts == [1]
