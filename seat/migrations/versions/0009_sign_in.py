"""sign-in: agents' password hashes, lockout, script tokens, and the sign-in history

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 02:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLE = 'sign_in_event'
PG_FUNCTION = 'seat_refuse_history_change'  # made by migration 0006


def upgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column('failed_sign_ins', sa.Integer(), nullable=False, server_default='0')
        )
        batch_op.add_column(
            sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column('token_hash', sa.String(length=200), nullable=True))
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('login', sa.String(length=64), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=24), nullable=False),
        sa.Column('via', sa.String(length=64), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=True),
        sa.Column('hash', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_sign_in_event_agent_id_agent')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_event')),
    )
    op.create_index(op.f('ix_sign_in_event_login'), TABLE, ['login'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
        )
    else:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {verb} refused'); END"
            )


def downgrade() -> None:
    op.drop_index(op.f('ix_sign_in_event_login'), table_name=TABLE)
    op.drop_table(TABLE)
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_column('token_hash')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_sign_ins')
        batch_op.drop_column('password_hash')
