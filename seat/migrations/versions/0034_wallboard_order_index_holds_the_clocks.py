"""the wallboard's index of open work orders also holds the order clocks

The wallboard counts the assigned orders not yet past their expected end whose on-site,
reply or follow-up clock runs late (tens of thousands at a floor's size). With the clocks'
columns in `ix_work_order_urgent_due` that count reads only the index, not one table row per
open order. The wider index serves every use of the narrow one it replaces.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 20:30:00.000000
"""

from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

NAME = 'ix_work_order_urgent_due'
OLD = ['urgent', 'due_at', 'status', 'assignee_id']
NEW = OLD + ['on_site_at', 'on_site_due_at', 'replied_at', 'reply_due_at', 'follow_up_due_at']


def upgrade() -> None:
    op.drop_index(NAME, table_name='work_order')
    op.create_index(NAME, 'work_order', NEW, unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ANALYZE "{NAME}"')


def downgrade() -> None:
    op.drop_index(NAME, table_name='work_order')
    op.create_index(NAME, 'work_order', OLD, unique=False)
