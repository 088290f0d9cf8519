"""Refunds of a charge: created pending, settled later by the worker.

In live mode the refund is written first, pending, with Amazon Pay's idempotency key fixed by
kassa's own refund id; only then is Amazon asked, and its answer (its refund id) recorded in a
second unit. A refund left in between (the process killed, the database down, Amazon silent) is
sent again by the sweep with the same key, so Amazon refunds once; the worker then polls the
refund (and a notification makes it ask at once).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ..domain import payment_intent as pi
from ..domain import refund as refunds
from ..domain.charge import Charge
from ..domain.errors import InvalidRequest, no_such
from ..domain.refund import Refund
from ..domain.ids import new_id
from ..methods.amazon_pay.live import AmazonPayError
from ..methods.base import RefundResult
from ..store import repo
from ..store.database import Tx
from . import card_refunds
from .connectors import Connectors
from .context import Caller
from .payment_intents import unsealed
from .processor_requests import GRACE_SECONDS
from .unit import Runner

log = logging.getLogger("kassa.refunds")


class Refunds:
    def __init__(self, runner: Runner, connectors: Connectors):
        self.runner = runner
        self.db = runner.db
        self.connectors = connectors
        self.cards = None  # methods.card's test-mode connector: how a card refund goes (card_refunds)

    async def create(self, caller: Caller, *, payment_intent: str | None, charge: str | None, amount: int | None,
                     reason: str | None, metadata: dict | None):
        refund_id = new_id("re")
        settle_after = GRACE_SECONDS if caller.livemode else refunds.SETTLE_AFTER_SECONDS

        async def change(tx: Tx, now: int):
            target = await self._charge(tx, caller, payment_intent, charge)
            card_terms = card_refunds.terms(self.cards, target)
            refund, updated, events = refunds.create(
                target, amount, reason=reason, metadata=metadata, now=now, refund_id=refund_id,
                settle_after=card_terms.after_seconds if card_terms else settle_after,
                status=card_terms.status if card_terms else refunds.PENDING)
            await repo.insert_object(tx, "refunds", caller.account_id, refund, payment_intent=refund.payment_intent,
                                     charge=refund.charge, status=refund.status, settle_at=refund.settle_at,
                                     external_id=None)
            await repo.update_object(tx, "charges", caller.account_id, updated)
            return refund, events

        result = await self.runner.write(caller, change)  # recorded (and answered) before Amazon is asked
        if caller.livemode:
            await self._send(caller, refund_id)
        return result

    async def _send(self, caller: Caller, refund_id: str) -> None:
        """Ask Amazon Pay for a recorded refund and record its answer; silence leaves it to the sweep,
        a refusal fails the refund (its amount is refundable again)."""

        async def read(tx: Tx):
            refund = await repo.get_object(tx, "refunds", Refund, caller.account_id, True, refund_id)
            target = await repo.get_object(tx, "charges", Charge, caller.account_id, True, refund.charge)
            return refund, target

        refund, target = await self.db.read(read)
        connector = await self.connectors.for_account(caller.account_id, True)
        try:
            started = await connector.refund(refund.id, target.transaction_id, refund.amount, refund.currency)
        except AmazonPayError as error:
            log.warning("Amazon Pay refund %s: %s (HTTP %s)", refund_id, error.reason_code, error.status)
            if error.retryable or error.status == 0:
                return  # still pending: the sweep sends it again with the same key
            started = RefundResult(None, refunds.FAILED, error.reason_code)

        async def change(tx: Tx, now: int):
            refund = await repo.get_object(tx, "refunds", Refund, caller.account_id, True, refund_id, lock=True)
            if refund.status != refunds.PENDING or await repo.refund_external_id(tx, refund_id):
                return refund, []
            events = []
            waiting = refunds.poll_later(refund, now=now, after=self.connectors.poll_seconds)
            await repo.update_object(tx, "refunds", caller.account_id, waiting, settle_at=waiting.settle_at,
                                     external_id=started.external_id)
            if started.status != refunds.PENDING:
                charge = await repo.get_object(tx, "charges", Charge, caller.account_id, True, refund.charge,
                                               lock=True)
                settled, charge, events = refunds.settle(waiting, charge, succeeded=started.status == refunds.SUCCEEDED,
                                                         failure_reason="declined")
                await self._store_settled(tx, caller, settled, charge)
            return refund, events

        await self.runner.write(unsealed(caller), change)

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
            if external_id is None:  # recorded, but Amazon's answer never was: send it again
                await self._send(caller, refund_id)
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
