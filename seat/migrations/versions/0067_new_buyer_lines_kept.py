"""the order lines delivered without a new-buyer callback, kept by triggers

`new_buyer_line`: one row per purchase line that is delivered (`delivered_at` set) and whose
order has no callback with the scheduler's new-buyer key
(substr('new_buyer:' || customer || ':order:' || order, 1, 120)), with the line's customer,
order, delivery and kept tier, as on the purchase. The callbacks report and view read the
members' lines of a period from it (`ix_new_buyer_line_tier_delivered`) instead of reading
every member line of the period from purchase and looking up its callback (a year at the
bench's size: about 110,000 lines, 40,000 of them called).

Kept by triggers on both databases, so every writer keeps it (the seats, the day's rules,
imports, merges, the tools, plain SQL): on `purchase` (insert, delete, a change of the
customer, order, delivery or tier: the row is made again from the purchase as it is now, so
a tier put back by another trigger is what it keeps) and on `callback` (a new-buyer key
inserted or written drops its order's lines; deleted or rewritten, brings back the lines of
the order it named, from purchase). The rows are made here from the rows on file.

Revision ID: 0067
Revises: 0065
Create Date: 2026-12-07 16:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0067'
down_revision = '0065'
branch_labels = None
depends_on = None

TABLE = 'new_buyer_line'
PG_PURCHASE = 'seat_new_buyer_line_of_purchase'
PG_CALLBACK = 'seat_new_buyer_line_of_callback'
WATCHED = 'customer_id, order_no, delivered_at, customer_tier'
COLUMNS = 'purchase_id, customer_id, order_no, delivered_at, customer_tier'


def _key(row: str) -> str:
    """The scheduler's new-buyer key of a purchase line (seat.callbacks._new_buyers)."""
    return (
        f"substr('new_buyer:' || CAST({row}.customer_id AS VARCHAR) || ':order:' "
        f"|| {row}.order_no, 1, 120)"
    )


def _uncalled(row: str) -> str:
    return f"NOT EXISTS (SELECT 1 FROM callback WHERE callback.source_key = {_key(row)})"


def _order_of(key: str, postgres: bool) -> str:
    """The order a new-buyer key names (what follows its first ':order:'; a customer's id
    has none): the purchase lines are looked up by it, then matched by the whole key."""
    find = 'strpos' if postgres else 'instr'
    return f"substr({key}, {find}({key}, ':order:') + 7)"


def _restore(key: str, postgres: bool) -> str:
    """The lines of the order a new-buyer key named, back from purchase (none while a
    callback still has the key). A key cut at 120 characters names no order whole: its lines
    are found by reading every delivered line (never seen: a key is 76 characters at most)."""
    select = (
        f"INSERT INTO {TABLE} ({COLUMNS}) SELECT p.id, p.customer_id, p.order_no, "
        f"p.delivered_at, p.customer_tier FROM purchase AS p WHERE p.delivered_at IS NOT NULL "
        f"AND {_key('p')} = {key} "
        f"AND NOT EXISTS (SELECT 1 FROM callback WHERE callback.source_key = {key}) "
        f"AND {_is_new_buyer(key)}"
    )
    return (
        f"{select} AND length({key}) < 120 AND p.order_no = {_order_of(key, postgres)} "
        "ON CONFLICT (purchase_id) DO NOTHING; "
        f"{select} AND length({key}) >= 120 ON CONFLICT (purchase_id) DO NOTHING;"
    )


def _drop(key: str, postgres: bool) -> str:
    """The lines of the order a new-buyer key names, gone (called)."""
    return (
        f"DELETE FROM {TABLE} WHERE order_no = {_order_of(key, postgres)} "
        f"AND {_key(TABLE)} = {key} AND length({key}) < 120 AND {_is_new_buyer(key)}; "
        f"DELETE FROM {TABLE} WHERE length({key}) >= 120 AND {_is_new_buyer(key)} "
        f"AND {_key(TABLE)} = {key};"
    )


def _is_new_buyer(key: str) -> str:
    return f"substr({key}, 1, 10) = 'new_buyer:'"


def _add_line(row: str) -> str:
    """The purchase line (as it is now on file) in the table, if delivered and not called."""
    return (
        f"INSERT INTO {TABLE} ({COLUMNS}) SELECT p.id, p.customer_id, p.order_no, "
        f"p.delivered_at, p.customer_tier FROM purchase AS p WHERE p.id = {row}.id "
        f"AND p.delivered_at IS NOT NULL AND {_uncalled('p')} "
        "ON CONFLICT (purchase_id) DO UPDATE SET customer_id = excluded.customer_id, "
        "order_no = excluded.order_no, delivered_at = excluded.delivered_at, "
        "customer_tier = excluded.customer_tier;"
    )


def _pg_functions() -> list[str]:
    purchase = f"""
        CREATE OR REPLACE FUNCTION {PG_PURCHASE}() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.customer_id IS NOT DISTINCT FROM NEW.customer_id
               AND OLD.order_no IS NOT DISTINCT FROM NEW.order_no
               AND OLD.delivered_at IS NOT DISTINCT FROM NEW.delivered_at
               AND OLD.customer_tier IS NOT DISTINCT FROM NEW.customer_tier THEN
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                DELETE FROM {TABLE} WHERE purchase_id = OLD.id;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                {_add_line('NEW')}
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    callback = f"""
        CREATE OR REPLACE FUNCTION {PG_CALLBACK}() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.source_key IS NOT DISTINCT FROM NEW.source_key THEN
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' AND {_is_new_buyer('OLD.source_key')} THEN
                {_restore('OLD.source_key', True)}
            END IF;
            IF TG_OP <> 'DELETE' AND {_is_new_buyer('NEW.source_key')} THEN
                {_drop('NEW.source_key', True)}
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    return [purchase, callback]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('purchase_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('order_no', sa.String(length=40), nullable=False),
        sa.Column('delivered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('customer_tier', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('purchase_id', name=op.f('pk_new_buyer_line')),
    )
    postgres = op.get_bind().dialect.name == 'postgresql'
    # Filled before the triggers and indexes exist.
    op.execute(
        f"INSERT INTO {TABLE} ({COLUMNS}) SELECT p.id, p.customer_id, p.order_no, "
        f"p.delivered_at, p.customer_tier FROM purchase AS p "
        f"WHERE p.delivered_at IS NOT NULL AND {_uncalled('p')}"
    )
    op.create_index('ix_new_buyer_line_tier_delivered', TABLE,
                    ['customer_tier', 'delivered_at', 'customer_id', 'order_no'])  # fmt: skip
    op.create_index('ix_new_buyer_line_order_no', TABLE, ['order_no'])
    if not postgres and op.get_bind().exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).first():
        op.execute(f'ANALYZE {TABLE}')  # as the other tables' statistics (migration 0035)
    if postgres:
        for function in _pg_functions():
            op.execute(function)
        op.execute(
            f"CREATE TRIGGER new_buyer_line_of_purchase AFTER INSERT OR DELETE OR UPDATE OF "
            f"{WATCHED} ON purchase FOR EACH ROW EXECUTE FUNCTION {PG_PURCHASE}()"
        )
        op.execute(
            "CREATE TRIGGER new_buyer_line_of_callback AFTER INSERT OR DELETE OR UPDATE OF "
            f"source_key ON callback FOR EACH ROW EXECUTE FUNCTION {PG_CALLBACK}()"
        )
    else:
        op.execute(
            "CREATE TRIGGER new_buyer_line_on_purchase_insert AFTER INSERT ON purchase "
            f"WHEN NEW.delivered_at IS NOT NULL BEGIN {_add_line('NEW')} END"
        )
        op.execute(
            f"CREATE TRIGGER new_buyer_line_on_purchase_update AFTER UPDATE OF {WATCHED} "
            "ON purchase WHEN OLD.customer_id IS NOT NEW.customer_id "
            "OR OLD.order_no IS NOT NEW.order_no OR OLD.delivered_at IS NOT NEW.delivered_at "
            "OR OLD.customer_tier IS NOT NEW.customer_tier "
            f"BEGIN DELETE FROM {TABLE} WHERE purchase_id = OLD.id; {_add_line('NEW')} END"
        )
        op.execute(
            "CREATE TRIGGER new_buyer_line_on_purchase_delete AFTER DELETE ON purchase "
            f"WHEN OLD.delivered_at IS NOT NULL "
            f"BEGIN DELETE FROM {TABLE} WHERE purchase_id = OLD.id; END"
        )
        op.execute(
            "CREATE TRIGGER new_buyer_line_on_callback_insert AFTER INSERT ON callback "
            f"WHEN {_is_new_buyer('NEW.source_key')} "
            f"BEGIN {_drop('NEW.source_key', False)} END"
        )
        op.execute(
            "CREATE TRIGGER new_buyer_line_on_callback_update AFTER UPDATE OF source_key "
            "ON callback WHEN OLD.source_key IS NOT NEW.source_key AND "
            f"({_is_new_buyer('OLD.source_key')} OR {_is_new_buyer('NEW.source_key')}) "
            f"BEGIN {_restore('OLD.source_key', False)} {_drop('NEW.source_key', False)} END"
        )
        op.execute(
            "CREATE TRIGGER new_buyer_line_on_callback_delete AFTER DELETE ON callback "
            f"WHEN {_is_new_buyer('OLD.source_key')} "
            f"BEGIN {_restore('OLD.source_key', False)} END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS new_buyer_line_of_purchase ON purchase')
        op.execute('DROP TRIGGER IF EXISTS new_buyer_line_of_callback ON callback')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_PURCHASE}()')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_CALLBACK}()')
    else:
        for name in ('purchase_insert', 'purchase_update', 'purchase_delete',
                     'callback_insert', 'callback_update', 'callback_delete'):  # fmt: skip
            op.execute(f'DROP TRIGGER IF EXISTS new_buyer_line_on_{name}')
    op.drop_index('ix_new_buyer_line_order_no', table_name=TABLE)
    op.drop_index('ix_new_buyer_line_tier_delivered', table_name=TABLE)
    op.drop_table(TABLE)
