"""Customers: who a merchant charges again. A customer keeps its contact details, its metadata and
the PaymentMethod it pays with by default (``invoice_settings.default_payment_method``).

Pure transitions, as for PaymentIntents: ``(customer, command, now) → (customer, events)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequest
from .events import DomainEvent
from .ids import new_id, random_base62
from .metadata import apply_metadata
from .records import Records

# Fields a merchant sets and changes directly (strings and hashes as given).
FIELDS = ("email", "name", "phone", "description", "address", "shipping", "preferred_locales")


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    livemode: bool
    created: int
    invoice_prefix: str
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    description: str | None = None
    address: dict | None = None
    shipping: dict | None = None
    preferred_locales: list = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    default_payment_method: str | None = None
    deleted: bool = False

    @classmethod
    def from_record(cls, record: dict) -> Customer:
        return _RECORDS.build(record)


_RECORDS = Records(Customer)


def create(values: dict[str, Any], metadata: dict | None, *, livemode: bool, now: int
           ) -> tuple[Customer, list[DomainEvent]]:
    customer = Customer(new_id("cus", 14), livemode, now, random_base62(8).upper(),
                        metadata=dict(metadata or {}), **{k: v for k, v in values.items() if k in FIELDS})
    return customer, [DomainEvent("customer.created", customer)]


def update(customer: Customer, values: dict[str, Any], metadata: dict | None, *,
           default_payment_method: Any = ...) -> tuple[Customer, list[DomainEvent]]:
    """Set the given fields (Ellipsis for the default method: unchanged); `customer.updated`
    carries what changed, as Stripe's previous_attributes show it."""
    _alive(customer)
    changes = {k: v for k, v in values.items() if k in FIELDS}
    if metadata is not None:
        changes["metadata"] = apply_metadata(customer.metadata, metadata)
    if default_payment_method is not ...:
        changes["default_payment_method"] = default_payment_method
    previous = {k: getattr(customer, k) for k, v in changes.items() if getattr(customer, k) != v}
    if not previous:
        return customer, []
    updated = _RECORDS.replace(customer, changes)
    if "default_payment_method" in previous:
        previous["invoice_settings"] = {"default_payment_method": previous.pop("default_payment_method")}
    return updated, [DomainEvent("customer.updated", updated, previous)]


def delete(customer: Customer) -> tuple[Customer, list[DomainEvent]]:
    _alive(customer)
    deleted = _RECORDS.replace(customer, {"deleted": True, "default_payment_method": None})
    return deleted, [DomainEvent("customer.deleted", customer)]


def _alive(customer: Customer) -> None:
    if customer.deleted:
        raise InvalidRequest(f"No such customer: '{customer.id}'; it has been deleted.",
                             code="resource_missing", param="customer")
