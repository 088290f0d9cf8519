"""Who is calling and how: what every service call needs besides its command."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..store.database import Tx


class Seal(Protocol):
    """Given by the wire edge: renders the result and stores it for idempotent replay, inside
    the unit of work that produced it, so the response and the change commit together."""

    async def __call__(self, tx: Tx, result: Any, rendered: dict | None = None) -> Any: ...


class Replayed(Exception):
    """A unit of work found a response stored under the request's Idempotency-Key; nothing ran."""

    def __init__(self, row) -> None:
        super().__init__("stored response")
        self.row = row


@dataclass(slots=True)
class Caller:
    account_id: str
    livemode: bool
    kind: str  # 'secret' | 'publishable'
    # The account's settings, which do not change once it exists (read with the key).
    country: str = "US"
    account_name: str = ""
    request_id: str | None = None
    idempotency_key: str | None = None
    seal: Seal | None = field(default=None, repr=False)
    # (key, request fingerprint) of an Idempotency-Key not looked up yet: the next unit of work
    # looks it up with its first statement and stops with `Replayed` when a response is stored.
    replay_check: tuple[str, str] | None = None
    amazon_pay_enabled: bool = True  # by automatic_payment_methods (test mode: on by default)

    @property
    def publishable(self) -> bool:
        return self.kind == "publishable"
