"""Refunds of card charges in test mode: how each goes, as the card connector says for the test
card charged (at once; pending then succeeded; succeeded then failed with ``refund.failed``)."""

from __future__ import annotations

from ..domain import refund as refunds
from ..domain.charge import Charge
from ..domain.refund import Refund
from ..methods.base import RefundTerms
from ..store import repo
from ..store.database import Tx
from .context import Caller

# Stripe's failure_reason for a card refund the issuer could not take.
FAILURE_REASON = "expired_or_canceled_card"


def terms(cards, charge: Charge) -> RefundTerms | None:
    """The terms of a refund of `charge`; None when it is not a card charge."""
    if charge.method_type != "card" or cards is None:
        return None
    return cards.refund_terms(charge.test_card)


async def fail_late(tx: Tx, caller: Caller, refund: Refund):
    """A refund that succeeded at once and fails now (the test card refundFail)."""
    charge = await repo.get_object(tx, "charges", Charge, caller.account_id, caller.livemode, refund.charge,
                                   lock=True)
    failed, restored, events = refunds.fail_after_success(refund, charge, failure_reason=FAILURE_REASON)
    await repo.update_object(tx, "refunds", caller.account_id, failed, status=failed.status,
                             settle_at=failed.settle_at)
    await repo.update_object(tx, "charges", caller.account_id, restored)
    return failed, events
