"""call checklists and stage times; quality spot-checks (samples and their marks)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 14:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'call_stage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('stage_id', sa.String(length=64), nullable=False),
        sa.Column('phase', sa.String(length=16), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_call_stage_call_id_call')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_stage')),
        sa.UniqueConstraint('call_id', 'stage_id', name=op.f('uq_call_stage_call_id')),
    )
    op.create_index(op.f('ix_call_stage_call_id'), 'call_stage', ['call_id'], unique=False)
    op.create_table(
        'call_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('stage_id', sa.String(length=64), nullable=False),
        sa.Column('item_no', sa.Integer(), nullable=False),
        sa.Column('item', sa.String(length=500), nullable=False),
        sa.Column('ticked', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_call_check_call_id_call')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_check')),
        sa.UniqueConstraint('call_id', 'stage_id', 'item_no', name=op.f('uq_call_check_call_id')),
    )
    op.create_index(op.f('ix_call_check_call_id'), 'call_check', ['call_id'], unique=False)
    op.create_table(
        'quality_sample',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period_from', sa.Date(), nullable=False),
        sa.Column('period_to', sa.Date(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('need', sa.String(length=32), nullable=False),
        sa.Column('drawn_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('drawn_by_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('scored_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('scored_by_id', sa.Integer(), nullable=True),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('comments', sa.String(length=5000), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_quality_sample_agent_id_agent')),
        sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_quality_sample_call_id_call')),
        sa.ForeignKeyConstraint(['drawn_by_id'], ['agent.id'], name=op.f('fk_quality_sample_drawn_by_id_agent')),
        sa.ForeignKeyConstraint(['scored_by_id'], ['agent.id'], name=op.f('fk_quality_sample_scored_by_id_agent')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_sample')),
        sa.UniqueConstraint('period_from', 'period_to', 'call_id', name=op.f('uq_quality_sample_period_from')),
    )
    op.create_index(op.f('ix_quality_sample_call_id'), 'quality_sample', ['call_id'], unique=False)
    op.create_index('ix_quality_sample_agent_period', 'quality_sample', ['agent_id', 'period_from', 'period_to'], unique=False)
    op.create_table(
        'quality_mark',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sample_id', sa.Integer(), nullable=False),
        sa.Column('item_key', sa.String(length=160), nullable=False),
        sa.Column('label', sa.String(length=500), nullable=False),
        sa.Column('mark', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['sample_id'], ['quality_sample.id'], name=op.f('fk_quality_mark_sample_id_quality_sample')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_mark')),
        sa.UniqueConstraint('sample_id', 'item_key', name=op.f('uq_quality_mark_sample_id')),
    )
    op.create_index(op.f('ix_quality_mark_sample_id'), 'quality_mark', ['sample_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_quality_mark_sample_id'), table_name='quality_mark')
    op.drop_table('quality_mark')
    op.drop_index('ix_quality_sample_agent_period', table_name='quality_sample')
    op.drop_index(op.f('ix_quality_sample_call_id'), table_name='quality_sample')
    op.drop_table('quality_sample')
    op.drop_index(op.f('ix_call_check_call_id'), table_name='call_check')
    op.drop_table('call_check')
    op.drop_index(op.f('ix_call_stage_call_id'), table_name='call_stage')
    op.drop_table('call_stage')
