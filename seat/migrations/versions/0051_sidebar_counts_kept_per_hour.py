"""each agent's open callbacks and work orders counted per hour, for the sidebar's totals

`callback_owner_hour`: how many open callbacks (with known zones) of one agent and zone
group fall due in one hour of UTC time (seconds since 1970 divided by 3600, rounded down).
`work_order_agent_hour`: how many of one agent's work orders are open, open and urgent (by
due time), or have their on-site, reply or follow-up clock running (by that deadline), per
hour. The sidebar's totals (overdue and due-soon callbacks; open, urgent and late orders;
late clocks) are whole hours added up plus the rows of the one or two hours cut by now and
the horizon's end, counted live (seat.callbacks.callback_queue, seat.queues.agent_orders).
Kept by triggers on `callback` and `work_order` (insert, delete, change of a column a count
reads), so every writer keeps them: the seats, the day's rules, imports, merges, the
tools, another seat on PostgreSQL. An hour whose count falls to 0 loses its row. The rows
are made here from the rows on file.

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
SQLITE_SECONDS = "CAST(strftime('%s', substr({row}.{col}, 1, 19)) AS INTEGER)"
# Rounded down also before 1970 (SQLite's integer division rounds toward zero).
SQLITE_HOUR = f"({SQLITE_SECONDS} / 3600 - ({SQLITE_SECONDS} % 3600 < 0))"
PG_HOUR = "CAST(floor(extract(epoch FROM {row}.{col}) / 3600) AS BIGINT)"
KEPT = "{row}.status = 'open' AND {row}.zones IS NOT NULL"
WATCHED = 'owner_id, status, zones, due_at'


def _sqlite_add(row: str) -> str:
    hour = SQLITE_HOUR.format(row=row, col='due_at')
    return (
        f"INSERT INTO {TABLE} (owner_id, zones, hour, n) "
        f"SELECT {row}.owner_id, {row}.zones, {hour}, 1 WHERE {KEPT.format(row=row)} "
        "ON CONFLICT (owner_id, zones, hour) DO UPDATE SET n = n + 1;"
    )


def _sqlite_take(row: str) -> str:
    hour = SQLITE_HOUR.format(row=row, col='due_at')
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
            f"VALUES ({row}.owner_id, {row}.zones, {PG_HOUR.format(row=row, col='due_at')}, 1) "
            f"ON CONFLICT (owner_id, zones, hour) DO UPDATE SET n = {TABLE}.n + 1; "
            "END IF;"
        )

    def take(row: str) -> str:
        key = (
            f"owner_id = {row}.owner_id AND zones = {row}.zones "
            f"AND hour = {PG_HOUR.format(row=row, col='due_at')}"
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



# -- work orders --------------------------------------------------------------------------

ORDERS = 'work_order_agent_hour'
PG_ORDERS_FUNCTION = 'seat_work_order_agent_hour'
MEASURES = {
    # measure: (which orders, as a condition on the row; the time whose hour keeps them)
    'open': ("{row}.assignee_id IS NOT NULL AND {row}.status <> 'closed'", 'due_at'),
    'urgent': (
        "{row}.assignee_id IS NOT NULL AND {row}.status <> 'closed' AND {row}.urgent", 'due_at'
    ),
    'on_site': (
        "{row}.assignee_id IS NOT NULL AND {row}.on_site_at IS NULL "
        "AND {row}.on_site_due_at IS NOT NULL", 'on_site_due_at',
    ),
    'reply': (
        "{row}.assignee_id IS NOT NULL AND {row}.replied_at IS NULL "
        "AND {row}.reply_due_at IS NOT NULL", 'reply_due_at',
    ),
    'follow_up': (
        "{row}.assignee_id IS NOT NULL AND {row}.follow_up_due_at IS NOT NULL", 'follow_up_due_at'
    ),
}
"""Open orders (every status but closed: seat.models.OPEN_WORK_ORDER_EXCLUDES) by due
time, the urgent ones among them, and the running clocks (seat.order_clocks.late_sql) by
their deadlines."""
COLUMNS = {
    'open': ('assignee_id', 'status', 'due_at'),
    'urgent': ('assignee_id', 'status', 'urgent', 'due_at'),
    'on_site': ('assignee_id', 'on_site_at', 'on_site_due_at'),
    'reply': ('assignee_id', 'replied_at', 'reply_due_at'),
    'follow_up': ('assignee_id', 'follow_up_due_at'),
}
"""The columns each measure reads (an update of none of them changes nothing)."""


def _orders_sqlite(measure: str, row: str, add: bool) -> str:
    cond, col = MEASURES[measure]
    cond = cond.format(row=row)
    hour = SQLITE_HOUR.format(row=row, col=col)
    if add:
        return (
            f"INSERT INTO {ORDERS} (assignee_id, measure, hour, n) "
            f"SELECT {row}.assignee_id, '{measure}', {hour}, 1 WHERE {cond} "
            "ON CONFLICT (assignee_id, measure, hour) DO UPDATE SET n = n + 1;"
        )
    key = f"assignee_id = {row}.assignee_id AND measure = '{measure}' AND hour = {hour}"
    return (
        f"UPDATE {ORDERS} SET n = n - 1 WHERE {key} AND {cond}; "
        f"DELETE FROM {ORDERS} WHERE {key} AND {cond} AND n <= 0;"
    )


def _orders_pg(measure: str, row: str, add: bool) -> str:
    cond, col = MEASURES[measure]
    hour = PG_HOUR.format(row=row, col=col)
    if add:
        body = (
            f"INSERT INTO {ORDERS} (assignee_id, measure, hour, n) "
            f"VALUES ({row}.assignee_id, '{measure}', {hour}, 1) "
            f"ON CONFLICT (assignee_id, measure, hour) DO UPDATE SET n = {ORDERS}.n + 1;"
        )
    else:
        key = f"assignee_id = {row}.assignee_id AND measure = '{measure}' AND hour = {hour}"
        body = (
            f"UPDATE {ORDERS} SET n = n - 1 WHERE {key}; "
            f"DELETE FROM {ORDERS} WHERE {key} AND n <= 0;"
        )
    return f"IF {cond.format(row=row)} THEN {body} END IF;"


def _changed(measure: str, distinct: str) -> str:
    return ' OR '.join(f'OLD.{c} {distinct} NEW.{c}' for c in COLUMNS[measure])


def _orders_pg_function() -> str:
    deleted = ' '.join(_orders_pg(m, 'OLD', False) for m in MEASURES)
    inserted = ' '.join(_orders_pg(m, 'NEW', True) for m in MEASURES)
    updated = ' '.join(
        f"IF {_changed(m, 'IS DISTINCT FROM')} THEN "
        f"{_orders_pg(m, 'OLD', False)} {_orders_pg(m, 'NEW', True)} END IF;"
        for m in MEASURES
    )
    return f"""
        CREATE OR REPLACE FUNCTION {PG_ORDERS_FUNCTION}() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                {deleted}
            ELSIF TG_OP = 'INSERT' THEN
                {inserted}
            ELSE
                {updated}
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """


def _orders_upgrade(postgres: bool) -> None:
    op.create_table(
        ORDERS,
        sa.Column('assignee_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('measure', sa.String(), nullable=False),
        sa.Column('hour', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'assignee_id', 'measure', 'hour', name=op.f('pk_work_order_agent_hour')
        ),
    )
    watched = ', '.join(sorted({c for cols in COLUMNS.values() for c in cols}))
    if postgres:
        op.execute(_orders_pg_function())
        op.execute(
            f"CREATE TRIGGER work_order_agent_hour_kept AFTER INSERT OR DELETE OR UPDATE OF "
            f"{watched} ON work_order FOR EACH ROW EXECUTE FUNCTION {PG_ORDERS_FUNCTION}()"
        )
    else:
        op.execute(
            "CREATE TRIGGER work_order_agent_hour_on_insert AFTER INSERT ON work_order BEGIN "
            + ' '.join(_orders_sqlite(m, 'NEW', True) for m in MEASURES) + " END"
        )
        op.execute(
            "CREATE TRIGGER work_order_agent_hour_on_delete AFTER DELETE ON work_order BEGIN "
            + ' '.join(_orders_sqlite(m, 'OLD', False) for m in MEASURES) + " END"
        )
        for m in MEASURES:
            op.execute(
                f"CREATE TRIGGER work_order_agent_hour_{m}_on_update AFTER UPDATE OF "
                f"{', '.join(COLUMNS[m])} ON work_order WHEN {_changed(m, 'IS NOT')} "
                f"BEGIN {_orders_sqlite(m, 'OLD', False)} {_orders_sqlite(m, 'NEW', True)} END"
            )
    hour = PG_HOUR if postgres else SQLITE_HOUR
    for m, (cond, col) in MEASURES.items():
        at = hour.format(row='work_order', col=col)
        op.execute(
            f"INSERT INTO {ORDERS} (assignee_id, measure, hour, n) "
            f"SELECT assignee_id, '{m}', {at}, count(*) FROM work_order "
            f"WHERE {cond.format(row='work_order')} GROUP BY assignee_id, {at}"
        )


def _orders_downgrade(postgres: bool) -> None:
    if postgres:
        op.execute('DROP TRIGGER IF EXISTS work_order_agent_hour_kept ON work_order')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_ORDERS_FUNCTION}()')
    else:
        for m in ('on_insert', 'on_delete', *(f'{m}_on_update' for m in MEASURES)):
            op.execute(f'DROP TRIGGER IF EXISTS work_order_agent_hour_{m}')
    op.drop_table(ORDERS)


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
        hour = PG_HOUR.format(row='callback', col='due_at')
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
        hour = SQLITE_HOUR.format(row='callback', col='due_at')
    op.execute(
        f"INSERT INTO {TABLE} (owner_id, zones, hour, n) "
        f"SELECT owner_id, zones, {hour}, count(*) FROM callback "
        f"WHERE {KEPT.format(row='callback')} GROUP BY owner_id, zones, {hour}"
    )
    _orders_upgrade(bind.dialect.name == 'postgresql')


def downgrade() -> None:
    _orders_downgrade(op.get_bind().dialect.name == 'postgresql')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS callback_owner_hour_kept ON callback')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_FUNCTION}()')
    else:
        for verb in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS callback_owner_hour_on_{verb}')
    op.drop_table(TABLE)
