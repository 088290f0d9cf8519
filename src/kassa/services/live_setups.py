"""Live Amazon Pay around a SetupIntent: saving Amazon Pay without a payment.

The buyer goes through kassa's checkout page as for a payment (:mod:`.live_payments`), with a
setup-only payload: Amazon's saved wallet, a ``PaymentMethodOnFile`` Charge Permission, no amount
(:meth:`LiveSetups.checkout`). Back from Amazon, the session is checked to be this attempt's,
recorded with the Complete about to be sent, completed, and applied (:meth:`LiveSetups.buyer_returned`):
the method is saved for the customer with a mandate that keeps the Charge Permission's id, which
off-session payments then charge with Create Charge (``LivePayments.confirm_off_session``). A
cancel on Amazon's page or a refusal fails the setup as test mode's refusal does.

No money moves, but the Charge Permission is a record Amazon keeps, so its Complete is written
first like a payment's (a processor request of kind ``setup``). A permission Amazon made for a
setup that ended meanwhile (canceled, replaced, expired) is closed at Amazon by a recorded request
(``close_permission``). The sweep settles both when their answer was lost
(:meth:`LiveSetups.settle_request`, reached through ``LivePayments.settle_request``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..domain import setup_intent as si
from ..methods.base import AUTHORIZED, AuthorizationRequest, Completion
from ..store import customers_repo, repo
from ..store.database import Tx
from . import processor_requests as requests
from .context import Caller
from .live_payments import AmazonPayError, Checkout, LivePayments
from .setup_intents import SetupIntents, is_setup_attempt

log = logging.getLogger("kassa.live_setups")

SETUP = "setup"  # a recorded Complete of a setup-only Checkout Session
CLOSE_PERMISSION = "close_permission"  # a Charge Permission nobody will use, closed at Amazon

__all__ = ["LiveSetups", "is_setup_attempt"]


class LiveSetups:
    KINDS = frozenset({SETUP, CLOSE_PERMISSION})  # the processor requests this service settles

    def __init__(self, setups: SetupIntents, live: LivePayments):
        self.setups = setups
        self.live = live
        self.runner = setups.runner
        self.db = setups.db
        live.setups = self

    async def _attempt(self, caller: Caller, attempt_id: str) -> tuple[dict, si.SetupIntent]:
        async def read(tx: Tx):
            attempt = await repo.authorization(tx, attempt_id)
            setup = await customers_repo.get_setup(tx, caller.account_id, True, attempt["payment_intent"])
            return dict(attempt), setup

        return await self.db.read(read)

    @staticmethod
    def _open(attempt: dict, setup: si.SetupIntent) -> bool:
        return attempt["outcome"] is None and setup.attempt == attempt["id"] and setup.status == si.REQUIRES_ACTION

    async def retrieve(self, caller: Caller, setup_id: str) -> si.SetupIntent:
        return await self.setups.retrieve(caller, setup_id)

    # ---- the buyer's side ---------------------------------------------------------------------

    async def checkout(self, caller: Caller, attempt_id: str, token: str, base_url: str) -> Checkout:
        """The signed setup-only button for the attempt of ``token``; none once the attempt is over
        (a window that ended is applied first: the setup fails as expired)."""
        attempt, setup = await self._attempt(caller, attempt_id)
        if self._open(attempt, setup) and int(time.time()) > attempt["deadline"]:
            outcome, setup = await self.setups.decide(caller, attempt_id, setup.id, "fail", unless_returned=True)
            return Checkout(None, outcome, setup)
        if not self._open(attempt, setup):
            return Checkout(None, attempt["outcome"] or "canceled", setup)
        request = AuthorizationRequest(attempt_id=attempt_id, intent_id=setup.id, amount=0, currency="usd",
                                       capture=False, return_url=attempt["return_url"], kassa_base_url=base_url,
                                       merchant_name=caller.account_name, setup_only=True)
        connector = await self.live.connectors.for_account(caller.account_id, True)
        return Checkout(connector.checkout_button(request, token, caller.country), None, setup)

    async def give_up(self, caller: Caller, attempt_id: str) -> tuple[str, si.SetupIntent]:
        """The buyer canceled on Amazon's page, or kassa's page could not start Amazon's checkout:
        the setup fails as a refusal on test mode's page does. An attempt the buyer already came
        back from with a session is left to that session."""
        attempt, _ = await self._attempt(caller, attempt_id)
        return await self.setups.decide(caller, attempt_id, attempt["payment_intent"], "fail", unless_returned=True)

    async def buyer_returned(self, caller: Caller, attempt_id: str, session_id: str) -> tuple[str, si.SetupIntent]:
        """The buyer is back from Amazon Pay with ``session_id``: check it is this attempt's
        (SessionMismatch otherwise), record it with the Complete, complete it (no amount), save the
        method with its Charge Permission or fail the setup. Coming back again changes nothing."""
        attempt, setup = await self._attempt(caller, attempt_id)
        if not self._open(attempt, setup):
            return attempt["outcome"] or "canceled", setup
        if attempt["external_id"] is None and int(time.time()) > attempt["deadline"]:
            # Back after the window: nothing is completed (Amazon cancels the session within 24 hours).
            return await self.setups.decide(caller, attempt_id, setup.id, "fail")
        completed = await self.live.complete_returned(caller, attempt, session_id, SETUP, reference=setup.id,
                                                      amount=None, currency=None)
        if completed is None:  # closed meanwhile (canceled, or another tab finished it)
            attempt, setup = await self._attempt(caller, attempt_id)
            return attempt["outcome"] or "canceled", setup
        request, completion = completed
        return await self._settle(caller, attempt_id, completion, request["id"])

    async def _settle(self, caller: Caller, attempt_id: str, completion: Completion,
                      request_id: str | None) -> tuple[str, si.SetupIntent]:
        """Apply Amazon's word on the setup, closing its processor request in the same unit. A
        Charge Permission made for a setup that no longer waits for it is recorded to be closed."""
        strays: list[dict[str, Any]] = []
        permission = completion.charge_permission_id if completion.outcome == AUTHORIZED else None

        async def change(tx: Tx, now: int):
            strays.clear()
            setup_id = (await repo.authorization(tx, attempt_id))["payment_intent"]
            decision = "authorize" if permission else "fail"
            (outcome, setup), events = await self.setups.decide_in(
                tx, caller, attempt_id, setup_id, decision, now, permission_id=permission, in_time=True)
            if request_id is not None:
                await repo.finish_processor_request(tx, request_id, "done")
            if permission and outcome != "succeeded":  # "succeeded": saved with it, now or by an earlier answer
                strays.append(await requests.record(tx, caller, CLOSE_PERMISSION, attempt_id, permission, now))
            return (outcome, setup), events

        result = await self.runner.write(caller, change)
        for stray in strays:
            log.warning("Amazon Pay made Charge Permission %s for setup attempt %s after it ended; closing it",
                        stray["external_id"], attempt_id)
            await self._close_permission(caller, stray)
        return result

    # ---- the sweep: requests left pending --------------------------------------------------------

    async def settle_request(self, caller: Caller, request: dict[str, Any]) -> None:
        """A pending ``setup`` or ``close_permission`` request: asked again and applied once.
        Amazon's refusals and silence are handled by ``LivePayments.settle_request``."""
        if request["kind"] == CLOSE_PERMISSION:
            await self._close_permission(caller, request)
            return
        attempt, setup = await self._attempt(caller, request["object_id"])
        # The buyer was back in time (the request is the record of it): complete while the setup waits.
        completion = await self.live.ask_again(caller, request, still_open=self._open(attempt, setup))
        if completion is not None:
            await self._settle(caller, attempt["id"], completion, request["id"])

    async def _close_permission(self, caller: Caller, request: dict[str, Any]) -> None:
        connector = await self.live.connectors.for_account(caller.account_id, True)
        try:
            await connector.close_permission(request["external_id"])
        except AmazonPayError as error:
            log.warning("could not close Amazon Pay Charge Permission %s yet: %s", request["external_id"], error)
            await requests.postpone(self.db, request, f"{error.reason_code}: {error.message}")
            return
        await requests.close(self.db, request["id"], "done")
