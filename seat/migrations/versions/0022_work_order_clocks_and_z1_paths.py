"""work-order clocks (on site by zone, reply after the job, weekly follow-ups) and the Z1 paths

Work orders gain the service zone and the three clocks' times, the follow-up count and the
head-office flag. Existing orders keep their history: a service request already past its
creation went through a supervisor under the old flow, so it stays on the head-office path
(orders waiting for approval are approved or not as before); an order priced by head office
is on that path too. Unfinished orders from before are followed up a week after they were
created; no on-site promise is invented for them.

Revision ID: 0022
Revises: 0025
Create Date: 2026-12-06 14:00:00.000000
"""

from datetime import timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0022'
down_revision = '0025'
branch_labels = None
depends_on = None

UNFINISHED = ('created', 'survey_done', 'approved', 'not_approved', 'replied', 'replied_sales')


def upgrade() -> None:
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hq_involved', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('service_zone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('on_site_due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('on_site_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('reply_due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('replied_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('follow_up_due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('follow_ups', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_work_order_on_site_due', ['on_site_at', 'on_site_due_at', 'assignee_id'], unique=False)
        batch_op.create_index('ix_work_order_reply_due', ['replied_at', 'reply_due_at', 'assignee_id'], unique=False)
        batch_op.create_index('ix_work_order_follow_up_due', ['follow_up_due_at', 'assignee_id'], unique=False)
    op.execute(
        "UPDATE work_order SET hq_involved = true "
        "WHERE (kind = 'service_request' AND status <> 'created') OR quote_needs_hq = true"
    )
    wo = sa.table(
        'work_order',
        sa.column('id', sa.Integer()),
        sa.column('status', sa.String()),
        sa.column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column('follow_up_due_at', sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(wo.c.id, wo.c.created_at).where(wo.c.status.in_(UNFINISHED))).all()
    for wo_id, created_at in rows:
        bind.execute(
            wo.update().where(wo.c.id == wo_id).values(follow_up_due_at=created_at + timedelta(days=7))
        )


def downgrade() -> None:
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_index('ix_work_order_follow_up_due')
        batch_op.drop_index('ix_work_order_reply_due')
        batch_op.drop_index('ix_work_order_on_site_due')
        batch_op.drop_column('follow_ups')
        batch_op.drop_column('follow_up_due_at')
        batch_op.drop_column('replied_at')
        batch_op.drop_column('reply_due_at')
        batch_op.drop_column('done_at')
        batch_op.drop_column('on_site_at')
        batch_op.drop_column('on_site_due_at')
        batch_op.drop_column('service_zone')
        batch_op.drop_column('hq_involved')
