"""The PaymentIntent: its state and the rules that move it from one status to the next.

Every transition is a pure function ``(intent, command…, now) → (new intent, events)``; it never
does I/O and never mutates its input. Services load, call a transition, and store what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import money
from .errors import InvalidRequest
from .events import DomainEvent
from .ids import client_secret_for, new_id
from .metadata import apply_metadata

REQUIRES_PAYMENT_METHOD = "requires_payment_method"
REQUIRES_CONFIRMATION = "requires_confirmation"
REQUIRES_ACTION = "requires_action"
PROCESSING = "processing"
REQUIRES_CAPTURE = "requires_capture"
SUCCEEDED = "succeeded"
CANCELED = "canceled"

CANCELABLE = frozenset({REQUIRES_PAYMENT_METHOD, REQUIRES_CONFIRMATION, REQUIRES_ACTION, REQUIRES_CAPTURE})
UPDATABLE = frozenset({REQUIRES_PAYMENT_METHOD, REQUIRES_CONFIRMATION, REQUIRES_ACTION})

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CONFIRMATION_METHODS = ("automatic", "manual")
SETUP_FUTURE_USAGE = ("off_session", "on_session")
# Reasons a merchant may give; 'abandoned', 'automatic', 'failed_invoice', 'void_invoice' and
# 'expired' are set by the system.
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
SUPPORTED_METHOD_TYPES = ("amazon_pay",)


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    """Everything kassa knows of one PaymentIntent (the wire view is rendered from it)."""

    id: str
    livemode: bool
    amount: int
    currency: str
    created: int
    client_secret: str
    status: str = REQUIRES_PAYMENT_METHOD
    capture_method: str = "automatic_async"
    confirmation_method: str = "automatic"
    payment_method_types: tuple[str, ...] = ("amazon_pay",)
    automatic_payment_methods: dict | None = None
    payment_method_options: dict = field(default_factory=dict)
    payment_method: str | None = None
    description: str | None = None
    customer: str | None = None
    metadata: dict = field(default_factory=dict)
    receipt_email: str | None = None
    setup_future_usage: str | None = None
    shipping: dict | None = None
    statement_descriptor: str | None = None
    statement_descriptor_suffix: str | None = None
    transfer_group: str | None = None
    return_url: str | None = None
    amount_capturable: int = 0
    amount_received: int = 0
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    last_payment_error: dict | None = None
    latest_charge: str | None = None
    next_action: dict | None = None
    # Internal: when the sweep must act (end of the authorization window or of the capture hold).
    deadline: int | None = None

    def to_record(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PaymentIntent:
        record = dict(record)
        record["payment_method_types"] = tuple(record.get("payment_method_types") or ())
        return cls(**record)


@dataclass(frozen=True, slots=True)
class CreateIntent:
    """What a merchant may set when creating an intent (already parsed and typed)."""

    amount: int
    currency: str
    payment_method_types: tuple[str, ...] | None = None
    automatic_payment_methods: dict | None = None
    capture_method: str | None = None
    confirmation_method: str | None = None
    payment_method_options: dict | None = None
    description: str | None = None
    customer: str | None = None
    metadata: dict | None = None
    receipt_email: str | None = None
    setup_future_usage: str | None = None
    shipping: dict | None = None
    statement_descriptor: str | None = None
    statement_descriptor_suffix: str | None = None
    transfer_group: str | None = None
    return_url: str | None = None
    payment_method: str | None = None


def _snapshot(intent: PaymentIntent, names) -> dict:
    return {name: getattr(intent, name) for name in names}


def create(command: CreateIntent, *, livemode: bool, now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    """A new intent in ``requires_payment_method`` (or ``requires_confirmation`` with a method)."""
    money.validate_amount(command.amount, command.currency)
    method_types = _method_types(command.payment_method_types, command.automatic_payment_methods)
    if command.capture_method is not None:
        capture_method = command.capture_method
    else:
        capture_method = "automatic_async"
    intent_id = new_id("pi")
    intent = PaymentIntent(
        id=intent_id,
        livemode=livemode,
        amount=command.amount,
        currency=command.currency,
        created=now,
        client_secret=client_secret_for(intent_id),
        status=REQUIRES_CONFIRMATION if command.payment_method else REQUIRES_PAYMENT_METHOD,
        capture_method=capture_method,
        confirmation_method=command.confirmation_method or "automatic",
        payment_method_types=method_types,
        automatic_payment_methods=command.automatic_payment_methods,
        payment_method_options=_method_options(command.payment_method_options, method_types),
        payment_method=command.payment_method,
        description=command.description,
        customer=command.customer,
        metadata=dict(command.metadata or {}),
        receipt_email=command.receipt_email,
        setup_future_usage=command.setup_future_usage,
        shipping=command.shipping,
        statement_descriptor=command.statement_descriptor,
        statement_descriptor_suffix=command.statement_descriptor_suffix,
        transfer_group=command.transfer_group,
        return_url=command.return_url,
    )
    return intent, [DomainEvent("payment_intent.created", intent)]


def _method_types(requested: tuple[str, ...] | None, automatic: dict | None) -> tuple[str, ...]:
    if requested is not None and automatic and automatic.get("enabled"):
        raise InvalidRequest(
            "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
            param="payment_method_types")
    if requested is None:
        return SUPPORTED_METHOD_TYPES
    if not requested:
        raise InvalidRequest("payment_method_types must contain at least one payment method type.",
                             param="payment_method_types")
    for index, kind in enumerate(requested):
        if kind not in SUPPORTED_METHOD_TYPES:
            raise InvalidRequest(
                f"The payment method type provided: {kind[:60]} is invalid. This PaymentIntent can "
                f"only accept: {', '.join(SUPPORTED_METHOD_TYPES)}.",
                code="payment_intent_invalid_parameter", param=f"payment_method_types[{index}]")
    return tuple(dict.fromkeys(requested))


def _method_options(options: dict | None, method_types: tuple[str, ...]) -> dict:
    options = dict(options or {})
    for kind in options:
        if kind not in method_types:
            raise InvalidRequest(
                f"payment_method_options[{kind}] was given, but {kind} is not in this PaymentIntent's "
                "payment_method_types.", code="payment_intent_invalid_parameter",
                param=f"payment_method_options[{kind}]")
    return options


def effective_capture_method(intent: PaymentIntent, method_type: str = "amazon_pay") -> str:
    """Manual when the intent or its method's options ask for it; automatic otherwise."""
    option = (intent.payment_method_options.get(method_type) or {}).get("capture_method")
    if option:
        return option
    return "manual" if intent.capture_method == "manual" else "automatic"


@dataclass(frozen=True, slots=True)
class UpdateIntent:
    """Changes to an intent; only the fields present in the request are set (others: Ellipsis)."""

    changes: dict[str, Any]
    metadata: dict[str, str | None] | None = None  # metadata changes: None removes a key


def update(intent: PaymentIntent, command: UpdateIntent, *, now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    if intent.status not in UPDATABLE:
        raise InvalidRequest(
            f"This PaymentIntent's parameters cannot be updated because it has a status of {intent.status}. "
            f"You can only update a PaymentIntent with one of the following statuses: "
            f"{', '.join(sorted(UPDATABLE))}.",
            code="payment_intent_unexpected_state", extra={"payment_intent": intent.id})
    changes = dict(command.changes)
    if command.metadata is not None:
        changes["metadata"] = apply_metadata(intent.metadata, command.metadata)
    currency = changes.get("currency", intent.currency)
    amount = changes.get("amount", intent.amount)
    if "amount" in changes or "currency" in changes:
        money.validate_amount(amount, currency)
    if "payment_method_types" in changes:
        changes["payment_method_types"] = _method_types(changes["payment_method_types"], None)
        changes["automatic_payment_methods"] = None
    if "payment_method_options" in changes:
        types = changes.get("payment_method_types", intent.payment_method_types)
        merged = {**intent.payment_method_options, **(changes["payment_method_options"] or {})}
        changes["payment_method_options"] = _method_options(merged, types)
    if "payment_method" in changes and intent.status == REQUIRES_PAYMENT_METHOD and changes["payment_method"]:
        changes["status"] = REQUIRES_CONFIRMATION
    previous = _snapshot(intent, changes)
    changed = {key: value for key, value in changes.items() if previous[key] != value}
    if not changed:
        return intent, []
    # Stripe sends no event for a merchant's own update.
    return replace(intent, **changed), []


def cancel(intent: PaymentIntent, reason: str | None, *, now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    """Cancel from any status but ``processing``, ``succeeded`` and ``canceled``."""
    if intent.status not in CANCELABLE:
        raise InvalidRequest(
            f"You cannot cancel this PaymentIntent because it has a status of {intent.status}. Only a "
            "PaymentIntent with one of the following statuses may be canceled: "
            f"{', '.join(sorted(CANCELABLE))}.",
            code="payment_intent_unexpected_state", extra={"payment_intent": intent.id})
    changes = dict(status=CANCELED, canceled_at=now, cancellation_reason=reason, next_action=None,
                   amount_capturable=0, deadline=None)
    previous = _snapshot(intent, changes)
    canceled = replace(intent, **changes)
    return canceled, [DomainEvent("payment_intent.canceled", canceled, previous)]
