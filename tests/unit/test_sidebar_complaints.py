"""The sidebar's near-deadline complaints answer exactly as reading every complaint did.

`sidebar_complaints` reads as few complaints as it can and computes only the clocks that
can be the most urgent one; `reference` below is the implementation it replaced (every open
complaint, every clock, `sla.most_urgent`). Randomised worlds of complaints (every status,
levels, business-hour categories, pauses, waiting on the customer, callbacks after the
solution) are compared under several policies, instants and page sizes.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from seat import complaints, sla
from seat.complaints import OPEN_STATUSES, ComplaintDeadlineItem
from seat.models import Complaint, Customer, level_for
from tests.conftest import NOW
from tests.unit.random_complaints import POLICIES, SHIPPED, add_random_complaints


def reference(*, session, agent_id, now, policy, limit=50) -> list[ComplaintDeadlineItem]:
    """sidebar_complaints as it was before it learned to stop early."""
    rows = session.execute(
        select(*complaints._CASE_COLUMNS, Complaint.customer_id, Customer.name, Customer.tier)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(Complaint.owner_id == agent_id, Complaint.status.in_(OPEN_STATUSES))
    ).all()
    paused = complaints.pauses_for(session=session, complaint_ids=[r.id for r in rows])
    items = []
    for r in rows:
        running = sla.most_urgent(
            complaints.clocks(r, level=level_for(r.tier), policy=policy, now=now,
                              pauses=paused.get(r.id, ()))
        )  # fmt: skip
        if running is None or running.state == "ok":
            continue
        items.append(
            ComplaintDeadlineItem(
                id=r.id, customer_id=r.customer_id, customer_name=r.name, status=r.status,
                clock=running.name, deadline=running.deadline, left=running.left,
                fraction=running.fraction, state=running.state, paused=running.paused,
            )
        )  # fmt: skip
    items.sort(key=lambda i: (i.state != "red", i.deadline, i.id))
    return items[:limit]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("policy", list(POLICIES))
def test_same_items_as_reading_every_complaint(session, world, seed, policy):
    rng = random.Random(seed)
    add_random_complaints(session, world, rng)
    for now in (NOW, NOW + timedelta(hours=rng.randrange(1, 200)), NOW - timedelta(days=2)):
        for limit in (1, 3, 7, 50, 0):
            kwargs = dict(agent_id=world["li"], now=now, policy=POLICIES[policy], limit=limit)
            expected = reference(session=session, **kwargs)
            assert complaints.sidebar_complaints(session=session, **kwargs) == expected
            # With the true totals asked too (the sidebar's counts: never cut at the page).
            totals: dict[str, int] = {}
            page = complaints.sidebar_complaints(session=session, totals=totals, **kwargs)
            assert page == expected
            every = reference(session=session, **{**kwargs, "limit": 10**6})
            assert totals == {
                "breached": sum(i.breached for i in every),
                "near": sum(not i.breached for i in every),
            }


def test_the_early_stop_leaves_complaints_unread(session, world, monkeypatch):
    """Many old breached complaints: the page fills from the oldest, the rest are not read."""
    for day in range(60):
        created = NOW - timedelta(days=60 - day)
        session.add(Complaint(customer_id=world["tom"], owner_id=world["li"], what_happened="x",
                              customer_wants="y", created_at=created))  # fmt: skip
    session.commit()
    computed = []
    real = complaints._sidebar_clock
    monkeypatch.setattr(complaints, "_sidebar_clock",
                        lambda **kw: computed.append(kw) or real(**kw))  # fmt: skip
    kwargs = dict(agent_id=world["li"], now=NOW, policy=SHIPPED, limit=5)
    got = complaints.sidebar_complaints(session=session, **kwargs)
    assert got == reference(session=session, **kwargs)
    assert [i.state for i in got] == ["red"] * 5
    assert len(computed) < 30


def test_a_later_complaint_with_a_stricter_clock_is_not_missed(session, world):
    """Read oldest first, a newer VIP complaint can still be due first: reading may only stop
    once even the strictest budget cannot bring a later complaint ahead."""
    for who, hours_ago in (("tom", 20), ("tom", 19), ("fang", 3.5)):
        created = NOW - timedelta(hours=hours_ago)
        session.add(Complaint(customer_id=world[who], owner_id=world["li"], what_happened="x",
                              customer_wants="y", created_at=created))  # fmt: skip
    session.commit()
    for limit in (1, 2, 3):
        kwargs = dict(agent_id=world["li"], now=NOW, policy=SHIPPED, limit=limit)
        got = complaints.sidebar_complaints(session=session, **kwargs)
        assert got == reference(session=session, **kwargs)
        assert session.get(Customer, got[0].customer_id).tier == "vip"
