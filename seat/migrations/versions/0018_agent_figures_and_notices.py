"""agent figures: a call's talk and wrap-up seconds and first-contact resolution, indexes;
notices (公告) and the calls linked to them

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 11:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# seat.repeats.BACKFILL at the time of this migration (a migration never imports the app).
BACKFILL = {
    'sqlite': """
UPDATE call SET
 talk_seconds = CASE WHEN ended_at IS NOT NULL THEN MAX(0.0,
   (julianday(COALESCE(wrapup_at, ended_at)) - julianday(started_at)) * 86400.0) END,
 wrapup_seconds = CASE WHEN ended_at IS NOT NULL AND wrapup_at IS NOT NULL THEN MAX(0.0,
   (julianday(ended_at) - julianday(wrapup_at)) * 86400.0) END,
 repeated = CASE
  WHEN direction = 'inbound' AND COALESCE(from_number, '') != ''
       AND COALESCE(need_category, '') != ''
  THEN EXISTS (
    SELECT 1 FROM call AS later
    WHERE later.from_number = call.from_number AND later.need_category = call.need_category
      AND later.direction = 'inbound' AND later.started_at > call.started_at
      AND later.started_at <= strftime('%Y-%m-%d %H:%M:%S', call.started_at, '+7 days')
                              || substr(call.started_at, 20))
  END
""",
    'postgresql': """
UPDATE "call" SET
 talk_seconds = CASE WHEN ended_at IS NOT NULL THEN GREATEST(0.0,
   EXTRACT(EPOCH FROM COALESCE(wrapup_at, ended_at) - started_at)) END,
 wrapup_seconds = CASE WHEN ended_at IS NOT NULL AND wrapup_at IS NOT NULL THEN GREATEST(0.0,
   EXTRACT(EPOCH FROM ended_at - wrapup_at)) END,
 repeated = CASE
  WHEN direction = 'inbound' AND COALESCE(from_number, '') != ''
       AND COALESCE(need_category, '') != ''
  THEN EXISTS (
    SELECT 1 FROM "call" AS later
    WHERE later.from_number = "call".from_number
      AND later.need_category = "call".need_category
      AND later.direction = 'inbound' AND later.started_at > "call".started_at
      AND later.started_at <= "call".started_at + interval '7 days')
  END
""",
}

INDEXES = (
    ('call', 'ix_call_number_need_started', ['from_number', 'need_category', 'started_at']),
    ('call', 'ix_call_agent_figures',
     ['agent_id', 'started_at', 'talk_seconds', 'wrapup_seconds', 'satisfaction',
      'repeated']),
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        'notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('text', sa.String(length=5000), nullable=False),
        sa.Column('area', sa.String(length=200), nullable=True),
        sa.Column('cause', sa.String(length=500), nullable=True),
        sa.Column('valid_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('valid_to', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('restore_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['agent.id'],
                                name=op.f('fk_notice_created_by_id_agent')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    )  # fmt: skip
    op.create_index('ix_notice_valid', 'notice', ['valid_to', 'valid_from'], unique=False)
    op.create_table(
        'notice_call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('call_uid', sa.String(length=40), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agent.id'],
                                name=op.f('fk_notice_call_agent_id_agent')),
        sa.ForeignKeyConstraint(['notice_id'], ['notice.id'],
                                name=op.f('fk_notice_call_notice_id_notice')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_call')),
        sa.UniqueConstraint('notice_id', 'call_uid', name=op.f('uq_notice_call_notice_id')),
    )  # fmt: skip
    op.create_index(op.f('ix_notice_call_notice_id'), 'notice_call', ['notice_id'], unique=False)
    op.create_index(op.f('ix_notice_call_call_uid'), 'notice_call', ['call_uid'], unique=False)
    with op.batch_alter_table('call') as batch:
        batch.add_column(sa.Column('talk_seconds', sa.Float(), nullable=True))
        batch.add_column(sa.Column('wrapup_seconds', sa.Float(), nullable=True))
        batch.add_column(sa.Column('repeated', sa.Boolean(), nullable=True))
    table, name, columns = INDEXES[0]
    op.create_index(name, table, columns, unique=False)
    bind = op.get_bind()
    bind.exec_driver_sql(BACKFILL[bind.dialect.name])
    table, name, columns = INDEXES[1]
    op.create_index(name, table, columns, unique=False)
    if bind.dialect.name == 'sqlite' and bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).first():
        for index in INDEXES:
            op.execute(f'ANALYZE {index[1]}')


def downgrade() -> None:
    op.drop_table('notice_call')
    op.drop_table('notice')
    for table, name, __ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('call') as batch:
        batch.drop_column('repeated')
        batch.drop_column('wrapup_seconds')
        batch.drop_column('talk_seconds')
