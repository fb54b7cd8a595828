"""callback zones: the customer's time zones kept on each callback (the sidebar's rest hours in SQL)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:00:00.000000
"""

from collections import Counter

import sqlalchemy as sa
from alembic import op

from seat.phone import zones_key

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

INDEX = ('ix_callback_owner_status_zones_due', ['owner_id', 'status', 'zones', 'due_at'])

# Each customer with callbacks and their first working number (seat.customers.zones_key).
_FIRST_NUMBERS = (
    "SELECT c.customer_id, (SELECT p.e164 FROM phone_number p"
    " WHERE p.customer_id = c.customer_id AND NOT p.wrong_number ORDER BY p.id LIMIT 1)"
    " FROM (SELECT DISTINCT customer_id FROM callback) c"
)


def upgrade() -> None:
    op.add_column('callback', sa.Column('zones', sa.String(), nullable=True))
    bind = op.get_bind()
    keys = {cid: zones_key(e164) for cid, e164 in bind.exec_driver_sql(_FIRST_NUMBERS)}
    if keys:
        # The usual key (the desk's own country) in one statement; the others per customer.
        usual = Counter(keys.values()).most_common(1)[0][0]
        others = [{'k': k, 'c': c} for c, k in keys.items() if k != usual]
        if others:
            bind.execute(
                sa.text('UPDATE callback SET zones = :k WHERE customer_id = :c'), others
            )
        bind.execute(
            sa.text('UPDATE callback SET zones = :k WHERE zones IS NULL'), {'k': usual}
        )
    op.create_index(INDEX[0], 'callback', INDEX[1], unique=False)
    if bind.dialect.name == 'sqlite' and bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).first():
        op.execute(f'ANALYZE {INDEX[0]}')


def downgrade() -> None:
    op.drop_index(INDEX[0], table_name='callback')
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_column('zones')
