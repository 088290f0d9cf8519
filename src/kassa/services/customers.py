"""Customer use cases (create, retrieve, update, delete, list, search) and the saved-method calls
on PaymentMethods (attach, detach, update, list by customer). Each change is one unit of work."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..domain import customer as customers
from ..domain.customer import Customer
from ..domain.errors import InvalidRequest, PaymentFailed, no_such
from ..domain.events import DomainEvent
from ..domain.metadata import apply_metadata
from ..domain.payment_method import CardInput, PaymentMethod
from ..methods.base import DECLINED, Attempt, AuthorizationRequest
from ..store import customers_repo as store
from ..store.database import Tx
from .card_payments import is_test_method
from .context import Caller
from .saved_methods import SavedMethods
from .unit import Runner


class Customers:
    def __init__(self, runner: Runner, saving: SavedMethods):
        self.runner = runner
        self.db = runner.db
        self.saving = saving
        self.cards: Any = None  # services.card_payments.CardPayments: test card ids, checks at attach

    # ---- customers -------------------------------------------------------------------------

    async def create(self, caller: Caller, values: dict, metadata: dict | None, default_payment_method: str | None):
        async def change(tx: Tx, now: int):
            customer, events = customers.create(values, metadata, livemode=caller.livemode, now=now)
            if default_payment_method:  # Stripe: only a method attached to this customer; a new one has none
                raise _not_its_method(default_payment_method)
            await store.insert_customer(tx, caller.account_id, customer)
            return customer, events

        return await self.runner.write(caller, change)

    async def retrieve(self, caller: Caller, customer_id: str) -> Customer:
        async def read(tx: Tx):
            return await store.get_customer(tx, caller.account_id, caller.livemode, customer_id)

        found = await self.db.read(read)
        if found is None:
            raise no_such("customer", customer_id)
        return found

    async def load(self, tx: Tx, caller: Caller, customer_id: str):
        """For expand[]."""
        return await store.get_customer(tx, caller.account_id, caller.livemode, customer_id)

    async def update(self, caller: Caller, customer_id: str, values: dict, metadata: dict | None,
                     default_payment_method: Any = ...):
        async def change(tx: Tx, now: int):
            customer = await self._live_customer(tx, caller, customer_id)
            if default_payment_method not in (..., None):
                method = await store.get_method(tx, caller.account_id, caller.livemode, default_payment_method)
                if method is None or method.customer != customer.id:
                    raise _not_its_method(default_payment_method)
            updated, events = customers.update(customer, values, metadata,
                                               default_payment_method=default_payment_method)
            if events:
                await store.update_customer(tx, caller.account_id, updated)
            return updated, events

        return await self.runner.write(caller, change)

    async def delete(self, caller: Caller, customer_id: str):
        """Delete: the customer's methods are detached (their mandates end) and it is gone from lists."""
        async def change(tx: Tx, now: int):
            customer = await self._live_customer(tx, caller, customer_id)
            events: list[DomainEvent] = []
            attached, _ = await store.methods_of_customer(tx, caller.account_id, caller.livemode, customer.id)
            deleted, more = customers.delete(customer)
            await store.update_customer(tx, caller.account_id, deleted)  # no default to clear any more
            for method in attached:
                _, detached = await self.saving.detach(tx, caller, method)
                events += detached
            return {"id": customer.id, "object": "customer", "deleted": True}, more + events

        return await self.runner.write(caller, change)

    async def _live_customer(self, tx: Tx, caller: Caller, customer_id: str) -> Customer:
        customer = await store.get_customer(tx, caller.account_id, caller.livemode, customer_id, lock=True)
        if customer is None or customer.deleted:
            raise no_such("customer", customer_id)
        return customer

    async def list(self, caller: Caller, *, limit: int, starting_after: str | None, ending_before: str | None,
                   where: str = "", params: dict | None = None, after_seq: int | None = None):
        async def read(tx: Tx):
            return await store.page_customers(tx, caller.account_id, caller.livemode, limit=limit,
                                              after_id=starting_after, before_id=ending_before, after_seq=after_seq,
                                              where=where, params=params)

        found = await self.db.read(read)
        if found is None:
            raise no_such("customer", starting_after or ending_before,
                          param="starting_after" if starting_after else "ending_before")
        return found

    async def with_methods(self, caller: Caller, *, limit: int, starting_after: str | None = None):
        """A page of customers, each with its saved methods (the Dashboard's Customers page)."""
        async def read(tx: Tx):
            found = await store.page_customers(tx, caller.account_id, caller.livemode, limit=limit,
                                               after_id=starting_after)
            if found is None:
                return [], False
            page, more, _ = found
            methods = await store.methods_of_customers(tx, caller.account_id, caller.livemode, [c.id for c in page])
            return [(c, [m for m in methods if m.customer == c.id]) for c in page], more

        return await self.db.read(read)

    # ---- saved methods -----------------------------------------------------------------------

    async def methods(self, caller: Caller, customer_id: str, *, limit: int, starting_after: str | None,
                      ending_before: str | None, method_type: str | None):
        async def read(tx: Tx):
            customer = await store.get_customer(tx, caller.account_id, caller.livemode, customer_id)
            if customer is None or customer.deleted:
                raise no_such("customer", customer_id, param="customer")
            return await store.methods_of_customer(tx, caller.account_id, caller.livemode, customer_id, limit=limit,
                                                   after_id=starting_after, before_id=ending_before,
                                                   method_type=method_type)

        found = await self.db.read(read)
        if found is None:
            raise no_such("payment_method", starting_after or ending_before,
                          param="starting_after" if starting_after else "ending_before")
        return found

    async def method_of(self, caller: Caller, customer_id: str, method_id: str) -> PaymentMethod:
        async def read(tx: Tx):
            return await store.get_method(tx, caller.account_id, caller.livemode, method_id)

        method = await self.db.read(read)
        if method is None or method.customer != customer_id:
            raise no_such("payment_method", method_id, param="payment_method")
        return method

    async def attach(self, caller: Caller, method_id: str, customer_id: str):
        """Attach a method (or one of Stripe's test ids, a new card) to a customer. A card that declines
        every charge is refused here, as Stripe's check of the card at attach refuses it."""
        async def change(tx: Tx, now: int):
            if is_test_method(method_id):
                method = self.cards.new_method(caller, CardInput("payment_method", test_method=method_id),
                                               billing_details=None, now=now, param="payment_method")
                await store.insert_method(tx, caller.account_id, method)
            else:
                method = await store.get_method(tx, caller.account_id, caller.livemode, method_id, lock=True)
                if method is None:
                    raise no_such("payment_method", method_id, param="payment_method")
            if method.type == "card" and method.customer != customer_id:
                await self._check_card(caller, method, customer_id)
            return await self.saving.attach(tx, caller, method, customer_id)

        return await self.runner.write(caller, change)

    async def _check_card(self, caller: Caller, method: PaymentMethod, customer_id: str) -> None:
        request = AuthorizationRequest(attempt_id="", intent_id="", amount=0, currency="usd", capture=False,
                                       return_url="", kassa_base_url="", merchant_name=caller.account_name)
        decided = await self.cards.cards.verify_now(request, method, Attempt())  # no 3D Secure at attach
        if decided.outcome == DECLINED:
            failure = decided.failure
            raise PaymentFailed(failure.message, code=failure.code, param=failure.param,
                                extra={"decline_code": failure.decline_code})

    async def detach(self, caller: Caller, method_id: str):
        async def change(tx: Tx, now: int):
            method = await store.get_method(tx, caller.account_id, caller.livemode, method_id, lock=True)
            if method is None:
                raise no_such("payment_method", method_id, param="payment_method")
            return await self.saving.detach(tx, caller, method)

        return await self.runner.write(caller, change)

    async def update_method(self, caller: Caller, method_id: str, billing_details: dict | None,
                            metadata: dict | None, allow_redisplay: str | None):
        """Change a saved method's billing details, metadata or allow_redisplay (`payment_method.updated`)."""
        async def change(tx: Tx, now: int):
            method = await store.get_method(tx, caller.account_id, caller.livemode, method_id, lock=True)
            if method is None:
                raise no_such("payment_method", method_id, param="payment_method")
            if method.customer is None:
                raise InvalidRequest("You must save this PaymentMethod to a customer before you can update it.",
                                     code="payment_method_unexpected_state", param="payment_method")
            changes: dict[str, Any] = {}
            if billing_details is not None:
                merged = dict(method.billing_details)
                for key, value in billing_details.items():
                    if value is not None:
                        merged[key] = value if key != "address" else {**(merged.get("address") or {}), **value}
                changes["billing_details"] = merged
            if metadata is not None:
                changes["metadata"] = apply_metadata(method.metadata, metadata)
            if allow_redisplay is not None:
                changes["allow_redisplay"] = allow_redisplay
            previous = {k: getattr(method, k) for k, v in changes.items() if getattr(method, k) != v}
            if not previous:
                return method, []
            updated = replace(method, **changes)
            await store.update_method(tx, caller.account_id, updated)
            return updated, [DomainEvent("payment_method.updated", updated, previous)]

        return await self.runner.write(caller, change)


def _not_its_method(method_id: str) -> InvalidRequest:
    return InvalidRequest(f"The customer does not have a payment method with the ID {method_id}. The payment method "
                          "must be attached to the customer.", code="resource_missing",
                          param="invoice_settings[default_payment_method]")
