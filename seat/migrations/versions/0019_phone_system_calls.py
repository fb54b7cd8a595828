"""phone system calls: the call id, answer and hang-up times and recording from seat cti serve

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 11:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cti_call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_ref', sa.String(length=120), nullable=False),
        sa.Column('direction', sa.String(length=16), nullable=False),
        sa.Column('from_number', sa.String(length=40), nullable=False),
        sa.Column('to_number', sa.String(length=40), nullable=False),
        sa.Column('extension', sa.String(length=40), nullable=False),
        sa.Column('queue', sa.String(length=80), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('pop_id', sa.Integer(), nullable=True),
        sa.Column('new_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('cause', sa.String(length=40), nullable=False),
        sa.Column('recording', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_cti_call_agent_id_agent')),
        sa.ForeignKeyConstraint(['pop_id'], ['screen_pop.id'], name=op.f('fk_cti_call_pop_id_screen_pop')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cti_call')),
        sa.UniqueConstraint('call_ref', name=op.f('uq_cti_call_call_ref')),
    )
    with op.batch_alter_table('screen_pop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_ref', sa.String(length=120), nullable=True))
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_ref', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('hung_up_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('recording', sa.String(length=500), nullable=True))
    op.create_index(op.f('ix_call_call_ref'), 'call', ['call_ref'], unique=False)
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extension', sa.String(length=20), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_agent_extension'), ['extension'])


def downgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_agent_extension'), type_='unique')
        batch_op.drop_column('extension')
    op.drop_index(op.f('ix_call_call_ref'), table_name='call')
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_column('recording')
        batch_op.drop_column('hung_up_at')
        batch_op.drop_column('answered_at')
        batch_op.drop_column('call_ref')
    with op.batch_alter_table('screen_pop', schema=None) as batch_op:
        batch_op.drop_column('call_ref')
    op.drop_table('cti_call')
