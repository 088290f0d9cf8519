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


# Outcomes of an authorization (the buyer's return, or a pending one settling).
AUTHORIZED, DECLINED, PENDING, CANCELED = "authorized", "declined", "pending", "canceled"


@dataclass(frozen=True, slots=True)
class Completion:
    """How an authorization ended (or that it has not yet: ``pending``)."""

    outcome: str  # AUTHORIZED, DECLINED, PENDING or CANCELED
    charge_id: str | None = None
    charge_permission_id: str | None = None
    captured: bool = False  # capture requested and accepted (Captured, or CaptureInitiated)
    reason_code: str | None = None
    decline_code: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    external_id: str | None  # the connector's own id of the refund: refund_status needs it
    status: str  # kassa's: pending, succeeded or failed
    reason_code: str | None = None


class Connector(Protocol):
    """Test mode's connector does no I/O; live mode's calls the outside world, so the services call
    it between units of work, never inside one."""

    name: str

    async def start_authorization(self, request: AuthorizationRequest) -> Redirect: ...
    async def capture(self, transaction_id: str, amount: int, currency: str) -> None: ...
    async def release(self, transaction_id: str) -> None: ...
    async def refund(self, refund_id: str, transaction_id: str, amount: int, currency: str) -> RefundResult: ...
    async def refund_status(self, refund_id: str, settle_at: int | None, now: int) -> str: ...
