"""Objects → Stripe JSON: the full view, the publishable-key view, and ``expand[]``."""

from __future__ import annotations

from typing import Any

from ..domain.charge import Charge
from ..domain.payment_intent import PaymentIntent
from ..domain.payment_method import PaymentMethod
from ..domain.refund import Refund
from ..services import client_secrets

# Stripe's payment_intent fields, in its order. Not implemented (and so not rendered, see
# docs/compatibility.md): amount_details, hooks, managed_payments, payment_details,
# presentment_details, payment_record, allowed_payment_method_types.
# What a publishable key sees of an intent (Stripe's client-side view).
PUBLISHABLE_FIELDS = (
    "id", "object", "amount", "automatic_payment_methods", "canceled_at", "cancellation_reason",
    "capture_method", "client_secret", "confirmation_method", "created", "currency", "description",
    "last_payment_error", "livemode", "next_action", "payment_method", "payment_method_types",
    "processing", "receipt_email", "setup_future_usage", "shipping", "status",
)


def payment_intent(intent: PaymentIntent) -> dict[str, Any]:
    """The full (secret-key) view of an intent."""
    return {
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": intent.amount_capturable,
        "amount_received": intent.amount_received,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": intent.automatic_payment_methods,
        "canceled_at": intent.canceled_at,
        "cancellation_reason": intent.cancellation_reason,
        "capture_method": intent.capture_method,
        "client_secret": client_secrets.current().shown(intent),
        "confirmation_method": intent.confirmation_method,
        "created": intent.created,
        "currency": intent.currency,
        "customer": intent.customer,
        "customer_account": None,
        "description": intent.description,
        "excluded_payment_method_types": None,
        "last_payment_error": intent.last_payment_error,
        "latest_charge": intent.latest_charge,
        "livemode": intent.livemode,
        "metadata": intent.metadata,
        "next_action": intent.next_action,
        "on_behalf_of": None,
        "payment_method": intent.payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": intent.payment_method_options,
        "payment_method_types": list(intent.payment_method_types),
        "processing": None,
        "receipt_email": intent.receipt_email,
        "review": None,
        "setup_future_usage": intent.setup_future_usage,
        "shipping": intent.shipping,
        "source": None,
        "statement_descriptor": intent.statement_descriptor,
        "statement_descriptor_suffix": intent.statement_descriptor_suffix,
        "status": intent.status,
        "transfer_data": None,
        "transfer_group": intent.transfer_group,
    }


def publishable_view(full: dict[str, Any]) -> dict[str, Any]:
    """The reduced view a publishable key with the right client secret gets."""
    return {name: full[name] for name in PUBLISHABLE_FIELDS if name in full}


def previous_attributes(previous: dict[str, Any]) -> dict[str, Any]:
    """Changed attributes as they looked on the wire before; internal fields are left out."""
    wire = {}
    for name, value in previous.items():
        if name in ("deadline", "attempt", "return_url", "settle_at", "released", "transaction_id", "test_card",
                    "method_type", "method_details", "set_up", "detached", "mandate_data", "external_id",
                    "deleted"):
            continue
        wire[name] = list(value) if isinstance(value, tuple) else value
    return wire


def payment_method(method: PaymentMethod) -> dict[str, Any]:
    body = {
        "id": method.id,
        "object": "payment_method",
        "allow_redisplay": method.allow_redisplay,
        "billing_details": method.billing_details,
        "created": method.created,
        "customer": method.customer,
        "livemode": method.livemode,
        "metadata": method.metadata,
        "type": method.type,
    }
    if method.type == "card":
        body["card"] = method.card
        body["radar_options"] = {}
    else:
        body["amazon_pay"] = {}
    return body


_AMAZON_PAY_OUTCOME = {"network_status": "approved_by_network", "reason": None, "risk_level": "not_assessed",
                       "seller_message": "Payment complete.", "type": "authorized"}


def _method_details(ch: Charge) -> dict[str, Any]:
    if ch.method_type == "card":
        return {"type": "card", "card": ch.method_details}
    return {"type": "amazon_pay", "amazon_pay": {"funding": None, "transaction_id": ch.transaction_id}}


def charge(ch: Charge) -> dict[str, Any]:
    return {
        "id": ch.id,
        "object": "charge",
        "amount": ch.amount,
        "amount_captured": ch.amount_captured,
        "amount_refunded": ch.amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": ch.billing_details,
        "calculated_statement_descriptor": ch.statement_descriptor or "KASSA",
        "captured": ch.captured,
        "created": ch.created,
        "currency": ch.currency,
        "customer": ch.customer,
        "description": ch.description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": ch.failure_code,
        "failure_message": ch.failure_message,
        "fraud_details": {},
        "livemode": ch.livemode,
        "metadata": ch.metadata,
        "on_behalf_of": None,
        "outcome": ch.outcome or _AMAZON_PAY_OUTCOME,
        "paid": ch.status == "succeeded",
        "payment_intent": ch.payment_intent,
        "payment_method": ch.payment_method,
        "payment_method_details": _method_details(ch),
        "receipt_email": ch.receipt_email,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": ch.refunded,
        "review": None,
        "shipping": ch.shipping,
        "source_transfer": None,
        "statement_descriptor": ch.statement_descriptor,
        "statement_descriptor_suffix": None,
        "status": ch.status,
        "transfer_data": None,
        "transfer_group": None,
    }


def refund(re: Refund) -> dict[str, Any]:
    return {
        "id": re.id,
        "object": "refund",
        "amount": re.amount,
        "balance_transaction": None,
        "charge": re.charge,
        "created": re.created,
        "currency": re.currency,
        "description": None,
        "failure_reason": re.failure_reason,
        "metadata": re.metadata,
        "payment_intent": re.payment_intent,
        "reason": re.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": re.status,
        "transfer_reversal": None,
    }


RENDERERS = {PaymentIntent: payment_intent, PaymentMethod: payment_method, Charge: charge, Refund: refund}


def render(obj) -> dict[str, Any]:
    """The full Stripe JSON of any domain object kassa knows."""
    return RENDERERS[type(obj)](obj)
