"""``Idempotency-Key``: replay the first response, refuse a changed request or a concurrent twin.

The response is stored by the unit of work that made it (see `Api._sealer`), in the same transaction
as the change, so a replay can never disagree with what was committed. Keys are scoped to an
account and mode and kept at least 24 hours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from ..domain.client_secrets import has_marks
from ..domain.errors import IdempotencyKeyInUse, InvalidRequest, key_reused
from ..services import client_secrets
from ..store import repo
from ..store.database import Database

MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, pairs: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    for key, value in sorted(pairs):
        digest.update(f"{key}={value}\n".encode())
    return digest.hexdigest()


def check_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not key.strip():
        raise InvalidRequest(f"Invalid Idempotency-Key: it must be 1 to {MAX_KEY_LENGTH} characters long.",
                             param="Idempotency-Key")
    return key


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: bytes


class InFlight:
    """Keys whose first request is running in this process (a twin gets 409 meanwhile)."""

    def __init__(self) -> None:
        self._keys: set[tuple[str, bool, str]] = set()

    def claim(self, scope: tuple[str, bool, str]) -> None:
        if scope in self._keys:
            raise IdempotencyKeyInUse(
                "There is currently another in-progress request using this Stripe-compatible "
                "Idempotency-Key (that probably means you submitted twice, and the other request is "
                "still going through). Please retry this request later.",
                code="idempotency_key_in_use")
        self._keys.add(scope)

    def release(self, scope: tuple[str, bool, str]) -> None:
        self._keys.discard(scope)


async def find_replay(db: Database, account_id: str, livemode: bool, key: str, print_: str) -> Replay | None:
    """The stored response for this key, or None; a different request under it is an error."""

    async def read(tx):
        return await repo.get_idempotent(tx, account_id, livemode, key)

    row = await db.read(read)
    if row is None:
        return None
    return stored_replay(row, key, print_)


def stored_replay(row, key: str, print_: str) -> Replay:
    """The replay of a stored response; a different request under its key is an error."""
    if row["fingerprint"] != print_:
        raise key_reused(key)
    body = row["body"]
    if isinstance(body, bytes):
        body = body.decode()
    if has_marks(body):  # the client secrets it answered with, derived again (they are not kept)
        return Replay(row["status"], orjson.dumps(client_secrets.current().restore_tree(orjson.loads(body))))
    return Replay(row["status"], body.encode())
