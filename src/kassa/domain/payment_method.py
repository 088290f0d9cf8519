"""PaymentMethods: how a buyer pays. kassa knows one type, ``amazon_pay`` (its hash is empty)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InvalidRequest
from .ids import new_id
from .records import Records

TYPES = ("amazon_pay",)


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

    @classmethod
    def from_record(cls, record: dict) -> PaymentMethod:
        return _RECORDS.build(record)


_RECORDS = Records(PaymentMethod)


EMPTY_BILLING = {"address": None, "email": None, "name": None, "phone": None}


def create(kind: str, *, livemode: bool, now: int, billing_details: dict | None = None,
           metadata: dict | None = None, param: str = "type") -> PaymentMethod:
    if kind not in TYPES:
        raise InvalidRequest(f"Invalid {param}: must be one of {', '.join(TYPES)} (kassa implements Amazon Pay).",
                             code="parameter_invalid_string", param=param)
    billing = {**EMPTY_BILLING, **(billing_details or {})}
    return PaymentMethod(new_id("pm"), kind, livemode, now, billing, dict(metadata or {}))
