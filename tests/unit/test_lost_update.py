"""Two real transactions move the same record at once: exactly one wins, one event is kept.

Both read version v, the first moves and commits, then the second tries to move. A version
compared in Python lets the second through on PostgreSQL (its read was taken before the first
committed); the conditional UPDATE refuses it. On SQLite (WAL) the second transaction's read
snapshot is already stale, and the database itself refuses its write ("database is locked",
which the desk retries from the start, where the fresh read meets the stale-screen check).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from seat import agents, callbacks, complaints, workorders
from seat.db import make_engine
from seat.models import (
    Callback,
    CallbackEvent,
    Complaint,
    ComplaintEvent,
    Role,
    WorkOrder,
    WorkOrderEvent,
)
from tests.conftest import NOW
from tests.unit.complaint_steps import STEP_ARGS

HOUR = timedelta(hours=1)


@pytest.fixture
def two(db_url, world):
    """Two engines: two connections, two transactions, as two seats would have."""
    engines = [make_engine(db_url, migrate=False) for __ in range(2)]
    sessions = [Session(e, expire_on_commit=False) for e in engines]
    yield sessions
    for s, e in zip(sessions, engines, strict=True):
        s.close()
        e.dispose()


@pytest.fixture
def boss(session, world) -> int:
    lead = agents.ensure_agent(session=session, name="zhao.lei", role=Role.SUPERVISOR)
    session.commit()
    return lead.id


def _race(two, model, row_id: int, first: Callable, second: Callable, refusal: type) -> int:
    """Both read version v; `first` moves and commits; `second` must be refused."""
    a, b = two
    # Held on purpose: the sessions keep what they read (an unreferenced row would be read
    # again, after the first commit, and the race would be gone).
    rows = [a.get(model, row_id), b.get(model, row_id)]
    seen = {row.version for row in rows}
    assert len(seen) == 1
    first(a)
    a.commit()
    with pytest.raises((refusal, OperationalError)) as caught:
        second(b)
        b.flush()
    b.rollback()
    if isinstance(caught.value, OperationalError):
        # Only SQLite refuses at the database level (a write on a stale snapshot).
        assert b.get_bind().dialect.name == "sqlite"
        assert "locked" in str(caught.value)
    return seen.pop()


def _count(session, model, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return session.execute(stmt).scalar_one()


def test_two_supervisors_decide_one_order(session, world, boss, two):
    wo_id = 1
    workorders.move(session=session, now=NOW, work_order_id=wo_id, agent_id=world["li"],
                    action="survey", hq=True)  # fmt: skip
    session.commit()
    v = session.get(WorkOrder, wo_id).version

    def decide(action: str):
        return lambda s: workorders.move(
            session=s, now=NOW + HOUR, work_order_id=wo_id, agent_id=boss, action=action,
            expected_version=v,
        )  # fmt: skip

    _race(two, WorkOrder, wo_id, decide("approve"), decide("reject"), workorders.StaleOrder)
    session.rollback()  # end this session's read snapshot, then read afresh
    session.expire_all()
    wo = session.get(WorkOrder, wo_id)
    assert (wo.status, wo.version) == ("approved", v + 1)
    assert _count(session, WorkOrderEvent, work_order_id=wo_id, action="approve") == 1
    assert _count(session, WorkOrderEvent, work_order_id=wo_id, action="reject") == 0


def test_two_seats_move_one_complaint(session, world, boss, two):
    c = complaints.create_complaint(
        session=session, now=NOW, customer_id=world["min"], owner_id=world["li"],
        what_happened="Washer leaks again after the repair", customer_wants="A new washer",
    )  # fmt: skip
    session.commit()
    cid = c.id
    v = c.version

    def accept(s):
        return complaints.accept(session=s, complaint_id=cid, actor_id=world["li"],
                                 now=NOW + HOUR, **STEP_ARGS["accept"])  # fmt: skip

    def escalate(s):
        return complaints.escalate(session=s, complaint_id=cid, actor_id=world["li"],
                                   now=NOW + HOUR, supervisor_id=boss,
                                   **STEP_ARGS["escalate"])  # fmt: skip

    # No expected version from a screen: the version each transaction read is the check.
    _race(two, Complaint, cid, accept, escalate, complaints.MoveRefused)
    session.rollback()  # end this session's read snapshot, then read afresh
    session.expire_all()
    stored = session.get(Complaint, cid)
    assert (stored.status, stored.version) == ("investigating", v + 1)
    moves = session.execute(
        select(ComplaintEvent.action).where(ComplaintEvent.complaint_id == cid)
    ).scalars().all()
    assert moves.count("accept") == 1 and "escalate" not in moves


@pytest.mark.parametrize("second", ["snooze", "reassign", "attempt"])
def test_two_seats_change_one_callback(session, world, boss, two, second):
    cb_id = 1
    before = _count(session, CallbackEvent, callback_id=cb_id)

    def snooze(s):
        return callbacks.snooze(session=s, callback_id=cb_id, agent_id=world["li"],
                                until=NOW + 5 * HOUR, reason="customer asked", now=NOW)

    others = {
        "snooze": lambda s: callbacks.snooze(
            session=s, callback_id=cb_id, agent_id=boss, until=NOW + 9 * HOUR,
            reason="boss says later", now=NOW,
        ),
        "reassign": lambda s: callbacks.reassign(
            session=s, callback_id=cb_id, actor_id=boss, new_owner_id=world["wang"], now=NOW,
        ),
        "attempt": lambda s: callbacks.record_attempt(
            session=s, callback_id=cb_id, agent_id=world["li"], outcome="busy", now=NOW,
        ),
    }  # fmt: skip
    v = _race(two, Callback, cb_id, snooze, others[second], callbacks.StaleCallback)
    session.rollback()  # end this session's read snapshot, then read afresh
    session.expire_all()
    cb = session.get(Callback, cb_id)
    assert cb.version == v + 1
    assert (cb.due_at, cb.owner_id, cb.attempts) == (NOW + 5 * HOUR, world["li"], 0)
    assert _count(session, CallbackEvent, callback_id=cb_id) == before + 1


def test_no_version_is_bumped_outside_the_conditional_update():
    """Every optimistic check is `seat.optimistic.claim_version` (or a conditional UPDATE that
    names the version): a bare `version += 1` loses updates on PostgreSQL."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "seat"
    bare = re.compile(r"\.version\s*(\+=|=(?!=))")
    offenders = [
        f"{path.relative_to(root.parent)}:{n}"
        for path in root.rglob("*.py")
        if path.name != "optimistic.py" and "migrations" not in path.parts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bare.search(line)
    ]
    assert offenders == []
