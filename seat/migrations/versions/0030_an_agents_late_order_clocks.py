"""an agent's late order clocks: one index range each (the sidebar's counts and page)

Revision ID: 0030
Revises: 0026
Create Date: 2026-12-06 17:40:00.000000
"""

from alembic import op

revision = '0030'
down_revision = '0026'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_work_order_agent_on_site', ['assignee_id', 'on_site_at', 'on_site_due_at']),
    ('ix_work_order_agent_reply', ['assignee_id', 'replied_at', 'reply_due_at']),
    ('ix_work_order_agent_follow_up', ['assignee_id', 'follow_up_due_at']),
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, 'work_order', columns, unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        for name, __ in INDEXES:
            op.execute(f'ANALYZE "{name}"')


def downgrade() -> None:
    for name, __ in INDEXES:
        op.drop_index(name, table_name='work_order')
