"""PaymentIntent transitions of a payment with no buyer present: a saved method charged at once."""

from __future__ import annotations

from . import card_attempt
from . import payment_intent as pi
from .events import DomainEvent
from .payment_intent import PaymentIntent

NOT_REUSABLE = ("The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, "
                "shared with a connected account without Customer attachment, or was detached from a Customer. It "
                "may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer "
                "first.")


def approve(intent: PaymentIntent, command: pi.Confirm, *, method_type: str, payment_method: str, charge_id: str,
            now: int) -> tuple[PaymentIntent, list[DomainEvent]]:
    """The saved method was charged: ``succeeded``, or ``requires_capture`` for a manual capture
    (card_attempt's approval, for the method's type)."""
    return card_attempt.approve(intent, command, payment_method=payment_method, charge_id=charge_id, now=now,
                                method_type=method_type, action="confirm")
