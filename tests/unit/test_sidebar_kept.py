"""The sidebar's refresh (issue 18): nothing is read when nothing was committed within the
same minute; a commit, the next minute or `fresh` read again, and the counts stay true."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from seat.models import Callback
from seat.services import Desk
from tests.conftest import NOW


@pytest.fixture
def desk(engine, clock, settings, world):
    assert world
    return Desk(engine=engine, clock=clock, settings=settings)


@pytest.fixture
def statements(engine):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def _add_callback(desk: Desk, agent_id: int, customer_id: int, due) -> None:
    def add(s) -> None:
        s.add(Callback(customer_id=customer_id, owner_id=agent_id, reason="x", due_at=due,
                       created_at=NOW - timedelta(days=1)))  # fmt: skip

    desk.run(add, write=True)


def test_a_refresh_with_nothing_committed_reads_nothing(desk, world, statements, monkeypatch):
    monkeypatch.setattr(desk.changes, "token", lambda: 7)  # nothing committed (any database)
    first = desk.sidebar(world["li"])
    statements.clear()
    assert desk.sidebar(world["li"]) is first
    assert [s for s in statements if "callback" in s or "complaint" in s] == []
    assert desk.sidebar(world["li"], fresh=True) == first  # read again, the same answers
    assert any("callback" in s for s in statements)


def test_a_commit_is_seen_at_the_next_refresh(desk, world):
    before = desk.sidebar(world["li"]).counts
    _add_callback(desk, world["li"], world["min"], NOW - timedelta(minutes=5))
    after = desk.sidebar(world["li"]).counts
    assert after.callable_overdue == before.callable_overdue + 1


def test_what_falls_due_as_time_passes_is_counted_at_the_next_minute(desk, world, clock):
    _add_callback(desk, world["li"], world["min"], NOW + timedelta(seconds=30))
    before = desk.sidebar(world["li"]).counts
    clock.advance(minutes=1)  # nothing written: the callback is overdue now
    after = desk.sidebar(world["li"]).counts
    assert after.callable_overdue == before.callable_overdue + 1
    assert after.callable_due == before.callable_due - 1


def test_the_real_token_keeps_it(desk, world, statements, backend):
    if backend != "sqlite":
        pytest.skip("other databases of the shared test cluster move its snapshot")
    first = desk.sidebar(world["li"])
    statements.clear()
    assert desk.sidebar(world["li"]) is first and statements == []


def test_each_agent_keeps_their_own(desk, world, monkeypatch):
    monkeypatch.setattr(desk.changes, "token", lambda: 7)
    li, wang = desk.sidebar(world["li"]), desk.sidebar(world["wang"])
    assert li != wang and desk.sidebar(world["li"]) is li and desk.sidebar(world["wang"]) is wang
