"""customer merge: a merged-away customer's tombstone (merged into whom, when) and a version

A supervisor merges a duplicate customer into another (seat.merge): the duplicate's rows move
to the survivor and the duplicate stays as a tombstone naming the survivor, hidden from
search and lookup. The merge, like an edit, claims the customer's next version with a
conditional UPDATE (seat.optimistic).

Columns are added with ADD COLUMN, never a batch rebuild of `customer`: a rebuild on SQLite
would drop 0015's search triggers.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 14:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN only (no batch rebuild of `customer`: the search triggers stay attached).
    op.add_column('customer', sa.Column('merged_into_id', sa.Integer(), nullable=True))
    op.add_column(
        'customer', sa.Column('merged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
    )
    op.add_column(
        'customer', sa.Column('version', sa.Integer(), nullable=False, server_default='1')
    )


def downgrade() -> None:
    # DROP COLUMN (SQLite 3.35 and later): no rebuild, the search triggers stay.
    op.drop_column('customer', 'version')
    op.drop_column('customer', 'merged_at')
    op.drop_column('customer', 'merged_into_id')
