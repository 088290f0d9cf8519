"""Amazon Pay in live mode: a signed HTTP client for API v2, and the connector built on it.

:class:`AmazonPayClient` speaks Amazon's wire format (Checkout Session, Charge, Refund) and answers
with the typed views of :mod:`.api_types`. Every request is signed (:mod:`.signing`); every POST
that creates something carries an ``x-amz-pay-idempotency-key`` derived from kassa's own ids, so a
request retried after a network failure is applied once. Network failures, 429 and 5xx are retried
(``max_attempts``) with the same key; other errors raise :class:`AmazonPayError` at once.

:class:`LiveAmazonPay` implements :class:`kassa.methods.base.Connector` with it, plus
:meth:`LiveAmazonPay.complete` (the buyer is back from Amazon) and
:meth:`LiveAmazonPay.authorization_status` (an asynchronous authorization, polled or notified).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable, TypeVar
from urllib.parse import quote

import httpx

from ...domain.errors import InvalidRequest, KassaError, PaymentFailed
from ...domain.ids import random_base62
from ..base import AUTHORIZED, CANCELED, DECLINED, PENDING, AuthorizationRequest, Completion, Redirect, RefundResult
from . import api_types as t
from . import signing
from .config import LiveConfig

T = TypeVar("T")
RETURN_PATH = "/amazon_pay/return/"  # kassa's page the buyer comes back to: RETURN_PATH + token
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
CREDENTIAL_ERRORS = frozenset({"UnauthorizedAccess", "InvalidAuthentication", "InvalidRequestSignature",
                               "InvalidAccountStatus", "InvalidHeaderValue", "MissingHeader"})



class AmazonPayError(Exception):
    """Amazon Pay refused a request or could not be reached.

    ``status`` is Amazon's HTTP status (0 when no answer came); ``retryable`` says whether the same
    request may succeed later. :meth:`as_kassa_error` gives the error to show a merchant.
    """

    def __init__(self, reason_code: str, message: str, status: int, retryable: bool):
        super().__init__(f"{reason_code}: {message}" if message else reason_code)
        self.reason_code = reason_code
        self.message = message
        self.status = status
        self.retryable = retryable

    def as_kassa_error(self) -> KassaError:
        if self.reason_code in DECLINES:
            decline = DECLINES[self.reason_code]
            return PaymentFailed(decline.message, code="payment_intent_payment_attempt_failed",
                                 extra={"decline_code": decline.decline_code} if decline.decline_code else None)
        if self.retryable or self.status == 0:
            return AmazonPayUnavailable("Amazon Pay is unavailable for a moment; nothing was changed. Retry the "
                                        "request (with the same Idempotency-Key).")
        if self.status in (401, 403) or self.reason_code in CREDENTIAL_ERRORS:
            return AmazonPayUnavailable("Amazon Pay refused kassa's credentials for this account; check the "
                                        "account's Amazon Pay configuration (key id, private key, region).")
        return InvalidRequest(f"Amazon Pay refused the request: {self.message or self.reason_code} "
                              f"({self.reason_code}).")


class AmazonPayUnavailable(KassaError):
    """A 502 for the merchant: the failure is between kassa and Amazon Pay."""

    status = 502
    type = "api_error"


@dataclass(frozen=True, slots=True)
class Decline:
    decline_code: str | None  # Stripe's decline_code vocabulary
    message: str


# Amazon reasonCodes (Charge, Checkout Session) → what a merchant sees. One table for every path.
DECLINES: dict[str, Decline] = {
    "HardDeclined": Decline("generic_decline", "The payment was declined by Amazon Pay: the customer's payment "
                            "method cannot be used. Ask the customer for another payment method."),
    "SoftDeclined": Decline("try_again_later", "The payment was declined by Amazon Pay for now. The customer can "
                            "try again, or use another payment method."),
    "AmazonRejected": Decline("do_not_honor", "Amazon Pay rejected the payment. Ask the customer for another "
                              "payment method."),
    "ProcessingFailure": Decline("processing_error", "Amazon Pay could not process the payment because of an "
                                 "error on its side. The customer can try again."),
    "TransactionTimedOut": Decline("try_again_later", "Amazon Pay did not process the payment in time. The "
                                   "customer can try again."),
    "BuyerCanceled": Decline(None, "The customer canceled the payment on Amazon Pay."),
    "Declined": Decline("generic_decline", "The payment was declined by Amazon Pay."),
    "Expired": Decline(None, "The Amazon Pay checkout expired before the customer finished it."),
    "ExpiredUnused": Decline(None, "The Amazon Pay authorization expired unused."),
    "AmazonCanceled": Decline(None, "Amazon Pay canceled the payment."),
    "MerchantCanceled": Decline(None, "The payment was canceled by the merchant."),
    "ChargePermissionCanceled": Decline(None, "The customer's Amazon Pay permission was canceled."),
}


def decline_for(reason_code: str | None) -> Decline:
    known = DECLINES.get(reason_code or "")
    return known or Decline("generic_decline",
                            f"The payment was declined by Amazon Pay ({reason_code or 'no reason given'}).")


def idempotency_key(purpose: str, *parts: str) -> str:
    """A 32-character key (Amazon's limit; letters, digits, ``-``) fixed by kassa's ids."""
    digest = hashlib.sha256("\x1f".join((purpose, *parts)).encode("utf-8")).hexdigest()
    return f"kassa-{purpose}-{digest}"[:32]


# --------------------------------------------------------------------------- the client


class AmazonPayClient:
    """Amazon Pay API v2 for one account. ``base_url`` replaces ``https://<region host>`` (tests)."""

    def __init__(self, config: LiveConfig, *, base_url: str | None = None, timeout: float = 10.0,
                 max_attempts: int = 3, backoff: float = 0.5, transport: httpx.AsyncBaseTransport | None = None):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.config = config
        self.base_url = (base_url or f"https://{config.host}").rstrip("/")
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._credentials = config.credentials()
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                                       transport=transport, follow_redirects=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AmazonPayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def path(self, *segments: str) -> str:
        """``/<sandbox|live>/v2/<segments>``; without the environment for ``SANDBOX-``/``LIVE-`` keys."""
        environment = [("sandbox" if self.config.sandbox else "live")] if self.config.environment_in_path else []
        return "/" + "/".join([*environment, signing.API_VERSION, *(quote(s, safe="") for s in segments)])

    async def _call(self, parse: Callable[[Any], T], method: str, segments: tuple[str, ...],
                    body: dict[str, Any] | None = None, idempotency_key: str | None = None) -> T:
        """Send (and resend) one request; the answer read by ``parse``, or an AmazonPayError."""
        data, status = await self._send(method, self.path(*segments), body, idempotency_key)
        try:
            return parse(data)
        except t.AmazonPayFormatError as error:
            raise AmazonPayError("InvalidResponse", str(error), status, False) from None

    async def _send(self, method: str, path: str, body: dict[str, Any] | None,
                    idempotency_key: str | None) -> tuple[Any, int]:
        payload = "" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        for attempt in range(1, self.max_attempts + 1):
            headers = signing.signed_headers(self._credentials, method, path, payload=payload,
                                             idempotency_key=idempotency_key)
            try:
                response = await self._http.request(method, self.base_url + path, headers=headers,
                                                    content=payload.encode("utf-8") if payload else None)
            except httpx.TransportError as exc:
                error = AmazonPayError("NetworkError", f"{type(exc).__name__}: {exc}".rstrip(": "), 0, True)
            else:
                if 200 <= response.status_code < 300:
                    try:
                        return response.json(), response.status_code
                    except ValueError:
                        raise AmazonPayError("InvalidResponse", "Amazon Pay answered with something other than "
                                             "JSON", response.status_code, False) from None
                error = _error_of(response)
            if not error.retryable or attempt == self.max_attempts:
                raise error
            await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    # ---- Checkout Session ----------------------------------------------------------------

    async def create_checkout_session(self, intent_id: str, attempt_id: str, amount: int, currency: str,
                                      capture: bool, checkout_result_return_url: str, store_id: str | None = None,
                                      merchant_reference: str | None = None, *,
                                      merchant_store_name: str | None = None,
                                      can_handle_pending_authorization: bool = False) -> t.CheckoutSession:
        """A session whose buyer pays on Amazon's page, then comes back to the return URL."""
        price = t.to_amazon_price(amount, currency)
        metadata: dict[str, str] = {"merchantReferenceId": (merchant_reference or intent_id)[:256],
                                    "customInformation": f"kassa {intent_id} {attempt_id}"[:4096]}
        if merchant_store_name:
            metadata["merchantStoreName"] = merchant_store_name[:50]
        body = {
            "webCheckoutDetails": {"checkoutResultReturnUrl": checkout_result_return_url,
                                   "checkoutMode": "ProcessOrder"},
            "storeId": store_id or self.config.store_id,
            "paymentDetails": {"paymentIntent": t.AUTHORIZE_WITH_CAPTURE if capture else t.AUTHORIZE,
                               "canHandlePendingAuthorization": can_handle_pending_authorization,
                               "chargeAmount": price, "presentmentCurrency": price["currencyCode"]},
            "merchantMetadata": metadata,
        }
        return await self._call(t.parse_checkout_session, "POST", ("checkoutSessions",), body,
                                idempotency_key=idempotency_key("cs", intent_id, attempt_id))

    async def get_checkout_session(self, checkout_session_id: str) -> t.CheckoutSession:
        return await self._call(t.parse_checkout_session, "GET", ("checkoutSessions", checkout_session_id))

    async def complete_checkout_session(self, checkout_session_id: str, amount: int,
                                        currency: str) -> t.CheckoutSession:
        """Confirm the buyer's return. Safe to repeat: a completed session is answered as it is."""
        body = {"chargeAmount": t.to_amazon_price(amount, currency)}
        return await self._call(t.parse_checkout_session, "POST", ("checkoutSessions", checkout_session_id,
                                                                    "complete"), body)

    # ---- Charge ---------------------------------------------------------------------------

    async def get_charge(self, charge_id: str) -> t.Charge:
        return await self._call(t.parse_charge, "GET", ("charges", charge_id))

    async def capture_charge(self, charge_id: str, amount: int, currency: str, idempotency_key: str) -> t.Charge:
        body = {"captureAmount": t.to_amazon_price(amount, currency)}
        return await self._call(t.parse_charge, "POST", ("charges", charge_id, "capture"), body,
                                idempotency_key=idempotency_key)

    async def cancel_charge(self, charge_id: str, reason: str) -> t.Charge:
        body = {"cancellationReason": reason[:255]}
        return await self._call(t.parse_charge, "DELETE", ("charges", charge_id, "cancel"), body)

    # ---- Refund ---------------------------------------------------------------------------

    async def create_refund(self, charge_id: str, amount: int, currency: str, idempotency_key: str) -> t.Refund:
        body = {"chargeId": charge_id, "refundAmount": t.to_amazon_price(amount, currency)}
        return await self._call(t.parse_refund, "POST", ("refunds",), body, idempotency_key=idempotency_key)

    async def get_refund(self, refund_id: str) -> t.Refund:
        return await self._call(t.parse_refund, "GET", ("refunds", refund_id))


def _error_of(response: httpx.Response) -> AmazonPayError:
    try:
        data = response.json()
    except ValueError:
        data = None
    body = t.parse_error(data, response.status_code)
    return AmazonPayError(body.reason_code, body.message, response.status_code,
                          response.status_code in RETRYABLE_STATUSES)


# --------------------------------------------------------------------------- the connector


_REFUND_STATUS = {t.REFUND_INITIATED: "pending", t.REFUNDED: "succeeded", t.REFUND_DECLINED: "failed"}


def outcome_of_charge(charge: t.Charge, charge_permission_id: str | None = None) -> Completion:
    """A Charge's state in kassa's terms."""
    base = {"charge_id": charge.id, "charge_permission_id": charge.charge_permission_id or charge_permission_id,
            "reason_code": charge.status.reason_code}
    if charge.state in (t.AUTHORIZED, t.CAPTURE_INITIATED, t.CAPTURED):
        return Completion(AUTHORIZED, captured=charge.state != t.AUTHORIZED, **base)
    if charge.state == t.AUTHORIZATION_INITIATED:
        return Completion(PENDING, **base)
    decline = decline_for(charge.status.reason_code or charge.state)
    outcome = CANCELED if charge.status.reason_code == "BuyerCanceled" else DECLINED
    return Completion(outcome, decline_code=decline.decline_code, message=decline.message, **base)


class LiveAmazonPay:
    """The live connector: kassa's transitions on one side, one account's Amazon Pay on the other."""

    name = "amazon_pay"

    def __init__(self, client: AmazonPayClient, *, can_handle_pending_authorization: bool = False):
        self.client = client
        self.can_handle_pending_authorization = can_handle_pending_authorization

    async def start_authorization(self, request: AuthorizationRequest) -> Redirect:
        """Create the Checkout Session; the buyer goes to Amazon and comes back to kassa's return page."""
        token = "tok_" + random_base62(40)
        return_url = request.kassa_base_url.rstrip("/") + RETURN_PATH + token
        session = await self.client.create_checkout_session(
            request.intent_id, request.attempt_id, request.amount, request.currency, request.capture, return_url,
            merchant_reference=request.intent_id, merchant_store_name=request.merchant_name or None,
            can_handle_pending_authorization=self.can_handle_pending_authorization)
        if not session.redirect_url:
            raise AmazonPayError("MissingRedirectUrl", "the Checkout Session has no amazonPayRedirectUrl", 0, False)
        return Redirect(url=session.redirect_url, token=token, external_id=session.id)

    async def complete(self, external_id: str, amount: int, currency: str) -> Completion:
        """The buyer is back (``external_id`` is the checkoutSessionId): complete and read the outcome.

        Repeating it is harmless. An Open session the buyer has not finished raises AmazonPayError.
        """
        try:
            session = await self.client.complete_checkout_session(external_id, amount, currency)
        except AmazonPayError as error:
            if error.reason_code != "CheckoutSessionCanceled":
                raise
            session = await self.client.get_checkout_session(external_id)
        if session.state == t.SESSION_CANCELED:
            return await self._canceled(session)
        if not session.charge_id:
            return Completion(PENDING, charge_permission_id=session.charge_permission_id)
        charge = await self.client.get_charge(session.charge_id)
        return outcome_of_charge(charge, session.charge_permission_id)

    async def _canceled(self, session: t.CheckoutSession) -> Completion:
        reason = session.status.reason_code
        if session.charge_id:  # a declined authorization says more than the session does
            charge = await self.client.get_charge(session.charge_id)
            if charge.state in (t.CHARGE_DECLINED, t.CHARGE_CANCELED):
                return outcome_of_charge(charge, session.charge_permission_id)
        decline = decline_for(reason)
        return Completion(CANCELED if reason == "BuyerCanceled" else DECLINED, charge_id=session.charge_id,
                          reason_code=reason, decline_code=decline.decline_code, message=decline.message)

    async def authorization_status(self, charge_id: str) -> Completion:
        """Where a (pending) authorization stands now."""
        return outcome_of_charge(await self.client.get_charge(charge_id))

    async def capture(self, transaction_id: str, amount: int, currency: str) -> None:
        # The amount is part of the key: Amazon refuses a key reused with another body.
        key = idempotency_key("cp", transaction_id, str(amount), currency.lower())
        charge = await self.client.capture_charge(transaction_id, amount, currency, key)
        if charge.state not in (t.CAPTURE_INITIATED, t.CAPTURED):
            reason = charge.status.reason_code or charge.state
            raise AmazonPayError(reason, decline_for(reason).message, 200, False)

    async def release(self, transaction_id: str) -> None:
        """Cancel an uncaptured charge; one that is canceled already is fine."""
        try:
            await self.client.cancel_charge(transaction_id, "Canceled through kassa")
        except AmazonPayError as error:
            if error.retryable or error.status == 0:
                raise
            charge = await self.client.get_charge(transaction_id)
            if charge.state != t.CHARGE_CANCELED:
                raise

    async def refund(self, refund_id: str, transaction_id: str, amount: int, currency: str) -> RefundResult:
        """Start a refund (kassa's ``refund_id`` fixes the idempotency key); Amazon settles it later."""
        refund = await self.client.create_refund(transaction_id, amount, currency, idempotency_key("rf", refund_id))
        return RefundResult(refund.id, _REFUND_STATUS[refund.state], refund.status.reason_code)

    async def refund_status(self, refund_id: str, settle_at: int | None = None, now: int = 0) -> str:
        """``pending``, ``succeeded`` or ``failed``; ``refund_id`` is Amazon's (RefundResult.external_id)."""
        refund = await self.client.get_refund(refund_id)
        return _REFUND_STATUS[refund.state]
