"""SetupIntent use cases: create, retrieve, update, confirm, cancel, list; the buyer's answer on
kassa's Amazon Pay setup page and on the 3D Secure page, and Amazon Pay's in live mode (through
live_setups, which applies it with :meth:`SetupIntents.decide_in`). A successful setup saves the
method for its customer and creates its mandate (see saved_methods)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..domain import card_attempt
from ..domain import payment_method as pms
from ..domain import return_url as return_urls
from ..domain import setup_intent as si
from ..domain.errors import InvalidRequest, PaymentFailed, Refusal, no_such
from ..domain.ids import digest, new_id, random_base62
from ..domain.payment_method import CardInput, PaymentMethod
from ..methods.base import ACTION_REQUIRED, AUTHORIZED, Attempt, AuthorizationRequest, Redirect
from ..methods.card import three_d_secure
from ..store import customers_repo as store
from ..store import repo
from ..store.database import Tx
from . import client_secrets
from .card_payments import is_test_method
from .connectors import Connectors
from .context import Caller
from .saved_methods import SavedMethods, check_reusable
from .unit import Runner

ATTEMPT_PREFIX = "setatt"  # a setup's redirect attempt (kept apart from payments' attempts)
THREE_D_SECURE_PATH = "/three_d_secure/test/setup/"


def is_setup_attempt(attempt_id: str | None) -> bool:
    return bool(attempt_id) and attempt_id.startswith(ATTEMPT_PREFIX + "_")


class SetupConfirm:
    """A confirmation, parsed: a method id, or a new method's type (with card data or a test id)."""

    __slots__ = ("payment_method", "method_type", "card", "billing_details", "return_url", "mandate_data")

    def __init__(self, payment_method=None, method_type=None, card=None, billing_details=None, return_url=None,
                 mandate_data=None):
        self.payment_method = payment_method
        self.method_type = method_type
        self.card = card
        self.billing_details = billing_details
        self.return_url = return_url
        self.mandate_data = mandate_data


class SetupIntents:
    def __init__(self, runner: Runner, connectors: Connectors, saving: SavedMethods):
        self.runner = runner
        self.db = runner.db
        self.connectors = connectors
        self.saving = saving
        self.cards: Any = None  # services.card_payments.CardPayments

    async def _load(self, tx: Tx, caller: Caller, setup_id: str, *, lock: bool = False) -> si.SetupIntent:
        found = await store.get_setup(tx, caller.account_id, caller.livemode, setup_id, lock=lock)
        if found is None:
            raise no_such("setup_intent", setup_id, param="intent")
        return found

    async def load(self, tx: Tx, caller: Caller, setup_id: str):
        return await store.get_setup(tx, caller.account_id, caller.livemode, setup_id)

    async def create(self, caller: Caller, command: si.CreateSetup, confirm: SetupConfirm | None, base_url: str):
        connector = await self.connectors.for_account(caller.account_id, caller.livemode) if confirm else None

        async def change(tx: Tx, now: int):
            method_id = command.payment_method
            if is_test_method(method_id):
                method = self._new_card(caller, CardInput("payment_method", test_method=method_id), None, now,
                                        "payment_method")
                await store.insert_method(tx, caller.account_id, method)
                method_id = method.id
            elif method_id and await store.get_method(tx, caller.account_id, caller.livemode, method_id) is None:
                raise no_such("payment_method", method_id, param="payment_method")
            if command.customer:
                await self.saving.customer(tx, caller, command.customer)
            setup, events = si.create(_with_method(command, method_id), livemode=caller.livemode, now=now)
            await store.insert_setup(tx, caller.account_id, setup)
            if confirm is not None:
                setup, more = await self._confirm(tx, caller, setup, confirm, base_url, now, connector)
                events += more
            return setup, events

        return await self.runner.write(caller, change)

    async def retrieve(self, caller: Caller, setup_id: str, client_secret: str | None = None) -> si.SetupIntent:
        async def read(tx: Tx):
            return await store.get_setup(tx, caller.account_id, caller.livemode, setup_id)

        found = await self.db.read(read)
        if caller.publishable:
            si.check_client_secret(client_secret, found, client_secrets.current())
        if found is None:
            raise no_such("setup_intent", setup_id, param="intent")
        return found

    async def update(self, caller: Caller, setup_id: str, changes: dict, metadata: dict | None):
        async def change(tx: Tx, now: int):
            setup = await self._load(tx, caller, setup_id, lock=True)
            if changes.get("customer"):
                if setup.customer and setup.customer != changes["customer"]:
                    raise InvalidRequest("You cannot change the customer of a SetupIntent once it has one.",
                                         code="setup_intent_invalid_parameter", param="customer")
                await self.saving.customer(tx, caller, changes["customer"])
            if changes.get("payment_method") and await store.get_method(
                    tx, caller.account_id, caller.livemode, changes["payment_method"]) is None:
                raise no_such("payment_method", changes["payment_method"], param="payment_method")
            updated, events = si.update(setup, changes, metadata)
            if setup.attempt and updated.attempt is None:
                await repo.close_authorization(tx, setup.attempt, "canceled")
            await store.update_setup(tx, caller.account_id, updated)
            return updated, events

        return await self.runner.write(caller, change)

    async def cancel(self, caller: Caller, setup_id: str, reason: str | None):
        async def change(tx: Tx, now: int):
            setup = await self._load(tx, caller, setup_id, lock=True)
            canceled, events = si.cancel(setup, reason)
            if setup.attempt:
                await repo.close_authorization(tx, setup.attempt, "canceled")
            await store.update_setup(tx, caller.account_id, canceled)
            return canceled, events

        return await self.runner.write(caller, change)

    async def list(self, caller: Caller, *, limit: int, starting_after: str | None, ending_before: str | None,
                   where: str, params: dict):
        async def read(tx: Tx):
            return await repo.page_objects(tx, "setup_intents", si.SetupIntent, caller.account_id, caller.livemode,
                                           limit=limit, after_id=starting_after, before_id=ending_before,
                                           where=where, params=params)

        found = await self.db.read(read)
        if found is None:
            raise no_such("setup_intent", starting_after or ending_before,
                          param="starting_after" if starting_after else "ending_before")
        return found

    # ---- confirm -----------------------------------------------------------------------------

    async def confirm(self, caller: Caller, setup_id: str, command: SetupConfirm, *, client_secret: str | None,
                      base_url: str):
        connector = await self.connectors.for_account(caller.account_id, caller.livemode)

        async def change(tx: Tx, now: int):
            setup = await self._load(tx, caller, setup_id, lock=True)
            if caller.publishable:
                si.check_client_secret(client_secret, setup, client_secrets.current())
            return await self._confirm(tx, caller, setup, command, base_url, now, connector)

        return await self.runner.write(caller, change)

    def _new_card(self, caller: Caller, card, billing, now: int, param: str) -> PaymentMethod:
        return self.cards.new_method(caller, card, billing_details=billing, now=now, param=param)

    async def _method(self, tx: Tx, caller: Caller, setup: si.SetupIntent, command: SetupConfirm, now: int):
        if command.payment_method:
            method = await store.get_method(tx, caller.account_id, caller.livemode, command.payment_method)
            if method is None:
                raise no_such("payment_method", command.payment_method, param="payment_method")
            return method
        if command.method_type == "card":
            method = self._new_card(caller, command.card, command.billing_details, now, "payment_method_data[card]")
        elif command.method_type:
            method = pms.create(command.method_type, livemode=caller.livemode, now=now,
                                billing_details=command.billing_details, param="payment_method_data[type]")
        else:
            return await store.get_method(tx, caller.account_id, caller.livemode, setup.payment_method)
        await store.insert_method(tx, caller.account_id, method)
        return method

    async def _confirm(self, tx: Tx, caller: Caller, setup: si.SetupIntent, command: SetupConfirm, base_url: str,
                       now: int, connector):
        si.check_confirm(setup, bool(command.payment_method or command.method_type or setup.payment_method))
        given_url = command.return_url or setup.return_url
        url = return_urls.validate(given_url, livemode=caller.livemode) if given_url else None
        method = await self._method(tx, caller, setup, command, now)
        if method.type not in setup.payment_method_types:
            raise InvalidRequest(
                f"The PaymentMethod provided ({method.type}) is not allowed for this SetupIntent. Allowed: "
                f"{', '.join(setup.payment_method_types)}.", code="setup_intent_invalid_parameter",
                param="payment_method")
        check_reusable(method)
        if method.customer is not None and method.customer != setup.customer:
            raise InvalidRequest("The provided PaymentMethod is attached to another Customer than this SetupIntent's.",
                                 code="setup_intent_invalid_parameter", param="payment_method")
        if setup.customer:
            await self.saving.customer(tx, caller, setup.customer)
        if setup.attempt:
            await repo.close_authorization(tx, setup.attempt, "canceled")
        changes = si.confirmed_fields(setup, return_url=url, mandate_data=command.mandate_data)
        request = AuthorizationRequest(attempt_id=new_id(ATTEMPT_PREFIX), intent_id=setup.id, amount=0,
                                       currency="usd", capture=False, return_url=url or "", kassa_base_url=base_url,
                                       merchant_name=caller.account_name)
        if method.type == "card":
            decided = await self.cards.cards.verify_now(request, method, Attempt())
            if decided.outcome == AUTHORIZED:
                return await self._succeed(tx, caller, setup, method, now, changes)
            if decided.outcome == ACTION_REQUIRED:
                token = "tds_" + random_base62(40)
                redirect = Redirect(base_url.rstrip("/") + THREE_D_SECURE_PATH + token, token)
                action = three_d_secure.next_action(redirect.url, url, request.attempt_id)
                return await self._require_action(tx, caller, setup, method, request, redirect, action, url, now,
                                                  changes)
            return await self._decline(tx, caller, setup, method, decided.failure, changes)
        if not url:
            raise InvalidRequest("Saving Amazon Pay redirects the buyer to approve it: pass a return_url when "
                                 "confirming, so that kassa can send the buyer back to your site.",
                                 code="setup_intent_invalid_parameter", param="return_url",
                                 extra={"setup_intent": setup.id})
        redirect = await connector.start_setup(request)  # live: kassa's page for Amazon's checkout.js, no call
        action = {"type": "redirect_to_url", "redirect_to_url": {"url": redirect.url, "return_url": url}}
        return await self._require_action(tx, caller, setup, method, request, redirect, action, url, now, changes)

    async def _require_action(self, tx, caller, setup, method, request, redirect, action, url, now, changes):
        await repo.insert_authorization(tx, {
            "id": request.attempt_id, "token_hash": digest(redirect.token), "account_id": caller.account_id,
            "livemode": caller.livemode, "payment_intent": setup.id, "created": now,
            "deadline": now + si.AUTHORIZATION_WINDOW_SECONDS, "return_url": url or "", "external_id": None})
        updated, events = si.require_action(setup, payment_method=method.id, next_action=action,
                                            attempt=request.attempt_id, changes=changes)
        await store.update_setup(tx, caller.account_id, updated)
        return updated, events

    async def _succeed(self, tx: Tx, caller: Caller, setup: si.SetupIntent, method: PaymentMethod, now: int,
                       changes: dict | None = None, permission_id: str | None = None):
        accepted = (changes or {}).get("mandate_data") or setup.mandate_data
        method, mandate, events = await self.saving.save(tx, caller, method, setup.customer, usage=setup.usage,
                                                         now=now, accepted=accepted, permission_id=permission_id)
        updated, more = si.succeed(setup, payment_method=method.id, mandate=mandate.id, changes=changes)
        await store.update_setup(tx, caller.account_id, updated)
        return updated, events + more

    async def _decline(self, tx: Tx, caller: Caller, setup: si.SetupIntent, method: PaymentMethod, failure,
                       changes: dict | None = None):
        rendered = self.runner.render(method)
        error = card_attempt.card_error(failure, payment_method=rendered, charge_id=None)
        updated, events = si.fail(setup, error, changes)
        await store.update_setup(tx, caller.account_id, updated)
        refusal = PaymentFailed(failure.message, code=failure.code, param=failure.param,
                                extra={"decline_code": failure.decline_code, "payment_method": rendered,
                                       "setup_intent": updated.id})
        return Refusal(refusal, updated), events

    # ---- the buyer's answer on kassa's pages ------------------------------------------------------

    async def decide(self, caller: Caller, attempt_id: str, setup_id: str, decision: str, *,
                     unless_returned: bool = False) -> tuple[str, si.SetupIntent]:
        """'authorize' or 'fail' on the Amazon Pay setup page, 'complete' or 'fail' on the 3D Secure
        page. Returns the attempt's outcome; a second answer changes nothing. ``unless_returned``:
        an attempt the buyer already came back from with a session (live Amazon Pay) is left to it."""

        async def change(tx: Tx, now: int):
            return await self.decide_in(tx, caller, attempt_id, setup_id, decision, now,
                                        unless_returned=unless_returned)

        return await self.runner.write(caller, change)

    async def decide_in(self, tx: Tx, caller: Caller, attempt_id: str, setup_id: str, decision: str, now: int, *,
                        permission_id: str | None = None, in_time: bool = False, unless_returned: bool = False):
        """:meth:`decide` inside the caller's unit: ``((outcome, setup), events)``. Live Amazon Pay
        gives its Charge Permission (``permission_id``, kept on the mandate), and ``in_time`` when
        the buyer came back before the window ended (kassa recorded it), however late it applies."""
        setup = await self._load(tx, caller, setup_id, lock=True)
        attempt = await repo.authorization(tx, attempt_id, lock=True)
        if attempt["outcome"] is not None:
            return (attempt["outcome"], setup), []
        if unless_returned and attempt["external_id"] is not None:
            return ("processing", setup), []
        if setup.attempt != attempt_id or setup.status != si.REQUIRES_ACTION:
            await repo.close_authorization(tx, attempt_id, "canceled")
            return ("canceled", setup), []
        method = await store.get_method(tx, caller.account_id, caller.livemode, setup.payment_method)
        expired = now > attempt["deadline"] and not in_time
        if decision in ("authorize", "complete") and not expired:
            outcome, (updated, events) = "succeeded", await self._approved(tx, caller, setup, method, now,
                                                                           permission_id)
            if updated.status != si.SUCCEEDED:
                outcome = "failed"
        else:
            rendered = self.runner.render(method) if method is not None else None
            if method is not None and method.type == "card" and not expired:
                error = card_attempt.authentication_error(rendered)
                error = {**error, "code": "setup_intent_authentication_failure",
                         "doc_url": "https://docs.stripe.com/error-codes/setup-intent-authentication-failure",
                         "message": error["message"].replace("PaymentIntent", "SetupIntent")}
            else:
                error = si.redirect_error(setup, rendered, expired=expired)
            updated, events = si.fail(setup, error)
            await store.update_setup(tx, caller.account_id, updated)
            outcome = "expired" if expired else "failed"
        await repo.close_authorization(tx, attempt_id, outcome)
        return (outcome, updated), events

    async def _approved(self, tx: Tx, caller: Caller, setup: si.SetupIntent, method: PaymentMethod, now: int,
                        permission_id: str | None = None):
        if method.type != "card":
            return await self._succeed(tx, caller, setup, method, now, permission_id=permission_id)
        request = AuthorizationRequest(attempt_id=setup.attempt or "", intent_id=setup.id, amount=0, currency="usd",
                                       capture=False, return_url="", kassa_base_url="",
                                       merchant_name=caller.account_name)
        decided = await self.cards.cards.verify_now(request, method, Attempt(authenticated=True))
        if decided.outcome == AUTHORIZED:
            return await self._succeed(tx, caller, setup, method, now)
        result, events = await self._decline(tx, caller, setup, method, decided.failure)
        return result.subject, events


def _with_method(command: si.CreateSetup, method_id: str | None) -> si.CreateSetup:
    return command if method_id == command.payment_method else replace(command, payment_method=method_id)
