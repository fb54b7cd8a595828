"""customer created_by and append-only histories

The history tables refuse UPDATE and DELETE in the database itself, so no code path, script
or hand-typed SQL can rewrite what happened. (On SQLite a table rebuilt by a later batch
migration loses its triggers: such a migration must create them again with `_create`.)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

HISTORY_TABLES = (
    'complaint_event',
    'work_order_event',
    'callback_event',
    'customer_change',
    'access_log',
)
PG_FUNCTION = 'seat_refuse_history_change'


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_customer_created_by_id_agent'), 'agent', ['created_by_id'], ['id']
        )
    _create(op.get_bind().dialect.name)


def _create(dialect: str) -> None:
    if dialect == 'postgresql':
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for table in HISTORY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
            )
        return
    for table in HISTORY_TABLES:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            )


def _drop(dialect: str) -> None:
    for table in HISTORY_TABLES:
        if dialect == 'postgresql':
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if dialect == 'postgresql':
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")


def downgrade() -> None:
    _drop(op.get_bind().dialect.name)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customer_created_by_id_agent'), type_='foreignkey')
        batch_op.drop_column('created_by_id')
