"""PaymentMethods: how a buyer pays. kassa knows two types: ``amazon_pay`` (its hash is empty) and
``card`` (its hash describes the card; the rules about card data live in methods/card/)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InvalidRequest
from .ids import new_id
from .records import Records, quick_init

TYPES = ("amazon_pay", "card")


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: str
    type: str
    livemode: bool
    created: int
    billing_details: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    customer: str | None = None
    allow_redisplay: str = "unspecified"
    card: dict | None = None  # Stripe's card hash (brand, last4, fingerprint, …), never the number
    test_card: str | None = None  # internal: which of Stripe's test cards this is (how it behaves)
    set_up: bool = False  # internal: set up for future use (authenticated when saved)
    detached: bool = False  # internal: detached from its customer, never to be used again

    @classmethod
    def from_record(cls, record: dict) -> PaymentMethod:
        return _RECORDS.build(record)


_RECORDS = Records(PaymentMethod)


@quick_init
@dataclass(frozen=True, slots=True)
class CardInput:
    """Card data as a request gave it, on its way to the card connector (which alone reads it).
    Its repr shows nothing, so that no log line or traceback can carry a number or a CVC."""

    prefix: str  # how Stripe names the hash in errors: card, or payment_method_data[card]
    number: str | None = field(default=None, repr=False)
    exp_month: str | None = field(default=None, repr=False)
    exp_year: str | None = field(default=None, repr=False)
    cvc: str | None = field(default=None, repr=False)
    token: str | None = None  # Stripe's test tokens (tok_visa)
    test_method: str | None = None  # Stripe's test PaymentMethod ids (pm_card_visa)


EMPTY_BILLING = {"address": None, "email": None, "name": None, "phone": None}


def create(kind: str, *, livemode: bool, now: int, billing_details: dict | None = None,
           metadata: dict | None = None, param: str = "type", card: dict | None = None,
           test_card: str | None = None) -> PaymentMethod:
    if kind not in TYPES:
        raise InvalidRequest(f"Invalid {param}: must be one of {', '.join(TYPES)} (kassa implements these).",
                             code="parameter_invalid_string", param=param)
    billing = {**EMPTY_BILLING, **billing_details} if billing_details else dict(EMPTY_BILLING)
    return _RECORDS.build({"id": new_id("pm"), "type": kind, "livemode": livemode, "created": now,
                           "billing_details": billing, "metadata": dict(metadata) if metadata else {},
                           "customer": None, "allow_redisplay": "unspecified", "card": card,
                           "test_card": test_card, "set_up": False, "detached": False})
