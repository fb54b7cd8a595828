"""members: a churned-member callback's reason; a customer's membership expiry date

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-06 14:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # op.add_column, no batch rebuild: an ALTER TABLE ADD COLUMN on both backends.
    op.add_column('callback', sa.Column('churn_reason', sa.String(length=16), nullable=True))
    # customer: never batch-rebuilt here (it would drop 0015's search triggers on SQLite).
    op.add_column('customer', sa.Column('member_until', sa.Date(), nullable=True))
    op.create_index('ix_customer_member_until', 'customer', ['member_until'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customer_member_until', table_name='customer')
    # SQLite 3.35+ drops a column in place (no rebuild: the search triggers stay).
    op.drop_column('customer', 'member_until')
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_column('churn_reason')
