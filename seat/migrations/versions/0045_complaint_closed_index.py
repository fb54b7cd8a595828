"""the complaints closed in a period are read by their close

`ix_complaint_status_closed` on complaint (status, closed_at): the callbacks view and the
callback report find the complaints closed in their period (for the callbacks due after a
close) by a range of the index, not by reading every closed complaint ever (3,768 on the
bench desk, and more each day) for its close. Complaints are written a few times a day each:
one more index costs their writes little.

Revision ID: 0045
Revises: 0043
Create Date: 2026-12-07 09:40:00.000000
"""

from alembic import op

revision = '0045'
down_revision = '0043'
branch_labels = None
depends_on = None

NAME = 'ix_complaint_status_closed'


def upgrade() -> None:
    op.create_index(NAME, 'complaint', ['status', 'closed_at'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ANALYZE "{NAME}"')


def downgrade() -> None:
    op.drop_index(NAME, table_name='complaint')
