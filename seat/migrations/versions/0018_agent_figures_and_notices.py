"""agent figures: a call's talk and wrap-up seconds and first-contact resolution, indexes

Revision ID: 0018
Revises: 0011
Create Date: 2026-12-06 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0011'
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
    for table, name, __ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('call') as batch:
        batch.drop_column('repeated')
        batch.drop_column('wrapup_seconds')
        batch.drop_column('talk_seconds')
