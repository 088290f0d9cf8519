"""Mandates: the buyer's permission to charge a saved PaymentMethod later. A mandate is made when
a method is set up for future use (a SetupIntent, or a payment with ``setup_future_usage``) and ends
(``inactive``, with ``mandate.updated``) when the method is detached or the processor revokes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import DomainEvent
from .ids import new_id
from .records import Records

ACTIVE, INACTIVE = "active", "inactive"


@dataclass(frozen=True, slots=True)
class Mandate:
    id: str
    livemode: bool
    created: int
    payment_method: str
    method_type: str
    customer: str | None
    customer_acceptance: dict = field(default_factory=dict)
    status: str = ACTIVE
    type: str = "multi_use"
    external_id: str | None = None  # live Amazon Pay: the Charge Permission it stands for

    @classmethod
    def from_record(cls, record: dict) -> Mandate:
        return _RECORDS.build(record)


_RECORDS = Records(Mandate)


def acceptance(given: dict | None, *, now: int) -> dict:
    """Stripe's customer_acceptance: what the merchant sent in mandate_data, else an online
    acceptance at this moment with nothing known of the client."""
    given = given or {}
    online = given.get("online") or {}
    kind = given.get("type") or "online"
    body = {"accepted_at": now, "type": kind, "offline": {} if kind == "offline" else None, "online": None}
    if kind == "online":
        body["online"] = {"ip_address": online.get("ip_address"), "user_agent": online.get("user_agent")}
    return body


def create(*, payment_method: str, method_type: str, customer: str | None, livemode: bool, now: int,
           accepted: dict | None = None, single_use: bool = False, external_id: str | None = None) -> Mandate:
    """A new active mandate (Stripe sends no event for its creation)."""
    return Mandate(new_id("mandate"), livemode, now, payment_method, method_type, customer,
                   acceptance(accepted, now=now), type="single_use" if single_use else "multi_use",
                   external_id=external_id)


def end(mandate: Mandate) -> tuple[Mandate, list[DomainEvent]]:
    """The mandate no longer allows charges: ``inactive``, told by ``mandate.updated``."""
    if mandate.status == INACTIVE:
        return mandate, []
    ended = _RECORDS.replace(mandate, {"status": INACTIVE})
    return ended, [DomainEvent("mandate.updated", ended, {"status": mandate.status})]
