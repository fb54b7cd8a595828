"""callbacks and purchases keep their customer's tier, kept right by triggers

The callbacks view counts, per member tier, the period's required callbacks and the orders
delivered without a new-buyer callback: with the tier on the row (`customer_tier`) and an
index led by it (`ix_callback_tier_due`: tier, due time, status; `ix_purchase_tier_delivered`:
tier, delivery, customer, order) it reads the members' rows of the period from one index,
instead of looking up the customer of every callback and order line of the period (about
54,000 and 34,000 a month at the bench's size).

Triggers keep the copy right on both databases: a row moved to another customer (a merge)
takes its customer's tier, a customer's new tier (re-tiering, a pin) goes to all of its
callbacks and purchases, and whatever writes the column, the customer's tier is put back.
A new row: PostgreSQL sets it before the insert. SQLite cannot change a row before it is
written, and a trigger after every insert costs each INSERT a statement journal (about
three times the CPU of a callback's insert here): there the code writes the tier with the
row (seat.models fills it for the ORM; the rules, the seed and the purchase import with
their rows) and a row written without it (NULL) is looked up when read.

Revision ID: 0035
Revises: 0032
Create Date: 2026-12-07 00:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0035'
down_revision = '0032'
branch_labels = None
depends_on = None

INDEXES = (
    ('callback', 'ix_callback_tier_due', ['customer_tier', 'due_at', 'status']),
    ('purchase', 'ix_purchase_tier_delivered',
     ['customer_tier', 'delivered_at', 'customer_id', 'order_no']),
)  # fmt: skip
TABLES = tuple(table for table, __, __ in INDEXES)
PG_ROW = 'seat_{table}_customer_tier'
PG_CUSTOMER = 'seat_customer_tier_to_rows'
OF_CUSTOMER = '(SELECT tier FROM customer WHERE customer.id = NEW.customer_id)'


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        op.add_column(table, sa.Column('customer_tier', sa.String(length=16), nullable=True))
    # Filled before the triggers exist: with them, each of the millions of rows updated
    # would run its row trigger too (minutes on PostgreSQL at 2,000,000 purchase lines).
    for table in TABLES:
        op.execute(
            f"UPDATE {table} SET customer_tier = "
            f"(SELECT tier FROM customer WHERE customer.id = {table}.customer_id)"
        )
    if bind.dialect.name == 'postgresql':
        for table in TABLES:
            function = PG_ROW.format(table=table)
            op.execute(
                f"""
                CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
                BEGIN
                    NEW.customer_tier := {OF_CUSTOMER};
                    RETURN NEW;
                END;
                $$ LANGUAGE plpgsql
                """
            )
            op.execute(
                f"CREATE TRIGGER {table}_customer_tier BEFORE INSERT OR UPDATE OF "
                f"customer_id, customer_tier ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION {function}()"
            )
        updates = "".join(
            f"UPDATE {table} SET customer_tier = NEW.tier WHERE customer_id = NEW.id;"
            for table in TABLES
        )
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {PG_CUSTOMER}() RETURNS trigger AS $$
            BEGIN
                {updates}
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER customer_tier_to_rows AFTER UPDATE OF tier ON customer "
            "FOR EACH ROW WHEN (OLD.tier IS DISTINCT FROM NEW.tier) "
            f"EXECUTE FUNCTION {PG_CUSTOMER}()"
        )
    else:
        for table in TABLES:
            # Moved to another customer, or the column written: back to the customer's
            # tier (and that second update finds it right, so it stops there).
            fix = f"UPDATE {table} SET customer_tier = {OF_CUSTOMER} WHERE id = NEW.id"
            op.execute(
                f"CREATE TRIGGER {table}_customer_tier_on_update "
                f"AFTER UPDATE OF customer_id, customer_tier ON {table} "
                f"WHEN NEW.customer_tier IS NOT {OF_CUSTOMER} BEGIN {fix}; END"
            )
        updates = "".join(
            f"UPDATE {table} SET customer_tier = NEW.tier WHERE customer_id = NEW.id;"
            for table in TABLES
        )
        op.execute(
            "CREATE TRIGGER customer_tier_to_rows AFTER UPDATE OF tier ON customer "
            f"WHEN NEW.tier IS NOT OLD.tier BEGIN {updates} END"
        )
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    if bind.dialect.name == 'sqlite' and bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).first():
        for __, name, __ in INDEXES:
            op.execute(f'ANALYZE {name}')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS customer_tier_to_rows ON customer')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_CUSTOMER}()')
        for table in TABLES:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_customer_tier ON {table}')
            op.execute(f'DROP FUNCTION IF EXISTS {PG_ROW.format(table=table)}()')
    else:
        op.execute('DROP TRIGGER IF EXISTS customer_tier_to_rows')
        for table in TABLES:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_customer_tier_on_update')
    for table, name, __ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
        op.drop_column(table, 'customer_tier')
