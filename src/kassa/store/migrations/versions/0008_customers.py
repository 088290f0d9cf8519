"""customers, setup intents, mandates; payment methods keep their customer

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _owned(name: str, *extra) -> None:
    op.create_table(
        name,
        sa.Column('seq', Seq, autoincrement=True, nullable=False),
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.String(length=64), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        *extra,
        sa.Column('data', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('id'),
    )


def upgrade() -> None:
    _owned('customers',
           sa.Column('email', sa.String(length=512), nullable=True),
           sa.Column('name', sa.String(length=256), nullable=True),
           sa.Column('phone', sa.String(length=64), nullable=True),
           sa.Column('metadata', sa.JSON(), nullable=False),
           sa.Column('deleted', sa.Boolean(), nullable=False))
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_owner_seq', ['account_id', 'livemode', 'seq'], unique=False)
        batch_op.create_index('ix_customers_owner_email', ['account_id', 'livemode', 'email'], unique=False)

    _owned('setup_intents',
           sa.Column('status', sa.String(length=32), nullable=False),
           sa.Column('customer', sa.String(length=64), nullable=True),
           sa.Column('payment_method', sa.String(length=64), nullable=True))
    with op.batch_alter_table('setup_intents', schema=None) as batch_op:
        batch_op.create_index('ix_setup_intents_owner_seq', ['account_id', 'livemode', 'seq'], unique=False)

    _owned('mandates',
           sa.Column('payment_method', sa.String(length=64), nullable=False),
           sa.Column('status', sa.String(length=16), nullable=False))
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.create_index('ix_mandates_payment_method', ['payment_method'], unique=False)

    with op.batch_alter_table('payment_methods', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_payment_methods_customer', ['account_id', 'livemode', 'customer', 'seq'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payment_methods', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_methods_customer')
        batch_op.drop_column('customer')
    op.drop_table('mandates')
    op.drop_table('setup_intents')
    op.drop_table('customers')
