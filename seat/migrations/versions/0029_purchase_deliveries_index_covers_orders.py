"""the index of purchases by delivery time also holds the customer and the order

The callbacks view's and report's new-buyer coverage reads the orders delivered in a
period, per customer: with `customer_id` and `order_no` in the index it reads only the
index (not one table row per purchase, tens of thousands a month). It replaces the index
of `delivered_at` alone, whose every use it serves.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 17:30:00.000000
"""

from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

NEW = 'ix_purchase_delivered_customer_order'
OLD = 'ix_purchase_delivered_at'


def upgrade() -> None:
    op.create_index(NEW, 'purchase', ['delivered_at', 'customer_id', 'order_no'], unique=False)
    op.drop_index(OLD, table_name='purchase')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ANALYZE "{NEW}"')


def downgrade() -> None:
    op.create_index(OLD, 'purchase', ['delivered_at'], unique=False)
    op.drop_index(NEW, table_name='purchase')
