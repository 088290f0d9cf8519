"""The Dashboard's use cases: the same services as the API, called as a signed-in user.

Every change runs through the service the API calls, under a `Caller` whose Idempotency-Key is the
form's own key, so a form sent twice does one thing (the second finds the stored response) and
writes the same events as the API. The sealer writes the audit row in the unit of the change.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any

import orjson

from ..domain import keys
from ..domain import payment_intent as pi
from ..domain.errors import InvalidRequest, KassaError, Refusal
from ..domain.ids import random_base62
from ..store import dashboard_repo, repo
from ..store.database import Database, Tx, UniqueViolation
from . import accounts
from .context import Caller, Replayed
from .events import WebhookEndpoints, resend_in
from .payment_intents import PaymentIntents
from .refunds import Refunds
from .users import SignedIn

FORM_KEY = re.compile(r"^dash_[A-Za-z0-9]{20,40}$")
ROLL_GRACE_SECONDS = (0, 3600, 86400)  # the old key stops now, in an hour, or in a day
PAGE_SIZE = 25
_OBJECT_ID = re.compile(r"^(pi|ch|py|re)_[A-Za-z0-9]{1,60}$")


class Forbidden(Exception):
    """A viewer asked for a change or a secret: refused by the server, whatever the page showed."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a Dashboard action did: `done`, `already` (a second submit of the same form)."""

    status: str
    result: Any = None


def looks_like_id(text: str) -> bool:
    """A search that names one object (a payment, charge or refund id) rather than a query."""
    return bool(_OBJECT_ID.match(text))


def new_form_key() -> str:
    return "dash_" + random_base62(24)


def caller_for(user: SignedIn, livemode: bool, **extra) -> Caller:
    return Caller(user.account_id, livemode, "secret", user.country, user.account_name,
                  "req_" + random_base62(14), amazon_pay_enabled=user.amazon_pay_enabled, **extra)


def require_admin(user: SignedIn) -> None:
    if not user.admin:
        raise Forbidden("Your role (viewer) can see this account but not change it.")


class Dashboard:
    def __init__(self, db: Database, intents: PaymentIntents, refunds: Refunds, endpoints: WebhookEndpoints,
                 wake_webhooks=lambda endpoint_ids: None):
        self.db = db
        self.intents = intents
        self.refunds = refunds
        self.endpoints = endpoints
        self.wake_webhooks = wake_webhooks

    # ---- changes ---------------------------------------------------------------------------

    def _acting(self, user: SignedIn, livemode: bool, action: str, object_id: str, form_key: str,
                detail: dict) -> Caller:
        """A caller whose unit stores the form's response (idempotency) and the audit row."""
        if not isinstance(form_key, str) or not FORM_KEY.match(form_key):
            raise InvalidRequest("This form is out of date. Reload the page and try again.")
        print_ = hashlib.sha256(orjson.dumps([action, object_id, detail], option=orjson.OPT_SORT_KEYS)).hexdigest()
        caller = caller_for(user, livemode, idempotency_key=form_key, replay_check=(form_key, print_))

        async def seal(tx: Tx, result: Any, rendered: dict | None = None):
            now = int(time.time())
            outcome = "refused" if isinstance(result, Refusal) else "done"
            result_id = getattr(result, "id", None) or (result.get("id") if isinstance(result, dict) else None)
            await repo.save_idempotent(tx, user.account_id, livemode, form_key, print_, 200,
                                       orjson.dumps({"dashboard": action, "id": result_id}), now)
            await dashboard_repo.insert_audit(tx, {
                "account_id": user.account_id, "livemode": livemode, "created": now, "user_email": user.email,
                "action": action, "object_id": object_id, "detail": {**detail, "result": result_id},
                "outcome": outcome})
            return result

        caller.seal = seal
        return caller

    async def _act(self, user: SignedIn, livemode: bool, action: str, object_id: str, form_key: str,
                   detail: dict, run) -> Outcome:
        try:
            require_admin(user)
        except Forbidden:
            await self._record_refusal(user, livemode, action, object_id, detail, "viewer")
            raise
        caller = self._acting(user, livemode, action, object_id, form_key, detail)
        try:
            result = await run(caller)
        except (Replayed, UniqueViolation):
            return Outcome("already")
        except KassaError as error:
            await self._record_refusal(user, livemode, action, object_id, detail, error.message)
            raise
        finally:
            caller.seal = None
        if isinstance(result, Refusal):
            raise result.error
        return Outcome("done", result)

    async def roll_key(self, user: SignedIn, livemode: bool, kind: str, expire_old_in: int,
                       form_key: str) -> Outcome:
        """Roll one of the account's keys: the new key is in the Outcome, to be shown once (it is
        stored only hashed, and never in the form's stored response); the old one stops now or
        after ``expire_old_in`` seconds. A form sent twice rolls once."""
        detail = {"mode": "live" if livemode else "test", "kind": kind, "expire_old_in": expire_old_in}
        try:
            require_admin(user)
        except Forbidden:
            await self._record_refusal(user, livemode, "roll_key", kind, detail, "viewer")
            raise
        if kind not in ("secret", "publishable") or expire_old_in not in ROLL_GRACE_SECONDS:
            raise InvalidRequest("Choose the kind of key and when the old one stops working.")
        if not isinstance(form_key, str) or not FORM_KEY.match(form_key):
            raise InvalidRequest("This form is out of date. Reload the page and try again.")

        async def unit(tx: Tx):
            if await repo.get_idempotent(tx, user.account_id, livemode, form_key) is not None:
                return None
            now = int(time.time())
            key = await accounts.roll_key_in(tx, user.account_id, livemode=livemode, kind=kind,
                                             expire_old_in=expire_old_in, now=now)
            await repo.save_idempotent(tx, user.account_id, livemode, form_key, "roll_key", 200,
                                       orjson.dumps({"dashboard": "roll_key"}), now)
            await dashboard_repo.insert_audit(tx, {
                "account_id": user.account_id, "livemode": livemode, "created": now, "user_email": user.email,
                "action": "roll_key", "object_id": kind, "detail": {**detail, "result": keys.redact(key)},
                "outcome": "done"})
            return key

        try:
            key = await self.db.write(unit)
        except UniqueViolation:  # the same form, sent to another process at the same moment
            key = None
        return Outcome("already") if key is None else Outcome("done", key)

    async def _record_refusal(self, user: SignedIn, livemode: bool, action: str, object_id: str, detail: dict,
                              reason: str) -> None:
        async def unit(tx: Tx):
            await dashboard_repo.insert_audit(tx, {
                "account_id": user.account_id, "livemode": livemode, "created": int(time.time()),
                "user_email": user.email, "action": action, "object_id": object_id,
                "detail": {**detail, "refused": reason[:300]}, "outcome": "refused"})

        await self.db.write(unit)

    async def refund(self, user: SignedIn, livemode: bool, intent_id: str, amount: int | None, reason: str | None,
                     form_key: str) -> Outcome:
        detail = {"amount": amount, "reason": reason}
        return await self._act(user, livemode, "refund", intent_id, form_key, detail, lambda caller: self.refunds.create(
            caller, payment_intent=intent_id, charge=None, amount=amount, reason=reason, metadata=None))

    async def capture(self, user: SignedIn, livemode: bool, intent_id: str, amount: int | None,
                      form_key: str) -> Outcome:
        return await self._act(user, livemode, "capture", intent_id, form_key, {"amount": amount},
                               lambda caller: self.intents.capture(caller, intent_id, amount))

    async def cancel(self, user: SignedIn, livemode: bool, intent_id: str, reason: str | None,
                     form_key: str) -> Outcome:
        return await self._act(user, livemode, "cancel", intent_id, form_key, {"reason": reason},
                               lambda caller: self.intents.cancel(caller, intent_id, reason))

    async def create_endpoint(self, user: SignedIn, livemode: bool, url: str, enabled_events: list[str],
                              description: str | None, form_key: str) -> Outcome:
        return await self._act(user, livemode, "webhook_endpoint.create", url[:64], form_key,
                               {"url": url, "enabled_events": enabled_events},
                               lambda caller: self.endpoints.create(caller, url=url, enabled_events=enabled_events,
                                                                    description=description, metadata=None,
                                                                    api_version=None))

    async def set_endpoint_disabled(self, user: SignedIn, livemode: bool, endpoint_id: str, disabled: bool,
                                    form_key: str) -> Outcome:
        action = "webhook_endpoint.disable" if disabled else "webhook_endpoint.enable"
        return await self._act(user, livemode, action, endpoint_id, form_key, {},
                               lambda caller: self.endpoints.update(caller, endpoint_id, {"disabled": disabled}, None))

    async def delete_endpoint(self, user: SignedIn, livemode: bool, endpoint_id: str, form_key: str) -> Outcome:
        return await self._act(user, livemode, "webhook_endpoint.delete", endpoint_id, form_key, {},
                               lambda caller: self.endpoints.delete(caller, endpoint_id))

    async def resend(self, user: SignedIn, livemode: bool, event_id: str, endpoint_id: str | None,
                     form_key: str) -> Outcome:
        """Queue an event again (to one endpoint, or all that want it): `kassa events resend`'s rule,
        for an event of this account and mode only, once per form."""
        queued: list[dict] = []

        async def run(caller: Caller):
            async def change(tx: Tx, now: int):
                event = await repo.get_event(tx, caller.account_id, caller.livemode, event_id)
                if event is None:
                    raise InvalidRequest(f"No such event: '{event_id}'")
                queued.extend(await resend_in(tx, event_id, endpoint_id))
                return {"id": event_id, "deliveries": [row["id"] for row in queued]}, []

            return await self.intents.runner.write(caller, change)

        outcome = await self._act(user, livemode, "event.resend", event_id, form_key, {"endpoint": endpoint_id}, run)
        if queued:
            self.wake_webhooks({row["endpoint_id"] for row in queued})
        return outcome

    async def reveal_secret(self, user: SignedIn, livemode: bool, endpoint_id: str) -> str:
        """An endpoint's signing secret, for an admin; the reveal is recorded."""
        try:
            require_admin(user)
        except Forbidden:
            await self._record_refusal(user, livemode, "webhook_endpoint.reveal_secret", endpoint_id, {}, "viewer")
            raise

        async def unit(tx: Tx):
            secret = await dashboard_repo.endpoint_secret(tx, user.account_id, livemode, endpoint_id)
            if secret is not None:
                await dashboard_repo.insert_audit(tx, {
                    "account_id": user.account_id, "livemode": livemode, "created": int(time.time()),
                    "user_email": user.email, "action": "webhook_endpoint.reveal_secret", "object_id": endpoint_id,
                    "detail": {}, "outcome": "done"})
            return secret

        secret = await self.db.write(unit)
        if secret is None:
            raise InvalidRequest(f"No such webhook endpoint: '{endpoint_id}'")
        return secret

    # ---- reads -----------------------------------------------------------------------------

    async def read(self, job):
        return await self.db.read(job)


def can_refund(intent: pi.PaymentIntent, charge: dict | None) -> bool:
    return intent.status == pi.SUCCEEDED and charge is not None and charge["amount_captured"] > charge["amount_refunded"]


def can_capture(intent: pi.PaymentIntent) -> bool:
    return intent.status == pi.REQUIRES_CAPTURE


def can_cancel(intent: pi.PaymentIntent) -> bool:
    return intent.status in pi.CANCELABLE
