"""The interface every payment method's connector implements; test and live mode are two of them.

The services call these around the domain transitions. A connector keeps its outside wire format
(Amazon Pay's JSON, signatures) to itself and answers in these small types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """What a connector needs to send a buyer off to approve a payment."""

    attempt_id: str
    intent_id: str
    amount: int
    currency: str
    capture: bool  # False: authorize only (manual capture)
    return_url: str  # where kassa itself takes the buyer back (then on to the merchant)
    kassa_base_url: str
    merchant_name: str


@dataclass(frozen=True, slots=True)
class Redirect:
    """Where to send the buyer, and the one-time token of kassa's own page for this attempt."""

    url: str
    token: str
    external_id: str | None = None


class Connector(Protocol):
    name: str

    async def start_authorization(self, request: AuthorizationRequest) -> Redirect: ...
    async def capture(self, transaction_id: str, amount: int, currency: str) -> None: ...
    async def release(self, transaction_id: str) -> None: ...
    async def refund(self, refund_id: str, transaction_id: str, amount: int, currency: str) -> str: ...
    async def refund_status(self, refund_id: str, settle_at: int | None, now: int) -> str: ...
