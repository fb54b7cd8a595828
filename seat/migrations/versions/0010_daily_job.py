"""daily jobs: the lease that lets one seat a day run the callback rules

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 08:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'daily_job',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('done_on', sa.Date(), nullable=True),
        sa.Column('holder', sa.String(length=120), nullable=True),
        sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_daily_job')),
    )


def downgrade() -> None:
    op.drop_table('daily_job')
