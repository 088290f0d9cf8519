"""payment intents found fast by receipt email and by customer (the Dashboard's search, listing a
customer's payments): a column of the lowercased receipt email, and partial indexes that hold only
the intents that have one

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payment_intents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_email', sa.String(length=512), nullable=True))
    dialect = op.get_bind().dialect.name
    email = "json_extract(data, '$.receipt_email')" if dialect == "sqlite" else "(data::jsonb ->> 'receipt_email')"
    op.execute(f"UPDATE payment_intents SET receipt_email = lower({email}) WHERE {email} IS NOT NULL")
    op.create_index('ix_payment_intents_owner_email', 'payment_intents', ['account_id', 'livemode', 'receipt_email'],
                    unique=False, sqlite_where=sa.text('receipt_email IS NOT NULL'),
                    postgresql_where=sa.text('receipt_email IS NOT NULL'))
    op.create_index('ix_payment_intents_owner_customer', 'payment_intents', ['account_id', 'livemode', 'customer',
                                                                              'seq'],
                    unique=False, sqlite_where=sa.text('customer IS NOT NULL'),
                    postgresql_where=sa.text('customer IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_payment_intents_owner_customer', table_name='payment_intents')
    op.drop_index('ix_payment_intents_owner_email', table_name='payment_intents')
    with op.batch_alter_table('payment_intents', schema=None) as batch_op:
        batch_op.drop_column('receipt_email')
