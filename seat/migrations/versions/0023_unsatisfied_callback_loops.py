"""unsatisfied callbacks close the loop: the complaint a callback opened, and why none was

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-06 14:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'complaint_loop',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('callback_id', sa.Integer(), nullable=False),
        sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_by_callback_id', sa.Integer(), nullable=True),
        sa.Column('close_reason', sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_loop_complaint_id_complaint')),
        sa.ForeignKeyConstraint(['callback_id'], ['callback.id'], name=op.f('fk_complaint_loop_callback_id_callback')),
        sa.ForeignKeyConstraint(['opened_by_id'], ['agent.id'], name=op.f('fk_complaint_loop_opened_by_id_agent')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['agent.id'], name=op.f('fk_complaint_loop_closed_by_id_agent')),
        sa.ForeignKeyConstraint(['closed_by_callback_id'], ['callback.id'], name=op.f('fk_complaint_loop_closed_by_callback_id_callback')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_loop')),
        sa.UniqueConstraint('callback_id', name=op.f('uq_complaint_loop_callback_id')),
    )
    op.create_index('ix_complaint_loop_complaint_status', 'complaint_loop', ['complaint_id', 'status'], unique=False)
    # A plain ADD COLUMN (no batch rebuild): callback keeps its rows and indexes as they are.
    op.add_column('callback', sa.Column('no_complaint_reason', sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_column('no_complaint_reason')
    op.drop_index('ix_complaint_loop_complaint_status', table_name='complaint_loop')
    op.drop_table('complaint_loop')
