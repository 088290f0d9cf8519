"""SetupIntents: saving a buyer's PaymentMethod for later payments without charging it.

Statuses as Stripe's: ``requires_payment_method`` → (``requires_confirmation``) → ``requires_action``
(the buyer approves on Amazon Pay's page or authenticates a card) → ``succeeded``; a refusal goes
back to ``requires_payment_method`` with ``last_setup_error``; ``canceled`` ends it. Pure
transitions: ``(setup intent, …, now) → (setup intent, events)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequest
from .events import DomainEvent
from .client_secrets import ClientSecrets
from .ids import new_id
from .metadata import apply_metadata
from .records import Records

REQUIRES_PAYMENT_METHOD = "requires_payment_method"
REQUIRES_CONFIRMATION = "requires_confirmation"
REQUIRES_ACTION = "requires_action"
SUCCEEDED = "succeeded"
CANCELED = "canceled"

USAGES = ("off_session", "on_session")
CANCELLATION_REASONS = ("abandoned", "duplicate", "requested_by_customer")
CONFIRMABLE = frozenset({REQUIRES_PAYMENT_METHOD, REQUIRES_CONFIRMATION, REQUIRES_ACTION})
CANCELABLE = CONFIRMABLE
UPDATABLE = frozenset({REQUIRES_PAYMENT_METHOD, REQUIRES_CONFIRMATION, REQUIRES_ACTION})
AUTHORIZATION_WINDOW_SECONDS = 10 * 60

DECLINED = "The buyer refused to save Amazon Pay for future payments. Try again, or use another payment method."
EXPIRED = ("The buyer did not finish saving the payment method within 10 minutes of being redirected. Try again, "
           "or use another payment method.")


@dataclass(frozen=True, slots=True)
class SetupIntent:
    id: str
    livemode: bool
    created: int
    client_secret: str | None  # None: derived, never stored (see client_secrets); else one of before
    status: str = REQUIRES_PAYMENT_METHOD
    usage: str = "off_session"
    payment_method_types: tuple[str, ...] = ("card",)
    automatic_payment_methods: dict | None = None
    payment_method_options: dict = field(default_factory=dict)
    customer: str | None = None
    payment_method: str | None = None
    description: str | None = None
    metadata: dict = field(default_factory=dict)
    return_url: str | None = None
    next_action: dict | None = None
    last_setup_error: dict | None = None
    cancellation_reason: str | None = None
    mandate: str | None = None
    mandate_data: dict | None = None  # internal: the customer_acceptance given, for the mandate
    attempt: str | None = None  # internal: the current redirect attempt

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SetupIntent:
        return _RECORDS.build({**record, "payment_method_types": tuple(record.get("payment_method_types") or ())})


_RECORDS = Records(SetupIntent)


@dataclass(frozen=True, slots=True)
class CreateSetup:
    payment_method_types: tuple[str, ...]
    automatic_payment_methods: dict | None = None
    usage: str | None = None
    customer: str | None = None
    payment_method: str | None = None
    description: str | None = None
    metadata: dict | None = None
    payment_method_options: dict | None = None
    return_url: str | None = None


def check_client_secret(given: str | None, setup: SetupIntent | None, secrets: ClientSecrets) -> None:
    """A publishable key needs the SetupIntent's client secret; a mismatch looks like a missing one."""
    if not given:
        raise InvalidRequest(
            "This API call cannot be made with a publishable API key without the SetupIntent's client_secret. "
            "Pass client_secret, or use a secret API key.", code="parameter_missing", param="client_secret")
    if setup is None or not secrets.belongs(setup, given):
        raise InvalidRequest("The client_secret provided does not match the client_secret associated with the "
                             "SetupIntent.", code="setup_intent_invalid_parameter", param="client_secret")


def _transition(setup: SetupIntent, event_type: str | None, **changes) -> tuple[SetupIntent, list[DomainEvent]]:
    previous = {k: getattr(setup, k) for k, v in changes.items() if getattr(setup, k) != v}
    updated = _RECORDS.replace(setup, changes)
    return updated, ([DomainEvent(event_type, updated, previous)] if event_type else [])


def create(command: CreateSetup, *, livemode: bool, now: int) -> tuple[SetupIntent, list[DomainEvent]]:
    setup_id = new_id("seti")
    setup = SetupIntent(
        id=setup_id, livemode=livemode, created=now, client_secret=None,
        status=REQUIRES_CONFIRMATION if command.payment_method else REQUIRES_PAYMENT_METHOD,
        usage=command.usage or "off_session", payment_method_types=command.payment_method_types,
        automatic_payment_methods=command.automatic_payment_methods,
        payment_method_options=dict(command.payment_method_options or {}), customer=command.customer,
        payment_method=command.payment_method, description=command.description,
        metadata=dict(command.metadata or {}), return_url=command.return_url)
    return setup, [DomainEvent("setup_intent.created", setup)]


def update(setup: SetupIntent, changes: dict[str, Any], metadata: dict | None) -> tuple[SetupIntent, list[DomainEvent]]:
    """A merchant's update (no event, as on Stripe): any status but succeeded and canceled."""
    touched = set(changes)
    if setup.status not in UPDATABLE and not touched <= {"description"}:
        raise _wrong_status(setup, f"You cannot update this SetupIntent because it has a status of {setup.status}.")
    changes = dict(changes)
    if metadata is not None:
        changes["metadata"] = apply_metadata(setup.metadata, metadata)
    if changes.get("payment_method") and changes["payment_method"] != setup.payment_method:
        changes.update(status=REQUIRES_CONFIRMATION, next_action=None, attempt=None)
    return _transition(setup, None, **changes)


def check_confirm(setup: SetupIntent, has_method: bool) -> None:
    if setup.status not in CONFIRMABLE:
        raise _wrong_status(setup, f"You cannot confirm this SetupIntent because it has a status of {setup.status}."
                            " Only a SetupIntent with one of the following statuses may be confirmed: "
                            f"{', '.join(sorted(CONFIRMABLE))}.")
    if not has_method:
        raise InvalidRequest("You cannot confirm this SetupIntent because it's missing a payment method. Pass "
                             "payment_method or payment_method_data[type].", code="setup_intent_unexpected_state",
                             param="payment_method")


def confirmed_fields(setup: SetupIntent, *, return_url: str | None, mandate_data: dict | None) -> dict:
    changes: dict[str, Any] = {}
    if return_url:
        changes["return_url"] = return_url
    if mandate_data is not None:
        changes["mandate_data"] = mandate_data
    return changes


def require_action(setup: SetupIntent, *, payment_method: str, next_action: dict, attempt: str,
                   changes: dict) -> tuple[SetupIntent, list[DomainEvent]]:
    return _transition(setup, "setup_intent.requires_action", status=REQUIRES_ACTION, payment_method=payment_method,
                       next_action=next_action, last_setup_error=None, attempt=attempt, **changes)


def succeed(setup: SetupIntent, *, payment_method: str, mandate: str | None, changes: dict | None = None
            ) -> tuple[SetupIntent, list[DomainEvent]]:
    return _transition(setup, "setup_intent.succeeded", status=SUCCEEDED, payment_method=payment_method,
                       mandate=mandate, next_action=None, last_setup_error=None, attempt=None, **(changes or {}))


def fail(setup: SetupIntent, error: dict, changes: dict | None = None) -> tuple[SetupIntent, list[DomainEvent]]:
    """Refused (declined, not authenticated, refused on Amazon Pay's page, or expired)."""
    return _transition(setup, "setup_intent.setup_failed", status=REQUIRES_PAYMENT_METHOD, payment_method=None,
                       next_action=None, last_setup_error=error, attempt=None, **(changes or {}))


def cancel(setup: SetupIntent, reason: str | None) -> tuple[SetupIntent, list[DomainEvent]]:
    if setup.status not in CANCELABLE:
        raise _wrong_status(setup, f"You cannot cancel this SetupIntent because it has a status of {setup.status}."
                            " Only a SetupIntent with one of the following statuses may be canceled: "
                            f"{', '.join(sorted(CANCELABLE))}.")
    return _transition(setup, "setup_intent.canceled", status=CANCELED, cancellation_reason=reason,
                       next_action=None, attempt=None)


def redirect_error(setup: SetupIntent, payment_method: dict | None, *, expired: bool) -> dict:
    """last_setup_error after the buyer refused (or never answered) on the redirect page."""
    return {"code": "setup_intent_authentication_failure",
            "doc_url": "https://docs.stripe.com/error-codes/setup-intent-authentication-failure",
            "message": EXPIRED if expired else DECLINED, "payment_method": payment_method,
            "type": "invalid_request_error"}


def _wrong_status(setup: SetupIntent, message: str) -> InvalidRequest:
    return InvalidRequest(message, code="setup_intent_unexpected_state", extra={"setup_intent": setup.id})
