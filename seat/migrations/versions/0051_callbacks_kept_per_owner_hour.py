"""each agent's open callbacks counted per zone group and hour of due time, for the sidebar

`callback_owner_hour`: how many open callbacks (with known zones) of one agent and zone
group fall due in one hour of UTC time (seconds since 1970 divided by 3600, rounded down).
The sidebar's overdue and due-soon totals are whole hours added up from it plus the
callbacks of the one or two hours cut by now and the horizon's end, counted live
(seat.callbacks.callback_queue). Kept by triggers on `callback` (insert, delete, change of
owner, status, zones or due time), so every writer keeps it: the seats, the day's rules,
imports, merges, the tools, another seat on PostgreSQL. An hour whose count falls to 0
loses its row. The rows are made here from the callbacks on file.

Revision ID: 0051
Revises: 0049
Create Date: 2026-12-07 13:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0051'
down_revision = '0049'
branch_labels = None
depends_on = None

TABLE = 'callback_owner_hour'
PG_FUNCTION = 'seat_callback_owner_hour'
# The whole seconds of the stored text (SQLAlchemy's 'YYYY-MM-DD HH:MM:SS.ffffff'): strftime
# of the whole text rounds to milliseconds, which puts 10:59:59.9999 in the hour of 11:00.
SQLITE_SECONDS = "CAST(strftime('%s', substr({row}.due_at, 1, 19)) AS INTEGER)"
# Rounded down also before 1970 (SQLite's integer division rounds toward zero).
SQLITE_HOUR = f"({SQLITE_SECONDS} / 3600 - ({SQLITE_SECONDS} % 3600 < 0))"
PG_HOUR = "CAST(floor(extract(epoch FROM {row}.due_at) / 3600) AS BIGINT)"
KEPT = "{row}.status = 'open' AND {row}.zones IS NOT NULL"
WATCHED = 'owner_id, status, zones, due_at'


def _sqlite_add(row: str) -> str:
    hour = SQLITE_HOUR.format(row=row)
    return (
        f"INSERT INTO {TABLE} (owner_id, zones, hour, n) "
        f"SELECT {row}.owner_id, {row}.zones, {hour}, 1 WHERE {KEPT.format(row=row)} "
        "ON CONFLICT (owner_id, zones, hour) DO UPDATE SET n = n + 1;"
    )


def _sqlite_take(row: str) -> str:
    hour = SQLITE_HOUR.format(row=row)
    key = (
        f"owner_id = {row}.owner_id AND zones = {row}.zones AND hour = {hour} "
        f"AND {KEPT.format(row=row)}"
    )
    return (
        f"UPDATE {TABLE} SET n = n - 1 WHERE {key}; "
        f"DELETE FROM {TABLE} WHERE {key} AND n <= 0;"
    )


def _pg_function() -> str:
    def add(row: str) -> str:
        return (
            f"IF {KEPT.format(row=row)} THEN "
            f"INSERT INTO {TABLE} (owner_id, zones, hour, n) "
            f"VALUES ({row}.owner_id, {row}.zones, {PG_HOUR.format(row=row)}, 1) "
            f"ON CONFLICT (owner_id, zones, hour) DO UPDATE SET n = {TABLE}.n + 1; "
            "END IF;"
        )

    def take(row: str) -> str:
        key = (
            f"owner_id = {row}.owner_id AND zones = {row}.zones "
            f"AND hour = {PG_HOUR.format(row=row)}"
        )
        return (
            f"IF {KEPT.format(row=row)} THEN "
            f"UPDATE {TABLE} SET n = n - 1 WHERE {key}; "
            f"DELETE FROM {TABLE} WHERE {key} AND n <= 0; "
            "END IF;"
        )

    return f"""
        CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.owner_id IS NOT DISTINCT FROM NEW.owner_id
               AND OLD.status IS NOT DISTINCT FROM NEW.status
               AND OLD.zones IS NOT DISTINCT FROM NEW.zones
               AND OLD.due_at IS NOT DISTINCT FROM NEW.due_at THEN
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                {take('OLD')}
            END IF;
            IF TG_OP <> 'DELETE' THEN
                {add('NEW')}
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('owner_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('zones', sa.String(), nullable=False),
        sa.Column('hour', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('owner_id', 'zones', 'hour', name=op.f('pk_callback_owner_hour')),
    )
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute(_pg_function())
        op.execute(
            f"CREATE TRIGGER callback_owner_hour_kept AFTER INSERT OR DELETE OR UPDATE OF "
            f"{WATCHED} ON callback FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
        )
        hour = PG_HOUR.format(row='callback')
    else:
        op.execute(
            f"CREATE TRIGGER callback_owner_hour_on_insert AFTER INSERT ON callback "
            f"BEGIN {_sqlite_add('NEW')} END"
        )
        op.execute(
            f"CREATE TRIGGER callback_owner_hour_on_update AFTER UPDATE OF {WATCHED} ON callback "
            "WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.status IS NOT NEW.status "
            "OR OLD.zones IS NOT NEW.zones OR OLD.due_at IS NOT NEW.due_at "
            f"BEGIN {_sqlite_take('OLD')} {_sqlite_add('NEW')} END"
        )
        op.execute(
            f"CREATE TRIGGER callback_owner_hour_on_delete AFTER DELETE ON callback "
            f"BEGIN {_sqlite_take('OLD')} END"
        )
        hour = SQLITE_HOUR.format(row='callback')
    op.execute(
        f"INSERT INTO {TABLE} (owner_id, zones, hour, n) "
        f"SELECT owner_id, zones, {hour}, count(*) FROM callback "
        f"WHERE {KEPT.format(row='callback')} GROUP BY owner_id, zones, {hour}"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS callback_owner_hour_kept ON callback')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_FUNCTION}()')
    else:
        for verb in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS callback_owner_hour_on_{verb}')
    op.drop_table(TABLE)
