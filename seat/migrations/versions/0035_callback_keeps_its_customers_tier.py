"""a callback keeps its customer's tier, kept right by triggers

The callbacks view counts the period's required callbacks per member tier: with the tier
on the callback (`callback.customer_tier`) and the index `ix_callback_tier_due` (tier, due
time, status) it reads the members' callbacks of the period from one index, instead of
looking up the customer of every callback of the period (about 54,000 a month at the
bench's size). Triggers keep the copy right on both databases: a callback made or moved to
another customer (a merge) takes its customer's tier, and a customer's new tier (re-tiering,
a pin, an import, a merge) goes to all of its callbacks. Nothing writes the column itself.

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

INDEX = 'ix_callback_tier_due'
PG_CALLBACK = 'seat_callback_customer_tier'
PG_CUSTOMER = 'seat_customer_tier_to_callbacks'
OF_CUSTOMER = '(SELECT tier FROM customer WHERE customer.id = NEW.customer_id)'


def upgrade() -> None:
    op.add_column('callback', sa.Column('customer_tier', sa.String(length=16), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {PG_CALLBACK}() RETURNS trigger AS $$
            BEGIN
                NEW.customer_tier := {OF_CUSTOMER};
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER callback_customer_tier BEFORE INSERT OR UPDATE OF customer_id, "
            f"customer_tier ON callback FOR EACH ROW EXECUTE FUNCTION {PG_CALLBACK}()"
        )
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {PG_CUSTOMER}() RETURNS trigger AS $$
            BEGIN
                UPDATE callback SET customer_tier = NEW.tier WHERE customer_id = NEW.id;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER customer_tier_to_callbacks AFTER UPDATE OF tier ON customer "
            "FOR EACH ROW WHEN (OLD.tier IS DISTINCT FROM NEW.tier) "
            f"EXECUTE FUNCTION {PG_CUSTOMER}()"
        )
    else:
        op.execute(
            "CREATE TRIGGER callback_customer_tier_on_insert AFTER INSERT ON callback "
            f"BEGIN UPDATE callback SET customer_tier = {OF_CUSTOMER} WHERE id = NEW.id; END"
        )
        # Also when anything else writes the column: it goes back to the customer's tier
        # (and that second update finds it right, so it stops there).
        op.execute(
            "CREATE TRIGGER callback_customer_tier_on_update "
            "AFTER UPDATE OF customer_id, customer_tier ON callback "
            f"WHEN NEW.customer_tier IS NOT {OF_CUSTOMER} "
            f"BEGIN UPDATE callback SET customer_tier = {OF_CUSTOMER} WHERE id = NEW.id; END"
        )
        op.execute(
            "CREATE TRIGGER customer_tier_to_callbacks AFTER UPDATE OF tier ON customer "
            "WHEN NEW.tier IS NOT OLD.tier "
            "BEGIN UPDATE callback SET customer_tier = NEW.tier WHERE customer_id = NEW.id; END"
        )
    op.execute(
        "UPDATE callback SET customer_tier = "
        "(SELECT tier FROM customer WHERE customer.id = callback.customer_id)"
    )
    op.create_index(INDEX, 'callback', ['customer_tier', 'due_at', 'status'], unique=False)
    if bind.dialect.name == 'sqlite' and bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).first():
        op.execute(f'ANALYZE {INDEX}')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS customer_tier_to_callbacks ON customer')
        op.execute('DROP TRIGGER IF EXISTS callback_customer_tier ON callback')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_CUSTOMER}()')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_CALLBACK}()')
    else:
        for name in ('customer_tier_to_callbacks', 'callback_customer_tier_on_update',
                     'callback_customer_tier_on_insert'):  # fmt: skip
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
    op.drop_index(INDEX, table_name='callback')
    op.drop_column('callback', 'customer_tier')
