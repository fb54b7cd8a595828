"""case library: closed complaints a supervisor marked as models, with the agreed solution

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 14:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'model_case',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('solution', sa.String(length=5000), nullable=False),
        sa.Column('marked_by_id', sa.Integer(), nullable=False),
        sa.Column('marked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'],
                                name=op.f('fk_model_case_complaint_id_complaint')),
        sa.ForeignKeyConstraint(['marked_by_id'], ['agent.id'],
                                name=op.f('fk_model_case_marked_by_id_agent')),
        sa.PrimaryKeyConstraint('complaint_id', name=op.f('pk_model_case')),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table('model_case')
