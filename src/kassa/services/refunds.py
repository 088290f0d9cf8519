"""Refunds of an Amazon Pay charge: created pending, settled later by the worker."""

from __future__ import annotations

from ..domain import payment_intent as pi
from ..domain import refund as refunds
from ..domain.charge import Charge
from ..domain.errors import InvalidRequest, no_such
from ..domain.refund import Refund
from ..methods.base import Connector
from ..store import repo
from ..store.database import Tx
from .context import Caller
from .unit import Runner


class Refunds:
    def __init__(self, runner: Runner, connector: Connector):
        self.runner = runner
        self.db = runner.db
        self.connector = connector

    async def create(self, caller: Caller, *, payment_intent: str | None, charge: str | None, amount: int | None,
                     reason: str | None, metadata: dict | None):
        async def change(tx: Tx, now: int):
            target = await self._charge(tx, caller, payment_intent, charge)
            refund, updated, events = refunds.create(target, amount, reason=reason, metadata=metadata, now=now)
            await self.connector.refund(refund.id, target.transaction_id, refund.amount, refund.currency)
            await repo.insert_object(tx, "refunds", caller.account_id, refund, payment_intent=refund.payment_intent,
                                     charge=refund.charge, status=refund.status, settle_at=refund.settle_at)
            await repo.update_object(tx, "charges", caller.account_id, updated)
            return refund, events

        return await self.runner.write(caller, change)

    async def _charge(self, tx: Tx, caller: Caller, intent_id: str | None, charge_id: str | None) -> Charge:
        if intent_id and charge_id:
            raise InvalidRequest("You may only specify one of these parameters: charge, payment_intent.",
                                 param="payment_intent")
        if charge_id:
            charge = await repo.get_object(tx, "charges", Charge, caller.account_id, caller.livemode, charge_id,
                                           lock=True)
            if charge is None:
                raise no_such("charge", charge_id, param="charge")
            return charge
        if not intent_id:
            raise InvalidRequest("One of the following params should be provided for this request: "
                                 "payment_intent or charge.", code="missing_required_parameter",
                                 param="payment_intent")
        intent = await repo.get_intent(tx, caller.account_id, caller.livemode, intent_id, lock=True)
        if intent is None:
            raise no_such("payment_intent", intent_id, param="payment_intent")
        if intent.status != pi.SUCCEEDED or not intent.latest_charge:
            raise InvalidRequest(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund: its status is "
                f"{intent.status}.", code="charge_not_refundable", param="payment_intent")
        return await repo.get_object(tx, "charges", Charge, caller.account_id, caller.livemode,
                                     intent.latest_charge, lock=True)

    async def retrieve(self, caller: Caller, refund_id: str) -> Refund:
        async def read(tx: Tx):
            return await repo.get_object(tx, "refunds", Refund, caller.account_id, caller.livemode, refund_id)

        refund = await self.db.read(read)
        if refund is None:
            raise no_such("refund", refund_id, param="refund")
        return refund

    async def update(self, caller: Caller, refund_id: str, metadata: dict | None):
        from dataclasses import replace

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
        """The worker's entry: ask the connector whether a pending refund has settled."""

        async def change(tx: Tx, now: int):
            refund = await repo.get_object(tx, "refunds", Refund, caller.account_id, caller.livemode, refund_id,
                                           lock=True)
            if refund is None or refund.status != refunds.PENDING:
                return refund, []
            status = await self.connector.refund_status(refund.id, refund.settle_at, now)
            if status == refunds.PENDING:
                return refund, []
            charge = await repo.get_object(tx, "charges", Charge, caller.account_id, caller.livemode,
                                           refund.charge, lock=True)
            settled, charge, events = refunds.settle(refund, charge, succeeded=status == refunds.SUCCEEDED,
                                                     failure_reason="declined")
            await repo.update_object(tx, "refunds", caller.account_id, settled, status=settled.status,
                                     settle_at=settled.settle_at)
            await repo.update_object(tx, "charges", caller.account_id, charge)
            return settled, events

        await self.runner.write(caller, change)
