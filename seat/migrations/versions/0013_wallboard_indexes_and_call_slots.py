"""the wallboard's indexes: urgent and late work orders, open complaints and their pauses

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06 11:00:00.000000
"""

from alembic import op

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None

INDEXES = (
    ('work_order', 'ix_work_order_urgent_due', ['urgent', 'due_at', 'status', 'assignee_id']),
    ('complaint', 'ix_complaint_status', ['status', 'version', 'customer_id']),
    ('complaint_event', 'ix_complaint_event_action', ['action', 'complaint_id', 'at']),
)  # fmt: skip


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).first():
        # Statistics for the new indexes too, or SQLite may keep to the old ones (0011).
        for __, name, __ in INDEXES:
            op.execute(f'ANALYZE {name}')


def downgrade() -> None:
    for table, name, __ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
