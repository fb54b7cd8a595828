"""purchase lines from imports, pinned tiers and dedicated owners

`seat purchases import` writes order lines: a line number (unique with the order number, so
importing the same file again finds the lines instead of doubling them), a category, a
quantity and a store. A period's buyers and spend are read from an index (the member report,
`seat members retier`). A customer's tier may be pinned by a supervisor (retier leaves it),
and a level-1 customer may have a dedicated owner who gets their callbacks first.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line_no', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('category', sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column('quantity', sa.Float(), nullable=False, server_default='1')
        )
        batch_op.add_column(sa.Column('store', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_purchase_order_no'), ['order_no', 'line_no']
        )
    op.create_index(
        'ix_purchase_at_customer', 'purchase', ['purchased_at', 'customer_id', 'amount'],
        unique=False,
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('tier_pinned', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_customer_owner_id_agent'), 'agent', ['owner_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customer_owner_id_agent'), type_='foreignkey')
        batch_op.drop_column('owner_id')
        batch_op.drop_column('tier_pinned')
    op.drop_index('ix_purchase_at_customer', table_name='purchase')
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_purchase_order_no'), type_='unique')
        batch_op.drop_column('store')
        batch_op.drop_column('quantity')
        batch_op.drop_column('category')
        batch_op.drop_column('line_no')
