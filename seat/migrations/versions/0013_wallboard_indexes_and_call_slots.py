"""the wallboard's indexes, and calls added up per quarter hour for trends

Indexes: urgent and late work orders, open complaints and their pauses. `call_slot`: the
calls of each quarter hour added up (seat.call_slots), kept right by triggers on `call` that
delete the slot of every call inserted, deleted, or changed in its start, end or score.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

INDEXES = (
    ('work_order', 'ix_work_order_urgent_due', ['urgent', 'due_at', 'status', 'assignee_id']),
    ('complaint', 'ix_complaint_status', ['status', 'version', 'customer_id']),
    ('complaint_event', 'ix_complaint_event_action', ['action', 'complaint_id', 'at']),
)  # fmt: skip
PG_FUNCTION = 'seat_call_slot_stale'
SQLITE_SLOT = "CAST(strftime('%s', {row}.started_at) AS INTEGER) / 900"
WATCHED = 'started_at, ended_at, satisfaction'


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_table(
        'call_slot',
        sa.Column('slot', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('ended', sa.Integer(), nullable=False),
        sa.Column('millis', sa.BigInteger(), nullable=False),
        sa.Column('scored', sa.Integer(), nullable=False),
        sa.Column('score_sum', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('slot', name=op.f('pk_call_slot')),
    )
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN
                    DELETE FROM call_slot
                    WHERE slot = floor(extract(epoch FROM OLD.started_at) / 900)::bigint;
                END IF;
                IF TG_OP <> 'DELETE' THEN
                    DELETE FROM call_slot
                    WHERE slot = floor(extract(epoch FROM NEW.started_at) / 900)::bigint;
                END IF;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            f"CREATE TRIGGER call_slot_stale AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} "
            f"ON call FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
        )
    else:
        new, old = SQLITE_SLOT.format(row='NEW'), SQLITE_SLOT.format(row='OLD')
        op.execute(
            "CREATE TRIGGER call_slot_on_insert AFTER INSERT ON call "
            f"BEGIN DELETE FROM call_slot WHERE slot = {new}; END"
        )
        op.execute(
            f"CREATE TRIGGER call_slot_on_update AFTER UPDATE OF {WATCHED} ON call "
            f"BEGIN DELETE FROM call_slot WHERE slot IN ({old}, {new}); END"
        )
        op.execute(
            "CREATE TRIGGER call_slot_on_delete AFTER DELETE ON call "
            f"BEGIN DELETE FROM call_slot WHERE slot = {old}; END"
        )
    if bind.dialect.name == 'sqlite' and bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).first():
        # Statistics for the new indexes too, or SQLite may keep to the old ones (0011).
        for __, name, __ in INDEXES:
            op.execute(f'ANALYZE {name}')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS call_slot_stale ON call')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_FUNCTION}()')
    else:
        for verb in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS call_slot_on_{verb}')
    op.drop_table('call_slot')
    for table, name, __ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
