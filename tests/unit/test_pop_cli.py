"""`seat pop` as a phone system calls it: busy databases retried, caller ids of every form,
withheld numbers announced as unknown callers (issue 16 #11)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlmodel import Session, select

from seat import db
from seat.cli import main
from seat.models import ScreenPop


def _pops(engine) -> list[tuple[str, int | None]]:
    with Session(engine) as s:
        return [(p.e164, p.agent_id) for p in s.exec(select(ScreenPop).order_by(ScreenPop.id))]


@pytest.fixture
def sqlite_only(db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    return db_url.removeprefix("sqlite:///")


def test_a_locked_database_is_retried_not_a_traceback(engine, world, sqlite_only, monkeypatch,
                                                      capsys):  # fmt: skip
    """Another writer holds the lock for the first two tries; the third goes in."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)  # each try gives up quickly
    holder = sqlite3.connect(sqlite_only, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a long import, say
    tries: list[int] = []

    def next_try(attempt: int, **kw) -> float:
        tries.append(attempt)
        if attempt == 1:
            holder.execute("COMMIT")  # the writer is done after the second try
        return 0.0

    monkeypatch.setattr(db, "backoff", next_try)
    try:
        assert main(["pop", "sip:+8613800138000@pbx", "--agent", "li.na",
                     "--db", sqlite_only]) == 0  # fmt: skip
    finally:
        holder.close()
    assert tries == [0, 1]
    assert _pops(engine) == [("+8613800138000", world["li"])]
    assert "pop #" in capsys.readouterr().out


def test_a_database_busy_for_good_ends_in_one_line(engine, world, sqlite_only, monkeypatch,
                                                   capsys):  # fmt: skip
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 10)
    monkeypatch.setattr(db, "backoff", lambda attempt, **kw: 0.0)
    holder = sqlite3.connect(sqlite_only, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert main(["pop", "13800138000", "--db", sqlite_only]) == 1
    finally:
        holder.close()
    err = capsys.readouterr().err
    assert err.startswith("seat pop: ") and "busy" in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert _pops(engine) == []


@pytest.mark.parametrize(
    "caller",
    ["sip:+8613800138000@pbx", "tel:+86-138-0013-8000", '"Zhang San" <sip:13800138000@10.0.0.1>',
     "13800138000;ext=204"],
)  # fmt: skip
def test_caller_id_forms_pop_the_number(caller, db_url, engine, world, capsys):
    assert main(["pop", caller, "--db", db_url]) == 0
    assert _pops(engine) == [("+8613800138000", None)]


@pytest.mark.parametrize(
    "caller", ["anonymous", "Anonymous", "unknown", "restricted", "", "withheld"]
)
def test_withheld_callers_pop_as_unknown(caller, db_url, engine, world, capsys):
    assert main(["pop", caller, "--db", db_url]) == 0
    assert _pops(engine) == [("", None)]
    assert "withheld number" in capsys.readouterr().out
