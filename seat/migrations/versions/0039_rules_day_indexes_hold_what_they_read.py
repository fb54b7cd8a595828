"""the day's callback rules read two indexes alone

`ix_callback_customer_id` also holds (status, kind, due_at, owner_id): the rules' joint
days read the open member-care callbacks of the customers they schedule for (thousands a
day) from the index, without a row read each. `ix_customer_created_at` also holds the tier:
the routine calls of a day's run find the customers who joined on a few days of the month
by a range per month of the index alone, not by reading every customer. The indexes keep
their names and leading columns, so every other use is served as before.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07 03:10:00.000000
"""

from alembic import op

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_callback_customer_id': ('callback', ['customer_id'], ['status', 'kind', 'due_at', 'owner_id']),
    'ix_customer_created_at': ('customer', ['created_at'], ['tier']),
}


def upgrade() -> None:
    for name, (table, old, added) in INDEXES.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, old + added, unique=False)
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ANALYZE "{name}"')


def downgrade() -> None:
    for name, (table, old, __) in INDEXES.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, old, unique=False)
