"""PaymentIntent transitions of a payment with no buyer present: a saved method charged at once."""

from __future__ import annotations

from . import payment_intent as pi
from .card_attempt import STARTS, _confirmed_fields  # noqa: PLC2701 - one rule for what a confirm sets
from .events import DomainEvent
from .payment_intent import PaymentIntent, _transition  # noqa: PLC2701

NOT_REUSABLE = ("The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, "
                "shared with a connected account without Customer attachment, or was detached from a Customer. It "
                "may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer "
                "first.")


def capture_method(intent: PaymentIntent, command: pi.Confirm, method_type: str) -> str:
    option = ((command.payment_method_options or {}).get(method_type) or {}).get("capture_method")
    return option or pi.effective_capture_method(intent, method_type)


def approve(intent: PaymentIntent, command: pi.Confirm, *, method_type: str, payment_method: str, charge_id: str,
            now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    """The saved method was charged: ``succeeded``, or ``requires_capture`` for a manual capture."""
    pi._expect(intent, STARTS, "confirm")  # noqa: SLF001
    changes = dict(_confirmed_fields(intent, command), payment_method=payment_method, latest_charge=charge_id,
                   next_action=None, last_payment_error=None, attempt=None)
    if capture_method(intent, command, method_type) == "manual":
        changes.update(status=pi.REQUIRES_CAPTURE, amount_capturable=intent.amount,
                       deadline=now + pi.CAPTURE_WINDOW_SECONDS)
        kind = "payment_intent.amount_capturable_updated"
    else:
        changes.update(status=pi.SUCCEEDED, amount_received=intent.amount, deadline=None)
        kind = "payment_intent.succeeded"
    return _transition(intent, kind, **changes)
