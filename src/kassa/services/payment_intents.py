"""PaymentIntent use cases: load, apply a domain transition, store, with events."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from ..domain import payment_intent as pi
from ..domain.errors import InvalidRequest, no_such
from ..domain.ids import intent_id_of_client_secret
from ..store import repo
from ..store.database import Tx
from .context import Caller
from .unit import Runner


@dataclass(frozen=True, slots=True)
class Page:
    data: list[Any]
    has_more: bool
    last_seq: int | None = None


class PaymentIntents:
    def __init__(self, runner: Runner):
        self.runner = runner
        self.db = runner.db

    async def _load(self, tx: Tx, caller: Caller, intent_id: str, *, lock: bool = False) -> pi.PaymentIntent:
        intent = await repo.get_intent(tx, caller.account_id, caller.livemode, intent_id, lock=lock)
        if intent is None:
            raise no_such("payment_intent", intent_id, param="intent")
        return intent

    async def create(self, caller: Caller, command: pi.CreateIntent):
        async def change(tx: Tx, now: int):
            intent, events = pi.create(command, livemode=caller.livemode, now=now)
            await repo.insert_intent(tx, caller.account_id, intent)
            return intent, events

        return await self.runner.write(caller, change)

    async def retrieve(self, caller: Caller, intent_id: str, client_secret: str | None = None) -> pi.PaymentIntent:
        async def read(tx: Tx):
            return await repo.get_intent(tx, caller.account_id, caller.livemode, intent_id)

        intent = await self.db.read(read)
        if caller.publishable:
            check_client_secret(intent_id, client_secret, intent)
        if intent is None:
            raise no_such("payment_intent", intent_id, param="intent")
        return intent

    async def update(self, caller: Caller, intent_id: str, command: pi.UpdateIntent):
        async def change(tx: Tx, now: int):
            intent = await self._load(tx, caller, intent_id, lock=True)
            updated, events = pi.update(intent, command, now=now)
            if updated is not intent:
                await repo.update_intent(tx, caller.account_id, updated)
            return updated, events

        return await self.runner.write(caller, change)

    async def cancel(self, caller: Caller, intent_id: str, reason: str | None):
        async def change(tx: Tx, now: int):
            intent = await self._load(tx, caller, intent_id, lock=True)
            canceled, events = pi.cancel(intent, reason, now=now)
            await repo.update_intent(tx, caller.account_id, canceled)
            return canceled, events

        return await self.runner.write(caller, change)

    async def list(self, caller: Caller, *, limit: int, starting_after: str | None,
                   ending_before: str | None, filters_sql: str = "", filters: dict | None = None) -> Page:
        async def read(tx: Tx):
            after = before = None
            if starting_after:
                after = await self._cursor(tx, caller, starting_after, "starting_after")
            if ending_before:
                before = await self._cursor(tx, caller, ending_before, "ending_before")
            return await repo.page_intents(tx, caller.account_id, caller.livemode, limit=limit,
                                           after_seq=after, before_seq=before,
                                           filters_sql=filters_sql, filters=filters)

        return Page(*await self.db.read(read))

    async def search(self, caller: Caller, *, limit: int, after_seq: int | None, filters_sql: str,
                     filters: dict) -> Page:
        async def read(tx: Tx):
            return await repo.page_intents(tx, caller.account_id, caller.livemode, limit=limit,
                                           after_seq=after_seq, filters_sql=filters_sql, filters=filters)

        return Page(*await self.db.read(read))

    async def _cursor(self, tx: Tx, caller: Caller, intent_id: str, param: str) -> int:
        seq = await repo.intent_seq(tx, caller.account_id, caller.livemode, intent_id)
        if seq is None:
            raise no_such("payment_intent", intent_id, param=param)
        return seq


def check_client_secret(intent_id: str, client_secret: str | None, intent: pi.PaymentIntent | None) -> None:
    """A publishable key needs the intent's client secret; any mismatch looks like a missing intent."""
    if not client_secret:
        raise InvalidRequest(
            "This API call cannot be made with a publishable API key without the PaymentIntent's "
            "client_secret. Pass client_secret, or use a secret API key.",
            code="parameter_missing", param="client_secret")
    if intent_id_of_client_secret(client_secret) != intent_id or intent is None or not hmac.compare_digest(
            client_secret.encode(), intent.client_secret.encode()):
        raise InvalidRequest(
            "The client_secret provided does not match the client_secret associated with the PaymentIntent.",
            code="payment_intent_invalid_parameter", param="client_secret")
