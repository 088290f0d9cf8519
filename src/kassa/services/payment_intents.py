"""PaymentIntent use cases: load, apply a domain transition, store, with events.

Every unit that touches an intent first brings it up to date (`_current`): an authorization
window or a capture hold that ended is resolved before anything else, so the API, the hosted
page and the background sweep always apply the same rule, once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from ..domain import charge as charges
from ..domain import payment_intent as pi
from ..domain import payment_method as pms
from ..domain import return_url as return_urls
from ..domain.charge import Charge
from ..domain.errors import InvalidRequest, NotFound, no_such
from ..domain.events import DomainEvent
from ..domain.ids import digest, new_id
from ..domain.payment_method import PaymentMethod
from ..methods.base import AUTHORIZED, PENDING, AuthorizationRequest, Completion, Connector
from ..methods.card import three_d_secure
from ..store import repo
from ..store.database import Tx
from . import client_secrets, processor_requests
from .saved_methods import saving_usage
from .connectors import Connectors
from .context import Caller
from .unit import Runner

log = logging.getLogger("kassa.payment_intents")


@dataclass(frozen=True, slots=True)
class Page:
    data: list[Any]
    has_more: bool
    last_seq: int | None = None


class PaymentIntents:
    def __init__(self, runner: Runner, connectors: Connectors):
        self.runner = runner
        self.db = runner.db
        self.connectors = connectors
        self.live: Any = None  # services.live_payments.LivePayments: the processor's side of live mode
        self.cards: Any = None  # services.card_payments.CardPayments: attempts a card decides at once
        self.saving: Any = None  # services.saved_methods.SavedMethods: saved methods, off-session payments

    # ---- loading, with deadlines applied ------------------------------------------------

    async def _load(self, tx: Tx, caller: Caller, intent_id: str, *, lock: bool = False) -> pi.PaymentIntent:
        intent = await repo.get_intent(tx, caller.account_id, caller.livemode, intent_id, lock=lock)
        if intent is None:
            raise no_such("payment_intent", intent_id, param="intent")
        return intent

    async def current(self, tx: Tx, caller: Caller, intent_id: str, now: int
                       ) -> tuple[pi.PaymentIntent, list[DomainEvent]]:
        """The intent, locked, with an ended window or hold resolved (its events returned)."""
        intent = await self._load(tx, caller, intent_id, lock=True)
        if not pi.due(intent, now):
            return intent, []
        return await self._resolve_due(tx, caller, intent, now)

    async def _resolve_due(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, now: int, *,
                           released: bool = False):
        if intent.status == pi.REQUIRES_ACTION:
            if intent.attempt:
                await repo.close_authorization(tx, intent.attempt, "expired")
            if three_d_secure.is_attempt(intent.attempt):  # a card's 3D Secure window
                return await self.cards.fail_authentication(tx, caller, intent, now, expired=True)
            return await self._fail(tx, caller, intent, pi.EXPIRED, now)
        if caller.livemode and not released:  # the sweep releases the hold at Amazon Pay first
            return intent, []
        charge = await self.charge_of(tx, caller, intent.latest_charge)
        expired, events = pi.expire_hold(intent, now=now)
        if charge is not None:
            released_charge, charge_events = charges.release(charge, "charge.expired")
            await repo.update_object(tx, "charges", caller.account_id, released_charge)
            events += charge_events
        await repo.update_intent(tx, caller.account_id, expired)
        return expired, events

    async def _fail(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, reason: str, now: int,
                    decline_code: str | None = None):
        method = await self.payment_method_of(tx, caller, intent.payment_method)
        rendered = self.runner.render(method) if method else None
        failed, events = pi.fail_attempt(intent, payment_method=rendered, reason=reason, now=now,
                                         decline_code=decline_code)
        if method is not None:
            events.append(DomainEvent("payment_method.detached", method))
        await repo.update_intent(tx, caller.account_id, failed)
        return failed, events

    async def payment_method_of(self, tx: Tx, caller: Caller, method_id: str | None) -> PaymentMethod | None:
        if not method_id:
            return None
        return await repo.get_object(tx, "payment_methods", PaymentMethod, caller.account_id, caller.livemode,
                                     method_id)

    async def charge_of(self, tx: Tx, caller: Caller, charge_id: str | None, *, lock: bool = True) -> Charge | None:
        if not charge_id:
            return None
        return await repo.get_object(tx, "charges", Charge, caller.account_id, caller.livemode, charge_id,
                                     lock=lock)

    async def resolve_due(self, caller: Caller, intent_id: str) -> None:
        """The sweep's entry: apply an ended deadline, if it still applies once locked. In live mode
        a pending authorization is asked about, and a hold is released at Amazon Pay first."""
        if caller.livemode and await self.live.resolve_due(caller, intent_id):
            return

        async def change(tx: Tx, now: int):
            intent, events = await self.current(tx, caller, intent_id, now)
            return intent, events

        await self.runner.write(caller, change)

    async def release_ended_hold(self, caller: Caller, intent_id: str) -> pi.PaymentIntent:
        """The hold of a live intent ended and Amazon Pay released it: cancel it, if still due."""

        async def change(tx: Tx, now: int):
            current = await self._load(tx, caller, intent_id, lock=True)
            if current.status != pi.REQUIRES_CAPTURE or not pi.due(current, now):
                return current, []
            return await self._resolve_due(tx, caller, current, now, released=True)

        return await self.runner.write(caller, change)

    # ---- the API ------------------------------------------------------------------------

    async def create(self, caller: Caller, command: pi.CreateIntent, confirm: pi.Confirm | None = None,
                     base_url: str = ""):
        """Create (and with ``confirm``, confirm) in one unit of work: a retry with the same
        Idempotency-Key answers the same intent, live mode included (no processor call is made
        here: the buyer starts Amazon Pay's checkout from kassa's page)."""
        if confirm is not None and caller.livemode and confirm.off_session:  # Amazon Pay is asked between units
            return await self.live.confirm_off_session(caller, confirm, create=command)
        connector = await self.connectors.for_account(caller.account_id, caller.livemode) if confirm else None
        prepared = self.cards.prepare(caller, confirm) if confirm else None

        async def change(tx: Tx, now: int):
            creating = await self.cards.materialize(tx, caller, command, now)  # pm_card_visa: a new method
            intent, events = pi.create(creating, livemode=caller.livemode, now=now, country=caller.country)
            if confirm is None:
                await repo.insert_intent(tx, caller.account_id, intent)
                return intent, events
            # Confirmed in the same unit: the intent is inserted once, in the state the confirmation
            # leaves it in (every path of _confirm stores it, or raises and the unit writes nothing).
            intent, more = await self._confirm(tx, caller, intent, confirm, base_url, now, connector, new=True,
                                               prepared=prepared)
            return intent, events + more

        return await self.runner.write(caller, change)

    async def retrieve(self, caller: Caller, intent_id: str, client_secret: str | None = None) -> pi.PaymentIntent:
        async def read(tx: Tx):
            return await repo.get_intent_and_clock(tx, caller.account_id, caller.livemode, intent_id)

        intent, offset = await self.db.read(read)
        now = int(time.time()) + (0 if caller.livemode else offset)
        if caller.publishable:
            check_client_secret(client_secret, intent)
        if intent is None:
            raise no_such("payment_intent", intent_id, param="intent")
        if pi.due(intent, now):  # never show a window or hold that has ended
            return await self._write_through(caller, intent_id)
        return intent

    async def _write_through(self, caller: Caller, intent_id: str):
        async def change(tx: Tx, now: int):
            return await self.current(tx, caller, intent_id, now)

        return await self.runner.write(caller, change)

    async def update(self, caller: Caller, intent_id: str, command: pi.UpdateIntent):
        async def change(tx: Tx, now: int):
            intent, events = await self.current(tx, caller, intent_id, now)
            updated, more = pi.update(intent, command, now=now, country=caller.country)
            if intent.attempt and updated.attempt is None:  # a new payment method voids the page
                await repo.close_authorization(tx, intent.attempt, "canceled")
            if updated is not intent or events:
                await repo.update_intent(tx, caller.account_id, updated)
            return updated, events + more

        return await self.runner.write(caller, change)

    async def confirm(self, caller: Caller, intent_id: str, command: pi.Confirm, *, client_secret: str | None,
                      base_url: str):
        if caller.livemode and command.off_session:  # a saved Amazon Pay method: asked between units
            return await self.live.confirm_off_session(caller, command, intent_id=intent_id,
                                                       client_secret=client_secret)
        connector = await self.connectors.for_account(caller.account_id, caller.livemode)
        prepared = self.cards.prepare(caller, command)

        async def change(tx: Tx, now: int):
            intent, events = await self.current(tx, caller, intent_id, now)
            if caller.publishable:
                check_client_secret(client_secret, intent)
            confirmed, more = await self._confirm(tx, caller, intent, command, base_url, now, connector,
                                                  prepared=prepared)
            return confirmed, events + more

        return await self.runner.write(caller, change)

    @staticmethod
    def authorization_request(attempt_id: str, intent: pi.PaymentIntent, url: str, base_url: str,
                              merchant_name: str) -> AuthorizationRequest:
        """What a connector needs to send the buyer off for this attempt of ``intent``."""
        capture = pi.effective_capture_method(intent) != "manual"
        save = bool(intent.customer) and saving_usage(intent, None, "amazon_pay") == "off_session"
        return AuthorizationRequest(attempt_id=attempt_id, intent_id=intent.id, amount=intent.amount,
                                    currency=intent.currency, capture=capture, return_url=url,
                                    kassa_base_url=base_url, merchant_name=merchant_name, shipping=intent.shipping,
                                    save_for_future=save)

    async def plan(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, command: pi.Confirm,
                    now: int, prepared: PaymentMethod | None = None) -> tuple[str, PaymentMethod, list | None]:
        """Every check of a confirm, with no change: the return URL, the payment method to try
        (a new one, not stored yet, when the command gives only its type: `prepared`, when card data
        already made it) and, for an off-session payment of a saved method, its active mandates
        (read with it; None when not read)."""
        pi.check_confirm(intent, command, country=caller.country, amazon_pay_enabled=caller.amazon_pay_enabled)
        given_url = command.return_url or intent.return_url
        url = return_urls.validate(given_url, livemode=caller.livemode) if given_url else None
        mandates = None
        if command.payment_method and command.off_session:  # the method and its mandate in one statement
            method, mandates = await self.saving.method_and_mandates(tx, caller, command.payment_method)
            if method is None:
                raise NotFound(f"No such PaymentMethod: '{command.payment_method}'", param="payment_method")
        elif command.payment_method:
            method = await self.payment_method_of(tx, caller, command.payment_method)
            if method is None:
                raise NotFound(f"No such PaymentMethod: '{command.payment_method}'", param="payment_method")
        elif command.payment_method_type == "card" and prepared is not None:
            method = prepared if prepared.created == now else replace(prepared, created=now)
        elif command.payment_method_type == "card":
            method = self.cards.new_method(caller, command.card, billing_details=command.billing_details, now=now,
                                           param="payment_method_data[card]", intent_id=intent.id)
        elif command.payment_method_type:
            method = pms.create(command.payment_method_type, livemode=caller.livemode, now=now,
                                billing_details=command.billing_details, param="payment_method_data[type]")
        else:
            method = await self.payment_method_of(tx, caller, intent.payment_method)
        if method.type not in intent.payment_method_types:
            raise InvalidRequest(
                f"The PaymentMethod provided ({method.type}) is not allowed for this PaymentIntent. Allowed: "
                f"{', '.join(intent.payment_method_types)}.",
                code="payment_intent_incompatible_payment_method", param="payment_method")
        pi.check_method(intent, command, method.type, country=caller.country,
                        amazon_pay_enabled=caller.amazon_pay_enabled)
        return url, method, mandates

    async def _confirm(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, command: pi.Confirm,
                       base_url: str, now: int, connector: Connector, *, new: bool = False,
                       prepared: PaymentMethod | None = None):
        """Confirm `intent` with `command` and store it (inserted when `new`: see `create`);
        `prepared`: the card PaymentMethod its card data made before the unit (see `CardPayments.prepare`)."""
        url, method, mandates = await self.plan(tx, caller, intent, command, now, prepared)
        events: list[DomainEvent] = []
        if not command.payment_method and command.payment_method_type:
            await repo.insert_object(tx, "payment_methods", caller.account_id, method)
        if intent.attempt:  # a new attempt voids the page of the previous one
            await repo.close_authorization(tx, intent.attempt, "canceled")
        mandate = await self.saving.check_use(tx, caller, intent, method, command, mandates)
        if command.off_session and method.type != "card":  # a saved method, charged with no buyer present
            return await self.saving.charge_off_session(tx, caller, intent, method, command, url, now, connector,
                                                        mandate=mandate, new=new)
        if method.type == "card":  # decided at once (or after 3D Secure): see card_payments
            return await self.cards.confirm(tx, caller, intent, method, command, url, base_url, now, new=new)
        attempt_id = new_id("atmpt")
        redirect = await connector.start_authorization(self.authorization_request(
            attempt_id, intent, url, base_url, caller.account_name))  # no I/O: the buyer goes to kassa's page
        await repo.insert_authorization(tx, {
            "id": attempt_id, "token_hash": digest(redirect.token), "account_id": caller.account_id,
            "livemode": caller.livemode, "payment_intent": intent.id, "created": now,
            "deadline": now + pi.AUTHORIZATION_WINDOW_SECONDS, "return_url": url,
            "external_id": redirect.external_id})
        if method.id != intent.payment_method:
            events.append(DomainEvent("payment_method.attached", method))
        confirmed, more = pi.require_action(intent, command, payment_method=method.id, redirect_url=redirect.url,
                                            attempt=attempt_id, now=now)
        await repo.save_intent(tx, caller.account_id, confirmed, new=new)
        return confirmed, events + more

    async def decide(self, caller: Caller, authorization_id: str, intent_id: str,
                     decision: str) -> tuple[str, pi.PaymentIntent]:
        """The buyer's answer on the test page to attempt `authorization_id` of `intent_id`:
        'authorize' or 'fail'. Returns the attempt's outcome ('succeeded', 'failed', 'expired',
        'canceled'); a second answer changes nothing."""

        async def change(tx: Tx, now: int):
            intent, events = await self.current(tx, caller, intent_id, now)  # the intent's lock first
            attempt = await repo.authorization(tx, authorization_id, lock=True)
            if attempt["outcome"] is not None:
                return (attempt["outcome"], intent), events
            if intent.attempt != authorization_id or intent.status != pi.REQUIRES_ACTION:
                await repo.close_authorization(tx, authorization_id, "canceled")
                return ("canceled", intent), events
            if decision == "authorize":
                updated, more = await self._authorize(tx, caller, intent, now)
                outcome = "succeeded"
            else:
                updated, more = await self._fail(tx, caller, intent, pi.DECLINED, now)
                outcome = "failed"
            await repo.close_authorization(tx, authorization_id, outcome)
            return (outcome, updated), events + more

        return await self.runner.write(caller, change)

    # ---- an attempt's outcome, as the payment method reports it ----------------------------

    async def settle_attempt(self, caller: Caller, attempt_id: str, completion: Completion, *,
                             request_id: str | None = None) -> tuple[tuple[str, pi.PaymentIntent], list[dict]]:
        """Apply the payment method's word on an attempt, closing the processor request
        ``request_id`` in the same unit. An authorization that comes back for an attempt the intent
        no longer waits for (canceled, replaced, expired) is recorded to be given back: those
        requests are returned beside the (outcome, intent), for the caller to send."""
        strays: list[dict] = []

        async def change(tx: Tx, now: int):
            strays.clear()
            attempt = await repo.authorization(tx, attempt_id, lock=True)
            intent = await self._load(tx, caller, attempt["payment_intent"], lock=True)
            if request_id is not None:
                await repo.finish_processor_request(tx, request_id, "done")
            waiting = intent.attempt == attempt_id and intent.status in (pi.REQUIRES_ACTION, pi.PROCESSING)
            if attempt["outcome"] is not None or not waiting:
                if completion.outcome == AUTHORIZED and completion.charge_id and not await self._is_charge_of(
                        tx, caller, intent, completion.charge_id):
                    strays.append(await processor_requests.record(
                        tx, caller, "reverse", attempt_id, completion.charge_id, now))
                if attempt["outcome"] is None:
                    await repo.close_authorization(tx, attempt_id, "canceled")
                return (attempt["outcome"] or "canceled", intent), []
            if completion.outcome == PENDING:
                if completion.charge_id:
                    await repo.set_authorization_charge(tx, attempt_id, completion.charge_id)
                step = pi.poll_later if intent.status == pi.PROCESSING else pi.pend
                updated, events = step(intent, now=now, poll_after=self.connectors.poll_seconds)
                await repo.update_intent(tx, caller.account_id, updated)
                return ("processing", updated), events
            if completion.outcome == AUTHORIZED:
                updated, events = await self._authorize(tx, caller, intent, now, transaction_id=completion.charge_id,
                                                        permission_id=completion.charge_permission_id)
                outcome = "succeeded"
            else:
                updated, events = await self._fail(tx, caller, intent, completion.message or pi.DECLINED, now,
                                                   completion.decline_code)
                outcome = "failed"
            await repo.close_authorization(tx, attempt_id, outcome)
            return (outcome, updated), events

        result = await self.runner.write(caller, change)
        return result, list(strays)

    async def _is_charge_of(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, transaction_id: str) -> bool:
        charge = await self.charge_of(tx, caller, intent.latest_charge, lock=False)
        return charge is not None and charge.transaction_id == transaction_id

    async def give_up(self, caller: Caller, attempt_id: str, reason: str,
                      decline_code: str | None = None) -> tuple[str, pi.PaymentIntent]:
        """The buyer left the payment method's page without paying (canceled there, or the page
        could not start): the attempt fails as a decline does. An attempt the buyer already came
        back from with a result (its session recorded) is left to that result."""

        async def change(tx: Tx, now: int):
            intent_id = (await repo.authorization(tx, attempt_id))["payment_intent"]
            intent, events = await self.current(tx, caller, intent_id, now)  # the intent's lock first
            attempt = await repo.authorization(tx, attempt_id, lock=True)
            if attempt["outcome"] is not None or attempt["external_id"] is not None:
                return (attempt["outcome"] or "processing", intent), events
            if intent.attempt != attempt_id or intent.status != pi.REQUIRES_ACTION:
                await repo.close_authorization(tx, attempt_id, "canceled")
                return ("canceled", intent), events
            failed, more = await self._fail(tx, caller, intent, reason, now, decline_code)
            await repo.close_authorization(tx, attempt_id, "failed")
            return ("failed", failed), events + more

        return await self.runner.write(caller, change)

    async def _authorize(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, now: int,
                         transaction_id: str | None = None, permission_id: str | None = None):
        method = await self.payment_method_of(tx, caller, intent.payment_method)
        capture = pi.effective_capture_method(intent) != "manual"
        charge, events = charges.authorize(
            livemode=caller.livemode, amount=intent.amount, currency=intent.currency, intent_id=intent.id,
            payment_method=intent.payment_method, capture=capture, now=now, description=intent.description,
            receipt_email=intent.receipt_email, billing_details=method.billing_details if method else {},
            shipping=intent.shipping, statement_descriptor=intent.statement_descriptor,
            transaction_id=transaction_id, customer=intent.customer)
        await repo.insert_object(tx, "charges", caller.account_id, charge, payment_intent=intent.id)
        authorized, more = pi.authorize(intent, charge_id=charge.id, now=now)
        await repo.update_intent(tx, caller.account_id, authorized)
        more += await self.saving.after_payment(tx, caller, authorized, method, now, permission_id=permission_id)
        return authorized, events + more

    async def read_with_charge(self, caller: Caller, intent_id: str) -> tuple[pi.PaymentIntent, Charge | None]:
        """The intent and its latest charge, unlocked: what a call to the processor starts from."""
        async def read(tx: Tx):
            intent = await self._load(tx, caller, intent_id)
            return intent, await self.charge_of(tx, caller, intent.latest_charge, lock=False)

        return await self.db.read(read)

    async def capture(self, caller: Caller, intent_id: str, amount: int | None):
        """Capture a held authorization. Live mode records the capture and asks Amazon Pay first
        (``live.capture``), which then applies it with ``apply_capture``."""
        if caller.livemode:
            return await self.live.capture(caller, intent_id, amount)
        return await self.apply_capture(caller, intent_id, amount)

    async def apply_capture(self, caller: Caller, intent_id: str, amount: int | None, *,
                            request: dict | None = None):
        """The capture's unit; with the processor's ``request``, closed in the same unit (and a
        request already applied changes nothing)."""

        async def change(tx: Tx, now: int):
            intent, events = await self.current(tx, caller, intent_id, now)
            if request is not None:
                if not await repo.finish_processor_request(tx, request["id"], "done"):
                    return intent, events  # applied already (by the sweep, or the merchant's own call)
                if intent.status != pi.REQUIRES_CAPTURE:
                    return intent, events
            captured, more = pi.capture(intent, request["amount"] if request else amount, now=now)
            charge = await self.charge_of(tx, caller, intent.latest_charge)
            taken = captured.amount_received
            charge, charge_events = charges.capture(charge, taken)
            await repo.update_object(tx, "charges", caller.account_id, charge)
            await repo.update_intent(tx, caller.account_id, captured)
            return captured, events + charge_events + more

        return await self.runner.write(caller, change)

    async def cancel(self, caller: Caller, intent_id: str, reason: str | None):
        """Cancel. In live mode a held authorization is recorded and released at Amazon Pay first
        (``live.cancel``), which then cancels with ``apply_cancel``."""
        if caller.livemode:
            return await self.live.cancel(caller, intent_id, reason)
        return await self.apply_cancel(caller, intent_id, reason)

    async def apply_cancel(self, caller: Caller, intent_id: str, reason: str | None, *,
                           request: dict | None = None):
        """The cancel's unit; with the processor's ``request`` (a released hold), closed with it."""

        async def change(tx: Tx, now: int):
            intent, events = await self.current(tx, caller, intent_id, now)
            if request is not None:
                if not await repo.finish_processor_request(tx, request["id"], "done"):
                    return intent, events
                if intent.status != pi.REQUIRES_CAPTURE:
                    return intent, events
            canceled, more = pi.cancel(intent, reason, now=now)
            if intent.status == pi.REQUIRES_ACTION and intent.attempt:
                await repo.close_authorization(tx, intent.attempt, "canceled")
            if intent.status == pi.REQUIRES_CAPTURE:
                charge = await self.charge_of(tx, caller, intent.latest_charge)
                charge, charge_events = charges.release(charge, "charge.refunded")
                await repo.update_object(tx, "charges", caller.account_id, charge)
                more = charge_events + more
            await repo.update_intent(tx, caller.account_id, canceled)
            return canceled, events + more

        return await self.runner.write(caller, change)

    async def list(self, caller: Caller, *, limit: int, starting_after: str | None,
                   ending_before: str | None, filters_sql: str = "", filters: dict | None = None) -> Page:
        async def read(tx: Tx):
            return await repo.page_intents(tx, caller.account_id, caller.livemode, limit=limit,
                                           after_id=starting_after, before_id=ending_before,
                                           filters_sql=filters_sql, filters=filters)

        found = await self.db.read(read)
        if found is None:
            raise no_such("payment_intent", starting_after or ending_before,
                          param="starting_after" if starting_after else "ending_before")
        return Page(*found)

    async def search(self, caller: Caller, *, limit: int, after_seq: int | None, filters_sql: str,
                     filters: dict) -> Page:
        async def read(tx: Tx):
            return await repo.page_intents(tx, caller.account_id, caller.livemode, limit=limit,
                                           after_seq=after_seq, filters_sql=filters_sql, filters=filters)

        return Page(*await self.db.read(read))


def unsealed(caller: Caller) -> Caller:
    """The caller for a first step whose result is not the response."""
    return replace(caller, seal=None)


def check_client_secret(client_secret: str | None, intent: pi.PaymentIntent | None) -> None:
    """A publishable key needs the intent's client secret; any mismatch looks like a missing intent."""
    if not client_secret:
        raise InvalidRequest(
            "This API call cannot be made with a publishable API key without the PaymentIntent's "
            "client_secret. Pass client_secret, or use a secret API key.",
            code="parameter_missing", param="client_secret")
    if intent is None or not client_secrets.current().belongs(intent, client_secret):
        raise InvalidRequest(
            "The client_secret provided does not match the client_secret associated with the PaymentIntent.",
            code="payment_intent_invalid_parameter", param="client_secret")
