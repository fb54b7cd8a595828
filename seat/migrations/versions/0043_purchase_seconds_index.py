"""the member report compares whole seconds, not texts (SQLite)

An index of each customer's purchases by their time in whole seconds since 1970, with the
amount: `ix_purchase_customer_second` on (customer_id, CAST(strftime('%s', substr(purchased_at,
1, 19)) AS INTEGER), amount). The member report (seat.reports.members) reads it in customer
order and compares each purchase's seconds with the months' edges as numbers, not the times
as texts; SQLite keeps it up to date on every insert, update and delete, so every writer
(imports, merges, the demo desk, the seat) keeps it. PostgreSQL compares its timestamps as
numbers already: nothing there.

Revision ID: 0043
Revises: 0041
Create Date: 2026-12-07 07:00:00.000000
"""

from alembic import op

revision = '0043'
down_revision = '0041'
branch_labels = None
depends_on = None

NAME = 'ix_purchase_customer_second'
SECONDS = "CAST(strftime('%s', substr(purchased_at, 1, 19)) AS INTEGER)"


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.execute(f'CREATE INDEX IF NOT EXISTS {NAME} ON purchase (customer_id, {SECONDS}, amount)')
    op.execute(f'ANALYZE "{NAME}"')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.execute(f'DROP INDEX IF EXISTS {NAME}')
