"""the deployment's own secrets: a key that client secrets are derived from when
KASSA_CLIENT_SECRETS_KEY is not set (made once, here, for the database's whole life)

Revision ID: 0012
Revises: 0011
"""

import secrets

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'deployment_secrets',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.bulk_insert(table, [{'name': 'client_secrets', 'value': secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table('deployment_secrets')
