"""a call's quarter hour on SQLite from the whole seconds of its stored start

SQLite's date functions keep milliseconds and round: `strftime('%s', started_at)` of a call
started at HH:14:59.9996 is the second of HH:15:00, so migration 0049's triggers dropped the
kept rows (`call_slot`, `call_agent_slot`) of the next quarter hour when such a call was
saved, changed or deleted, and left its own quarter hour's rows stale (seat.call_slots took
the slot the same way when it made them). The triggers are made again with the slot of the
text's whole seconds (`substr(started_at, 1, 19)`, as migrations 0043 and 0051 do), which is
the slot of seat.call_slots.slot_of and of the ranges read from the calls. The kept rows
that may be wrong are dropped: the two quarter hours of every call the old expression put in
the next one (seat.call_slots.fill makes them again from the calls when next read).
PostgreSQL's slot (floor of the exact epoch) was right: nothing changes there.

Revision ID: 0055
Revises: 0051
Create Date: 2026-12-07 13:30:00.000000
"""

from alembic import op

revision = '0055'
down_revision = '0051'
branch_labels = None
depends_on = None

TABLES = ('call_slot', 'call_agent_slot')
WATCHED = 'started_at, ended_at, satisfaction, agent_id'
# The whole seconds of the stored text (SQLAlchemy's 'YYYY-MM-DD HH:MM:SS.ffffff', UTC).
SQLITE_SLOT = "CAST(strftime('%s', substr({row}.started_at, 1, 19)) AS INTEGER) / 900"
# Migration 0049's: strftime of the whole text, rounded to milliseconds.
ROUNDED_SLOT = "CAST(strftime('%s', {row}.started_at) AS INTEGER) / 900"


def _triggers(slot: str) -> None:
    for verb in ('insert', 'update', 'delete'):
        op.execute(f'DROP TRIGGER IF EXISTS call_slot_on_{verb}')
    new, old = slot.format(row='NEW'), slot.format(row='OLD')

    def body(where: str) -> str:
        return ' '.join(f'DELETE FROM {t} WHERE slot {where};' for t in TABLES)

    op.execute(f"CREATE TRIGGER call_slot_on_insert AFTER INSERT ON call BEGIN {body('= ' + new)} END")
    op.execute(
        f"CREATE TRIGGER call_slot_on_update AFTER UPDATE OF {WATCHED} ON call "
        f"BEGIN {body(f'IN ({old}, {new})')} END"
    )
    op.execute(f"CREATE TRIGGER call_slot_on_delete AFTER DELETE ON call BEGIN {body('= ' + old)} END")


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    _triggers(SQLITE_SLOT)
    # Only a start in a minute's last millisecond can be rounded into the next second (a
    # fraction of .9995 or more), so the texts from second 59.999 on are the only ones looked
    # at: 'SS.ffffff' from the 18th character.
    exact, rounded = SQLITE_SLOT.format(row='call'), ROUNDED_SLOT.format(row='call')
    moved = (
        f"SELECT {exact} AS slot FROM call WHERE substr(call.started_at, 18) >= '59.999' "
        f"AND {rounded} <> {exact} "
        f"UNION SELECT {rounded} FROM call WHERE substr(call.started_at, 18) >= '59.999' "
        f"AND {rounded} <> {exact}"
    )
    for table in TABLES:
        op.execute(f'DELETE FROM {table} WHERE slot IN ({moved})')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    _triggers(ROUNDED_SLOT)
