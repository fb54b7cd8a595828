"""intake by channel, the suggestions register, the promised reply time

Complaints keep their channel ('phone' for every complaint from before) and gain the
channel's own reference, when a seat registered one received earlier (its clocks start at
the time received, `created_at`), and the reply time promised to the customer when it went
beyond the agent. Suggestions (意见和建议) get their own table.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 11:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'suggestion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('call_id', sa.Integer(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('channel_ref', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
        sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('registered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('reply_text', sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=True),
        sa.Column('replied_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('replied_by_id', sa.Integer(), nullable=True),
        sa.Column('thanked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_suggestion_call_id_call')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'],
                                name=op.f('fk_suggestion_customer_id_customer')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['agent.id'],
                                name=op.f('fk_suggestion_recorded_by_id_agent')),
        sa.ForeignKeyConstraint(['replied_by_id'], ['agent.id'],
                                name=op.f('fk_suggestion_replied_by_id_agent')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion')),
    )
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestion_customer_id'), ['customer_id'],
                              unique=False)
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel_ref', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.add_column(sa.Column('registered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('promised_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('promised_reply_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # Every complaint from before came by phone (the column's default): say so where empty.
    op.execute("UPDATE complaint SET channel = 'phone' WHERE channel IS NULL OR channel = ''")


def downgrade() -> None:
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_column('promised_reply_at')
        batch_op.drop_column('promised_at')
        batch_op.drop_column('registered_at')
        batch_op.drop_column('channel_ref')
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_customer_id'))
        batch_op.drop_index('ix_suggestion_created')
    op.drop_table('suggestion')
