"""The history tables refuse UPDATE and DELETE in the database itself (migration 0006),
on SQLite and PostgreSQL alike; appending still works, and so do the tables around them."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from seat import customers, workorders
from seat.services import Desk
from tests.conftest import NOW

HISTORY_TABLES = (
    "complaint_event",
    "work_order_event",
    "callback_event",
    "customer_change",
    "access_log",
    "sign_in_event",
)


def test_the_sealed_tables_are_named_in_the_order_of_their_locks():
    """audit.HISTORY_TABLES names the history tables (make_engine seals before the tables
    are mapped): the same tables as the mapped history classes, and as SEALED_COLUMNS."""
    from seat import audit

    assert set(audit.HISTORY_TABLES) == set(audit.history_models()) == set(audit.SEALED_COLUMNS)
    assert audit.HISTORY_TABLES == HISTORY_TABLES  # the order gives each table's lock key


@pytest.fixture
def histories(engine, clock, settings, world) -> None:
    """One row in every history table, made the way the seat makes them."""
    desk = Desk(engine=engine, clock=clock, settings=settings)
    state = desk.new_call(agent_id=world["li"], customer_id=world["min"])
    desk.create_callback(state, due_text="+1d", reason="Check")
    desk.create_work_order(
        state,
        workorders.WorkOrderDraft(
            kind=workorders.Z1, short_text="Fridge", assignee_id=world["li"],
            due_at=desk.parse_when("+1d"), service_type="repair",
        ),
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
    from seat import identity

    desk.run(
        lambda s: identity.record(
            session=s, login="li.na", agent_id=world["li"], now=NOW, outcome="ok", via="seat"
        )
    )


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


# -- the hash chain (seat.audit, migration 0008) -------------------------------------------


def _verify(engine) -> dict[str, object]:
    from seat import audit

    with engine.connect() as conn:
        return {check.table: check.broken for check in audit.verify(conn)}


def _without_triggers(engine, backend, statement: str) -> None:
    """What someone who owns the file or the tables can do: switch the triggers off first."""
    with engine.begin() as conn:
        if backend == "sqlite":
            table = statement.split()[2] if statement.startswith("DELETE") else statement.split()[1]
            for verb in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))
            conn.execute(text(statement))
        else:
            conn.execute(text("SET session_replication_role = replica"))
            conn.execute(text(statement))
            conn.execute(text("SET session_replication_role = origin"))


def test_every_history_row_is_sealed_and_the_chain_verifies(engine, histories):
    assert _verify(engine) == {t: None for t in HISTORY_TABLES}
    with engine.connect() as conn:
        for table in HISTORY_TABLES:
            unsealed = conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE hash IS NULL OR prev_hash IS NULL")
            ).scalar_one()
            assert unsealed == 0, table


@pytest.mark.parametrize("table", HISTORY_TABLES)
def test_a_rewritten_row_is_the_first_broken_link(engine, backend, histories, table):
    from seat import audit

    with engine.connect() as conn:
        first = conn.execute(text(f"SELECT min(id) FROM {table}")).scalar_one()
    column = {"customer_change": "new", "access_log": "reason", "sign_in_event": "via"}.get(
        table, "comment"
    )
    _without_triggers(engine, backend, f"UPDATE {table} SET {column} = 'rewritten' "
                      f"WHERE id = {first}")  # fmt: skip
    broken = _verify(engine)[table]
    assert broken is not None
    assert (broken.row_id, broken.reason) == (first, audit.CONTENT)


def test_a_removed_row_breaks_the_link_of_the_row_after_it(engine, backend, world, clock,
                                                          settings):  # fmt: skip
    from seat import audit

    desk = Desk(engine=engine, clock=clock, settings=settings)
    for reason in ("First look", "Second look", "Third look"):
        desk.run(
            lambda s, why=reason: customers.log_access(
                session=s, agent_id=world["li"], customer_id=world["fang"], now=NOW,
                what="phone", reason=why,
            )
        )  # fmt: skip
    with engine.connect() as conn:
        ids = list(conn.execute(text("SELECT id FROM access_log ORDER BY id")).scalars())
    _without_triggers(engine, backend, f"DELETE FROM access_log WHERE id = {ids[1]}")
    broken = _verify(engine)["access_log"]
    assert (broken.row_id, broken.reason) == (ids[2], audit.CHAIN)


def test_insert_or_replace_cannot_slip_past_the_triggers_on_sqlite(engine, backend, histories):
    if backend != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, agent_id, customer_id FROM access_log")).first()
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(
                text(
                    "INSERT OR REPLACE INTO access_log (id, agent_id, customer_id, at, what, "
                    "reason) VALUES (:i, :a, :c, '2026-01-01 00:00:00', 'phone', 'forged')"
                ),
                {"i": row.id, "a": row.agent_id, "c": row.customer_id},
            )
        conn.rollback()
    assert _verify(engine)["access_log"] is None


def test_a_replaced_row_is_caught_by_verify_even_without_the_seats_pragmas(
    db_url, backend, engine, histories
):
    """A plain sqlite3 shell has no recursive triggers: REPLACE gets through, verify sees it."""
    if backend != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    import sqlite3

    from seat import audit

    raw = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    row = raw.execute("SELECT id, agent_id, customer_id FROM access_log").fetchone()
    raw.execute(
        "INSERT OR REPLACE INTO access_log (id, agent_id, customer_id, at, what, reason) "
        "VALUES (?, ?, ?, '2026-01-01 00:00:00.000000', 'phone', 'forged')",
        row,
    )
    raw.commit()
    raw.close()
    broken = _verify(engine)["access_log"]
    assert broken is not None and broken.row_id == row[0]
    assert broken.reason in (audit.UNSEALED, audit.CONTENT)


def test_the_demo_desk_seals_its_bulk_history(engine):
    from seat.tools import demo

    demo.seed(engine, customers=60, calls=200, seed=3, now=NOW)
    assert all(b is None for b in _verify(engine).values())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM complaint_event")).scalar_one() > 0


def test_rows_from_before_the_chain_are_sealed_by_the_migration(db_url, backend):
    from alembic import command

    from seat import audit
    from seat.db import _alembic_config, current_revision, make_engine, upgrade

    old = make_engine(db_url, migrate=False)
    if current_revision(old) is None:
        upgrade(old, "0007")
    else:  # PostgreSQL test databases start at the head: step back to before the chain
        command.downgrade(_alembic_config(old), "0007")
    with old.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agent (id, name, display_name, role, active) "
                "VALUES (901, 'old.hand', 'Old Hand', 'agent', true)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customer (id, name, tier, language, created_at, updated_at) "
                "VALUES (901, 'Old Customer', 'ordinary', 'zh_CN', :t, :t)"
            ),
            {"t": NOW},
        )
        for why in ("before the chain", "also before"):
            conn.execute(
                text(
                    "INSERT INTO access_log (agent_id, customer_id, at, what, reason) "
                    "VALUES (901, 901, :t, 'phone', :why)"
                ),
                {"t": NOW, "why": why},
            )
    old.dispose()
    new = make_engine(db_url)
    with new.connect() as conn:
        checks = {c.table: c for c in audit.verify(conn)}
    new.dispose()
    assert checks["access_log"].rows == 2
    assert all(c.broken is None for c in checks.values())


def test_the_seats_postgresql_role_cannot_switch_the_histories_triggers_off(
    db_url, backend, engine, histories, settings, world, clock
):
    """Migrations run as the tables' owner; the seats connect as a role that only got
    `seat db grant`: it works the desk, but cannot disable, drop or bypass the triggers."""
    if backend != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    import uuid
    from dataclasses import replace

    from sqlalchemy.engine import make_url

    from seat import audit_cli
    from seat.db import make_engine

    role = f"seat_app_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    try:
        assert audit_cli.grant(replace(settings, database_url=db_url), role) == 0
        app_url = make_url(db_url).set(username=role).render_as_string(hide_password=False)
        app = make_engine(app_url)
        try:
            desk = Desk(engine=app, clock=clock, settings=replace(settings, database_url=app_url))
            state = desk.new_call(agent_id=world["li"], customer_id=world["min"])
            desk.create_complaint(state, what_happened="Noisy", customer_wants="Repair")
            for statement in (
                "ALTER TABLE access_log DISABLE TRIGGER ALL",
                "DROP TRIGGER access_log_append_only ON access_log",
                "SET session_replication_role = replica",
                "UPDATE access_log SET reason = 'rewritten'",
                "TRUNCATE access_log",
            ):
                with app.connect() as conn:
                    with pytest.raises(DBAPIError):
                        conn.execute(text(statement))
            assert all(b is None for b in _verify(app).values())
        finally:
            app.dispose()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


def test_bulk_seals_are_the_hashes_row_hash_gives():
    """audit.chain_rows writes each body from its values' JSON: the same hash as row_hash
    (the whole list given to the encoder) for every kind of value a sealed column holds:
    texts with quotes, backslashes, control and non-ASCII characters, None, ints, bools,
    floats, enums, dates, naive and aware times (shared and not)."""
    import enum
    from datetime import UTC, date, datetime, timedelta, timezone

    from seat import audit

    class Kind(enum.Enum):
        A = "scheduled"

    class Number(enum.IntEnum):
        ONE = 1

    class Conn:
        class dialect:  # noqa: N801
            name = "sqlite"

        def execute(self, *_a: object) -> object:
            class Found:
                def first(self) -> tuple[str]:
                    return ("f" * 64,)

            return Found()

    at = datetime(2026, 12, 5, 2, 0, 0, 123456, tzinfo=UTC)
    values = [
        "plain", 'a "quoted" \\ text', "tab\tnew\nline\x01\x7f", "客户 é ☎ \U0001f600", "",
        None, 0, -7, 2**70, True, False, 1.5, float("1e-7"), Kind.A, Number.ONE,
        date(2027, 1, 5), at, at.replace(tzinfo=None), at.astimezone(timezone(timedelta(hours=8))),
    ]  # fmt: skip
    for table, cols in audit.SEALED_COLUMNS.items():
        rows = [
            {c: values[(i + j * 3) % len(values)] for j, c in enumerate(cols)}
            for i in range(len(values) * 2)
        ]
        audit.chain_rows(Conn(), table, rows)  # type: ignore[arg-type]
        prev = "f" * 64
        for row in rows:
            assert row["prev_hash"] == prev
            assert row["hash"] == audit.row_hash(prev, table, row), (table, row)
            prev = row["hash"]
