"""mandates keep the processor's permission they stand for (live Amazon Pay's Charge Permission)

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_mandates_external_id', ['external_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.drop_index('ix_mandates_external_id')
        batch_op.drop_column('external_id')
