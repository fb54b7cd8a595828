"""hash-chained histories

Every history row gets `prev_hash` and `hash` (seat.audit): a rewritten, replaced or removed
row breaks the chain, and `seat audit verify` names the first broken link. Rows from before
are sealed here, in id order, with the append-only triggers off for the moment it takes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 02:10:00.000000
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


# The histories as they stood at this revision (later ones chain from their own migration).
TABLES = ('complaint_event', 'work_order_event', 'callback_event', 'customer_change', 'access_log')


def _triggers():
    """Migration 0006's trigger helpers (create/drop the append-only triggers)."""
    path = Path(__file__).with_name('0006_customer_created_by_and_append_only_histories.py')
    spec = importlib.util.spec_from_file_location('seat_migration_0006', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    from seat import audit

    dialect = op.get_bind().dialect.name
    m0006 = _triggers()
    m0006._drop(dialect)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    for table in TABLES:
        audit.seal_existing(conn, table)
    m0006._create(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    m0006 = _triggers()
    m0006._drop(dialect)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('hash')
            batch_op.drop_column('prev_hash')
    m0006._create(dialect)
