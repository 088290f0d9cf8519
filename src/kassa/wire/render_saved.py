"""Customers, SetupIntents and mandates → Stripe JSON (registered with wire.render)."""

from __future__ import annotations

from typing import Any

from ..domain.customer import Customer
from ..domain.mandate import Mandate
from ..domain.setup_intent import SetupIntent
from ..services import client_secrets
from . import render

# What a publishable key with the client secret sees of a SetupIntent (Stripe's client-side view).
SETUP_PUBLISHABLE_FIELDS = (
    "id", "object", "automatic_payment_methods", "cancellation_reason", "client_secret", "created", "description",
    "last_setup_error", "livemode", "next_action", "payment_method", "payment_method_types", "status", "usage",
)


def customer(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id, "object": "customer", "address": c.address, "balance": 0, "created": c.created,
        "currency": None, "default_source": None, "delinquent": False, "description": c.description,
        "discount": None, "email": c.email, "invoice_prefix": c.invoice_prefix,
        "invoice_settings": {"custom_fields": None, "default_payment_method": c.default_payment_method,
                             "footer": None, "rendering_options": None},
        "livemode": c.livemode, "metadata": c.metadata, "name": c.name, "next_invoice_sequence": 1,
        "phone": c.phone, "preferred_locales": list(c.preferred_locales), "shipping": c.shipping,
        "tax_exempt": "none", "test_clock": None,
    }


def setup_intent(s: SetupIntent) -> dict[str, Any]:
    return {
        "id": s.id, "object": "setup_intent", "application": None, "automatic_payment_methods":
        s.automatic_payment_methods, "cancellation_reason": s.cancellation_reason,
        "client_secret": client_secrets.current().shown(s),
        "created": s.created, "customer": s.customer, "customer_account": None, "description": s.description,
        "excluded_payment_method_types": None, "flow_directions": None, "last_setup_error": s.last_setup_error,
        "latest_attempt": None, "livemode": s.livemode, "mandate": s.mandate, "metadata": s.metadata,
        "next_action": s.next_action, "on_behalf_of": None, "payment_method": s.payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": _setup_options(s), "payment_method_types": list(s.payment_method_types),
        "single_use_mandate": None, "status": s.status, "usage": s.usage,
    }


def _setup_options(s: SetupIntent) -> dict:
    options = dict(s.payment_method_options)
    if "card" in s.payment_method_types:
        options["card"] = {"mandate_options": None, "network": None,
                           "request_three_d_secure": "automatic", **(options.get("card") or {})}
    if "amazon_pay" in s.payment_method_types:
        options["amazon_pay"] = {}
    return options


def mandate(m: Mandate) -> dict[str, Any]:
    body = {
        "id": m.id, "object": "mandate", "customer_acceptance": m.customer_acceptance, "livemode": m.livemode,
        "on_behalf_of": None, "payment_method": m.payment_method,
        "payment_method_details": {"type": m.method_type, m.method_type: {}}, "status": m.status, "type": m.type,
    }
    if m.type == "multi_use":
        body["multi_use"] = {}
    else:
        body["single_use"] = {"amount": 0, "currency": "usd"}
    return body


def setup_publishable_view(full: dict[str, Any]) -> dict[str, Any]:
    return {name: full[name] for name in SETUP_PUBLISHABLE_FIELDS if name in full}


render.RENDERERS.update({Customer: customer, SetupIntent: setup_intent, Mandate: mandate})
