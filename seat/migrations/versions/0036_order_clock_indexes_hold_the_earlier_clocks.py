"""the reply and follow-up clock indexes also hold the clocks before them

The wallboard counts the orders late on any clock. Counted as the orders late on site, plus
those late on the reply and not on site, plus those late on the follow-up and on neither,
each term is one range of one clock's index; with the earlier clocks' columns in
`ix_work_order_reply_due` and `ix_work_order_follow_up_due` each range is read from the
index alone (no UNION of tens of thousands of ids in a temporary tree). The indexes keep
their names and leading columns, so every other use is served as before.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 00:15:00.000000
"""

from alembic import op

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_work_order_reply_due': (
        ['replied_at', 'reply_due_at', 'assignee_id'],
        ['on_site_at', 'on_site_due_at'],
    ),
    'ix_work_order_follow_up_due': (
        ['follow_up_due_at', 'assignee_id'],
        ['on_site_at', 'on_site_due_at', 'replied_at', 'reply_due_at'],
    ),
}


def upgrade() -> None:
    for name, (old, added) in INDEXES.items():
        op.drop_index(name, table_name='work_order')
        op.create_index(name, 'work_order', old + added, unique=False)
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ANALYZE "{name}"')


def downgrade() -> None:
    for name, (old, __) in INDEXES.items():
        op.drop_index(name, table_name='work_order')
        op.create_index(name, 'work_order', old, unique=False)
