"""Charges: the money an approved authorization moved (or holds, before capture), or a card
attempt that was declined (``failed``: Stripe keeps a record of every attempt that reached the card
network)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .errors import InvalidRequest
from .events import DomainEvent
from .ids import new_id, random_base62
from .records import Records


@dataclass(frozen=True, slots=True)
class Charge:
    id: str
    livemode: bool
    amount: int
    currency: str
    created: int
    payment_intent: str
    payment_method: str
    captured: bool
    amount_captured: int = 0
    amount_refunded: int = 0
    status: str = "succeeded"
    description: str | None = None
    receipt_email: str | None = None
    metadata: dict = field(default_factory=dict)
    billing_details: dict = field(default_factory=dict)
    shipping: dict | None = None
    statement_descriptor: str | None = None
    transaction_id: str | None = None
    released: bool = False  # an uncaptured hold that was released (cancel or expiry)
    method_type: str = "amazon_pay"
    method_details: dict | None = None  # payment_method_details[<method_type>] when the method gives them
    outcome: dict | None = None  # Stripe's outcome (network status, risk, seller message), when known
    failure_code: str | None = None
    failure_message: str | None = None
    test_card: str | None = None  # internal: the test card charged (how its refunds behave)
    customer: str | None = None  # the intent's customer

    @property
    def refunded(self) -> bool:
        return self.amount_refunded >= self.amount

    @property
    def refundable(self) -> int:
        """What is left to refund. The uncaptured rest of a partial capture counts as refunded
        (as on Stripe), so this is the amount less everything refunded or released."""
        return self.amount - self.amount_refunded if self.captured else 0

    @classmethod
    def from_record(cls, record: dict) -> Charge:
        return _RECORDS.build(record)


_RECORDS = Records(Charge)


def authorize(*, livemode: bool, amount: int, currency: str, intent_id: str, payment_method: str,
              capture: bool, now: int, description: str | None, receipt_email: str | None,
              billing_details: dict, shipping: dict | None, statement_descriptor: str | None,
              transaction_id: str | None = None, customer: str | None = None) -> tuple[Charge, list[DomainEvent]]:
    """The charge of an approved authorization: captured at once, or held for a manual capture."""
    charge = Charge(
        id=new_id("ch"), livemode=livemode, amount=amount, currency=currency, created=now,
        payment_intent=intent_id, payment_method=payment_method, captured=capture,
        amount_captured=amount if capture else 0, description=description, receipt_email=receipt_email,
        billing_details=billing_details, shipping=shipping, statement_descriptor=statement_descriptor,
        transaction_id=transaction_id or "P01-" + random_base62(7).upper() + "-" + random_base62(7).upper(),
        customer=customer,
    )
    return charge, [DomainEvent("charge.succeeded", charge)]


def of_card(*, livemode: bool, amount: int, currency: str, intent_id: str, payment_method: str, now: int,
            captured: bool, details: dict, outcome: dict, test_card: str | None, description: str | None,
            receipt_email: str | None, billing_details: dict, shipping: dict | None,
            statement_descriptor: str | None, failure: tuple[str, str] | None = None,
            customer: str | None = None) -> tuple[Charge, list[DomainEvent]]:
    """A card attempt's charge: succeeded (captured, or held for a manual capture), or failed with
    `failure` (code, message), as the card connector decided."""
    failed = failure is not None
    taken = captured and not failed
    charge = _RECORDS.build({  # every field given: built without the frozen class's keyword matching
        "id": new_id("ch"), "livemode": livemode, "amount": amount, "currency": currency, "created": now,
        "payment_intent": intent_id, "payment_method": payment_method, "captured": taken,
        "amount_captured": amount if taken else 0, "amount_refunded": 0,
        "status": "failed" if failed else "succeeded", "description": description, "receipt_email": receipt_email,
        "metadata": {}, "billing_details": billing_details, "shipping": shipping,
        "statement_descriptor": statement_descriptor, "transaction_id": details.get("network_transaction_id"),
        "released": False, "method_type": "card", "method_details": details, "outcome": outcome,
        "failure_code": failure[0] if failed else None, "failure_message": failure[1] if failed else None,
        "test_card": test_card, "customer": customer})
    return charge, [DomainEvent("charge.failed" if failed else "charge.succeeded", charge)]


def capture(charge: Charge, amount: int) -> tuple[Charge, list[DomainEvent]]:
    """Capture `amount` of a held charge; the rest of the hold is released (shown as refunded)."""
    if charge.captured:
        raise InvalidRequest(f"Charge {charge.id} has already been captured.", code="charge_already_captured")
    captured = replace(charge, captured=True, amount_captured=amount, amount_refunded=charge.amount - amount)
    return captured, [DomainEvent("charge.captured", captured,
                                  {"captured": False, "amount_captured": 0, "amount_refunded": charge.amount_refunded})]


def release(charge: Charge, event_type: str) -> tuple[Charge, list[DomainEvent]]:
    """Release an uncaptured hold (cancel, or the 7-day expiry): nothing was taken, all is returned."""
    released = replace(charge, amount_refunded=charge.amount, released=True)
    return released, [DomainEvent(event_type, released, {"amount_refunded": charge.amount_refunded})]
