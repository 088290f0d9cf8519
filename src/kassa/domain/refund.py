"""Refunds: full or partial, never above what is left; Amazon Pay settles them asynchronously."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .charge import Charge
from .errors import InvalidRequest
from .events import DomainEvent
from .ids import new_id
from .records import Records

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
SETTLE_AFTER_SECONDS = 2  # test mode: how long Amazon Pay "takes" to settle a refund


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    livemode: bool
    amount: int
    currency: str
    created: int
    charge: str
    payment_intent: str
    status: str = PENDING
    reason: str | None = None
    metadata: dict = field(default_factory=dict)
    failure_reason: str | None = None
    settle_at: int | None = None

    @classmethod
    def from_record(cls, record: dict) -> Refund:
        return _RECORDS.build(record)


_RECORDS = Records(Refund)


def create(charge: Charge, amount: int | None, *, reason: str | None, metadata: dict | None, now: int,
           refund_id: str | None = None, settle_after: int | None = SETTLE_AFTER_SECONDS, status: str = PENDING
           ) -> tuple[Refund, Charge, list[DomainEvent]]:
    """A refund of `amount` (all that is left by default), pending unless `status` says otherwise
    (a card refund succeeds at once); the charge counts it at once. ``settle_after``: seconds until
    the worker asks whether it has settled (or changed: a card refund that fails later)."""
    if not charge.captured:
        raise InvalidRequest(
            f"Charge {charge.id} has not been captured; cancel its PaymentIntent to release the hold instead.",
            code="charge_not_refundable", param="charge")
    left = charge.refundable
    if left <= 0:
        raise InvalidRequest(f"Charge {charge.id} has already been refunded.", code="charge_already_refunded",
                             param="charge")
    amount = left if amount is None else amount
    if amount <= 0:
        raise InvalidRequest("Refund amount must be a positive integer.", code="parameter_invalid_integer",
                             param="amount")
    if amount > left:
        raise InvalidRequest(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            code="amount_too_large", param="amount")
    refund = Refund(refund_id or new_id("re"), charge.livemode, amount, charge.currency, now, charge.id,
                    charge.payment_intent, status, reason, dict(metadata or {}),
                    settle_at=None if settle_after is None else now + settle_after)
    refunded = replace(charge, amount_refunded=charge.amount_refunded + amount)
    return refund, refunded, [
        DomainEvent("refund.created", refund),
        DomainEvent("charge.refunded", refunded, {"amount_refunded": charge.amount_refunded}),
    ]


def poll_later(refund: Refund, *, now: int, after: int) -> Refund:
    """Still pending at the payment method: ask again ``after`` seconds from now."""
    return replace(refund, settle_at=now + after)


def settle(refund: Refund, charge: Charge, *, succeeded: bool, failure_reason: str | None = None
           ) -> tuple[Refund, Charge, list[DomainEvent]]:
    """Amazon Pay's answer: succeeded, or failed (the money counts as unrefunded again)."""
    if refund.status != PENDING:
        return refund, charge, []
    if succeeded:
        done = replace(refund, status=SUCCEEDED, settle_at=None)
        return done, charge, [DomainEvent("refund.updated", done, {"status": PENDING})]
    failed = replace(refund, status=FAILED, settle_at=None, failure_reason=failure_reason or "unknown")
    restored = replace(charge, amount_refunded=charge.amount_refunded - refund.amount)
    return failed, restored, [DomainEvent("refund.failed", failed, {"status": PENDING}),
                              DomainEvent("refund.updated", failed, {"status": PENDING})]


def fail_after_success(refund: Refund, charge: Charge, *, failure_reason: str) -> tuple[Refund, Charge, list[DomainEvent]]:
    """A refund that succeeded and then failed (Stripe's test card refundFail): the money counts as
    unrefunded again."""
    if refund.status != SUCCEEDED:
        return refund, charge, []
    failed = replace(refund, status=FAILED, settle_at=None, failure_reason=failure_reason)
    restored = replace(charge, amount_refunded=charge.amount_refunded - refund.amount)
    return failed, restored, [DomainEvent("refund.failed", failed, {"status": SUCCEEDED}),
                              DomainEvent("refund.updated", failed, {"status": SUCCEEDED})]
