"""drop ix_callback_kind_due: no statement reads it

`ix_callback_kind_due (kind, due_at)` is named by no code and chosen by no plan: every
statement that filters callbacks by kind also names a customer, a complaint or a work
order (their indexes lead), or is served by `ix_callback_kind_owner_status_due`, which
leads with the kind too. The day's callback rules write some 4,000 callbacks into that
table: each index is one more random leaf page per row to write.

Revision ID: 0041
Revises: 0039
Create Date: 2026-12-07 06:30:00.000000
"""

from alembic import op

revision = '0041'
down_revision = '0039'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_callback_kind_due', table_name='callback')


def downgrade() -> None:
    op.create_index('ix_callback_kind_due', 'callback', ['kind', 'due_at'], unique=False)
