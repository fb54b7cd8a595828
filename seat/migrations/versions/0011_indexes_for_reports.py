"""indexes for the reports: counts per period read from indexes, not rows

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00.000000
"""

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

INDEXES = (
    ('callback', 'ix_callback_kind_owner_status_due',
     ['kind', 'owner_id', 'status', 'due_at', 'customer_id', 'done_at', 'score']),
    ('callback', 'ix_callback_due_status', ['due_at', 'status', 'customer_id']),
    ('customer', 'ix_customer_id_tier', ['id', 'tier']),
    ('customer', 'ix_customer_birthday_tier', ['birthday', 'tier']),
    ('work_order_event', 'ix_work_order_event_to_status_at', ['to_status', 'at', 'work_order_id']),
    ('work_order_event', 'ix_work_order_event_order_status_at',
     ['work_order_id', 'to_status', 'at']),
    ('purchase', 'ix_purchase_delivered_at', ['delivered_at']),
    ('complaint', 'ix_complaint_created', ['created_at']),
)  # fmt: skip


# Indexes that keep their name and lead, and carry more: (table, name, before, after).
# An agent's calls by start, with what the calls per day add up; orders by state and due
# time, with when they were finished.
WIDER = (
    ('call', 'ix_call_agent_started', ['agent_id', 'started_at'],
     ['agent_id', 'started_at', 'ended_at', 'satisfaction']),
    ('work_order', 'ix_work_order_status_due', ['status', 'due_at'],
     ['status', 'due_at', 'accepted_at', 'closed_at']),
)  # fmt: skip


def upgrade() -> None:
    for table, name, __, after in WIDER:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, after, unique=False)
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).first():
        # A database the planner has statistics for gets the new indexes' too: without them
        # SQLite guesses, and may keep to the old indexes. (PostgreSQL keeps its own.)
        for index in (*WIDER, *INDEXES):
            op.execute(f'ANALYZE {index[1]}')


def downgrade() -> None:
    for table, name, __ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    for table, name, before, __ in reversed(WIDER):
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before, unique=False)
