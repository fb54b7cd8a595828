"""members: a churned-member callback's reason (quality, function, service, price, other)

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


def downgrade() -> None:
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_column('churn_reason')
