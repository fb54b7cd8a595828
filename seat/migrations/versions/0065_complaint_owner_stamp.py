"""a change stamp per complaint owner, for the sidebar's complaints

`complaint_owner_stamp`: one number per agent that owns complaints, raised by triggers in
the transaction of every change to what the sidebar reads of that agent's complaints: a
complaint inserted, changed (any column) or deleted (its owner before and after), a pause
or resume event of one of their complaints written or deleted, and a change of the name or
tier of a customer of one of their complaints. The sidebar keeps the agent's complaint rows
and pauses between reads and reads them again only when the number moved
(seat.complaints.sidebar_complaints). Kept by triggers on `complaint`, `complaint_event`
and `customer`, so every writer keeps it: the seats, imports, merges, the tools, another
seat on PostgreSQL. The number only grows; a missing row is an agent whose complaints no
change has touched since this migration, whose rows made here from the rows on file.

Revision ID: 0065
Revises: 0055
Create Date: 2026-12-07 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0065'
down_revision = '0063'
branch_labels = None
depends_on = None

TABLE = 'complaint_owner_stamp'
PAUSES = "('pause', 'resume')"
BUMP = f"ON CONFLICT (owner_id) DO UPDATE SET n = {TABLE}.n + 1"


def _raise(owner: str, *, where: str = '') -> str:
    """The statement raising the stamp of `owner` (an expression over `source`), or of
    every owner a SELECT gives."""
    return f"INSERT INTO {TABLE} (owner_id, n) SELECT {owner}, 1 {where} {BUMP};"


def _of_complaint(complaint_id: str) -> str:
    return _raise(
        'owner_id',
        where=f"FROM complaint WHERE id = {complaint_id} AND owner_id IS NOT NULL",
    )


def _of_customer(customer_id: str) -> str:
    return (
        f"INSERT INTO {TABLE} (owner_id, n) SELECT DISTINCT owner_id, 1 FROM complaint "
        f"WHERE customer_id = {customer_id} AND owner_id IS NOT NULL {BUMP};"
    )


SQLITE_TRIGGERS = {
    'complaint_owner_stamp_on_insert': (
        "AFTER INSERT ON complaint",
        _raise('NEW.owner_id', where='WHERE NEW.owner_id IS NOT NULL'),
    ),
    'complaint_owner_stamp_on_update': (
        "AFTER UPDATE ON complaint",
        _raise('NEW.owner_id', where='WHERE NEW.owner_id IS NOT NULL')
        + _raise('OLD.owner_id',
                 where='WHERE OLD.owner_id IS NOT NULL AND OLD.owner_id IS NOT NEW.owner_id'),
    ),
    'complaint_owner_stamp_on_delete': (
        "AFTER DELETE ON complaint",
        _raise('OLD.owner_id', where='WHERE OLD.owner_id IS NOT NULL'),
    ),
    'complaint_owner_stamp_on_event_insert': (
        f"AFTER INSERT ON complaint_event WHEN NEW.action IN {PAUSES}",
        _of_complaint('NEW.complaint_id'),
    ),
    'complaint_owner_stamp_on_event_update': (
        f"AFTER UPDATE ON complaint_event WHEN NEW.action IN {PAUSES} OR OLD.action IN {PAUSES}",
        _of_complaint('NEW.complaint_id') + _of_complaint('OLD.complaint_id'),
    ),
    'complaint_owner_stamp_on_event_delete': (
        f"AFTER DELETE ON complaint_event WHEN OLD.action IN {PAUSES}",
        _of_complaint('OLD.complaint_id'),
    ),
    'complaint_owner_stamp_on_customer_update': (
        "AFTER UPDATE OF name, tier ON customer "
        "WHEN OLD.name IS NOT NEW.name OR OLD.tier IS NOT NEW.tier",
        _of_customer('NEW.id'),
    ),
}

PG_FUNCTIONS = {
    'seat_complaint_owner_stamp': f"""
        IF TG_OP <> 'DELETE' THEN
            {_raise('NEW.owner_id', where='WHERE NEW.owner_id IS NOT NULL')}
        END IF;
        IF TG_OP = 'DELETE' THEN
            {_raise('OLD.owner_id', where='WHERE OLD.owner_id IS NOT NULL')}
        ELSIF TG_OP = 'UPDATE' THEN
            {_raise('OLD.owner_id', where='WHERE OLD.owner_id IS NOT NULL '
                                          'AND OLD.owner_id IS DISTINCT FROM NEW.owner_id')}
        END IF;""",
    'seat_complaint_owner_stamp_of_event': f"""
        IF TG_OP <> 'DELETE' THEN
            IF NEW.action IN {PAUSES} THEN {_of_complaint('NEW.complaint_id')} END IF;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            IF OLD.action IN {PAUSES} THEN {_of_complaint('OLD.complaint_id')} END IF;
        END IF;""",
    'seat_complaint_owner_stamp_of_customer': f"""
        IF OLD.name IS DISTINCT FROM NEW.name OR OLD.tier IS DISTINCT FROM NEW.tier THEN
            {_of_customer('NEW.id')}
        END IF;""",
}
PG_TRIGGERS = {
    'complaint_owner_stamp_kept': (
        "AFTER INSERT OR UPDATE OR DELETE ON complaint", 'seat_complaint_owner_stamp'
    ),
    'complaint_owner_stamp_of_event': (
        "AFTER INSERT OR UPDATE OR DELETE ON complaint_event",
        'seat_complaint_owner_stamp_of_event',
    ),
    'complaint_owner_stamp_of_customer': (
        "AFTER UPDATE OF name, tier ON customer", 'seat_complaint_owner_stamp_of_customer'
    ),
}


def create_triggers(postgresql: bool) -> None:
    """The triggers keeping the stamps (a migration rebuilding `complaint`,
    `complaint_event` or `customer` on SQLite must call this again)."""
    if postgresql:
        for name, body in PG_FUNCTIONS.items():
            op.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ "
                f"BEGIN {body} RETURN NULL; END; $$ LANGUAGE plpgsql"
            )
        for name, (when, function) in PG_TRIGGERS.items():
            table = when.rsplit(' ', 1)[1]
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW EXECUTE FUNCTION {function}()")
    else:
        for name, (when, body) in SQLITE_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"CREATE TRIGGER {name} {when} BEGIN {body} END")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('owner_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('owner_id', name=op.f('pk_complaint_owner_stamp')),
    )
    create_triggers(op.get_bind().dialect.name == 'postgresql')
    op.execute(
        f"INSERT INTO {TABLE} (owner_id, n) SELECT owner_id, 1 FROM complaint "
        "WHERE owner_id IS NOT NULL GROUP BY owner_id"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, (when, __) in PG_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {when.rsplit(' ', 1)[1]}")
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table(TABLE)
