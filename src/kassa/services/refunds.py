"""Refunds of an Amazon Pay charge: created pending, settled later by the worker.

In live mode Amazon Pay is asked first (outside any unit of work), with an idempotency key fixed
by the merchant's own Idempotency-Key when there is one, so a retried request refunds once; the
worker then polls the refund (and a notification makes it ask at once).
"""

from __future__ import annotations

import time
from dataclasses import replace

from ..domain import payment_intent as pi
from ..domain import refund as refunds
from ..domain.charge import Charge
from ..domain.errors import InvalidRequest, no_such
from ..domain.refund import Refund
from ..domain.ids import new_id
from ..methods.base import RefundResult
from ..store import repo
from ..store.database import Tx
from . import card_refunds
from .connectors import Connectors, answered_as_kassa
from .context import Caller
from .unit import Runner


class Refunds:
    def __init__(self, runner: Runner, connectors: Connectors):
        self.runner = runner
        self.db = runner.db
        self.connectors = connectors
        self.cards = None  # methods.card's test-mode connector: how a card refund goes (card_refunds)

    async def create(self, caller: Caller, *, payment_intent: str | None, charge: str | None, amount: int | None,
                     reason: str | None, metadata: dict | None):
        refund_id, started = new_id("re"), None
        if caller.livemode:
            amount, started = await self._start_live(caller, refund_id, payment_intent, charge, amount)

        async def change(tx: Tx, now: int):
            target = await self._charge(tx, caller, payment_intent, charge)
            card_terms = card_refunds.terms(self.cards, target)
            refund, updated, events = refunds.create(
                target, amount, reason=reason, metadata=metadata, now=now, refund_id=refund_id,
                settle_after=card_terms.after_seconds if card_terms else (
                    self.connectors.poll_seconds if started else refunds.SETTLE_AFTER_SECONDS),
                status=card_terms.status if card_terms else refunds.PENDING)
            await repo.insert_object(tx, "refunds", caller.account_id, refund, payment_intent=refund.payment_intent,
                                     charge=refund.charge, status=refund.status, settle_at=refund.settle_at,
                                     external_id=started.external_id if started else None)
            await repo.update_object(tx, "charges", caller.account_id, updated)
            if started is not None and started.status != refunds.PENDING:
                refund, updated, more = refunds.settle(refund, updated, succeeded=started.status == refunds.SUCCEEDED,
                                                       failure_reason="declined")
                await self._store_settled(tx, caller, refund, updated)
                events += more
            return refund, events

        return await self.runner.write(caller, change)

    async def _start_live(self, caller: Caller, refund_id: str, payment_intent: str | None, charge: str | None,
                          amount: int | None) -> tuple[int, RefundResult]:
        """Check the refund as its unit will, then ask Amazon Pay for it; the amount it asked for."""

        async def read(tx: Tx):
            target = await self._charge(tx, caller, payment_intent, charge, lock=False)
            planned = refunds.create(target, amount, reason=None, metadata=None, now=int(time.time()))[0]
            return target, planned

        target, planned = await self.db.read(read)
        connector = await self.connectors.for_account(caller.account_id, True)
        basis = f"{caller.account_id}/{caller.idempotency_key}" if caller.idempotency_key else refund_id
        with answered_as_kassa():
            started = await connector.refund(basis, target.transaction_id, planned.amount, planned.currency)
        return planned.amount, started

    async def _store_settled(self, tx: Tx, caller: Caller, refund: Refund, charge: Charge) -> None:
        await repo.update_object(tx, "refunds", caller.account_id, refund, status=refund.status,
                                 settle_at=refund.settle_at)
        await repo.update_object(tx, "charges", caller.account_id, charge)

    async def _charge(self, tx: Tx, caller: Caller, intent_id: str | None, charge_id: str | None, *,
                      lock: bool = True) -> Charge:
        if intent_id and charge_id:
            raise InvalidRequest("You may only specify one of these parameters: charge, payment_intent.",
                                 param="payment_intent")
        if charge_id:
            charge = await repo.get_object(tx, "charges", Charge, caller.account_id, caller.livemode, charge_id,
                                           lock=lock)
            if charge is None:
                raise no_such("charge", charge_id, param="charge")
            return charge
        if not intent_id:
            raise InvalidRequest("One of the following params should be provided for this request: "
                                 "payment_intent or charge.", code="missing_required_parameter",
                                 param="payment_intent")
        intent = await repo.get_intent(tx, caller.account_id, caller.livemode, intent_id, lock=lock)
        if intent is None:
            raise no_such("payment_intent", intent_id, param="payment_intent")
        if intent.status != pi.SUCCEEDED or not intent.latest_charge:
            raise InvalidRequest(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund: its status is "
                f"{intent.status}.", code="charge_not_refundable", param="payment_intent")
        return await repo.get_object(tx, "charges", Charge, caller.account_id, caller.livemode,
                                     intent.latest_charge, lock=lock)

    async def retrieve(self, caller: Caller, refund_id: str) -> Refund:
        async def read(tx: Tx):
            return await repo.get_object(tx, "refunds", Refund, caller.account_id, caller.livemode, refund_id)

        refund = await self.db.read(read)
        if refund is None:
            raise no_such("refund", refund_id, param="refund")
        return refund

    async def update(self, caller: Caller, refund_id: str, metadata: dict | None):
        from ..domain.metadata import apply_metadata

        async def change(tx: Tx, now: int):
            refund = await repo.get_object(tx, "refunds", Refund, caller.account_id, caller.livemode, refund_id,
                                           lock=True)
            if refund is None:
                raise no_such("refund", refund_id, param="refund")
            updated = replace(refund, metadata=apply_metadata(refund.metadata, metadata))
            await repo.update_object(tx, "refunds", caller.account_id, updated)
            return updated, []

        return await self.runner.write(caller, change)

    async def settle(self, caller: Caller, refund_id: str) -> None:
        """The worker's entry (and a notification's): ask whether a pending refund has settled."""
        live_status = None
        if caller.livemode:
            async def read(tx: Tx):
                return await repo.refund_external_id(tx, refund_id)

            external_id = await self.db.read(read)
            if external_id is None:
                return
            connector = await self.connectors.for_account(caller.account_id, True)
            live_status = await connector.refund_status(external_id)

        async def change(tx: Tx, now: int):
            refund = await repo.get_object(tx, "refunds", Refund, caller.account_id, caller.livemode, refund_id,
                                           lock=True)
            if refund is not None and refund.status == refunds.SUCCEEDED and refund.settle_at is not None:
                return await card_refunds.fail_late(tx, caller, refund)  # a card refund that fails later
            if refund is None or refund.status != refunds.PENDING:
                return refund, []
            status = live_status or await self.connectors.test.refund_status(refund.id, refund.settle_at, now)
            if status == refunds.PENDING:
                if caller.livemode:
                    waiting = refunds.poll_later(refund, now=now, after=self.connectors.poll_seconds)
                    await repo.update_object(tx, "refunds", caller.account_id, waiting, settle_at=waiting.settle_at)
                return refund, []
            charge = await repo.get_object(tx, "charges", Charge, caller.account_id, caller.livemode,
                                           refund.charge, lock=True)
            settled, charge, events = refunds.settle(refund, charge, succeeded=status == refunds.SUCCEEDED,
                                                     failure_reason="declined")
            await self._store_settled(tx, caller, settled, charge)
            return settled, events

        await self.runner.write(caller, change)
