"""each agent's calls added up per quarter hour, for the wallboard's calls today

`call_agent_slot`: one agent's calls of one quarter hour added up (seat.call_slots), made with
the slot's `call_slot` row and valid only with it. The triggers of migration 0013 now delete
both when a call is inserted, deleted, or changed in its start, end, score or agent (the
agent is new: a call moved to another agent moves its count). The slots kept already get
their agents' rows here, from their calls, so every kept slot has them.

Revision ID: 0049
Revises: 0045
Create Date: 2026-12-07 09:30:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0049'
down_revision = '0045'
branch_labels = None
depends_on = None

PG_FUNCTION = 'seat_call_slot_stale'
SQLITE_SLOT = "CAST(strftime('%s', {row}.started_at) AS INTEGER) / 900"
PG_SLOT = "floor(extract(epoch FROM {row}.started_at) / 900)::bigint"
OLD_WATCHED = 'started_at, ended_at, satisfaction'
WATCHED = 'started_at, ended_at, satisfaction, agent_id'
SQLITE_MILLIS = "CAST(round((julianday(ended_at) - julianday(started_at)) * 86400000) AS INTEGER)"
PG_MILLIS = "CAST(round(extract(epoch FROM ended_at - started_at) * 1000) AS BIGINT)"


def _pg_function(tables: tuple[str, ...]) -> str:
    old = '\n'.join(
        f'DELETE FROM {t} WHERE slot = {PG_SLOT.format(row="OLD")};' for t in tables
    )
    new = '\n'.join(
        f'DELETE FROM {t} WHERE slot = {PG_SLOT.format(row="NEW")};' for t in tables
    )
    return f"""
        CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                {old}
            END IF;
            IF TG_OP <> 'DELETE' THEN
                {new}
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """


def _triggers(tables: tuple[str, ...], watched: str) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS call_slot_stale ON call')
        op.execute(_pg_function(tables))
        op.execute(
            f"CREATE TRIGGER call_slot_stale AFTER INSERT OR DELETE OR UPDATE OF {watched} "
            f"ON call FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
        )
        return
    for verb in ('insert', 'update', 'delete'):
        op.execute(f'DROP TRIGGER IF EXISTS call_slot_on_{verb}')
    new, old = SQLITE_SLOT.format(row='NEW'), SQLITE_SLOT.format(row='OLD')

    def body(where: str) -> str:
        return ' '.join(f'DELETE FROM {t} WHERE slot {where};' for t in tables)

    op.execute(f"CREATE TRIGGER call_slot_on_insert AFTER INSERT ON call BEGIN {body('= ' + new)} END")
    op.execute(
        f"CREATE TRIGGER call_slot_on_update AFTER UPDATE OF {watched} ON call "
        f"BEGIN {body(f'IN ({old}, {new})')} END"
    )
    op.execute(f"CREATE TRIGGER call_slot_on_delete AFTER DELETE ON call BEGIN {body('= ' + old)} END")


def upgrade() -> None:
    op.create_table(
        'call_agent_slot',
        sa.Column('slot', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('agent_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('ended', sa.Integer(), nullable=False),
        sa.Column('millis', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('slot', 'agent_id', name=op.f('pk_call_agent_slot')),
    )
    _triggers(('call_slot', 'call_agent_slot'), WATCHED)
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    slot = "CAST(strftime('%s', started_at) AS INTEGER) / 900" if sqlite else (
        "CAST(floor(extract(epoch FROM started_at) / 900) AS BIGINT)"
    )
    millis = SQLITE_MILLIS if sqlite else PG_MILLIS
    # The kept slots' agents, from their calls: each run of consecutive kept slots is one
    # range of start times (read in order from the agent/start index per agent).
    runs = bind.exec_driver_sql(
        'SELECT min(slot), max(slot) FROM (SELECT slot, slot - row_number() OVER '
        '(ORDER BY slot) AS run FROM call_slot) AS kept GROUP BY run'
    ).all()
    for lo, hi in runs:
        start = datetime.fromtimestamp(lo * 900, UTC).replace(tzinfo=None)
        end = datetime.fromtimestamp((hi + 1) * 900, UTC).replace(tzinfo=None)
        if sqlite:  # as SQLAlchemy stores a time in SQLite
            start, end = (f'{at:%Y-%m-%d %H:%M:%S.%f}' for at in (start, end))  # type: ignore[assignment]
        bind.execute(
            sa.text(
                'INSERT INTO call_agent_slot (slot, agent_id, calls, ended, millis) '
                f'SELECT {slot}, agent_id, count(*), count(ended_at), '
                f'coalesce(sum({millis}), 0) FROM call '
                'WHERE started_at >= :start AND started_at < :end '
                'AND agent_id IN (SELECT id FROM agent) '
                f'GROUP BY {slot}, agent_id'
            ),
            {'start': start, 'end': end},
        )


def downgrade() -> None:
    _triggers(('call_slot',), OLD_WATCHED)
    op.drop_table('call_agent_slot')
