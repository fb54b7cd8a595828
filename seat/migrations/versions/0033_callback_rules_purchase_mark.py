"""the callback rules keep the highest purchase id their last run saw

Purchases are imported with the times of the order system (often days back): the next
day's run of the maintenance rule reads the lines above this mark over its whole window,
and only the newly entered days for the rest.

Revision ID: 0033
Revises: 0029
Create Date: 2026-12-06 20:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0033'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('daily_job', sa.Column('purchase_mark', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('daily_job') as batch:
        batch.drop_column('purchase_mark')
