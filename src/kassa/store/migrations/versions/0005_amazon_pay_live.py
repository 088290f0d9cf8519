"""amazon pay live mode: account configuration, external ids of charges and refunds

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'amazon_pay_accounts',
        sa.Column('account_id', sa.String(length=64), nullable=False),
        sa.Column('merchant_id', sa.String(length=64), nullable=False),
        sa.Column('settings', sa.Text(), nullable=False),
        sa.Column('updated', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('account_id'),
    )
    with op.batch_alter_table('amazon_pay_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amazon_pay_accounts_merchant_id'), ['merchant_id'], unique=False)
    with op.batch_alter_table('authorizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charge_external_id', sa.String(length=255), nullable=True))
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_refunds_external_id', ['external_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index('ix_refunds_external_id')
        batch_op.drop_column('external_id')
    with op.batch_alter_table('authorizations', schema=None) as batch_op:
        batch_op.drop_column('charge_external_id')
    with op.batch_alter_table('amazon_pay_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amazon_pay_accounts_merchant_id'))
    op.drop_table('amazon_pay_accounts')
