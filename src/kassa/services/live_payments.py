"""Live Amazon Pay around a PaymentIntent: the processor's side of every step.

The buyer's side: kassa's checkout page hands Amazon's checkout.js a payload signed for the
attempt (:meth:`LivePayments.checkout`); the buyer comes back with a Checkout Session, which is
checked to be the attempt's, recorded, completed and applied (:meth:`LivePayments.buyer_returned`);
or gives up (:meth:`LivePayments.give_up`).

Money never moves without a record: completing a checkout, capturing, releasing a hold and giving
back an authorization nobody waits for are each written as a processor request first
(:mod:`.processor_requests`), sent, then applied with the request closed in the same unit of work.
The sweep settles whatever was left in between (:meth:`LivePayments.settle_request`).

The steps of a buyer's return that a SetupIntent shares (check, record, Complete; and asking again
for a lost answer) are :meth:`LivePayments.complete_returned` and :meth:`LivePayments.ask_again`;
:mod:`.live_setups` applies their outcome to the setup.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

from ..domain import card_attempt as card_attempts
from ..domain import charge as charges
from ..domain import mandate as mandates
from ..domain import off_session
from ..domain import payment_intent as pi
from ..domain import setup_intent as si
from ..domain.errors import InvalidRequest, KassaError, PaymentFailed, Refusal
from ..domain.ids import digest
from ..methods.amazon_pay.live import (
    CANCEL_SUFFIX,
    NOT_FINISHED,
    AmazonPayError,
    AmazonPayUnavailable,
    CheckoutButton,
    LiveAmazonPay,
    SessionMismatch,
    decline_for,
)
from ..methods.base import AUTHORIZED, Completion, SavedCharge
from ..store import customers_repo, repo
from ..store.database import Tx
from . import processor_requests as requests
from .context import Caller
from .payment_intents import PaymentIntents, check_client_secret, unsealed

log = logging.getLogger("kassa.live_payments")

# What the web pages need of the connector's vocabulary, so that they import services only.
__all__ = ["CANCEL_SUFFIX", "NOT_FINISHED", "AmazonPayError", "Checkout", "LivePayments", "SessionMismatch"]


@dataclass(frozen=True, slots=True)
class Checkout:
    """What kassa's checkout page shows: the button to start (None when the attempt is over, and
    ``outcome`` says how it ended), for a PaymentIntent or a SetupIntent."""

    button: CheckoutButton | None
    outcome: str | None
    intent: pi.PaymentIntent | si.SetupIntent


class LivePayments:
    def __init__(self, intents: PaymentIntents):
        self.intents = intents
        self.runner = intents.runner
        self.db = intents.db
        self.connectors = intents.connectors
        self.setups: Any = None  # services.live_setups.LiveSetups: processor requests of setups go there
        intents.live = self

    async def _connector(self, caller: Caller) -> LiveAmazonPay:
        return await self.connectors.for_account(caller.account_id, True)

    async def _attempt(self, caller: Caller, attempt_id: str):
        async def read(tx: Tx):
            attempt = await repo.authorization(tx, attempt_id)
            intent = await repo.get_intent(tx, caller.account_id, True, attempt["payment_intent"])
            return dict(attempt), intent

        return await self.db.read(read)

    @staticmethod
    def _open(attempt: dict, intent: pi.PaymentIntent) -> bool:
        return attempt["outcome"] is None and intent.attempt == attempt["id"]

    async def retrieve(self, caller: Caller, intent_id: str) -> pi.PaymentIntent:
        return await self.intents.retrieve(caller, intent_id)

    # ---- the buyer's side ---------------------------------------------------------------------

    async def checkout(self, caller: Caller, attempt_id: str, token: str, base_url: str) -> Checkout:
        """The signed button for the attempt of ``token``; no button once the attempt is over."""
        attempt, intent = await self._attempt(caller, attempt_id)
        if pi.due(intent, int(time.time())):  # an ended window is applied first
            await self.intents.retrieve(caller, intent.id)
            attempt, intent = await self._attempt(caller, attempt_id)
        if not self._open(attempt, intent) or intent.status != pi.REQUIRES_ACTION:
            return Checkout(None, attempt["outcome"] or "canceled", intent)
        request = self.intents.authorization_request(attempt_id, intent, attempt["return_url"], base_url,
                                                     caller.account_name)
        connector = await self._connector(caller)
        return Checkout(connector.checkout_button(request, token, caller.country), None, intent)

    async def give_up(self, caller: Caller, attempt_id: str) -> tuple[str, pi.PaymentIntent]:
        """The buyer canceled on Amazon's page, or kassa's page could not start Amazon's checkout."""
        decline = decline_for("BuyerCanceled")
        return await self.intents.give_up(caller, attempt_id, decline.message, decline.decline_code)

    async def buyer_returned(self, caller: Caller, attempt_id: str, session_id: str
                             ) -> tuple[str, pi.PaymentIntent]:
        """The buyer is back from Amazon Pay with ``session_id``: check the session is this
        attempt's before anything else (SessionMismatch otherwise), record it, complete it with the
        same amount, apply the outcome. Coming back again reads the outcome and changes nothing."""
        attempt, intent = await self._attempt(caller, attempt_id)
        if not self._open(attempt, intent):
            return attempt["outcome"] or "canceled", intent
        completed = await self.complete_returned(caller, attempt, session_id, "complete", reference=intent.id,
                                                 amount=intent.amount, currency=intent.currency)
        if completed is None:  # closed meanwhile (canceled, expired, or another tab finished it)
            attempt, intent = await self._attempt(caller, attempt_id)
            return attempt["outcome"] or "canceled", intent
        request, completion = completed
        return await self._settle(caller, attempt_id, completion, request["id"])

    async def complete_returned(self, caller: Caller, attempt: dict, session_id: str, kind: str, *, reference: str,
                                amount: int | None, currency: str | None
                                ) -> tuple[dict[str, Any], Completion] | None:
        """The steps of a buyer's return that payments and setups share: Get the session and check
        it is this attempt's (``reference``, the amount, kassa's return address of the attempt;
        SessionMismatch otherwise), record it on the attempt together with the Complete about to be
        sent (a processor request of ``kind``), then Complete. Returns (the request, Amazon's word),
        or None when the attempt closed meanwhile; the caller applies it and closes the request."""
        attempt_id = attempt["id"]
        if attempt["external_id"] not in (None, session_id):
            raise SessionMismatch(session_id)
        connector = await self._connector(caller)

        def is_this_attempt(token: str) -> bool:
            return hmac.compare_digest(digest(token), bytes(attempt["token_hash"]))

        session = await connector.session_of_attempt(session_id, intent_id=reference, amount=amount,
                                                     currency=currency, token_matches=is_this_attempt)

        async def record(tx: Tx, now: int):
            current = await repo.authorization(tx, attempt_id, lock=True)
            if current["outcome"] is not None:
                return None, []
            if current["external_id"] is None:
                await repo.set_authorization_session(tx, attempt_id, session_id)
            elif current["external_id"] != session_id:
                raise SessionMismatch(session_id)
            return await requests.record(tx, caller, kind, attempt_id, session_id, now, amount=amount,
                                         currency=currency), []

        request = await self.runner.write(unsealed(caller), record)
        if request is None:
            return None
        try:
            completion = await connector.complete(session_id, amount, currency, session=session)
        except AmazonPayError as error:
            if error.reason_code == NOT_FINISHED:  # the buyer has not finished: nothing to complete
                await requests.close(self.db, request["id"], "done", NOT_FINISHED)
            raise
        return request, completion

    async def _settle(self, caller: Caller, attempt_id: str, completion, request_id: str | None = None):
        result, strays = await self.intents.settle_attempt(caller, attempt_id, completion, request_id=request_id)
        for stray in strays:
            log.warning("Amazon Pay authorized attempt %s after it was closed; giving back charge %s",
                        attempt_id, stray["external_id"])
            await self._give_back(caller, stray)
        return result

    # ---- asked later: a pending authorization, a notification, an ended deadline ---------------

    async def finish(self, caller: Caller, attempt_id: str) -> tuple[str, pi.PaymentIntent]:
        """Ask how a processing attempt stands and apply it ('processing' while Amazon decides)."""
        attempt, intent = await self._attempt(caller, attempt_id)
        if not self._open(attempt, intent) or intent.status != pi.PROCESSING:
            return attempt["outcome"] or ("canceled" if not self._open(attempt, intent) else "processing"), intent
        connector = await self._connector(caller)
        if attempt["charge_external_id"]:
            completion = await connector.authorization_status(attempt["charge_external_id"])
        else:
            completion = await connector.session_outcome(attempt["external_id"]) if attempt["external_id"] else None
            if completion is None:
                return "processing", intent
        return await self._settle(caller, attempt_id, completion)

    async def reconcile(self, caller: Caller, intent_id: str) -> None:
        """A notification says this intent's Amazon Pay charge changed: ask and apply."""

        async def read(tx: Tx):
            intent = await repo.get_intent(tx, caller.account_id, caller.livemode, intent_id)
            return intent.attempt if intent is not None else None

        attempt_id = await self.db.read(read)
        if attempt_id is not None:
            await self.finish(caller, attempt_id)

    async def resolve_due(self, caller: Caller, intent_id: str) -> bool:
        """The sweep's live steps for an intent whose deadline passed; False leaves it to the unit
        (an authorization window that ended expires as in test mode)."""
        intent, charge = await self.intents.read_with_charge(caller, intent_id)
        if not intent.deadline or intent.deadline > int(time.time()):
            return True
        if intent.status == pi.PROCESSING and intent.attempt:
            await self.finish(caller, intent.attempt)
            return True
        if intent.status == pi.REQUIRES_CAPTURE and charge is not None:
            await (await self._connector(caller)).release(charge.transaction_id)  # releasing twice is harmless
            await self.intents.release_ended_hold(caller, intent_id)
            return True
        return False

    # ---- the merchant's capture and cancel: recorded, sent, applied ---------------------------

    async def capture(self, caller: Caller, intent_id: str, amount: int | None):
        async def record(tx: Tx, now: int):
            intent, events = await self.intents.current(tx, caller, intent_id, now)
            taken = pi.capture(intent, amount, now=now)[0].amount_received  # every check, no change
            charge = await self.intents.charge_of(tx, caller, intent.latest_charge)
            return await requests.record(tx, caller, "capture", intent_id, charge.transaction_id, now,
                                         amount=taken, currency=charge.currency), events

        request = await self.runner.write(unsealed(caller), record)
        await self._send(caller, request, "capture")
        return await self.intents.apply_capture(caller, intent_id, None, request=request)

    async def cancel(self, caller: Caller, intent_id: str, reason: str | None):
        intent, charge = await self.intents.read_with_charge(caller, intent_id)
        if intent.status != pi.REQUIRES_CAPTURE or charge is None:  # nothing held at Amazon Pay
            return await self.intents.apply_cancel(caller, intent_id, reason)

        async def record(tx: Tx, now: int):
            current, events = await self.intents.current(tx, caller, intent_id, now)
            pi.cancel(current, reason, now=now)  # every check, no change
            return await requests.record(tx, caller, "release", intent_id, charge.transaction_id, now,
                                         detail=reason), events

        request = await self.runner.write(unsealed(caller), record)
        await self._send(caller, request, "release")
        return await self.intents.apply_cancel(caller, intent_id, request["detail"], request=request)

    async def _send(self, caller: Caller, request: dict[str, Any], what: str):
        """Send a recorded capture, release or off-session charge (the charge's Completion is
        returned). A refusal closes the request and is the merchant's error; silence leaves it
        pending for the sweep, which asks again until it is settled."""
        connector = await self._connector(caller)
        try:
            if request["kind"] == "capture":
                return await connector.capture(request["external_id"], request["amount"], request["currency"],
                                               key=request["id"])
            if request["kind"] == "release":
                return await connector.release(request["external_id"])
            _, _, how = request["detail"].partition(":")
            return await connector.charge_saved(SavedCharge(
                intent_id=request["object_id"], amount=request["amount"], currency=request["currency"],
                capture=how == "capture", mandate_id="", permission_id=request["external_id"],
                idempotency_key=request["id"]))
        except AmazonPayError as error:
            log.warning("Amazon Pay %s %s of %s: %s (HTTP %s)", what, request["id"], request["object_id"],
                        error.reason_code, error.status)
            if error.retryable or error.status == 0:
                await requests.postpone(self.db, request, f"{error.reason_code}: {error.message}")
                raise AmazonPayUnavailable(
                    f"Amazon Pay did not answer the {what} in time. The {what} is recorded: kassa keeps asking "
                    "Amazon Pay and applies it once confirmed. Retrieve the PaymentIntent to see it.") from None
            await requests.close(self.db, request["id"], "failed", f"{error.reason_code}: {error.message}")
            raise error.as_kassa_error() from None

    # ---- saved Amazon Pay: charged with no buyer present, and permissions Amazon closes ----------

    async def confirm_off_session(self, caller: Caller, command: pi.Confirm, *, intent_id: str | None = None,
                                  create: pi.CreateIntent | None = None, client_secret: str | None = None):
        """An off-session payment of a saved Amazon Pay method under its Charge Permission: the
        intent (created here when `create`) and the charge to ask for are recorded first, Create
        Charge is sent with a key fixed by that record, and its answer applied in a second unit."""
        connector = await self._connector(caller)

        async def record(tx: Tx, now: int):
            if create is not None:
                intent, events = pi.create(create, livemode=True, now=now, country=caller.country)
            else:
                intent, events = await self.intents.current(tx, caller, intent_id, now)
                if caller.publishable:
                    check_client_secret(client_secret, intent)
            _, method, found = await self.intents.plan(tx, caller, intent, command, now)
            mandate = await self.intents.saving.check_use(tx, caller, intent, method, command, found)
            if mandate is None:
                raise InvalidRequest("Off-session payments in live mode take a saved Amazon Pay method.",
                                     code="payment_method_unactivated", param="payment_method")
            if create is not None:
                await repo.insert_intent(tx, caller.account_id, intent)
            capture = card_attempts.capture_method(intent, command, method.type) != "manual"
            request = await requests.record(tx, caller, "charge", intent.id, mandate.external_id, now,
                                            amount=intent.amount, currency=intent.currency,
                                            detail=f"{method.id}:{'capture' if capture else 'manual'}")
            return request, events

        request = await self.runner.write(unsealed(caller), record)
        completion = await self._send(caller, request, "charge")
        result = await self._apply_charge(caller, request, completion, command)
        if completion.reason_code == "InvalidChargePermissionStatus" and await connector.permission_closed(
                request["external_id"]):  # closed without a notification reaching kassa: found now
            await self.permission_closed(caller, request["external_id"])
        return result

    async def _apply_charge(self, caller: Caller, request: dict[str, Any], completion, command: pi.Confirm | None):
        """Apply Create Charge's answer to the intent, with the record closed in the same unit; a
        charge for an intent that moved on meanwhile (canceled) is recorded to be given back."""
        method_id, _, how = request["detail"].partition(":")
        command = command or pi.Confirm(payment_method=method_id, off_session=True)
        strays: list[dict] = []

        async def change(tx: Tx, now: int):
            intent, events = await self.intents.current(tx, caller, request["object_id"], now)
            if not await repo.finish_processor_request(tx, request["id"], "done"):
                return intent, events  # applied already (the sweep, or the merchant's own call)
            if intent.status not in card_attempts.STARTS:
                if completion.outcome == AUTHORIZED and completion.charge_id:
                    strays.append(await requests.record(tx, caller, "reverse", intent.id, completion.charge_id, now))
                return intent, events
            method = await self.intents.payment_method_of(tx, caller, method_id)
            if completion.outcome == AUTHORIZED:
                charge, more = charges.authorize(
                    livemode=True, amount=intent.amount, currency=intent.currency, intent_id=intent.id,
                    payment_method=method_id, capture=how == "capture", now=now, description=intent.description,
                    receipt_email=command.receipt_email or intent.receipt_email,
                    billing_details=method.billing_details if method else {}, shipping=command.shipping or
                    intent.shipping, statement_descriptor=intent.statement_descriptor,
                    transaction_id=completion.charge_id, customer=intent.customer)
                await repo.insert_object(tx, "charges", caller.account_id, charge, payment_intent=intent.id)
                updated, changed = off_session.approve(intent, command, method_type="amazon_pay",
                                                       payment_method=method_id, charge_id=charge.id, now=now)
                await repo.update_intent(tx, caller.account_id, updated)
                return updated, events + more + changed
            rendered = self.runner.render(method) if method else None
            error = {"code": "payment_intent_payment_attempt_failed", "decline_code": completion.decline_code,
                     "doc_url": "https://docs.stripe.com/error-codes/payment-intent-payment-attempt-failed",
                     "message": completion.message or pi.DECLINED, "payment_method": rendered,
                     "type": "invalid_request_error"}
            updated, changed = card_attempts.decline(intent, command, error=error, charge_id=None, now=now)
            await repo.update_intent(tx, caller.account_id, updated)
            refusal = PaymentFailed(error["message"], code="payment_intent_payment_attempt_failed",
                                    extra={"decline_code": completion.decline_code} if completion.decline_code else None)
            return Refusal(refusal, updated), events + changed

        result = await self.runner.write(caller, change)
        for stray in strays:
            await self._give_back(caller, stray)
        return result

    async def permission_closed(self, caller: Caller, permission_id: str) -> int:
        """Amazon closed a Charge Permission: the mandates standing for it end and their methods are
        detached (``mandate.updated``, ``payment_method.detached``). Returns how many ended."""

        async def change(tx: Tx, now: int):
            found = await customers_repo.mandates_of_permission(tx, caller.account_id, permission_id)
            events = []
            for mandate in found:
                method = await self.intents.payment_method_of(tx, caller, mandate.payment_method)
                if method is not None and method.customer is not None:
                    _, more = await self.intents.saving.detach(tx, caller, method)
                    events += more
                else:
                    ended, more = mandates.end(mandate)
                    await customers_repo.update_mandate(tx, caller.account_id, ended)
                    events += more
            return len(found), events

        return await self.runner.write(unsealed(caller), change)

    # ---- the sweep: requests left pending --------------------------------------------------------

    async def settle_request(self, caller: Caller, request_id: str) -> None:
        """Settle one pending processor request: send it again, or ask, and apply the answer."""
        request = await requests.load(self.db, request_id)
        if request is None or request["status"] != "pending":
            return
        try:
            if request["kind"] == "capture":
                await self._send(caller, request, "capture")
                await self.intents.apply_capture(caller, request["object_id"], None, request=request)
            elif request["kind"] == "release":
                await self._send(caller, request, "release")
                await self.intents.apply_cancel(caller, request["object_id"], request["detail"], request=request)
            elif request["kind"] == "complete":
                await self._settle_checkout(caller, request)
            elif request["kind"] == "reverse":
                await self._give_back(caller, request)
            elif request["kind"] == "charge":
                await self._apply_charge(caller, request, await self._send(caller, request, "charge"), None)
            elif self.setups is not None and request["kind"] in self.setups.KINDS:
                await self.setups.settle_request(caller, request)
        except AmazonPayUnavailable:
            pass  # postponed by _send
        except AmazonPayError as error:
            if error.retryable or error.status == 0 or error.reason_code == NOT_FINISHED:
                await requests.postpone(self.db, request, f"{error.reason_code}: {error.message}")
            else:
                await requests.close(self.db, request_id, "failed", f"{error.reason_code}: {error.message}")
        except KassaError as error:  # the merchant's error of a capture or release already closed it
            log.info("processor request %s not applied: %s", request_id, error)

    async def _settle_checkout(self, caller: Caller, request: dict[str, Any]) -> None:
        """A checkout the buyer came back from whose outcome was never applied: complete it while
        the attempt is open; once it is closed, only ask (and give back what Amazon took)."""
        attempt, intent = await self._attempt(caller, request["object_id"])
        completion = await self.ask_again(caller, request, still_open=self._open(attempt, intent))
        if completion is not None:
            await self._settle(caller, attempt["id"], completion, request["id"])

    async def ask_again(self, caller: Caller, request: dict[str, Any], *, still_open: bool) -> Completion | None:
        """A recorded Complete (of a payment, or of a setup: no amount) whose answer never came: sent
        again while its attempt is open (Amazon then answers with the session as it stands), else
        only asked. None, with the request closed, for a session never completed: Amazon cancels it
        by itself and nothing was made."""
        connector = await self._connector(caller)
        if still_open:
            return await connector.complete(request["external_id"], request["amount"], request["currency"])
        completion = await connector.session_outcome(request["external_id"], setup_only=request["amount"] is None)
        if completion is None:
            await requests.close(self.db, request["id"], "done")
        return completion

    async def _give_back(self, caller: Caller, request: dict[str, Any]) -> None:
        connector = await self._connector(caller)
        try:
            await connector.give_back(request["external_id"], key=request["id"])
        except AmazonPayError as error:
            log.warning("could not give back Amazon Pay charge %s yet: %s", request["external_id"], error)
            await requests.postpone(self.db, request, f"{error.reason_code}: {error.message}")
            return
        await requests.close(self.db, request["id"], "done")
