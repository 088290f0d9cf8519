"""key rotation: when an API key stops working, and when it was last used

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('last_used', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_api_keys_account', ['account_id', 'livemode', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_api_keys_account')
        batch_op.drop_column('last_used')
        batch_op.drop_column('expires_at')
