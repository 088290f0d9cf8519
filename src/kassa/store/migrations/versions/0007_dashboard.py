"""dashboard: users, sessions (hashed tokens), sign-in throttling, audit log, API request logs

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'dashboard_users',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('account_id', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email'),
    )
    with op.batch_alter_table('dashboard_users', schema=None) as batch_op:
        batch_op.create_index('ix_dashboard_users_account', ['account_id'], unique=False)

    op.create_table(
        'dashboard_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.Column('last_seen', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_dashboard_sessions_user', ['user_id'], unique=False)

    op.create_table(
        'sign_in_failures',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failed', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )

    op.create_table(
        'dashboard_audit',
        sa.Column('seq', Seq, autoincrement=True, nullable=False),
        sa.Column('account_id', sa.String(length=64), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.Column('user_email', sa.String(length=254), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('object_id', sa.String(length=64), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
    )
    with op.batch_alter_table('dashboard_audit', schema=None) as batch_op:
        batch_op.create_index('ix_dashboard_audit_object', ['object_id', 'seq'], unique=False)
        batch_op.create_index('ix_dashboard_audit_owner_seq', ['account_id', 'livemode', 'seq'], unique=False)

    op.create_table(
        'api_request_logs',
        sa.Column('seq', Seq, autoincrement=True, nullable=False),
        sa.Column('account_id', sa.String(length=64), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('created', sa.Float(), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('duration_ms', sa.Float(), nullable=False),
        sa.Column('request_id', sa.String(length=64), nullable=False),
        sa.Column('idempotency_key', sa.String(length=255), nullable=True),
        sa.Column('error_type', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('seq'),
    )
    with op.batch_alter_table('api_request_logs', schema=None) as batch_op:
        batch_op.create_index('ix_api_request_logs_owner_seq', ['account_id', 'livemode', 'seq'], unique=False)
    # The Dashboard's Payments list filtered by status, and a payment's timeline (events since it was made).
    with op.batch_alter_table('payment_intents', schema=None) as batch_op:
        batch_op.create_index('ix_payment_intents_owner_status_seq', ['account_id', 'livemode', 'status', 'seq'],
                              unique=False)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_owner_created', ['account_id', 'livemode', 'created'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_owner_created')
    with op.batch_alter_table('payment_intents', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_intents_owner_status_seq')
    with op.batch_alter_table('api_request_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_api_request_logs_owner_seq')
    op.drop_table('api_request_logs')
    with op.batch_alter_table('dashboard_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_dashboard_audit_owner_seq')
        batch_op.drop_index('ix_dashboard_audit_object')
    op.drop_table('dashboard_audit')
    op.drop_table('sign_in_failures')
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_dashboard_sessions_user')
    op.drop_table('dashboard_sessions')
    with op.batch_alter_table('dashboard_users', schema=None) as batch_op:
        batch_op.drop_index('ix_dashboard_users_account')
    op.drop_table('dashboard_users')
