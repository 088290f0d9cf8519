"""The schema, as SQLAlchemy Core tables. Migrations (Alembic) are written against it.

Objects are kept as their full JSON document in `data`, beside the columns that lookups, lists,
search and background sweeps need. `seq` orders lists (newest first) and cursors.
"""

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Float, Index, Integer, LargeBinary, MetaData,
                        String, Table, Text, text)

metadata = MetaData()

# SQLite needs INTEGER PRIMARY KEY for an alias of rowid; PostgreSQL wants a 64-bit identity.
Seq = BigInteger().with_variant(Integer(), "sqlite")

def owned(name: str, *extra) -> Table:
    """A table of an account's objects: `seq` (list order and cursors), the object's `id`, its
    owner and mode, when it was created, its JSON `data`, and the table's own columns and indexes."""
    return Table(
        name, metadata,
        Column("seq", Seq, primary_key=True, autoincrement=True),
        Column("id", String(64), nullable=False, unique=True),
        Column("account_id", String(64), nullable=False),
        Column("livemode", Boolean, nullable=False),
        Column("created", BigInteger, nullable=False),
        *extra,
        Column("data", Text, nullable=False),
    )


accounts = Table(
    "accounts", metadata,
    Column("id", String(64), primary_key=True),
    Column("country", String(2), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("amazon_pay_enabled", Boolean, nullable=False, server_default=text("true")),
    Column("test_clock_offset", BigInteger, nullable=False, server_default=text("0")),
)

api_keys = Table(
    "api_keys", metadata,
    Column("key_hash", LargeBinary(32), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("kind", String(16), nullable=False),  # 'secret' | 'publishable'
    Column("redacted", String(64), nullable=False),  # 'sk_test_…abcd', for display only
    Column("created", BigInteger, nullable=False),
    Column("expires_at", BigInteger),  # a rolled key works until then (None: until rolled)
    Column("last_used", BigInteger),  # written at most once a minute per process
    Index("ix_api_keys_account", "account_id", "livemode", "kind"),
)

payment_intents = owned(
    "payment_intents",
    Column("status", String(32), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("customer", String(64)),
    Column("metadata", JSON, nullable=False),
    Column("deadline", BigInteger),  # when the sweep must act (authorization window, capture hold)
    Column("receipt_email", String(512)),  # lowercased: found by email (migration 0011)
    Index("ix_payment_intents_owner_seq", "account_id", "livemode", "seq"),
    Index("ix_payment_intents_deadline", "deadline"),
    Index("ix_payment_intents_owner_email", "account_id", "livemode", "receipt_email",
          sqlite_where=text("receipt_email IS NOT NULL"), postgresql_where=text("receipt_email IS NOT NULL")),
    Index("ix_payment_intents_owner_customer", "account_id", "livemode", "customer", "seq",
          sqlite_where=text("customer IS NOT NULL"), postgresql_where=text("customer IS NOT NULL")),
)

events = owned(
    "events",
    Column("type", String(64), nullable=False),
    Index("ix_events_owner_seq", "account_id", "livemode", "seq"),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("livemode", Boolean, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
    Index("ix_idempotency_keys_created", "created"),
)

payment_methods = owned(
    "payment_methods",
    Column("customer", String(64)),  # the Customer it is attached to (migration 0008)
    Index("ix_payment_methods_customer", "account_id", "livemode", "customer", "seq"),
)

charges = owned(
    "charges",
    Column("payment_intent", String(64), nullable=False),
    Index("ix_charges_owner_seq", "account_id", "livemode", "seq"),
    Index("ix_charges_payment_intent", "payment_intent"),
)

refunds = owned(
    "refunds",
    Column("payment_intent", String(64), nullable=False),
    Column("charge", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("settle_at", BigInteger),  # when the worker asks Amazon Pay (test mode: settles)
    Column("external_id", String(255)),  # live mode: Amazon Pay's refundId
    Index("ix_refunds_owner_seq", "account_id", "livemode", "seq"),
    Index("ix_refunds_external_id", "external_id"),
    Index("ix_refunds_charge", "charge"),
    Index("ix_refunds_payment_intent", "payment_intent"),
    Index("ix_refunds_settle_at", "settle_at"),
)

# One redirect attempt of a PaymentIntent: the hosted page's one-time token (stored hashed),
# its deadline and its outcome, so that a reload or a second click changes nothing twice.
authorizations = Table(
    "authorizations", metadata,
    Column("id", String(64), primary_key=True),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("account_id", String(64), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("payment_intent", String(64), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("deadline", BigInteger, nullable=False),
    Column("return_url", Text, nullable=False),
    Column("outcome", String(16)),  # None while open; 'succeeded' | 'failed' | 'expired' | 'canceled'
    Column("external_id", String(255)),  # the live connector's checkout session id
    Column("charge_external_id", String(255)),  # live mode: Amazon Pay's chargeId, once there is one
)

# An outward money call (capture, release, completing a checkout, giving an authorization back),
# written before it is sent with the processor's idempotency key fixed by `id`; `status` stays
# 'pending' until its answer is applied, and the sweep sends it again (or asks) from `next_try_at`.
processor_requests = Table(
    "processor_requests", metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("kind", String(16), nullable=False),  # 'capture' | 'release' | 'complete' | 'reverse'
    Column("object_id", String(64), nullable=False),  # the intent (capture, release) or the attempt
    Column("external_id", String(255), nullable=False),  # the processor's charge or checkout session
    Column("amount", BigInteger),
    Column("currency", String(3)),
    Column("status", String(16), nullable=False),  # 'pending' | 'done' | 'failed'
    Column("created", BigInteger, nullable=False),
    Column("next_try_at", BigInteger, nullable=False),
    Column("detail", String(64)),  # what the kind needs besides: a cancellation reason, refund or release
    Column("last_error", Text),
    Index("ix_processor_requests_due", "status", "next_try_at"),
    Index("ix_processor_requests_object", "object_id", "kind"),
)

# An account's live Amazon Pay configuration (methods.amazon_pay.config.LiveConfig.to_stored():
# a private key only encrypted, or the path of its file).
amazon_pay_accounts = Table(
    "amazon_pay_accounts", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False, index=True),
    Column("settings", Text, nullable=False),
    Column("updated", BigInteger, nullable=False),
)

webhook_endpoints = owned(
    "webhook_endpoints",
    Column("status", String(16), nullable=False),  # 'enabled' | 'disabled'
    # The signing secret must stay usable to sign every delivery, so it is kept (not hashed);
    # the API shows it only in the answer to create.
    Column("secret", String(128), nullable=False),
    Index("ix_webhook_endpoints_owner_seq", "account_id", "livemode", "seq"),
)

# The outbox: one row per (event, endpoint), written in the same transaction as the event.
webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("event_id", String(64), nullable=False),
    Column("endpoint_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # 'pending' | 'succeeded' | 'failed'
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", Float, nullable=False),  # unix time, fractional
    Column("lease_until", Float),  # a worker's claim; an expired lease is claimed again
    Column("last_status", Integer),
    Column("last_error", Text),
    # What is due, per endpoint: claims walk one endpoint's queue at a time, in order.
    Index("ix_webhook_deliveries_endpoint_due", "endpoint_id", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_pending", "status", "endpoint_id", "next_attempt_at"),
    Index("ix_webhook_deliveries_event", "event_id"),
)

webhook_attempts = Table(
    "webhook_attempts", metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("delivery_id", String(64), nullable=False),
    Column("attempted_at", Float, nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Float, nullable=False),
    Column("error", Text),
    Index("ix_webhook_attempts_delivery", "delivery_id"),
)

# Customers, SetupIntents and mandates (migration 0008).
customers = owned(
    "customers",
    Column("email", String(512)),
    Column("name", String(256)),
    Column("phone", String(64)),
    Column("metadata", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Index("ix_customers_owner_seq", "account_id", "livemode", "seq"),
    Index("ix_customers_owner_email", "account_id", "livemode", "email"),
)

setup_intents = owned(
    "setup_intents",
    Column("status", String(32), nullable=False),
    Column("customer", String(64)),
    Column("payment_method", String(64)),
    Index("ix_setup_intents_owner_seq", "account_id", "livemode", "seq"),
)

mandates = owned(
    "mandates",
    Column("payment_method", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("external_id", String(255)),  # live Amazon Pay: the Charge Permission (migration 0010)
    Index("ix_mandates_payment_method", "payment_method"),
    Index("ix_mandates_external_id", "external_id"),
)

# The Dashboard (migration 0007): its users, their sessions (only a hash of the cookie's token is
# kept), failed sign-ins per email and per address, the audit log of its actions, and the API's
# recent requests shown under Developers → Logs.
dashboard_users = Table(
    "dashboard_users", metadata,
    Column("id", String(64), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("account_id", String(64), nullable=False),
    Column("role", String(16), nullable=False),  # 'admin' | 'viewer'
    Column("password_hash", String(255), nullable=False),  # Argon2id, PHC string
    Column("created", BigInteger, nullable=False),
    Index("ix_dashboard_users_account", "account_id"),
)

dashboard_sessions = Table(
    "dashboard_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex of the cookie's token
    Column("user_id", String(64), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Index("ix_dashboard_sessions_user", "user_id"),
)

sign_in_failures = Table(
    "sign_in_failures", metadata,
    Column("key", String(300), primary_key=True),  # 'email:…' | 'address:…'
    Column("failures", Integer, nullable=False),
    Column("last_failed", Float, nullable=False),
)

dashboard_audit = Table(
    "dashboard_audit", metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("user_email", String(254), nullable=False),
    Column("action", String(64), nullable=False),  # 'refund' | 'capture' | 'cancel' | 'webhook.resend' | …
    Column("object_id", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("outcome", String(16), nullable=False),  # 'done' | 'refused'
    Index("ix_dashboard_audit_object", "object_id", "seq"),
    Index("ix_dashboard_audit_owner_seq", "account_id", "livemode", "seq"),
)

api_request_logs = Table(
    "api_request_logs", metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("created", Float, nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(500), nullable=False),
    Column("status", Integer, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("idempotency_key", String(255)),
    Column("error_type", String(64)),
    Index("ix_api_request_logs_owner_seq", "account_id", "livemode", "seq"),
)

# The deployment's own secrets, made by the migrations (0012: the key client secrets are derived
# from when KASSA_CLIENT_SECRETS_KEY is not set).
deployment_secrets = Table(
    "deployment_secrets", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

# The Dashboard's Payments list filtered by status, and a payment's timeline (events since it was made).
Index("ix_payment_intents_owner_status_seq", payment_intents.c.account_id, payment_intents.c.livemode,
      payment_intents.c.status, payment_intents.c.seq)
Index("ix_events_owner_created", events.c.account_id, events.c.livemode, events.c.created)
