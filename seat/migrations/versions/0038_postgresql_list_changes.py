"""which lists a PostgreSQL transaction wrote to, for the wallboard's refresh

`list_change`: one row per transaction (its id, `pg_current_xact_id()`) and list it wrote to
(complaints, callbacks, orders, customers), written by statement triggers on the tables the
wallboard's lists are read from. A refresh asks which lists a transaction its last read could
not see has written to since (seat.db.ListChanges) and reads only those again: on
PostgreSQL a row's id does not follow commit order, so "the newest id" (SQLite's marks) cannot
tell. On SQLite the table stays empty (its marks are the newest ids). Rows older than a day are
deleted after the day's callback rules.

Revision ID: 0038
Revises: 0036
Create Date: 2026-12-07 00:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0038'
down_revision = '0036'
branch_labels = None
depends_on = None

PG_FUNCTION = 'seat_list_changed'
WATCHED = (
    ('complaint', 'complaints'), ('complaint_event', 'complaints'),
    ('callback', 'callbacks'), ('callback_event', 'callbacks'),
    ('work_order', 'orders'), ('work_order_event', 'orders'),
    ('customer_change', 'customers'),
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        'list_change',
        sa.Column('xid', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('list', sa.String(length=16), nullable=False),
        sa.Column('at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('xid', 'list', name=op.f('pk_list_change')),
    )
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$
        BEGIN
            INSERT INTO list_change (xid, list, at)
            VALUES (pg_current_xact_id()::text::bigint, TG_ARGV[0],
                    extract(epoch FROM now())::bigint)
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    for table, name in WATCHED:
        op.execute(
            f"CREATE TRIGGER {table}_list_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}('{name}')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table, __ in WATCHED:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_list_changed ON {table}')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_FUNCTION}()')
    op.drop_table('list_change')
