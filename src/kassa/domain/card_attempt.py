"""PaymentIntent transitions of an attempt decided at once (a card): approved, declined, or held
for the buyer to authenticate (3D Secure) and then decided.

Pure functions, as in payment_intent.py, whose transitions and statuses they share.
"""

from __future__ import annotations

from typing import Any

from . import payment_intent as pi
from .events import DomainEvent
from .payment_intent import PaymentIntent, _transition  # noqa: PLC2701 - one transition rule for both

AUTHENTICATION_FAILED = ("The provided PaymentMethod has failed authentication. You can provide payment_method_data "
                         "or a new PaymentMethod to attempt to fulfill this PaymentIntent again.")
AUTHENTICATION_EXPIRED = ("The buyer did not complete 3D Secure authentication within 10 minutes. You can provide "
                          "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent "
                          "again.")
STARTS = (*pi.CONFIRMABLE,)


def _confirmed_fields(intent: PaymentIntent, command: pi.Confirm | None) -> dict[str, Any]:
    """What a confirmation sets on the intent besides the outcome."""
    changes: dict[str, Any] = {}
    if command is None:
        return changes
    for name in ("receipt_email", "setup_future_usage", "shipping"):
        if getattr(command, name) is not None:
            changes[name] = getattr(command, name)
    if command.return_url:
        changes["return_url"] = command.return_url
    if command.payment_method_options is not None:
        changes["payment_method_options"] = pi._method_options(  # noqa: PLC2701
            {**intent.payment_method_options, **command.payment_method_options}, intent.payment_method_types)
    return changes


def capture_method(intent: PaymentIntent, command: pi.Confirm | None = None, method_type: str = "card") -> str:
    """Manual or automatic for `method_type`, the options given at this confirmation included."""
    option = (((command.payment_method_options if command else None) or {}).get(method_type) or {}).get(
        "capture_method")
    return option or pi.effective_capture_method(intent, method_type)


def approve(intent: PaymentIntent, command: pi.Confirm | None, *, payment_method: str, charge_id: str, now: int,
            method_type: str = "card", action: str = "authorize", captured: bool | None = None
            ) -> tuple[PaymentIntent, list[DomainEvent]]:
    """Authorized: captured at once (``succeeded``) or held for 7 days (``requires_capture``). A
    `command` is a confirmation deciding at once; None, the buyer's 3D Secure answer. `captured`,
    when the caller knows it already: whether `capture_method` is not manual."""
    pi._expect(intent, STARTS if command is not None else pi.REQUIRES_ACTION, action)  # noqa: PLC2701
    changes = dict(_confirmed_fields(intent, command), payment_method=payment_method, latest_charge=charge_id,
                   next_action=None, last_payment_error=None, attempt=None)
    if captured is None:
        captured = capture_method(intent, command, method_type) != "manual"
    if not captured:
        changes.update(status=pi.REQUIRES_CAPTURE, amount_capturable=intent.amount,
                       deadline=now + pi.CAPTURE_WINDOW_SECONDS)
        kind = "payment_intent.amount_capturable_updated"
    else:
        changes.update(status=pi.SUCCEEDED, amount_received=intent.amount, deadline=None)
        kind = "payment_intent.succeeded"
    return _transition(intent, kind, **changes)


def decline(intent: PaymentIntent, command: pi.Confirm | None, *, error: dict, charge_id: str | None, now: int
            ) -> tuple[PaymentIntent, list[DomainEvent]]:
    """Declined (or authentication failed): the method is detached and the intent waits for a new
    one, `error` (Stripe's last_payment_error) saying why."""
    pi._expect(intent, STARTS if command is not None else pi.REQUIRES_ACTION, "decline")  # noqa: PLC2701
    changes = dict(_confirmed_fields(intent, command), status=pi.REQUIRES_PAYMENT_METHOD, payment_method=None,
                   next_action=None, last_payment_error=error, deadline=None, attempt=None)
    if charge_id is not None:
        changes["latest_charge"] = charge_id
    return _transition(intent, "payment_intent.payment_failed", **changes)


def require_authentication(intent: PaymentIntent, command: pi.Confirm, *, payment_method: str, next_action: dict,
                           attempt: str, now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    """The card needs 3D Secure: ``requires_action`` for the authorization window."""
    pi._expect(intent, STARTS, "confirm")  # noqa: PLC2701
    changes = dict(_confirmed_fields(intent, command), status=pi.REQUIRES_ACTION, payment_method=payment_method,
                   next_action=next_action, last_payment_error=None,
                   deadline=now + pi.AUTHORIZATION_WINDOW_SECONDS, attempt=attempt)
    return _transition(intent, "payment_intent.requires_action", **changes)


def card_error(failure, *, payment_method: dict, charge_id: str | None) -> dict:
    """Stripe's last_payment_error of a declined card."""
    error = {"advice_code": failure.advice_code, "charge": charge_id, "code": failure.code,
             "decline_code": failure.decline_code,
             "doc_url": "https://docs.stripe.com/error-codes/" + failure.code.replace("_", "-"),
             "message": failure.message, "payment_method": payment_method, "type": "card_error"}
    if failure.param:
        error["param"] = failure.param
    return {key: value for key, value in error.items() if value is not None or key == "decline_code"}


def authentication_error(payment_method: dict, *, expired: bool = False) -> dict:
    """Stripe's last_payment_error when 3D Secure failed (or was never completed)."""
    return {"code": "payment_intent_authentication_failure",
            "doc_url": "https://docs.stripe.com/error-codes/payment-intent-authentication-failure",
            "message": AUTHENTICATION_EXPIRED if expired else AUTHENTICATION_FAILED,
            "payment_method": payment_method, "type": "invalid_request_error"}
