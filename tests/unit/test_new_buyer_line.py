"""`new_buyer_line` (migration 0067): the delivered purchase lines whose order has no
new-buyer callback, kept by triggers on purchase and callback on both databases, is always
the lines a plain recount finds: after inserts, updates and deletes of purchases and
callbacks through the ORM and plain SQL, re-tiering, merges, and the migration's backfill.
"""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import delete, select, text, update
from sqlmodel import Session

from seat import agents
from seat.db import _alembic_config, upgrade
from seat.merge import merge
from seat.models import Callback, Customer, NewBuyerLine, Purchase
from tests.conftest import NOW


def _key(cid: int, order_no: str) -> str:
    return f"new_buyer:{cid}:order:{order_no}"[:120]


def _kept(s: Session) -> set[tuple[object, ...]]:
    line = NewBuyerLine
    return {
        (pid, cid, order, str(at)[:26], tier)
        for pid, cid, order, at, tier in s.execute(
            select(line.purchase_id, line.customer_id, line.order_no, line.delivered_at,
                   line.customer_tier)
        ).all()
    }  # fmt: skip


def _recounted(s: Session) -> set[tuple[object, ...]]:
    """The delivered lines with no callback of their order's key, found in Python."""
    keys = set(s.execute(select(Callback.source_key)).scalars())
    return {
        (pid, cid, order, str(at)[:26], tier)
        for pid, cid, order, at, tier in s.execute(
            select(Purchase.id, Purchase.customer_id, Purchase.order_no, Purchase.delivered_at,
                   Purchase.customer_tier).where(Purchase.delivered_at.is_not(None))
        ).all()
        if _key(cid, order) not in keys
    }  # fmt: skip


def _check(s: Session) -> set[tuple[object, ...]]:
    s.flush()
    kept = _kept(s)
    assert kept == _recounted(s)
    return kept


def _customers(s: Session) -> list[int]:
    made = []
    for n, tier in enumerate(("gold", "vip", "ordinary", "platinum")):
        c = Customer(name=f"Buyer {n}", tier=tier, created_at=NOW, updated_at=NOW)
        s.add(c)
        s.flush()
        assert c.id is not None
        made.append(c.id)
    return made


def _purchases(s: Session, cids: list[int]) -> None:
    """Orders of one line and of several (delivered apart, one line not delivered), by the
    ORM and by plain SQL (SQLite leaves that one's tier NULL)."""
    for n, cid in enumerate(cids):
        for line in range(3):
            at = NOW - timedelta(days=10 + n, hours=line) if line < 2 or n % 2 else None
            s.add(Purchase(customer_id=cid, order_no=f"O-{n}", line_no=line, item="TV",
                           purchased_at=NOW - timedelta(days=20), delivered_at=at))  # fmt: skip
        s.execute(
            text("INSERT INTO purchase (customer_id, order_no, line_no, item, amount, quantity, "
                 "purchased_at, delivered_at) VALUES (:c, :o, 1, 'Fridge', 1, 1, :p, :d)"),
            {"c": cid, "o": f"S-{n}", "p": NOW - timedelta(days=30), "d": NOW - timedelta(days=5)},
        )  # fmt: skip
    s.flush()


def test_kept_lines_follow_every_write(session):
    s = session
    boss = agents.ensure_agent(session=s, name="zhao.lei", role="supervisor")
    cids = _customers(s)
    _purchases(s, cids)
    kept = _check(s)
    assert len(kept) == 4 * 2 + 2 * 1 + 4  # two of each ORM order, three of two, the SQL ones
    # A callback made for an order (the ORM, plain SQL): its lines go.
    s.add(Callback(customer_id=cids[0], owner_id=boss.id, kind="satisfaction", reason="r",
                   due_at=NOW, created_at=NOW, source_key=_key(cids[0], "O-0")))  # fmt: skip
    s.execute(
        text("INSERT INTO callback (customer_id, owner_id, kind, reason, due_at, status, "
             "attempts, created_at, version, source_key) VALUES (:c, :o, 'satisfaction', 'r', "
             ":d, 'open', 0, :d, 1, :k)"),
        {"c": cids[1], "o": boss.id, "d": NOW, "k": _key(cids[1], "S-1")},
    )  # fmt: skip
    # Other keys change nothing: another rule's, a customer's other order, no key.
    s.add(Callback(customer_id=cids[2], owner_id=boss.id, kind="birthday", reason="r",
                   due_at=NOW, created_at=NOW, source_key=f"birthday:{cids[2]}:2026"))  # fmt: skip
    s.add(Callback(customer_id=cids[2], owner_id=boss.id, kind="satisfaction", reason="r",
                   due_at=NOW, created_at=NOW, source_key=_key(cids[3], "O-2")))  # fmt: skip
    s.add(Callback(customer_id=cids[2], owner_id=boss.id, kind="manual", reason="r",
                   due_at=NOW, created_at=NOW))  # fmt: skip
    after = _check(s)
    assert len(after) == len(kept) - 3
    # A key rewritten to another order's, then away from every order's; deleted: back.
    first = select(Callback).where(Callback.source_key == _key(cids[0], "O-0"))
    one = s.execute(first).scalar_one()
    one.source_key = _key(cids[2], "O-2")
    _check(s)
    one.source_key = "manual:1"
    _check(s)
    s.execute(update(Callback).where(Callback.source_key == _key(cids[1], "S-1"))
              .values(source_key=_key(cids[3], "S-3")))  # fmt: skip
    _check(s)
    s.execute(delete(Callback).where(Callback.source_key == _key(cids[3], "S-3")))
    _check(s)
    # Purchases: delivered later, undelivered, moved to another order, tier written wrong,
    # deleted (ORM and plain SQL).
    s.execute(update(Purchase).where(Purchase.delivered_at.is_(None))
              .values(delivered_at=NOW - timedelta(days=1)))  # fmt: skip
    _check(s)
    s.execute(update(Purchase).where(Purchase.order_no == "O-3", Purchase.line_no == 0)
              .values(delivered_at=None))  # fmt: skip
    _check(s)
    s.add(Callback(customer_id=cids[1], owner_id=boss.id, kind="satisfaction", reason="r",
                   due_at=NOW, created_at=NOW, source_key=_key(cids[1], "O-7")))  # fmt: skip
    s.flush()
    s.execute(update(Purchase).where(Purchase.order_no == "O-1").values(order_no="O-7"))
    assert not any(order == "O-7" for __, __, order, *__ in _check(s))
    s.execute(update(Purchase).where(Purchase.order_no == "O-7").values(order_no="O-8"))
    assert any(order == "O-8" for __, __, order, *__ in _check(s))
    s.execute(update(Purchase).where(Purchase.order_no == "S-2").values(customer_tier="vip"))
    _check(s)
    gone = s.execute(select(Purchase).where(Purchase.order_no == "S-0")).scalar_one()
    s.delete(gone)
    s.execute(delete(Purchase).where(Purchase.order_no == "O-3"))
    _check(s)
    # Re-tiering (the customer's tier goes to its lines) and a bulk one.
    s.execute(update(Customer).where(Customer.id == cids[2]).values(tier="diamond"))
    s.execute(update(Customer).where(Customer.id.in_(cids[:2])).values(tier="ordinary"))
    _check(s)
    # A merge: the other customer's lines and callbacks move to the survivor, their keys
    # now name the survivor's orders (called no longer), the survivor's called one stays.
    s.add(Callback(customer_id=cids[3], owner_id=boss.id, kind="satisfaction", reason="r",
                   due_at=NOW, created_at=NOW, source_key=_key(cids[2], "S-2")))  # fmt: skip
    _check(s)
    merge(s, survivor_id=cids[2], other_id=cids[3], agent_id=boss.id, now=NOW)
    moved = _check(s)
    assert {cid for __, cid, *__ in moved} <= set(cids[:3])
    # Everything deleted: nothing kept.
    s.execute(delete(Callback))
    _check(s)
    s.execute(delete(Purchase))
    assert _check(s) == set()
    s.rollback()


def test_migration_keeps_the_lines_on_file(engine, session):
    """A desk from before 0067 (both backends): the upgrade keeps the uncalled delivered
    lines on file, as the triggers would have, and its triggers keep them from then on."""
    s = session
    boss = agents.ensure_agent(session=s, name="zhao.lei", role="supervisor")
    cids = _customers(s)
    _purchases(s, cids)
    s.add(Callback(customer_id=cids[0], owner_id=boss.id, kind="satisfaction", reason="r",
                   due_at=NOW, created_at=NOW, source_key=_key(cids[0], "O-0")))  # fmt: skip
    s.commit()
    before = _check(s)
    assert before
    s.close()
    command.downgrade(_alembic_config(engine), "0065")
    with engine.begin() as conn:  # written while no trigger keeps the table
        conn.execute(text("DELETE FROM callback WHERE source_key = :k"),
                     {"k": _key(cids[0], "O-0")})  # fmt: skip
        conn.execute(text("UPDATE purchase SET delivered_at = NULL WHERE order_no = 'S-1'"))
    upgrade(engine)
    with Session(engine) as fresh:
        kept = _check(fresh)
        assert kept != before and any(order == "O-0" for __, __, order, *__ in kept)
        fresh.execute(update(Purchase).where(Purchase.order_no == "S-1")
                      .values(delivered_at=NOW))  # fmt: skip
        _check(fresh)
        fresh.rollback()
