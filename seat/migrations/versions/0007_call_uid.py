"""a call's own id, made by the seat, unique

A call saved twice (its draft resumed after the save) must not become two rows: the seat
makes the id when the call starts, keeps it in the draft, and the table refuses a second row
with it. Calls from before get a generated value ('legacy-<id>': unique, never made by a seat).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 01:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uid', sa.String(length=40), nullable=True))
    op.execute("UPDATE call SET uid = 'legacy-' || CAST(id AS VARCHAR(20)) WHERE uid IS NULL")
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.alter_column('uid', existing_type=sa.String(length=40), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_call_uid'), ['uid'])


def downgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_call_uid'), type_='unique')
        batch_op.drop_column('uid')
