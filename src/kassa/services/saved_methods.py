"""Saved payment methods: attaching to and detaching from customers, mandates, the rules for using
a saved method on a PaymentIntent, saving a method that paid (``setup_future_usage``) and charging
a saved method with no buyer present (``off_session``).

The PaymentIntent and card services call in here from inside their units of work.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..domain import card_attempt
from ..domain import charge as charges
from ..domain import customer as customers
from ..domain import mandate as mandates
from ..domain import off_session
from ..domain import payment_intent as pi
from ..domain.errors import InvalidRequest, no_such
from ..domain.events import DomainEvent
from ..domain.payment_method import PaymentMethod
from ..methods.base import AUTHORIZED, SavedCharge
from ..store import customers_repo as store
from ..store import repo
from ..store.database import Tx
from .context import Caller
from .unit import Runner

LIVE_NOT_SAVED = ("This Amazon Pay method has no Charge Permission to charge without the buyer: save it live with a "
                  "SetupIntent, or a payment made with setup_future_usage=off_session and a customer.")


def saving_usage(intent: pi.PaymentIntent, command: pi.Confirm | None, method_type: str) -> str | None:
    """The setup_future_usage that applies to this attempt: the method type's option, else the intent's."""
    for options in ((command.payment_method_options if command else None) or {}, intent.payment_method_options):
        usage = (options.get(method_type) or {}).get("setup_future_usage")
        if usage:
            return usage
    usage = (command.setup_future_usage if command else None) or intent.setup_future_usage
    return usage


class SavedMethods:
    def __init__(self, runner: Runner):
        self.runner = runner

    # ---- attach, detach ------------------------------------------------------------------------

    async def attach(self, tx: Tx, caller: Caller, method: PaymentMethod, customer_id: str, *,
                     set_up: bool = False) -> tuple[PaymentMethod, list[DomainEvent]]:
        """Attach `method` to `customer_id` (checked to exist); attaching it again changes nothing."""
        check_reusable(method)
        if method.customer == customer_id:
            if set_up and not method.set_up:
                method = replace(method, set_up=True)
                await store.update_method(tx, caller.account_id, method)
            return method, []
        if method.customer is not None:
            raise InvalidRequest("The payment method you provided has already been attached to a customer.",
                                 code="payment_method_unexpected_state", param="payment_method")
        await self.customer(tx, caller, customer_id)
        attached = replace(method, customer=customer_id, set_up=set_up or method.set_up)
        await store.update_method(tx, caller.account_id, attached)
        return attached, [DomainEvent("payment_method.attached", attached)]

    async def detach(self, tx: Tx, caller: Caller, method: PaymentMethod) -> tuple[PaymentMethod, list[DomainEvent]]:
        """Detach: the method can never be used again, its mandates end (``mandate.updated``), and it
        stops being its customer's default."""
        if method.customer is None:
            raise InvalidRequest("The payment method you provided is not attached to a customer so detachment is "
                                 "impossible.", code="payment_method_unexpected_state", param="payment_method")
        events: list[DomainEvent] = []
        for mandate in await store.active_mandates(tx, caller.account_id, caller.livemode, method.id):
            ended, more = mandates.end(mandate)
            await store.update_mandate(tx, caller.account_id, ended)
            events += more
        customer = await store.get_customer(tx, caller.account_id, caller.livemode, method.customer, lock=True)
        if customer is not None and customer.default_payment_method == method.id and not customer.deleted:
            updated, more = customers.update(customer, {}, None, default_payment_method=None)
            await store.update_customer(tx, caller.account_id, updated)
            events += more
        detached = replace(method, customer=None, detached=True)
        await store.update_method(tx, caller.account_id, detached)
        events.append(DomainEvent("payment_method.detached", detached, {"customer": method.customer}))
        return detached, events

    async def customer(self, tx: Tx, caller: Caller, customer_id: str, param: str = "customer"):
        found = await store.get_customer(tx, caller.account_id, caller.livemode, customer_id)
        if found is None or found.deleted:
            raise no_such("customer", customer_id, param=param)
        return found

    async def save(self, tx: Tx, caller: Caller, method: PaymentMethod, customer_id: str | None, *, usage: str,
                   now: int, accepted: dict | None = None, permission_id: str | None = None
                   ) -> tuple[PaymentMethod, mandates.Mandate, list[DomainEvent]]:
        """A method set up for future use: attached to its customer (if any), and its mandate."""
        events: list[DomainEvent] = []
        if customer_id:
            method, events = await self.attach(tx, caller, method, customer_id, set_up=True)
        elif not method.set_up:
            method = replace(method, set_up=True)
            await store.update_method(tx, caller.account_id, method)
        mandate = mandates.create(payment_method=method.id, method_type=method.type, customer=customer_id,
                                  livemode=caller.livemode, now=now, accepted=accepted,
                                  single_use=usage == "on_session" and method.type == "card",
                                  external_id=permission_id)
        await store.insert_mandate(tx, caller.account_id, mandate)
        return method, mandate, events

    # ---- a saved method on a PaymentIntent ------------------------------------------------------

    async def method_and_mandates(self, tx: Tx, caller: Caller, method_id: str
                                  ) -> tuple[PaymentMethod | None, list[mandates.Mandate]]:
        """A saved method and its active mandates, in one statement (an off-session payment needs both)."""
        return await store.method_and_active_mandates(tx, caller.account_id, caller.livemode, method_id)

    async def check_use(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, method: PaymentMethod,
                        command: pi.Confirm, found: list[mandates.Mandate] | None = None) -> mandates.Mandate | None:
        """Stripe's rules before an attempt with `method`: a detached method is spent, a customer's
        method needs that customer, an off-session Amazon Pay payment needs an active mandate, and
        saving needs a customer that exists. Returns that mandate (None when not needed); `found`
        are the method's active mandates when already read."""
        check_reusable(method)
        if method.customer is not None:
            if intent.customer is None:
                raise InvalidRequest(
                    f"The provided PaymentMethod is attached to a Customer ({method.customer}). To use it, pass "
                    "that Customer's id as customer on the PaymentIntent.", code="payment_intent_invalid_parameter",
                    param="customer")
            if intent.customer != method.customer:
                raise InvalidRequest(
                    "The provided PaymentMethod is attached to another Customer than this PaymentIntent's. Pass the "
                    "Customer it is attached to.", code="payment_intent_invalid_parameter", param="payment_method")
        usage = saving_usage(intent, command, method.type)
        mandate = None
        if method.type == "amazon_pay":
            if usage == "on_session":
                raise InvalidRequest("Amazon Pay takes setup_future_usage none or off_session only.",
                                     code="payment_intent_invalid_parameter", param="setup_future_usage")
            if command.off_session:
                mandate = await self.active_mandate(tx, caller, method, found)
                if caller.livemode and not mandate.external_id:
                    raise InvalidRequest(LIVE_NOT_SAVED, code="payment_method_unexpected_state",
                                         param="payment_method")
        if usage in ("off_session", "on_session") and intent.customer:
            await self.customer(tx, caller, intent.customer)
        return mandate

    async def active_mandate(self, tx: Tx, caller: Caller, method: PaymentMethod,
                             found: list[mandates.Mandate] | None = None) -> mandates.Mandate:
        """The method's newest active mandate (`found`: its active mandates, when already read)."""
        if not method.customer:
            found = []
        elif found is None:
            found = await store.active_mandates(tx, caller.account_id, caller.livemode, method.id)
        if not found:
            raise InvalidRequest(
                "This PaymentMethod has no active mandate for payments without the buyer: save it for the customer "
                "first (a SetupIntent, or a payment with setup_future_usage=off_session), then pass it with "
                "off_session=true.", code="payment_method_unexpected_state", param="payment_method")
        return found[-1]

    async def after_payment(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, method: PaymentMethod | None,
                            now: int, authenticated: bool = False, permission_id: str | None = None
                            ) -> list[DomainEvent]:
        """A payment succeeded (or is held): with a customer and setup_future_usage, its method is saved."""
        if method is None or not intent.customer:
            return []
        usage = saving_usage(intent, None, method.type)
        if usage not in ("off_session", "on_session"):
            return []
        if method.customer == intent.customer and method.set_up:
            return []
        if caller.livemode and method.type == "amazon_pay" and not permission_id:
            return []  # Amazon gave no Charge Permission to charge later: nothing to save
        _, _, events = await self.save(tx, caller, method, intent.customer, usage=usage, now=now,
                                       permission_id=permission_id)
        return events

    async def charge_off_session(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, method: PaymentMethod,
                                 command: pi.Confirm, return_url: str | None, now: int, connector: Any, *,
                                 mandate: mandates.Mandate | None = None, new: bool = False):
        """Charge a saved redirect method (Amazon Pay) now, under its active mandate (`mandate`, when
        `check_use` found it already). A `new` intent (created in this unit) is inserted, not updated."""
        if mandate is None:
            mandate = await self.active_mandate(tx, caller, method)
        capture = card_attempt.capture_method(intent, command, method.type) != "manual"
        completion = await connector.charge_saved(SavedCharge(
            intent_id=intent.id, amount=intent.amount, currency=intent.currency, capture=capture,
            mandate_id=mandate.id, permission_id=mandate.external_id, idempotency_key=intent.id))
        if completion.outcome != AUTHORIZED:
            raise InvalidRequest(completion.message or "The saved payment method was declined.",
                                 code="payment_intent_payment_attempt_failed", param="payment_method")
        charge, events = charges.authorize(
            livemode=caller.livemode, amount=intent.amount, currency=intent.currency, intent_id=intent.id,
            payment_method=method.id, capture=capture, now=now, description=intent.description,
            receipt_email=command.receipt_email or intent.receipt_email, billing_details=method.billing_details,
            shipping=command.shipping or intent.shipping, statement_descriptor=intent.statement_descriptor,
            transaction_id=completion.charge_id, customer=intent.customer)
        await repo.insert_object(tx, "charges", caller.account_id, charge, payment_intent=intent.id)
        updated, more = off_session.approve(intent, command, method_type=method.type, payment_method=method.id,
                                            charge_id=charge.id, now=now)
        await repo.save_intent(tx, caller.account_id, updated, new=new)
        return updated, events + more


def check_reusable(method: PaymentMethod) -> None:
    if method.detached:
        raise InvalidRequest(off_session.NOT_REUSABLE, code="payment_method_unexpected_state", param="payment_method")
