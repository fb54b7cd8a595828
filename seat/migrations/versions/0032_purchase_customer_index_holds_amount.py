"""the index of a customer's purchases by time also holds the amount

The member report reads, per customer, the first purchase ever and the spend in its range
(and the customer's gender and birthday) in one statement grouped in customer order: with
`amount` in `ix_purchase_customer_at` it reads the index alone, without a sort. The index
keeps its name and leading columns, so every other use is served as before.

Revision ID: 0032
Revises: 0034
Create Date: 2026-12-06 20:20:00.000000
"""

from alembic import op

revision = '0032'
down_revision = '0034'
branch_labels = None
depends_on = None

NAME = 'ix_purchase_customer_at'


def upgrade() -> None:
    op.drop_index(NAME, table_name='purchase')
    op.create_index(NAME, 'purchase', ['customer_id', 'purchased_at', 'amount'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ANALYZE "{NAME}"')


def downgrade() -> None:
    op.drop_index(NAME, table_name='purchase')
    op.create_index(NAME, 'purchase', ['customer_id', 'purchased_at'], unique=False)
