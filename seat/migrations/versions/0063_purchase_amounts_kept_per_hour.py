"""the purchases' amounts added up per hour, for the member report's spend per month

`purchase_hour`: how many purchases (order lines) fall in one hour of UTC time (seconds
since 1970 divided by 3600, rounded down) and their amounts added up. The member report's
spend per month is the month's whole hours added up plus the purchases of an hour cut by
the month's edge (a zone not a whole number of hours from UTC), read live
(seat.reports.members): a year's report read about a million purchases for it. Kept by
triggers on `purchase` (insert, delete, change of time or amount), so every writer keeps
it: imports, merges (a merge moves purchases to another customer: no hour changes), the
tools, another seat on PostgreSQL. An hour whose count falls to 0 loses its row (no
amount left over from the additions and subtractions). The rows are made here from the
rows on file.

Revision ID: 0063
Revises: 0055
Create Date: 2026-12-07 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0063'
down_revision = '0055'
branch_labels = None
depends_on = None

TABLE = 'purchase_hour'
PG_FUNCTION = 'seat_purchase_hour'
# The whole seconds of the stored text (SQLAlchemy's 'YYYY-MM-DD HH:MM:SS.ffffff'): strftime
# of the whole text rounds to milliseconds, which puts 10:59:59.9999 in the hour of 11:00.
SQLITE_SECONDS = "CAST(strftime('%s', substr({row}.purchased_at, 1, 19)) AS INTEGER)"
# Rounded down also before 1970 (SQLite's integer division rounds toward zero).
SQLITE_HOUR = f"({SQLITE_SECONDS} / 3600 - ({SQLITE_SECONDS} % 3600 < 0))"
PG_HOUR = "CAST(floor(extract(epoch FROM {row}.purchased_at) / 3600) AS BIGINT)"


def _sqlite_add(row: str) -> str:
    return (
        f"INSERT INTO {TABLE} (hour, n, amount) "
        f"SELECT {SQLITE_HOUR.format(row=row)}, 1, {row}.amount WHERE true "
        f"ON CONFLICT (hour) DO UPDATE SET n = n + 1, amount = amount + excluded.amount;"
    )


def _sqlite_take(row: str) -> str:
    key = f"hour = {SQLITE_HOUR.format(row=row)}"
    return (
        f"UPDATE {TABLE} SET n = n - 1, amount = amount - {row}.amount WHERE {key}; "
        f"DELETE FROM {TABLE} WHERE {key} AND n <= 0;"
    )


def _pg_function() -> str:
    return f"""
        CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.purchased_at IS NOT DISTINCT FROM NEW.purchased_at
               AND OLD.amount IS NOT DISTINCT FROM NEW.amount THEN
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                UPDATE {TABLE} SET n = n - 1, amount = amount - OLD.amount
                 WHERE hour = {PG_HOUR.format(row='OLD')};
                DELETE FROM {TABLE} WHERE hour = {PG_HOUR.format(row='OLD')} AND n <= 0;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO {TABLE} (hour, n, amount)
                VALUES ({PG_HOUR.format(row='NEW')}, 1, NEW.amount)
                ON CONFLICT (hour) DO UPDATE
                SET n = {TABLE}.n + 1, amount = {TABLE}.amount + EXCLUDED.amount;
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('hour', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('hour', name=op.f('pk_purchase_hour')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_pg_function())
        op.execute(
            "CREATE TRIGGER purchase_hour_kept AFTER INSERT OR DELETE OR UPDATE OF "
            f"purchased_at, amount ON purchase FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
        )
        hour = PG_HOUR.format(row='purchase')
    else:
        op.execute(
            f"CREATE TRIGGER purchase_hour_on_insert AFTER INSERT ON purchase "
            f"BEGIN {_sqlite_add('NEW')} END"
        )
        op.execute(
            "CREATE TRIGGER purchase_hour_on_update AFTER UPDATE OF purchased_at, amount "
            "ON purchase WHEN OLD.purchased_at IS NOT NEW.purchased_at "
            "OR OLD.amount IS NOT NEW.amount "
            f"BEGIN {_sqlite_take('OLD')} {_sqlite_add('NEW')} END"
        )
        op.execute(
            f"CREATE TRIGGER purchase_hour_on_delete AFTER DELETE ON purchase "
            f"BEGIN {_sqlite_take('OLD')} END"
        )
        hour = SQLITE_HOUR.format(row='purchase')
    op.execute(
        f"INSERT INTO {TABLE} (hour, n, amount) "
        f"SELECT {hour}, count(*), sum(amount) FROM purchase GROUP BY {hour}"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS purchase_hour_kept ON purchase')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_FUNCTION}()')
    else:
        for verb in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS purchase_hour_on_{verb}')
    op.drop_table(TABLE)
