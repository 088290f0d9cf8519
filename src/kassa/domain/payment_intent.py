"""The PaymentIntent: its state and the rules that move it from one status to the next.

Every transition is a pure function ``(intent, command…, now) → (new intent, events)``; it never
does I/O and never mutates its input. Services load, call a transition, and store what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import money
from .errors import InvalidRequest
from .events import DomainEvent
from .ids import new_id
from .metadata import apply_metadata
from . import payment_method_types as offer
from .records import Records, quick_init

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
SUPPORTED_METHOD_TYPES = offer.SUPPORTED


@quick_init
@dataclass(frozen=True, slots=True)
class PaymentIntent:
    """Everything kassa knows of one PaymentIntent (the wire view is rendered from it)."""

    id: str
    livemode: bool
    amount: int
    currency: str
    created: int
    client_secret: str | None  # None: derived, never stored (see client_secrets); else one of before
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
    # Internal: when the sweep must act (end of the authorization window or of the capture hold),
    # and the id of the current redirect attempt.
    deadline: int | None = None
    attempt: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PaymentIntent:
        return _RECORDS.build({**record, "payment_method_types": tuple(record.get("payment_method_types") or ())})


_RECORDS = Records(PaymentIntent)


@quick_init
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


def _transition(intent: PaymentIntent, event_type: str | None, **changes) -> tuple[PaymentIntent, list[DomainEvent]]:
    """Apply `changes`; the event's previous_attributes hold only what really changed."""
    previous = {name: old for name, value in changes.items() if (old := getattr(intent, name)) != value}
    updated = _RECORDS.replace(intent, changes)
    return updated, ([DomainEvent(event_type, updated, previous)] if event_type else [])


def create(command: CreateIntent, *, livemode: bool, now: int, country: str = "US"
           ) -> tuple[PaymentIntent, list[DomainEvent]]:
    """A new intent in ``requires_payment_method`` (or ``requires_confirmation`` with a method)."""
    money.validate_amount(command.amount, command.currency)
    method_types = _method_types(command.payment_method_types, command.automatic_payment_methods,
                                 currency=command.currency, country=country, livemode=livemode)
    automatic = command.automatic_payment_methods
    if command.payment_method_types is None and automatic is None:
        automatic = {"enabled": True}  # Stripe's default: every method the account allows
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
        client_secret=None,
        status=REQUIRES_CONFIRMATION if command.payment_method else REQUIRES_PAYMENT_METHOD,
        capture_method=capture_method,
        confirmation_method=command.confirmation_method or "automatic",
        payment_method_types=method_types,
        automatic_payment_methods=automatic,
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


def _method_types(requested: tuple[str, ...] | None, automatic: dict | None, *, currency: str, country: str,
                  livemode: bool) -> tuple[str, ...]:
    if requested is not None and automatic and automatic.get("enabled"):
        raise InvalidRequest(
            "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
            param="payment_method_types")
    if requested is None:
        return offer.automatic(currency=currency, country=country, livemode=livemode)
    return offer.requested(requested, currency=currency, country=country, livemode=livemode)


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


# What a merchant may still change once the payment is done (or abandoned), as on Stripe.
ALWAYS_UPDATABLE = frozenset({"metadata", "description", "receipt_email", "shipping", "transfer_group"})


def update(intent: PaymentIntent, command: UpdateIntent, *, now: int, country: str = "US"
           ) -> tuple[PaymentIntent, list[DomainEvent]]:
    touched = set(command.changes) | ({"metadata"} if command.metadata is not None else set())
    if intent.status not in UPDATABLE and not touched <= ALWAYS_UPDATABLE:
        raise _wrong_status(
            intent, f"This PaymentIntent's parameters cannot be updated because it has a status of {intent.status}. "
            f"You can only update a PaymentIntent with one of the following statuses: "
            f"{', '.join(sorted(UPDATABLE))}.")
    changes = dict(command.changes)
    if command.metadata is not None:
        changes["metadata"] = apply_metadata(intent.metadata, command.metadata)
    currency = changes.get("currency", intent.currency)
    amount = changes.get("amount", intent.amount)
    if "amount" in changes or "currency" in changes:
        money.validate_amount(amount, currency)
    if "payment_method_types" in changes:
        changes["payment_method_types"] = _method_types(changes["payment_method_types"], None, currency=currency,
                                                        country=country, livemode=intent.livemode)
        changes["automatic_payment_methods"] = None
    elif "currency" in changes and intent.automatic_payment_methods:
        changes["payment_method_types"] = offer.automatic(currency=currency, country=country,
                                                          livemode=intent.livemode)
    elif "amount" in changes or "currency" in changes:
        if "amazon_pay" in intent.payment_method_types:
            check_currency(currency, country)
    if "payment_method_options" in changes:
        types = changes.get("payment_method_types", intent.payment_method_types)
        merged = {**intent.payment_method_options, **(changes["payment_method_options"] or {})}
        changes["payment_method_options"] = _method_options(merged, types)
    if changes.get("payment_method") and changes["payment_method"] != intent.payment_method:
        # A new payment method always needs a new confirmation (and voids a pending redirect).
        changes.update(status=REQUIRES_CONFIRMATION, next_action=None, deadline=None, attempt=None)
    elif intent.status == REQUIRES_ACTION and (amount, currency) != (intent.amount, intent.currency):
        # The buyer was sent to approve other terms: that attempt ends, the intent is confirmed anew.
        changes.update(status=REQUIRES_CONFIRMATION, next_action=None, deadline=None, attempt=None)
    if all(getattr(intent, key) == value for key, value in changes.items()):
        return intent, []
    return _transition(intent, None, **changes)  # Stripe sends no event for a merchant's own update


def cancel(intent: PaymentIntent, reason: str | None, *, now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    """Cancel from any status but ``processing``, ``succeeded`` and ``canceled``."""
    if intent.status not in CANCELABLE:
        raise _wrong_status(
            intent, f"You cannot cancel this PaymentIntent because it has a status of {intent.status}. Only a "
            "PaymentIntent with one of the following statuses may be canceled: "
            f"{', '.join(sorted(CANCELABLE))}.")
    return _transition(intent, "payment_intent.canceled", status=CANCELED, canceled_at=now,
                       cancellation_reason=reason, next_action=None, amount_capturable=0, deadline=None)


# ---- the Amazon Pay redirect flow ---------------------------------------------------------

AUTHORIZATION_WINDOW_SECONDS = 10 * 60
PENDING_POLL_SECONDS = 60  # live mode: how often a pending Amazon Pay authorization is asked about
CAPTURE_WINDOW_SECONDS = 7 * 24 * 3600
CONFIRMABLE = frozenset({REQUIRES_PAYMENT_METHOD, REQUIRES_CONFIRMATION, REQUIRES_ACTION})

ATTEMPT_FAILED_MESSAGE = ("The latest payment attempt of this PaymentIntent has failed or been canceled, and the "
                          "attached payment method has been removed. You can try confirming again with a new "
                          "payment method.")
DECLINED = "The buyer declined the payment on Amazon Pay. Try again, or use another payment method."
EXPIRED = ("The Amazon Pay authorization window expired: the buyer did not complete the payment within "
           "10 minutes of being redirected. Try again, or use another payment method.")


@quick_init
@dataclass(frozen=True, slots=True)
class Confirm:
    """A confirmation, parsed; `payment_method` is the id of the method to try (already resolved)."""

    payment_method: str | None = None
    payment_method_type: str | None = None
    return_url: str | None = None
    receipt_email: str | None = None
    setup_future_usage: str | None = None
    shipping: dict | None = None
    payment_method_options: dict | None = None
    billing_details: dict | None = None  # of a method created from payment_method_data
    card: Any = None  # payment_method_data[card] or a test PaymentMethod id (a CardInput), for the card connector
    off_session: bool = False
    error_on_requires_action: bool = False


def check_confirm(intent: PaymentIntent, command: Confirm, *, country: str, amazon_pay_enabled: bool = True) -> None:
    """Raise what Stripe raises before any attempt starts; nothing changes here."""
    if intent.status not in CONFIRMABLE:
        raise _wrong_status(
            intent, f"You cannot confirm this PaymentIntent because it has a status of {intent.status}. Only a "
            "PaymentIntent with one of the following statuses may be confirmed: "
            f"{', '.join(sorted(CONFIRMABLE))}.")
    if not (command.payment_method or command.payment_method_type or intent.payment_method):
        raise InvalidRequest(
            "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the "
            "PaymentIntent, pass a payment_method or payment_method_data[type]=amazon_pay.",
            code="missing_required_parameter", param="payment_method")


def check_method(intent: PaymentIntent, command: Confirm, method_type: str, *, country: str,
                 amazon_pay_enabled: bool = True) -> None:
    """What the chosen method needs before an attempt: Amazon Pay (a redirect) needs a return_url,
    a currency it takes and the account's switch on; a card needs none of these."""
    if method_type != "amazon_pay":
        return
    if intent.automatic_payment_methods and not amazon_pay_enabled:
        raise InvalidRequest("Amazon Pay is not enabled on this account.",
                             code="payment_intent_incompatible_payment_method", param="payment_method")
    check_currency(intent.currency, country)
    if not (command.return_url or intent.return_url or command.off_session):  # off session: no redirect
        raise InvalidRequest(
            "This PaymentIntent is configured to accept payment methods enabled in your Dashboard, some of "
            "which redirect the buyer to complete the payment (Amazon Pay does). Pass a return_url when "
            "confirming, so that kassa can send the buyer back to your site.",
            code="payment_intent_redirect_confirmation_without_return_url", param="return_url",
            extra={"payment_intent": intent.id})


check_currency = offer.check_amazon_pay_currency


def require_action(intent: PaymentIntent, command: Confirm, *, payment_method: str, redirect_url: str,
                   attempt: str, now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    """The buyer must go to Amazon Pay (or kassa's test page): ``requires_action`` with a redirect."""
    return_url = command.return_url or intent.return_url
    changes: dict[str, Any] = dict(
        status=REQUIRES_ACTION, payment_method=payment_method, return_url=return_url,
        next_action={"type": "redirect_to_url",
                     "redirect_to_url": {"url": redirect_url, "return_url": return_url}},
        last_payment_error=None, deadline=now + AUTHORIZATION_WINDOW_SECONDS, attempt=attempt)
    for name in ("receipt_email", "setup_future_usage", "shipping"):
        if getattr(command, name) is not None:
            changes[name] = getattr(command, name)
    if command.payment_method_options is not None:
        changes["payment_method_options"] = _method_options(
            {**intent.payment_method_options, **command.payment_method_options}, intent.payment_method_types)
    return _transition(intent, "payment_intent.requires_action", **changes)


def pend(intent: PaymentIntent, *, now: int, poll_after: int = PENDING_POLL_SECONDS
         ) -> tuple[PaymentIntent, list[DomainEvent]]:
    """The buyer is back but Amazon Pay decides later: ``processing`` until it does (polled)."""
    _expect(intent, REQUIRES_ACTION, "process")
    return _transition(intent, "payment_intent.processing", status=PROCESSING, next_action=None,
                       deadline=now + poll_after)


def poll_later(intent: PaymentIntent, *, now: int, poll_after: int = PENDING_POLL_SECONDS
               ) -> tuple[PaymentIntent, list[DomainEvent]]:
    """Still ``processing``: ask again later."""
    _expect(intent, PROCESSING, "poll")
    return _transition(intent, None, deadline=now + poll_after)


def authorize(intent: PaymentIntent, *, charge_id: str, now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    """The buyer approved: captured at once (``succeeded``) or held (``requires_capture``)."""
    _expect(intent, (REQUIRES_ACTION, PROCESSING), "authorize")
    if effective_capture_method(intent) == "manual":
        changes = dict(status=REQUIRES_CAPTURE, amount_capturable=intent.amount, latest_charge=charge_id,
                       next_action=None, deadline=now + CAPTURE_WINDOW_SECONDS)
        kind = "payment_intent.amount_capturable_updated"
    else:
        changes = dict(status=SUCCEEDED, amount_received=intent.amount, latest_charge=charge_id,
                       next_action=None, deadline=None)
        kind = "payment_intent.succeeded"
    return _transition(intent, kind, **changes)


def fail_attempt(intent: PaymentIntent, *, payment_method: dict, reason: str, now: int,
                 decline_code: str | None = None) -> tuple[PaymentIntent, list[DomainEvent]]:
    """A declined or expired attempt: the method is detached, the intent waits for a new one."""
    _expect(intent, (REQUIRES_ACTION, PROCESSING), "fail")
    error = {
        "code": "payment_intent_payment_attempt_failed",
        **({"decline_code": decline_code} if decline_code else {}),
        "doc_url": "https://docs.stripe.com/error-codes/payment-intent-payment-attempt-failed",
        "message": f"{ATTEMPT_FAILED_MESSAGE} {reason}",
        "payment_method": payment_method,
        "type": "invalid_request_error",
    }
    return _transition(intent, "payment_intent.payment_failed", status=REQUIRES_PAYMENT_METHOD,
                       payment_method=None, next_action=None, last_payment_error=error, deadline=None)


def capture(intent: PaymentIntent, amount: int | None, *, now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    """Take `amount` (all by default) of the held authorization; the rest is released."""
    if intent.status != REQUIRES_CAPTURE:
        raise _wrong_status(
            intent, f"This PaymentIntent could not be captured because it has a status of {intent.status}. Only a "
            "PaymentIntent with one of the following statuses may be captured: requires_capture.")
    amount = intent.amount_capturable if amount is None else amount
    if amount <= 0 or amount > intent.amount_capturable:
        raise InvalidRequest(
            f"The amount_to_capture must be a positive integer no greater than the capturable amount "
            f"({intent.amount_capturable}).", code="amount_too_large" if amount > 0 else "parameter_invalid_integer",
            param="amount_to_capture")
    return _transition(intent, "payment_intent.succeeded", status=SUCCEEDED, amount_received=amount,
                       amount_capturable=0, deadline=None)


def expire_hold(intent: PaymentIntent, *, now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    """Uncaptured after 7 days: Amazon Pay releases the hold and the intent is canceled."""
    _expect(intent, REQUIRES_CAPTURE, "expire")
    return _transition(intent, "payment_intent.canceled", status=CANCELED, canceled_at=now,
                       cancellation_reason="automatic", amount_capturable=0, deadline=None)


def due(intent: PaymentIntent, now: int) -> bool:
    """Whether the sweep (or a read) must act: an authorization window or a capture hold ended.
    (A ``processing`` intent's deadline is only when the sweep asks the payment method again.)"""
    return intent.deadline is not None and intent.deadline <= now and intent.status in (REQUIRES_ACTION,
                                                                                        REQUIRES_CAPTURE)


def _expect(intent: PaymentIntent, status: str | tuple[str, ...], action: str) -> None:
    if intent.status not in ((status,) if isinstance(status, str) else status):
        raise _wrong_status(intent, f"Cannot {action} PaymentIntent {intent.id} in status {intent.status}.")


def _wrong_status(intent: PaymentIntent, message: str) -> InvalidRequest:
    """Stripe's error for a call the intent's status does not allow; it names the intent."""
    return InvalidRequest(message, code="payment_intent_unexpected_state", extra={"payment_intent": intent.id})
