"""The history tables refuse UPDATE and DELETE in the database itself (migration 0006),
on SQLite and PostgreSQL alike; appending still works, and so do the tables around them."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from seat import customers, workorders
from seat.desk import Desk
from tests.conftest import NOW

HISTORY_TABLES = (
    "complaint_event",
    "work_order_event",
    "callback_event",
    "customer_change",
    "access_log",
)


@pytest.fixture
def histories(engine, clock, settings, world) -> None:
    """One row in every history table, made the way the seat makes them."""
    desk = Desk(engine=engine, clock=clock, settings=settings)
    state = desk.new_call(agent_id=world["li"], customer_id=world["min"])
    desk.create_callback(state, due_text="+1d", reason="Check")
    desk.create_work_order(
        state, kind=workorders.Z1, short_text="Fridge", assignee_id=world["li"],
        urgent=False, due_text="+1d", service_type="repair",
    )  # fmt: skip
    desk.create_complaint(state, what_happened="Late", customer_wants="Sorry")
    desk.run(
        lambda s: customers.update_customer(
            session=s, customer_id=world["min"], agent_id=world["li"], now=NOW, tier="vip"
        )
    )
    desk.run(
        lambda s: customers.log_access(
            session=s, agent_id=world["li"], customer_id=world["fang"], now=NOW,
            what="phone", reason="Customer asked to confirm the number",
        )
    )  # fmt: skip


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.mark.parametrize("table", HISTORY_TABLES)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET at = at",
        "DELETE FROM {table}",
        "DELETE FROM {table} WHERE id = (SELECT min(id) FROM {table})",
    ],
)
def test_history_rows_cannot_be_changed_or_deleted(engine, histories, table, statement):
    before = _count(engine, table)
    assert before >= 1
    with engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement.format(table=table)))
        conn.rollback()
    assert _count(engine, table) == before


def test_orm_changes_to_a_history_row_are_refused(engine, histories):
    from seat.models import CustomerChange

    with Session(engine) as s:
        row = s.exec(CustomerChange.__table__.select().limit(1)).first()  # type: ignore[call-overload]
        change = s.get(CustomerChange, row.id)
        change.new = "ordinary"
        s.add(change)
        with pytest.raises(DBAPIError, match="append-only"):
            s.commit()


def test_appending_and_the_tables_around_the_histories_still_work(
    engine, session, histories, world
):
    """Customers, callbacks and complaints themselves stay editable; histories grow."""
    before = _count(engine, "customer_change")
    customers.update_customer(
        session=session, customer_id=world["min"], agent_id=world["wang"], now=NOW,
        address="上海市徐汇区漕溪北路 1 号", tier="gold",
    )  # fmt: skip
    session.commit()
    assert _count(engine, "customer_change") == before + 2
    with engine.begin() as conn:
        conn.execute(text("UPDATE callback SET attempts = attempts + 1"))
        conn.execute(text("UPDATE complaint SET version = version"))


def test_triggers_exist_after_migrating(engine, backend):
    with engine.connect() as conn:
        if backend == "sqlite":
            names = set(
                conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
            )
        else:
            names = set(
                conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars()
            )
    for table in HISTORY_TABLES:
        assert any(n.startswith(table) for n in names), table
