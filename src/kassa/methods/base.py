"""The interface every payment method's connector implements; test and live mode are two of them.

The services call these around the domain transitions. A connector keeps its outside wire format
(Amazon Pay's JSON, signatures) to itself and answers in these small types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..domain.records import quick_init


@quick_init
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
    shipping: dict | None = None  # the intent's shipping (Stripe's shape): Amazon Pay's PayAndShip
    save_for_future: bool = False  # setup_future_usage=off_session with a customer: keep a permission to charge
    setup_only: bool = False  # a SetupIntent: the buyer saves the method, nothing is charged (amount unused)


@quick_init
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


# ---- connectors that decide at once (cards) ------------------------------------------------

# A third outcome beside AUTHORIZED and DECLINED: the buyer must act first (3D Secure).
ACTION_REQUIRED = "action_required"


@quick_init
@dataclass(frozen=True, slots=True)
class Failure:
    """Why an attempt was refused, in Stripe's card error terms."""

    code: str
    decline_code: str | None
    message: str
    advice_code: str | None = None
    param: str | None = None
    charged: bool = True  # the attempt reached the processor: a failed charge records it


@quick_init
@dataclass(frozen=True, slots=True)
class Decision:
    """A connector's answer at once: AUTHORIZED, DECLINED (with `failure`) or ACTION_REQUIRED.
    `details` are the charge's payment_method_details for the method's type, `outcome` Stripe's
    charge outcome (network status, risk, seller message)."""

    outcome: str
    details: dict
    outcome_details: dict
    failure: Failure | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Attempt:
    """How an immediate attempt is made: by the buyer present or not, after authentication or not."""

    off_session: bool = False
    error_on_requires_action: bool = False
    authenticated: bool = False
    request_three_d_secure: str | None = None  # Stripe's payment_method_options[card][request_three_d_secure]
    set_up: bool = False  # the card was set up for future use (authenticated when it was saved)


@dataclass(frozen=True, slots=True)
class RefundTerms:
    """How a refund of an immediate method goes: its status at once, and whether (and when) it
    changes later (`later` is the status it then takes)."""

    status: str
    later: str | None = None
    after_seconds: int | None = None


class ImmediateConnector(Protocol):
    """A payment method that decides while the request waits (cards in test mode). It may still
    send the buyer away to authenticate (`start_authentication`, 3D Secure), then decide again."""

    name: str

    async def authorize_now(self, request: AuthorizationRequest, method, attempt: Attempt) -> Decision: ...
    async def start_authentication(self, request: AuthorizationRequest) -> Redirect: ...
    def refund_terms(self, method_kind: str | None) -> RefundTerms: ...
    async def verify_now(self, request: AuthorizationRequest, method, attempt: Attempt) -> Decision: ...


class Connector(Protocol):
    """Test mode's connector does no I/O; live mode's calls the outside world, so the services call
    it between units of work, never inside one."""

    name: str

    async def start_authorization(self, request: AuthorizationRequest) -> Redirect: ...
    async def capture(self, transaction_id: str, amount: int, currency: str) -> None: ...
    async def release(self, transaction_id: str) -> None: ...
    async def refund(self, refund_id: str, transaction_id: str, amount: int, currency: str) -> RefundResult: ...
    async def refund_status(self, refund_id: str, settle_at: int | None, now: int) -> str: ...
    # Saved methods (SetupIntents, setup_future_usage, off-session payments).
    async def start_setup(self, request: AuthorizationRequest) -> Redirect: ...
    async def charge_saved(self, request: SavedCharge) -> Completion: ...


@dataclass(frozen=True, slots=True)
class SavedCharge:
    """An off-session payment of a saved method: no buyer present, the mandate's permission."""

    intent_id: str
    amount: int
    currency: str
    capture: bool
    mandate_id: str
    permission_id: str | None  # the processor's id of the saved permission (Amazon Pay: chargePermissionId)
    idempotency_key: str
