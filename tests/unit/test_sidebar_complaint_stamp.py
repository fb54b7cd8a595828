"""The sidebar's complaint rows kept between reads (seat.complaints.sidebar_complaints'
`kept`) under the stamp per owner that triggers raise (migration 0065,
`complaint_owner_stamp`): after every kind of write to what the sidebar reads (a complaint
through the ORM and through plain UPDATE, INSERT and DELETE statements, a reassignment, its
pauses and resumes written, its customer's name and tier, a customer merge) the stamp of each owner
touched moved, and the page and counts read with the rows kept equal those read afresh; a
write elsewhere leaves the stamp, and the rows are not read again. Both databases."""

from __future__ import annotations

import random
from datetime import timedelta

from alembic import command
from sqlalchemy import delete, insert, select, update
from sqlmodel import Session

from seat import agents, complaints, merge
from seat.db import _alembic_config, upgrade
from seat.models import Complaint, ComplaintEvent, ComplaintOwnerStamp, Customer, WorkOrder
from tests.conftest import NOW
from tests.unit.random_complaints import POLICIES, SHIPPED, add_random_complaints


def _stamps(session) -> dict[int, int]:
    return dict(session.execute(select(ComplaintOwnerStamp.owner_id, ComplaintOwnerStamp.n)).all())


def _same_as_read_afresh(session, agent_id, kept, now=NOW, policy=SHIPPED) -> None:
    for at in (now, now + timedelta(hours=30), now - timedelta(days=3)):
        args = dict(agent_id=agent_id, now=at, policy=policy, limit=50)
        kept_totals: dict[str, int] = {}
        fresh_totals: dict[str, int] = {}
        got = complaints.sidebar_complaints(session=session, totals=kept_totals, kept=kept,
                                            **args)  # fmt: skip
        fresh = complaints.sidebar_complaints(session=session, totals=fresh_totals, **args)
        assert (got, kept_totals) == (fresh, fresh_totals)


def test_the_stamp_moves_with_every_write_the_sidebar_reads(session, world):
    rng = random.Random(7)
    add_random_complaints(session, world, rng)
    li, wang = world["li"], world["wang"]
    kept: dict = {}
    for who in (li, wang):
        _same_as_read_afresh(session, who, kept)
    assert set(kept) == {li, wang}
    mine = session.scalars(
        select(Complaint.id).where(Complaint.owner_id == li, Complaint.status == "intake")
    ).all()
    assert len(mine) >= 4

    def write(change, *owners):
        before = _stamps(session)
        change()
        session.commit()
        after = _stamps(session)
        for owner in owners:
            assert after.get(owner, 0) > before.get(owner, 0), change
        for who in (li, wang):
            if who not in owners:
                assert after.get(who) == before.get(who), change
            _same_as_read_afresh(session, who, kept)
            for policy in POLICIES.values():
                _same_as_read_afresh(session, who, kept, policy=policy)

    first = session.get(Complaint, mine[0])

    def reply():
        first.first_reply_at = NOW - timedelta(hours=1)

    write(reply, li)
    write(lambda: session.execute(update(Complaint).where(Complaint.id == mine[1])
                                  .values(created_at=NOW - timedelta(days=9))), li)  # fmt: skip
    write(lambda: session.execute(update(Complaint).where(Complaint.id == mine[2])
                                  .values(status="closed", closed_at=NOW)), li)  # fmt: skip
    write(lambda: session.execute(update(Complaint).where(Complaint.id == mine[3])
                                  .values(owner_id=wang)), li, wang)  # fmt: skip
    write(lambda: session.add(Complaint(customer_id=world["tom"], owner_id=li, what_happened="x",
                                        customer_wants="y",
                                        created_at=NOW - timedelta(days=4))), li)  # fmt: skip
    write(lambda: session.execute(insert(Complaint).values(
        customer_id=world["fang"], owner_id=wang, what_happened="x", customer_wants="y",
        status="intake", channel="phone", version=1, created_at=NOW - timedelta(days=2),
    )), wang)  # fmt: skip
    # Pauses and resumes: written, and a resume deleted (the pause runs on).
    at = first.created_at

    def pause():
        session.add(ComplaintEvent(complaint_id=first.id, agent_id=li, action="pause",
                                   at=at + timedelta(minutes=10), to_status=first.status))
        session.add(ComplaintEvent(complaint_id=first.id, agent_id=li, action="resume",
                                   at=at + timedelta(days=3), to_status=first.status))  # fmt: skip

    write(pause, li)
    write(lambda: session.add(ComplaintEvent(complaint_id=first.id, agent_id=li, action="pause",
                                             at=at + timedelta(days=4), to_status=first.status)),
          li)  # fmt: skip
    # The customer's tier and name: the owners of their complaints.
    owners = set(session.scalars(select(Complaint.owner_id).where(
        Complaint.customer_id == world["tom"])))  # fmt: skip
    tom = session.get(Customer, world["tom"])

    def vip():
        tom.tier = "vip"

    write(vip, *owners)
    write(lambda: session.execute(update(Customer).where(Customer.id == world["tom"])
                                  .values(name="Tom Baker Jr")), *owners)  # fmt: skip
    # A customer merge moves the other's complaints to the survivor (its tier, its name).
    boss = agents.ensure_agent(session=session, name="zhao.lei", role="supervisor")
    session.commit()
    moved = set(session.scalars(select(Complaint.owner_id).where(
        Complaint.customer_id == world["min"])))  # fmt: skip
    write(lambda: merge.merge(session, survivor_id=world["fang"], other_id=world["min"],
                              agent_id=boss.id, now=NOW), *moved)  # fmt: skip
    # A complaint deleted (one with no events: those are append-only).
    gone = session.scalars(select(Complaint.id).where(Complaint.owner_id == wang)
                           .order_by(Complaint.id.desc())).first()  # fmt: skip
    write(lambda: session.execute(delete(Complaint).where(Complaint.id == gone)), wang)
    # A write elsewhere: no stamp moves.
    write(lambda: session.execute(update(WorkOrder).values(short_text="changed")))
    # ... and the rows kept are read no more.
    read = []
    rows_statement = complaints._sidebar_statements()[0]
    real = rows_statement.rows
    try:
        rows_statement.rows = lambda *a: read.append(1) or real(*a)  # type: ignore[method-assign]
        complaints.sidebar_complaints(session=session, agent_id=li, now=NOW, policy=SHIPPED,
                                      totals={}, kept=kept)  # fmt: skip
        assert read == []
        complaints.sidebar_complaints(session=session, agent_id=li, now=NOW, policy=SHIPPED,
                                      totals={})  # fmt: skip
        assert read == [1]
    finally:
        del rows_statement.rows


def test_migration_stamps_the_owners_on_file(engine, session, world):
    """A desk from before 0065 (both backends): the upgrade gives every owner of a complaint
    a stamp, and the triggers raise it from there."""
    add_random_complaints(session, world, random.Random(3))
    with Session(engine) as s:
        owners = set(s.scalars(select(Complaint.owner_id)))
    command.downgrade(_alembic_config(engine), "0063")
    upgrade(engine)
    with Session(engine) as s:
        assert set(_stamps(s)) == owners
        before = _stamps(s)
        s.execute(update(Complaint).where(Complaint.owner_id == world["li"])
                  .values(category="service_attitude"))  # fmt: skip
        s.commit()
        assert _stamps(s)[world["li"]] > before[world["li"]]
