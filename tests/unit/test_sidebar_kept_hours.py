"""The sidebar's callback totals from whole hours kept per agent and zone group (migration
0051, `callback_owner_hour`, kept by triggers on `callback`): after every kind of write
(the ORM, plain UPDATE and DELETE statements, a reassignment, attempts that close a
callback, a customer merge, a changed number's zones) the kept hours equal the callbacks'
own GROUP BY, and the sidebar's counts equal plain COUNTs of the callbacks, at instants on,
inside and just off an hour's edge. Both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from seat import customers, merge
from seat.callbacks import (
    CallbackPolicy,
    _group_args,
    _queue_statements,
    callback_queue,
    reassign,
)
from seat.db import prepared
from seat.models import Callback, CallbackEvent, CallbackOwnerHour, CallbackStatus
from tests.conftest import NOW
from tests.unit.test_sidebar_zones import NUMBERS

POLICY = CallbackPolicy()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _as_utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _kept(session) -> dict[tuple[int, str, int], int]:
    return {
        (o, z, h): n
        for o, z, h, n in session.execute(
            select(CallbackOwnerHour.owner_id, CallbackOwnerHour.zones,
                   CallbackOwnerHour.hour, CallbackOwnerHour.n)
        )  # fmt: skip
    }


def _recounted(session) -> dict[tuple[int, str, int], int]:
    """The kept hours as the callbacks on file give them, counted in Python."""
    out: dict[tuple[int, str, int], int] = {}
    for owner, zones, due in session.execute(
        select(Callback.owner_id, Callback.zones, Callback.due_at).where(
            Callback.status == CallbackStatus.OPEN, Callback.zones.is_not(None)
        )
    ):
        key = (owner, zones, (_as_utc(due) - EPOCH) // HOUR)
        out[key] = out.get(key, 0) + 1
    return out


def _counted(session, agent_id: int, now: datetime) -> tuple[int, int]:
    """Overdue and due within the horizon, by plain COUNTs of the agent's open callbacks."""
    until = now + timedelta(hours=POLICY.sidebar_horizon_hours)
    mine = (Callback.owner_id == agent_id, Callback.status == CallbackStatus.OPEN)
    overdue = session.execute(
        select(func.count()).select_from(Callback).where(*mine, Callback.due_at < now)
    ).scalar_one()
    due = session.execute(
        select(func.count()).select_from(Callback)
        .where(*mine, Callback.due_at >= now, Callback.due_at <= until)
    ).scalar_one()  # fmt: skip
    return overdue, due


def _instants(session) -> list[datetime]:
    """NOW, on an hour's edge, inside an hour, a microsecond either side of an edge, and
    exactly at callbacks' due times (and a horizon ending exactly on one)."""
    dues = sorted(_as_utc(d) for d in session.execute(select(Callback.due_at)).scalars())
    at = [NOW, NOW + timedelta(minutes=17, seconds=3), NOW - timedelta(microseconds=1),
          NOW + HOUR + timedelta(microseconds=1), NOW + timedelta(days=2, minutes=59)]  # fmt: skip
    if dues:
        mid = dues[len(dues) // 2]
        at += [mid, mid - timedelta(hours=POLICY.sidebar_horizon_hours)]
    return at


def _check(session, agents_: list[int]) -> None:
    session.flush()
    assert _kept(session) == _recounted(session)
    for now in _instants(session):
        for agent_id in agents_:
            queue = callback_queue(session=session, agent_id=agent_id, now=now, policy=POLICY)
            overdue, due = _counted(session, agent_id, now)
            assert queue.ready_overdue + queue.waiting_overdue == overdue
            assert queue.ready_due + queue.waiting_total - queue.waiting_overdue == due
            # Each zone group's counts (callable now or waiting is decided per group) as
            # COUNTs of the group's callbacks give them.
            assert _groups(session, agent_id, now) == _groups_counted(session, agent_id, now)


def _groups(session, agent_id: int, now: datetime) -> dict[str, tuple[int, int]]:
    until = now + timedelta(hours=POLICY.sidebar_horizon_hours)
    args = {"agent_id": agent_id, "status": CallbackStatus.OPEN.value,
            **_group_args(now, until)}  # fmt: skip
    rows = prepared(_queue_statements(50).counts).rows(session.connection(), args)
    return {zones: (overdue, due) for zones, overdue, due in rows if overdue + due}


def _groups_counted(session, agent_id: int, now: datetime) -> dict[str, tuple[int, int]]:
    until = now + timedelta(hours=POLICY.sidebar_horizon_hours)
    rows = session.execute(
        select(
            Callback.zones,
            func.count().filter(Callback.due_at < now),
            func.count().filter(Callback.due_at >= now, Callback.due_at <= until),
        )
        .where(Callback.owner_id == agent_id, Callback.status == CallbackStatus.OPEN,
               Callback.zones.is_not(None))
        .group_by(Callback.zones)
    ).all()  # fmt: skip
    return {zones: (overdue, due) for zones, overdue, due in rows if overdue + due}


@pytest.fixture
def made(session, people) -> dict[str, int]:
    ids = {}
    for name, number in NUMBERS.items():
        ids[name] = customers.create_customer(
            session=session, now=NOW - timedelta(days=40), name=name.title(), phone_text=number
        ).id
    rng = random.Random(51)
    edges = [NOW, NOW + HOUR, NOW - HOUR, NOW + timedelta(hours=24), NOW + timedelta(days=-3)]
    for k in range(160):
        if k % 4 == 0:  # on an hour's edge, or a microsecond off it
            due = rng.choice(edges) + timedelta(microseconds=rng.choice((-1, 0, 0, 1)))
        else:
            due = NOW + timedelta(minutes=rng.randint(-3 * 24 * 60, 30 * 60),
                                  seconds=rng.randint(0, 59))  # fmt: skip
        session.add(Callback(
            customer_id=ids[rng.choice(sorted(ids))],
            owner_id=people["li"] if rng.random() < 0.8 else people["wang"],
            reason="x", due_at=due, created_at=NOW - timedelta(days=5),
            status=CallbackStatus.OPEN if rng.random() < 0.85 else CallbackStatus.DONE,
        ))  # fmt: skip
    session.flush()
    return ids


def test_kept_hours_follow_every_write(session, people, made):
    who = [people["li"], people["wang"]]
    _check(session, who)
    cbs = session.execute(select(Callback).order_by(Callback.id)).scalars().all()
    rng = random.Random(7)
    # The ORM: due times moved (across hours, onto an edge), statuses, owners, zones.
    for cb in rng.sample(cbs, 30):
        cb.due_at = _as_utc(cb.due_at) + timedelta(minutes=rng.randint(-200, 200))
    cbs[0].due_at = NOW + HOUR
    for cb in rng.sample(cbs, 15):
        cb.status = rng.choice([CallbackStatus.DONE, CallbackStatus.CANCELLED,
                                CallbackStatus.OPEN])  # fmt: skip
    for cb in rng.sample(cbs, 15):
        cb.owner_id = rng.choice(who)
    for cb in rng.sample(cbs, 5):
        cb.zones = None  # not known: not kept, looked up when read
    cbs[1].attempts += 1  # a change the counts do not watch
    _check(session, who)
    # Several columns in one statement, and a statement over many rows.
    session.execute(
        update(Callback).where(Callback.id.in_([c.id for c in cbs[10:40]]))
        .values(owner_id=people["wang"], due_at=NOW - timedelta(minutes=30))
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    session.execute(
        update(Callback).where(Callback.zones.is_(None)).values(zones="Asia/Shanghai")
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    session.expire_all()
    _check(session, who)
    # A supervisor's reassignment.
    open_ = session.execute(
        select(Callback.id, Callback.owner_id)
        .where(Callback.status == CallbackStatus.OPEN).order_by(Callback.id)
    ).all()  # fmt: skip
    for cb_id, owner in open_[:6]:
        reassign(session=session, callback_id=cb_id, actor_id=people["boss"],
                 new_owner_id=who[owner == who[0]], now=NOW, comment="cover")  # fmt: skip
    _check(session, who)
    # Zones written by hand, then the customer's own again (as after a changed number).
    session.execute(
        update(Callback).where(Callback.customer_id == made["london"]).values(zones="Europe/Paris")
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    customers.refresh_callback_zones(session=session, customer_id=made["london"])
    session.expire_all()
    _check(session, who)
    # A merge: the other customer's callbacks move to the survivor (and its zones).
    merge.merge(session, survivor_id=made["tokyo"], other_id=made["new_york"],
                agent_id=people["boss"], now=NOW)  # fmt: skip
    session.expire_all()
    _check(session, who)
    # Deletes (callbacks with no history: a history is never deleted): one, then an agent's
    # overdue ones, then every one; then every callback left closed in one statement.
    free = ~select(CallbackEvent.id).where(CallbackEvent.callback_id == Callback.id).exists()
    session.execute(delete(Callback).where(free, Callback.owner_id == people["li"],
                                           Callback.due_at >= NOW))  # fmt: skip
    _check(session, who)
    session.execute(delete(Callback).where(free, Callback.owner_id == people["wang"],
                                           Callback.due_at < NOW))  # fmt: skip
    _check(session, who)
    session.execute(delete(Callback).where(free))
    _check(session, who)
    session.execute(update(Callback).values(status=CallbackStatus.DONE))
    _check(session, who)
    assert _kept(session) == {}
    session.rollback()
