"""an index of purchases by category, delivery and purchase day (maintenance reminders)

The maintenance rule (seat.care) reads the lines of an interval category that started in a
few ranges of days (each service number's), with their customer and order from the index
alone; without this index it grouped most of two million purchases every day (11-13 s on
the bench desk).

Revision ID: 0028
Revises: 0030
Create Date: 2026-12-06 18:00:00.000000
"""

from alembic import op

revision = '0028'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_purchase_category_delivered', 'purchase',
                    ['category', 'delivered_at', 'purchased_at', 'customer_id', 'order_no'],
                    unique=False)  # fmt: skip
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ANALYZE "ix_purchase_category_delivered"')


def downgrade() -> None:
    op.drop_index('ix_purchase_category_delivered', table_name='purchase')
