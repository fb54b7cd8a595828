"""The sidebar's callback totals from whole hours kept per agent and zone group (migration
0051, `callback_owner_hour`, kept by triggers on `callback`), and its work orders' open,
urgent, late and late-clock totals from hours kept per agent (`work_order_agent_hour`, kept
by triggers on `work_order`): after every kind of write
(the ORM, plain UPDATE and DELETE statements, a reassignment, attempts that close a
callback, a customer merge, a changed number's zones) the kept hours equal the callbacks'
own GROUP BY, and the sidebar's counts equal plain COUNTs (for the orders: seat.queues'
own count statements), at instants on, inside and just off an hour's edge. Both
databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from seat import customers, merge, queues
from seat.callbacks import (
    CallbackPolicy,
    _group_args,
    _queue_statements,
    callback_queue,
    reassign,
)
from seat.db import _alembic_config, prepared, upgrade
from seat.models import (
    OPEN_WORK_ORDER_EXCLUDES,
    Callback,
    CallbackEvent,
    CallbackOwnerHour,
    CallbackStatus,
    Customer,
    WorkOrder,
    WorkOrderAgentHour,
)
from tests.conftest import NOW
from tests.unit.helpers import ZONE_NUMBERS as NUMBERS

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


# -- work orders ----------------------------------------------------------------------------

MEASURES = ("open", "urgent", "on_site", "reply", "follow_up")


def _orders_kept(session) -> dict[tuple[int, str, int], int]:
    return {
        (a, m, h): n
        for a, m, h, n in session.execute(
            select(WorkOrderAgentHour.assignee_id, WorkOrderAgentHour.measure,
                   WorkOrderAgentHour.hour, WorkOrderAgentHour.n)
        )  # fmt: skip
    }


def _orders_recounted(session) -> dict[tuple[int, str, int], int]:
    out: dict[tuple[int, str, int], int] = {}
    for wo in session.execute(select(WorkOrder)).scalars():
        if wo.assignee_id is None:
            continue
        is_open = wo.status not in OPEN_WORK_ORDER_EXCLUDES
        for measure, counts, at in (
            ("open", is_open, wo.due_at),
            ("urgent", is_open and wo.urgent, wo.due_at),
            ("on_site", wo.on_site_at is None and wo.on_site_due_at is not None,
             wo.on_site_due_at),
            ("reply", wo.replied_at is None and wo.reply_due_at is not None, wo.reply_due_at),
            ("follow_up", wo.follow_up_due_at is not None, wo.follow_up_due_at),
        ):  # fmt: skip
            if counts:
                key = (wo.assignee_id, measure, (_as_utc(at) - EPOCH) // HOUR)
                out[key] = out.get(key, 0) + 1
    return out


def _orders_check(session, agents_: list[int]) -> None:
    session.flush()
    session.expire_all()
    assert _orders_kept(session) == _orders_recounted(session)
    for now in (NOW, NOW + timedelta(minutes=17, seconds=3), NOW - timedelta(microseconds=1),
                NOW + HOUR + timedelta(microseconds=1), NOW + timedelta(hours=5, minutes=59),
                NOW - timedelta(days=2)):  # fmt: skip
        for agent_id in agents_:
            got = queues.agent_orders(session=session, agent_id=agent_id, now=now)
            # The plain COUNTs (seat.queues' own count statements, kept as they were).
            assert got.counts == queues.order_counts(session=session, agent_id=agent_id, now=now)
            assert got.clock_totals == queues.clock_totals(
                session=session, agent_id=agent_id, now=now
            )


def test_order_hours_follow_every_write(session, people):
    who = [people["li"], people["wang"]]
    customer = session.execute(select(Customer.id).order_by(Customer.id)).scalars().first()
    rng = random.Random(16)
    edges = [NOW, NOW + HOUR, NOW - HOUR, NOW - timedelta(days=1)]

    def when() -> datetime:
        if rng.random() < 0.3:
            return rng.choice(edges) + timedelta(microseconds=rng.choice((-1, 0, 0, 1)))
        return NOW + timedelta(minutes=rng.randint(-3 * 24 * 60, 2 * 24 * 60),
                               seconds=rng.randint(0, 59))  # fmt: skip

    statuses = ("created", "approved", "serviced", "closed", "replied")
    for __ in range(120):
        session.add(WorkOrder(
            kind="service_request", short_text="x", customer_id=customer,
            assignee_id=rng.choice([*who, who[0], None]), status=rng.choice(statuses),
            urgent=rng.random() < 0.3, due_at=when(), created_at=NOW - timedelta(days=9),
            on_site_due_at=when() if rng.random() < 0.6 else None,
            on_site_at=when() if rng.random() < 0.3 else None,
            reply_due_at=when() if rng.random() < 0.6 else None,
            replied_at=when() if rng.random() < 0.3 else None,
            follow_up_due_at=when() if rng.random() < 0.5 else None,
        ))  # fmt: skip
    _orders_check(session, who)
    orders = session.execute(select(WorkOrder).order_by(WorkOrder.id)).scalars().all()
    # The ORM: every watched column, one at a time and several at once.
    for wo in rng.sample(orders, 20):
        wo.status = rng.choice(statuses)
    for wo in rng.sample(orders, 15):
        wo.urgent = not wo.urgent
    for wo in rng.sample(orders, 15):
        wo.assignee_id = rng.choice([*who, None])
    for wo in rng.sample(orders, 20):
        wo.due_at = when()
        wo.on_site_due_at = when() if rng.random() < 0.7 else None
    for wo in rng.sample(orders, 20):
        wo.on_site_at = None if wo.on_site_at else when()
        wo.replied_at = None if wo.replied_at else when()
        wo.follow_up_due_at = None if wo.follow_up_due_at else when()
    orders[0].short_text = "a change the counts do not watch"
    _orders_check(session, who)
    # Statements over many rows.
    ids = [wo.id for wo in orders]
    session.execute(
        update(WorkOrder).where(WorkOrder.id.in_(ids[:40]))
        .values(assignee_id=who[1], due_at=NOW - timedelta(minutes=30), urgent=True)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    session.execute(
        update(WorkOrder).where(WorkOrder.id.in_(ids[30:70])).values(status="closed",
                                                                     replied_at=NOW)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    _orders_check(session, who)
    # Deletes: some, then every one.
    session.execute(delete(WorkOrder).where(WorkOrder.id.in_(ids[::3])))
    _orders_check(session, who)
    session.execute(delete(WorkOrder))
    _orders_check(session, who)
    assert _orders_kept(session) == {}
    session.rollback()


def test_migration_counts_the_rows_on_file(engine, session, people, made):
    """A desk from before 0051 (both backends): the upgrade makes each kept hour from the
    callbacks and orders on file, as the triggers would have."""
    customer = made["shanghai"]
    for k in range(40):
        session.add(WorkOrder(
            kind="service_request", short_text="x", customer_id=customer,
            assignee_id=(people["li"], people["wang"], None)[k % 3],
            status=("created", "closed", "serviced")[k % 3 if k % 2 else 0], urgent=k % 4 == 0,
            due_at=NOW + timedelta(minutes=47 * k - 900), created_at=NOW - timedelta(days=9),
            on_site_due_at=NOW + timedelta(minutes=31 * k - 600) if k % 2 else None,
            reply_due_at=NOW - timedelta(minutes=13 * k) if k % 3 else None,
            replied_at=NOW if k % 5 == 0 else None,
            follow_up_due_at=NOW + timedelta(hours=k - 20) if k % 4 else None,
        ))  # fmt: skip
    session.commit()
    with Session(engine) as s:
        callbacks_before, orders_before = _recounted(s), _orders_recounted(s)
    assert callbacks_before and orders_before
    command.downgrade(_alembic_config(engine), "0049")
    upgrade(engine)
    with Session(engine) as s:
        assert _kept(s) == callbacks_before == _recounted(s)
        assert _orders_kept(s) == orders_before == _orders_recounted(s)
