"""processor requests: every outward money call recorded before it is sent

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'processor_requests',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.String(length=64), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('object_id', sa.String(length=64), nullable=False),
        sa.Column('external_id', sa.String(length=255), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.Column('next_try_at', sa.BigInteger(), nullable=False),
        sa.Column('detail', sa.String(length=64), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('processor_requests', schema=None) as batch_op:
        batch_op.create_index('ix_processor_requests_due', ['status', 'next_try_at'], unique=False)
        batch_op.create_index('ix_processor_requests_object', ['object_id', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('processor_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_processor_requests_object')
        batch_op.drop_index('ix_processor_requests_due')
    op.drop_table('processor_requests')
