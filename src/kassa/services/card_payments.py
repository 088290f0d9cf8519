"""Card payments: PaymentMethods from card data, and confirmations the card connector decides at
once: approved, declined (kept, and answered with a 402), or held for 3D Secure on kassa's page.

The PaymentIntent service calls in here when the method to try is a card; the 3D Secure page calls
`authenticate`. Cards exist in test mode only (live mode has no card processor).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from ..domain import card_attempt
from ..domain import charge as charges
from ..domain import payment_intent as pi
from ..domain import payment_method as pms
from ..domain.errors import PaymentFailed, Refusal, missing_param
from ..domain.events import DomainEvent
from ..domain.ids import digest
from ..domain.payment_method import CardInput, PaymentMethod
from ..domain.payment_method_types import CardsUnavailable
from ..methods.base import ACTION_REQUIRED, AUTHORIZED, Attempt, AuthorizationRequest, Decision
from ..methods.card import three_d_secure
from ..methods.card.test_mode import TestModeCards
from ..store import repo
from ..store.database import Tx
from .context import Caller
from .unit import Runner

TEST_METHOD_PREFIX = "pm_card_"  # Stripe's test PaymentMethod ids (no generated id has "_" there)


def is_test_method(method_id: str | None) -> bool:
    return bool(method_id) and method_id.startswith(TEST_METHOD_PREFIX)


class CardPayments:
    def __init__(self, runner: Runner, cards: TestModeCards):
        self.runner = runner
        self.cards = cards
        self.intents: Any = None  # services.payment_intents.PaymentIntents, which calls in here
        self.saving: Any = None  # services.saved_methods.SavedMethods: saving a card that paid

    # ---- payment methods -------------------------------------------------------------------

    def new_method(self, caller: Caller, source: CardInput | None, *, billing_details: dict | None,
                   metadata: dict | None = None, now: int, param: str = "card",
                   intent_id: str | None = None) -> PaymentMethod:
        """A card PaymentMethod (not stored yet) from card data, a test token or a test id. A card
        error while confirming `intent_id` names that intent, as Stripe's does."""
        if caller.livemode:
            raise CardsUnavailable("type" if param == "card" else param)
        if source is None:
            raise missing_param(param)
        try:
            described = self.cards.describe(source, account_id=caller.account_id, billing_details=billing_details)
        except PaymentFailed as error:
            if intent_id is not None:
                error.extra = {**error.extra, "payment_intent": intent_id}
            raise
        return pms.create("card", livemode=caller.livemode, now=now, billing_details=billing_details,
                          metadata=metadata, card=described.card, test_card=described.kind)

    def prepare(self, caller: Caller, command: pi.Confirm) -> PaymentMethod | None:
        """The PaymentMethod a confirmation's card data makes (a test id such as pm_card_visa, a test
        token, a test number), made before its unit of work: nothing in it reads or writes the store,
        so the unit, which other requests' units wait behind, no longer does it. None when there is
        no card data, in live mode, or when the data is refused: the unit then makes it again and
        raises its error after a confirmation's earlier checks, as it would have."""
        if caller.livemode or command.payment_method or command.payment_method_type != "card" or command.card is None:
            return None
        try:
            return self.new_method(caller, command.card, billing_details=command.billing_details,
                                   now=int(time.time()), param="payment_method_data[card]")
        except Exception:  # noqa: BLE001 - raised again inside the unit, where it always was
            return None

    async def materialize(self, tx: Tx, caller: Caller, command: pi.CreateIntent, now: int) -> pi.CreateIntent:
        """A create naming one of Stripe's test ids (pm_card_visa) gets a new PaymentMethod of its own."""
        if not is_test_method(command.payment_method):
            return command
        method = self.new_method(caller, CardInput("payment_method", test_method=command.payment_method),
                                 billing_details=None, now=now, param="payment_method")
        await repo.insert_object(tx, "payment_methods", caller.account_id, method)
        return replace(command, payment_method=method.id)

    # ---- confirm -------------------------------------------------------------------------------

    async def confirm(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, method: PaymentMethod,
                      command: pi.Confirm, return_url: str | None, base_url: str, now: int, *, new: bool = False):
        """Try `method` on `intent` now: the intent (succeeded, requires_capture, requires_action), or a
        `Refusal` carrying the declined intent, with their events. A `new` intent (created in this
        unit, not stored yet) is inserted rather than updated."""
        if caller.livemode:
            raise CardsUnavailable("payment_method")
        options = {**(intent.payment_method_options.get("card") or {}),
                   **((command.payment_method_options or {}).get("card") or {})}
        attempt = Attempt(off_session=command.off_session, error_on_requires_action=command.error_on_requires_action,
                          request_three_d_secure=options.get("request_three_d_secure"), set_up=method.set_up)
        capture = card_attempt.capture_method(intent, command) != "manual"
        request = self._request(intent, "", return_url, base_url, caller, capture)
        decision = await self.cards.authorize_now(request, method, attempt)
        if decision.outcome != ACTION_REQUIRED:
            return await self._apply(tx, caller, intent, command, method, decision, now, capture, new=new)
        request = replace(request, attempt_id=three_d_secure.new_attempt_id())  # an id only for a page
        redirect = await self.cards.start_authentication(request)
        await repo.insert_authorization(tx, {
            "id": request.attempt_id, "token_hash": digest(redirect.token), "account_id": caller.account_id,
            "livemode": caller.livemode, "payment_intent": intent.id, "created": now,
            "deadline": now + pi.AUTHORIZATION_WINDOW_SECONDS, "return_url": return_url or "",
            "external_id": None})
        action = three_d_secure.next_action(redirect.url, return_url, request.attempt_id)
        updated, events = card_attempt.require_authentication(intent, command, payment_method=method.id,
                                                              next_action=action, attempt=request.attempt_id, now=now)
        await repo.save_intent(tx, caller.account_id, updated, new=new)
        return updated, events

    @staticmethod
    def _request(intent: pi.PaymentIntent, attempt_id: str, return_url: str | None, base_url: str,
                 caller: Caller, capture: bool) -> AuthorizationRequest:
        return AuthorizationRequest(attempt_id=attempt_id, intent_id=intent.id, amount=intent.amount,
                                    currency=intent.currency, capture=capture,
                                    return_url=return_url or "", kassa_base_url=base_url,
                                    merchant_name=caller.account_name)

    async def _apply(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, command: pi.Confirm | None,
                     method: PaymentMethod, decision: Decision, now: int, capture: bool, *, new: bool = False):
        """Store the connector's decision: a charge (succeeded or failed) and the intent's outcome.
        `capture`: whether the intent's capture method (with this confirmation's options) is not manual."""
        events: list[DomainEvent] = []
        charge = None
        failure = decision.failure
        if decision.outcome == AUTHORIZED or failure.charged:
            details = decision.details
            if decision.outcome == AUTHORIZED and not capture:
                details = {**details, "capture_before": now + pi.CAPTURE_WINDOW_SECONDS}
            charge, events = charges.of_card(
                livemode=caller.livemode, amount=intent.amount, currency=intent.currency, intent_id=intent.id,
                payment_method=method.id, now=now, captured=capture, details=details,
                outcome=decision.outcome_details, test_card=method.test_card, description=intent.description,
                receipt_email=(command.receipt_email if command else None) or intent.receipt_email,
                billing_details=method.billing_details, shipping=intent.shipping,
                statement_descriptor=intent.statement_descriptor,
                failure=None if decision.outcome == AUTHORIZED else (failure.code, failure.message),
                customer=intent.customer)
            await repo.insert_object(tx, "charges", caller.account_id, charge, payment_intent=intent.id)
        if decision.outcome == AUTHORIZED:
            updated, more = card_attempt.approve(intent, command, payment_method=method.id, charge_id=charge.id,
                                                 now=now, captured=capture)
            await repo.save_intent(tx, caller.account_id, updated, new=new)
            more += await self.saving.after_payment(tx, caller, updated, method, now, authenticated=command is None)
            return updated, events + more
        rendered = self.runner.render(method)
        charge_id = charge.id if charge is not None else None
        error = card_attempt.card_error(failure, payment_method=rendered, charge_id=charge_id)
        updated, more = card_attempt.decline(intent, command, error=error, charge_id=charge_id, now=now)
        await repo.save_intent(tx, caller.account_id, updated, new=new)
        extra = {"decline_code": failure.decline_code, "payment_method": rendered, "payment_intent": updated.id}
        if failure.advice_code:
            extra["advice_code"] = failure.advice_code
        if charge_id:
            extra["charge"] = charge_id
        refusal = PaymentFailed(failure.message, code=failure.code, param=failure.param, extra=extra)
        return Refusal(refusal, updated), events + more

    # ---- 3D Secure ---------------------------------------------------------------------------

    async def authenticate(self, caller: Caller, attempt_id: str, intent_id: str, decision: str
                           ) -> tuple[str, pi.PaymentIntent]:
        """The buyer's answer on the 3D Secure page: 'complete' or 'fail'. Returns the attempt's
        outcome ('succeeded', 'failed', 'expired', 'canceled'); a second answer changes nothing."""

        async def change(tx: Tx, now: int):
            intent, events = await self.intents.current(tx, caller, intent_id, now)  # the intent's lock first
            attempt = await repo.authorization(tx, attempt_id, lock=True)
            if attempt["outcome"] is not None:
                return (attempt["outcome"], intent), events
            if intent.attempt != attempt_id or intent.status != pi.REQUIRES_ACTION:
                await repo.close_authorization(tx, attempt_id, "canceled")
                return ("canceled", intent), events
            method = await self._method(tx, caller, intent.payment_method)
            if decision == "complete":
                capture = card_attempt.capture_method(intent) != "manual"
                request = self._request(intent, attempt_id, attempt["return_url"] or None, "", caller, capture)
                decided = await self.cards.authorize_now(request, method, Attempt(authenticated=True))
                result, more = await self._apply(tx, caller, intent, None, method, decided, now, capture)
                updated = result.subject if isinstance(result, Refusal) else result
                outcome = "succeeded" if decided.outcome == AUTHORIZED else "failed"
            else:
                updated, more = await self.fail_authentication(tx, caller, intent, now, method=method)
                outcome = "failed"
            await repo.close_authorization(tx, attempt_id, outcome)
            return (outcome, updated), events + more

        return await self.runner.write(caller, change)

    async def fail_authentication(self, tx: Tx, caller: Caller, intent: pi.PaymentIntent, now: int, *,
                                  method: PaymentMethod | None = None, expired: bool = False):
        """3D Secure failed (or its window ended): the intent waits for a new payment method."""
        if method is None:
            method = await self._method(tx, caller, intent.payment_method)
        rendered = self.runner.render(method) if method is not None else None
        error = card_attempt.authentication_error(rendered, expired=expired)
        updated, events = card_attempt.decline(intent, None, error=error, charge_id=None, now=now)
        await repo.update_intent(tx, caller.account_id, updated)
        return updated, events

    @staticmethod
    async def _method(tx: Tx, caller: Caller, method_id: str | None) -> PaymentMethod | None:
        if not method_id:
            return None
        return await repo.get_object(tx, "payment_methods", PaymentMethod, caller.account_id, caller.livemode,
                                     method_id)
