"""incremental callback rules: the day's watermark, and members' contacts by day

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 11:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

INDEXES = (
    ('customer', 'ix_customer_created_at', ['created_at']),
    ('purchase', 'ix_purchase_purchased_at', ['purchased_at']),
    ('customer_change', 'ix_customer_change_at', ['at', 'field', 'customer_id']),
    ('callback_event', 'ix_callback_event_at', ['at', 'action', 'callback_id']),
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table('daily_job') as batch:
        batch.add_column(
            sa.Column('watermark', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch.add_column(sa.Column('rules', sa.String(length=64), nullable=True))
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).first():
        for __, name, __ in INDEXES:  # the planner's statistics for the new indexes (0011)
            op.execute(f'ANALYZE {name}')


def downgrade() -> None:
    for table, name, __ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('daily_job') as batch:
        batch.drop_column('rules')
        batch.drop_column('watermark')
