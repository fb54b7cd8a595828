"""The wallboard opening reads less, and shows exactly what it showed before.

`reference_complaints` below is the computation the board's complaint part replaced (the
ORM rows of every open complaint, their pauses by a list of ids, every clock); the orders
late on any clock are compared with the UNION the board used to count them with
(`queues.clock_counts_statement`, still one agent's statement). Randomised floors of
complaints (young, near, breached, paused, waiting on the customer, escalated with a
promised reply, after the solution) and of work orders (every clock late, running, stopped
or without a deadline) are compared under several policies, instants, pages and page sizes.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import and_, false, func, or_, select, true, update
from sqlmodel import Session

from seat import complaints, order_clocks, queues, sla, supervisor
from seat.models import Agent, Complaint, Customer, WorkOrder, level_for
from tests.conftest import NOW
from tests.unit.random_complaints import POLICIES, add_random_complaints

ZONE = "Asia/Shanghai"


def reference_rank(*, session, where, now, policy):
    """complaints.rank_open as it was, with nothing kept (the screen opening)."""
    rows = session.execute(
        select(*complaints._CASE_COLUMNS, Complaint.version, Customer.tier)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(*where)
    ).all()
    paused = complaints.pauses_for(session=session, complaint_ids=[r.id for r in rows])
    found = {
        r.id: sla.most_urgent(
            complaints.clocks(r, level=level_for(r.tier), policy=policy, now=now,
                              pauses=paused.get(r.id, ()))
        )  # fmt: skip
        for r in rows
    }
    return sorted(found, key=lambda cid: complaints.urgency_key(found[cid], cid)), found


def reference_complaints(*, session, now, policy, offset, limit):
    """supervisor.open_complaints as it was: a page of complaint rows and the breached count."""
    ranked, clocks = reference_rank(
        session=session, where=(Complaint.status.in_(complaints.OPEN_STATUSES),), now=now,
        policy=policy,
    )  # fmt: skip
    breached = sum(1 for k in clocks.values() if k is not None and k.breached)
    offset = supervisor._clamp(offset, len(ranked), limit)
    page = ranked[offset : offset + limit]
    shown = {
        r.id: r
        for r in session.execute(
            select(Complaint.id, Complaint.status, Complaint.escalated_to_id, Customer.name,
                   Agent.display_name)
            .join(Customer, Customer.id == Complaint.customer_id)
            .join(Agent, Agent.id == Complaint.owner_id)
        )
    }  # fmt: skip
    rows = tuple(
        supervisor.ComplaintRow(
            id=cid, customer_name=shown[cid].name, owner=shown[cid].display_name,
            status=shown[cid].status, clock=clocks[cid],
            escalated=shown[cid].escalated_to_id is not None,
        )
        for cid in page
    )  # fmt: skip
    return supervisor.Page(rows, len(ranked), offset), breached


def reference_orders(*, session, now, offset, limit):
    """supervisor.attention_orders as it was (each group counted by itself)."""

    def count(*where):
        return session.execute(
            select(func.count()).select_from(WorkOrder).where(supervisor._OPEN_ORDER, *where)
        ).scalar_one()

    plain = WorkOrder.urgent == false()
    clock_late = or_(*(order_clocks.late_sql(name, now) for name in order_clocks.CLOCKS))
    clocks_only = (
        plain, WorkOrder.assignee_id.is_not(None), WorkOrder.due_at >= now, clock_late,
    )  # fmt: skip
    groups = (
        (WorkOrder.urgent == true(), count(WorkOrder.urgent == true())),
        (
            and_(plain, or_(WorkOrder.assignee_id.is_(None), WorkOrder.due_at < now)),
            count(plain, WorkOrder.due_at < now)
            + count(plain, WorkOrder.due_at >= now, WorkOrder.assignee_id.is_(None)),
        ),
        (and_(*clocks_only), count(*clocks_only)),
    )
    total = sum(n for __, n in groups)
    offset = supervisor._clamp(offset, total, limit)
    rows = []
    skip = offset
    for where, n in groups:
        want = limit - len(rows)
        if want > 0 and skip < n:
            rows += session.execute(
                select(WorkOrder.id, WorkOrder.short_text, WorkOrder.urgent, WorkOrder.status,
                       WorkOrder.due_at, Agent.display_name, clock_late)
                .outerjoin(Agent, Agent.id == WorkOrder.assignee_id)
                .where(supervisor._OPEN_ORDER, where)
                .order_by(WorkOrder.due_at, WorkOrder.id)
                .offset(skip).limit(want)
            ).all()  # fmt: skip
        skip = max(0, skip - n)
    page = supervisor.Page(tuple(supervisor.OrderRow(*r[:6], bool(r[6])) for r in rows), total,
                           offset)  # fmt: skip
    return supervisor._order_counts(session, now), page


def reference_orders_turn(session, now):
    """supervisor._orders_turn as it was."""
    turn = supervisor._next_due(session, select(func.min(WorkOrder.due_at)).where(
        supervisor._OPEN_ORDER, WorkOrder.due_at > now), supervisor.NEVER)  # fmt: skip
    for running, due in (
        (WorkOrder.on_site_at.is_(None), WorkOrder.on_site_due_at),
        (WorkOrder.replied_at.is_(None), WorkOrder.reply_due_at),
        (WorkOrder.follow_up_due_at.is_not(None), WorkOrder.follow_up_due_at),
    ):
        turn = supervisor._next_due(
            session, select(func.min(due)).where(running, due > now), turn
        )
    return turn


def add_escalations(session: Session, world: dict[str, int], rng: random.Random) -> None:
    """Escalate some open complaints, a few with a reply promised to the customer (its own
    clock, kept or not yet)."""
    for c in session.execute(
        select(Complaint).where(Complaint.status.in_(complaints.OPEN_STATUSES))
    ).scalars():
        if rng.random() < 0.3:
            c.escalated_to_id = world["wang"]
            if rng.random() < 0.5:
                c.promised_at = c.created_at + timedelta(minutes=rng.randrange(0, 3000))
                c.promised_reply_at = c.promised_at + timedelta(minutes=rng.randrange(1, 3000))
    session.commit()


def add_random_orders(session: Session, world: dict[str, int], rng: random.Random) -> None:
    """Work orders whose on-site, reply and follow-up clocks are late, running, stopped or
    have no deadline at all, in every combination."""

    def due() -> object:
        return None if rng.random() < 0.3 else NOW + timedelta(hours=rng.randrange(-72, 72))

    def done() -> object:
        return NOW - timedelta(hours=rng.randrange(1, 100)) if rng.random() < 0.3 else None

    if rng.random() < 0.5:  # every open order assigned, on some floors
        session.execute(update(WorkOrder).values(assignee_id=world["li"]))
    owners = [world["li"], world["wang"], *([None] if rng.random() < 0.5 else [])]
    for i in range(rng.randrange(20, 60)):
        session.add(WorkOrder(
            short_text=f"wo {i}", customer_id=world["tom"], created_by_id=world["li"],
            assignee_id=rng.choice(owners), urgent=rng.random() < 0.2,
            due_at=NOW + timedelta(hours=rng.randrange(-48, 48)),
            created_at=NOW - timedelta(days=5),
            status=rng.choice(["created", "accepted", "closed"]),
            on_site_due_at=due(), on_site_at=done(), reply_due_at=due(), replied_at=done(),
            follow_up_due_at=due(),
        ))  # fmt: skip
    session.commit()


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("policy", list(POLICIES))
def test_the_board_shows_what_the_old_computation_showed(session, world, seed, policy):
    rng = random.Random(seed)
    add_random_complaints(session, world, rng)
    add_escalations(session, world, rng)
    add_random_orders(session, world, rng)
    k = POLICIES[policy]
    for now in (NOW, NOW + timedelta(hours=rng.randrange(1, 200)), NOW - timedelta(days=2)):
        for offset, limit in ((0, 50), (0, 3), (3, 3), (9, 4), (10_000, 5)):
            expected = reference_complaints(session=session, now=now, policy=k,
                                            offset=offset, limit=limit)  # fmt: skip
            got = supervisor.open_complaints(session=session, now=now, policy=k,
                                             offset=offset, limit=limit,
                                             cache=complaints.ClockCache())  # fmt: skip
            assert got == expected
            board = supervisor.board(
                session=session, now=now, zone=ZONE, policy=k, limit=limit,
                offsets=dict.fromkeys(("complaints", "callbacks", "orders"), offset),
                cache=supervisor.BoardCache(), token=None,
            )  # fmt: skip
            assert (board.complaints, board.breached) == expected
            counts, page = reference_orders(session=session, now=now, offset=offset,
                                            limit=limit)  # fmt: skip
            assert (board.unassigned, board.urgent, board.late) == counts
            assert board.orders == page
            assert supervisor.attention_orders(
                session=session, now=now, offset=offset, limit=limit
            ) == page
        assert supervisor._orders_turn(session, now) == reference_orders_turn(session, now)
        union = queues.ClockCounts(*session.execute(queues.clock_counts_statement(now)).one())
        assert supervisor.order_clock_counts(session=session, now=now) == union


@pytest.mark.parametrize("seed", range(4))
def test_kept_clocks_after_a_move_rank_as_the_old_computation(session, world, seed):
    """The ClockCache path (a refresh after a complaint moved: only its clock is computed
    again) answers as the old fresh read."""
    rng = random.Random(seed)
    add_random_complaints(session, world, rng)
    add_escalations(session, world, rng)
    k = POLICIES["shipped"]
    cache = complaints.ClockCache()
    supervisor.open_complaints(session=session, now=NOW, policy=k, cache=cache)
    moved = session.execute(
        select(Complaint).where(Complaint.status.in_(complaints.OPEN_STATUSES))
    ).scalars().first()
    moved.waiting_since = None if moved.waiting_since else NOW - timedelta(hours=1)
    moved.version += 1
    session.commit()
    # Read at the same instant: a kept clock is then exactly the one a fresh read computes
    # (later in the minute it shows the time left of its minute, test_supervisor.py).
    assert supervisor.open_complaints(session=session, now=NOW, policy=k, cache=cache) == (
        reference_complaints(session=session, now=NOW, policy=k, offset=0, limit=50)
    )


def test_the_floors_seeded_hold_every_kind_of_complaint(session, world):
    """The randomised floors above hold what the comparison is about."""
    kinds: set[str] = set()
    for seed in range(8):
        rng = random.Random(seed)
        add_random_complaints(session, world, rng)
        add_escalations(session, world, rng)
    ranked, clocks = reference_rank(
        session=session, where=(Complaint.status.in_(complaints.OPEN_STATUSES),), now=NOW,
        policy=POLICIES["shipped"],
    )  # fmt: skip
    for cid in ranked:
        k = clocks[cid]
        if k is None:
            kinds.add("no clock")
        elif k.breached:
            kinds.add("breached")
        elif k.paused:
            kinds.add("paused")
        elif k.state == "amber":
            kinds.add("near")
        elif k.used < timedelta(hours=1):
            kinds.add("young")
        if k is not None and k.name in (sla.PROMISED, sla.CALLBACK):
            kinds.add(k.name)
    escalated = session.execute(
        select(Complaint.id).where(Complaint.escalated_to_id.is_not(None))
    ).first()
    assert escalated is not None
    expected = {"no clock", "breached", "paused", "near", "young", sla.PROMISED, sla.CALLBACK}
    assert expected <= kinds, kinds
