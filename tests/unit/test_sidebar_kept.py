"""The sidebar's refresh (issue 18): nothing is read when nothing was committed within the
same minute; a commit, the next minute or `fresh` read again, and the counts stay true."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from seat import queues
from seat.models import OPEN_WORK_ORDER_EXCLUDES, Callback, WorkOrder
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


# -- the orders, read together --------------------------------------------------------------

STATUSES = ("created", "survey_done", "replied_sales", "delivered", "closed", "cancelled")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("limit", [50, 3, 0, 7])
def test_agent_orders_are_the_three_reads_in_one(session, world, limit, seed):
    """Pages cut at `limit`, counts true: against counting every open order (and each page
    in its order, read off each (status, urgency) range on its own)."""
    rng = random.Random(limit * 10 + seed)
    for __ in range(rng.choice((12, 60, 90))):
        session.add(WorkOrder(
            kind="service_request", short_text="x", customer_id=world["fang"],
            assignee_id=world["li"] if rng.random() < 0.8 else world["wang"],
            status=rng.choice(STATUSES), urgent=rng.random() < 0.3,
            due_at=NOW + timedelta(hours=rng.randint(-72, 72)), created_at=NOW,
        ))  # fmt: skip
    session.flush()
    got = queues.agent_orders(session=session, agent_id=world["li"], now=NOW, limit=limit)
    page = queues.sidebar(session=session, agent_id=world["li"], limit=limit).work_orders
    assert got.page == page
    assert got.late == queues.late_orders(
        session=session, agent_id=world["li"], now=NOW, limit=limit
    )
    every = session.execute(
        select(WorkOrder.id, WorkOrder.urgent, WorkOrder.due_at).where(
            WorkOrder.assignee_id == world["li"], WorkOrder.status.not_in(OPEN_WORK_ORDER_EXCLUDES)
        )
    ).all()
    assert got.counts == queues.OrderCounts(
        open=len(every),
        urgent=sum(bool(u) for __, u, __ in every),
        late=sum(d < NOW for __, __, d in every),
    )
    late = sorted((d, i) for i, __, d in every if d < NOW)
    assert [w.id for w in got.late] == [i for __, i in late[: max(limit, 0)]]
    assert len(got.page) == min(len(every), max(limit, 0))
