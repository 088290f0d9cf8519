"""Amazon Pay in live mode: a signed HTTP client for API v2, and the connector built on it.

:class:`AmazonPayClient` speaks Amazon's wire format (Checkout Session, Charge, Refund) and answers
with the typed views of :mod:`.api_types`. Every request is signed (:mod:`.signing`); every POST
that creates something carries an ``x-amz-pay-idempotency-key`` derived from kassa's own ids, so a
request retried after a network failure is applied once. Network failures, 408, 425, 429 and 5xx
are retried (``max_attempts``) with the same key, as Amazon's SDKs do; other errors raise
:class:`AmazonPayError` at once.

:class:`LiveAmazonPay` implements :class:`kassa.methods.base.Connector` with it. A payment starts
the way Amazon documents its ProcessOrder checkout: kassa's own page (``CHECKOUT_PATH``) loads
Amazon's ``checkout.js`` and hands it a Create Checkout Session payload signed here
(:meth:`LiveAmazonPay.checkout_button`); Amazon creates the session and sends the buyer back with
``amazonCheckoutSessionId``, which :meth:`LiveAmazonPay.session_of_attempt` checks and
:meth:`LiveAmazonPay.complete` completes. No Checkout Session is ever created server-side.

A SetupIntent goes the same way with a setup-only payload (``setup_only``): Amazon's saved wallet
(``chargePermissionType: PaymentMethodOnFile``, ``paymentMethodOnFileMetadata.setupOnly``,
``paymentIntent: Confirm``, no amount). Its Complete carries no ``chargeAmount`` and makes no
Charge, only the Charge Permission that off-session payments later charge with Create Charge.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable, TypeVar
from urllib.parse import quote

import httpx

from ... import metrics
from ...domain.errors import InvalidRequest, KassaError, PaymentFailed
from ...domain.ids import random_base62
from ..base import (AUTHORIZED, CANCELED, DECLINED, PENDING, AuthorizationRequest, Completion, Redirect, RefundResult,
                    SavedCharge)
from . import api_types as t
from . import signing
from .config import LiveConfig

T = TypeVar("T")
CHECKOUT_PATH = "/amazon_pay/checkout/"  # kassa's page that starts Amazon's checkout: CHECKOUT_PATH + token
RETURN_PATH = "/amazon_pay/return/"  # kassa's page the buyer comes back to: RETURN_PATH + token
CANCEL_SUFFIX = "/cancel"  # CHECKOUT_PATH + token + CANCEL_SUFFIX: the buyer gave up
# Amazon's script by region (its "Amazon Pay script" page); the button needs the merchant's ledger currency.
CHECKOUT_JS = {"na": "https://static-na.payments-amazon.com/checkout.js",
               "eu": "https://static-eu.payments-amazon.com/checkout.js",
               "jp": "https://static-fe.payments-amazon.com/checkout.js"}
LEDGER_CURRENCIES = {"na": "USD", "jp": "JPY"}  # eu: GBP for UK merchants, EUR for the others
NOT_FINISHED = "InvalidCheckoutSessionStatus"  # Complete on a session that is not (or no longer) Open
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
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


# Create Charge refusals that say the saved permission cannot be charged now (a decline to the merchant).
PERMISSION_REFUSALS = frozenset({"InvalidChargePermissionStatus", "TransactionCountExceeded",
                                 "TransactionAmountExceeded", "PaymentMethodNotAllowed", "MFANotCompleted"})


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
        return (await self._call_with_status(parse, method, segments, body, idempotency_key))[0]

    async def _call_with_status(self, parse: Callable[[Any], T], method: str, segments: tuple[str, ...],
                                body: dict[str, Any] | None = None,
                                idempotency_key: str | None = None) -> tuple[T, int]:
        data, status = await self._send(method, self.path(*segments), body, idempotency_key,
                                        f"{method} {segments[0]}" + (f"/{segments[2]}" if len(segments) > 2 else ""))
        try:
            return parse(data), status
        except t.AmazonPayFormatError as error:
            raise AmazonPayError("InvalidResponse", str(error), status, False) from None

    async def _send(self, method: str, path: str, body: dict[str, Any] | None,
                    idempotency_key: str | None, operation: str = "") -> tuple[Any, int]:
        payload = "" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        for attempt in range(1, self.max_attempts + 1):
            headers = signing.signed_headers(self._credentials, method, path, payload=payload,
                                             idempotency_key=idempotency_key)
            try:
                response = await self._http.request(method, self.base_url + path, headers=headers,
                                                    content=payload.encode("utf-8") if payload else None)
            except httpx.TransportError as exc:
                error = AmazonPayError("NetworkError", f"{type(exc).__name__}: {exc}".rstrip(": "), 0, True)
                metrics.amazon_pay_call(operation, 0)
            else:
                metrics.amazon_pay_call(operation, response.status_code)
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

    # ---- Checkout Session (created by Amazon's checkout.js from kassa's signed payload) -------

    async def get_checkout_session(self, checkout_session_id: str) -> t.CheckoutSession:
        return await self._call(t.parse_checkout_session, "GET", ("checkoutSessions", checkout_session_id))

    async def complete_checkout_session(self, checkout_session_id: str, amount: int | None,
                                        currency: str | None) -> tuple[t.CheckoutSession, int]:
        """Confirm the buyer's return: the session and Amazon's status (202 while the authorization
        is pending). A session no longer Open answers ``InvalidCheckoutSessionStatus``. A setup-only
        session (``amount`` None) is completed with an empty body: Amazon's saved-wallet guide says
        chargeAmount is not required there."""
        body = {} if amount is None else {"chargeAmount": t.to_amazon_price(amount, currency)}
        return await self._call_with_status(t.parse_checkout_session, "POST",
                                            ("checkoutSessions", checkout_session_id, "complete"), body)

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

    async def create_charge(self, charge_permission_id: str, amount: int, currency: str, capture: bool,
                            idempotency_key: str, *, can_handle_pending_authorization: bool = False) -> t.Charge:
        """Charge a saved Charge Permission (Recurring) with no buyer present: 201 when authorized or
        initiated; SoftDeclined, HardDeclined and others as errors."""
        body = {"chargePermissionId": charge_permission_id, "chargeAmount": t.to_amazon_price(amount, currency),
                "captureNow": capture, "canHandlePendingAuthorization": can_handle_pending_authorization}
        return await self._call(t.parse_charge, "POST", ("charges",), body, idempotency_key=idempotency_key)

    async def get_charge_permission(self, charge_permission_id: str) -> t.Status:
        """A Charge Permission's status (``Chargeable``, ``NonChargeable``, ``Closed``, with its reason)."""
        return await self._call(t.parse_charge_permission_status, "GET", ("chargePermissions", charge_permission_id))

    async def close_charge_permission(self, charge_permission_id: str, reason: str) -> t.Status:
        """Close a Charge Permission for good (no more Create Charge on it); its status after."""
        body = {"closureReason": reason[:255], "cancelPendingCharges": False}
        return await self._call(t.parse_charge_permission_status, "DELETE",
                                ("chargePermissions", charge_permission_id, "close"), body)

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


@dataclass(frozen=True, slots=True)
class CheckoutButton:
    """What kassa's checkout page hands Amazon's ``checkout.js``: the button's options and the
    signed Create Checkout Session payload (``createCheckoutSessionConfig``)."""

    script_url: str
    merchant_id: str
    ledger_currency: str
    sandbox: bool
    product_type: str  # PayOnly, or PayAndShip when the intent has a shipping address
    payload_json: str
    signature: str
    public_key_id: str
    algorithm: str

    def page_config(self) -> dict[str, Any]:
        """The options for ``amazon.Pay.renderButton`` and ``initCheckout``, as the page reads them."""
        return {"merchantId": self.merchant_id, "ledgerCurrency": self.ledger_currency, "sandbox": self.sandbox,
                "productType": self.product_type, "placement": "Checkout",
                "createCheckoutSessionConfig": {"payloadJSON": self.payload_json, "signature": self.signature,
                                                "publicKeyId": self.public_key_id, "algorithm": self.algorithm}}


def address_details(shipping: dict[str, Any]) -> dict[str, str]:
    """Stripe's ``shipping`` hash as Amazon's ``addressDetails`` (empty fields left out)."""
    address = shipping.get("address") or {}
    fields = {"name": shipping.get("name"), "addressLine1": address.get("line1"),
              "addressLine2": address.get("line2"), "city": address.get("city"),
              "stateOrRegion": address.get("state"), "postalCode": address.get("postal_code"),
              "countryCode": (address.get("country") or "").upper() or None, "phoneNumber": shipping.get("phone")}
    return {name: value for name, value in fields.items() if value}


class SessionMismatch(Exception):
    """The Checkout Session the buyer came back with is not this attempt's (another attempt's, or
    altered on the way): nothing is completed."""


class LiveAmazonPay:
    """The live connector: kassa's transitions on one side, one account's Amazon Pay on the other."""

    name = "amazon_pay"

    def __init__(self, client: AmazonPayClient, *, can_handle_pending_authorization: bool = False,
                 checkout_js_url: str | None = None):
        self.client = client
        self.can_handle_pending_authorization = can_handle_pending_authorization
        self.checkout_js_url = checkout_js_url or CHECKOUT_JS[client.config.region]

    async def start_authorization(self, request: AuthorizationRequest) -> Redirect:
        """The buyer goes to kassa's checkout page for this attempt, which starts Amazon's checkout;
        nothing is sent to Amazon before the buyer gets there."""
        token = "tok_" + random_base62(40)
        return Redirect(url=request.kassa_base_url.rstrip("/") + CHECKOUT_PATH + token, token=token)

    async def start_setup(self, request: AuthorizationRequest) -> Redirect:
        """Saving Amazon Pay (a SetupIntent): the same checkout page, whose payload is setup-only."""
        return await self.start_authorization(request)

    def checkout_button(self, request: AuthorizationRequest, token: str, country: str) -> CheckoutButton:
        """The signed ProcessOrder payload for attempt ``token`` (kassa's page shows it to checkout.js).
        A ``setup_only`` request asks for Amazon's saved wallet and no payment: a PaymentMethodOnFile
        Charge Permission, ``paymentIntent: Confirm`` and no amount."""
        base = request.kassa_base_url.rstrip("/")
        if request.setup_only:
            payment_details: dict[str, Any] = {"paymentIntent": t.CONFIRM}
        else:
            price = t.to_amazon_price(request.amount, request.currency)
            payment_details = {"paymentIntent": t.AUTHORIZE_WITH_CAPTURE if request.capture else t.AUTHORIZE,
                               "canHandlePendingAuthorization": self.can_handle_pending_authorization,
                               "chargeAmount": price, "presentmentCurrency": price["currencyCode"]}
        metadata = {"merchantReferenceId": request.intent_id[:256],
                    "customInformation": f"kassa {request.intent_id} {request.attempt_id}"[:4096]}
        if request.merchant_name:
            metadata["merchantStoreName"] = request.merchant_name[:50]
        payload: dict[str, Any] = {
            "webCheckoutDetails": {"checkoutMode": "ProcessOrder",
                                   "checkoutResultReturnUrl": base + RETURN_PATH + token,
                                   "checkoutCancelUrl": base + CHECKOUT_PATH + token + CANCEL_SUFFIX},
            "storeId": self.client.config.store_id,
            "paymentDetails": payment_details,
            "merchantMetadata": metadata,
        }
        if request.setup_only:  # the buyer saves the wallet for charges with no buyer present, pays nothing now
            payload["chargePermissionType"] = t.PAYMENT_METHOD_ON_FILE
            payload["paymentMethodOnFileMetadata"] = {"setupOnly": True}
        elif request.save_for_future:  # the buyer also allows later charges with no buyer present
            payload["chargePermissionType"] = t.RECURRING
            payload["recurringMetadata"] = {"frequency": {"unit": "Variable", "value": "0"}}
        shipped = bool(not request.setup_only and request.shipping
                       and (request.shipping.get("address") or {}).get("line1"))
        if shipped:
            payload["addressDetails"] = address_details(request.shipping)
        payload_json = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        credentials = self.client.config.credentials()
        region = self.client.config.region
        ledger = LEDGER_CURRENCIES.get(region) or ("GBP" if country.upper() == "GB" else "EUR")
        return CheckoutButton(
            script_url=self.checkout_js_url, merchant_id=self.client.config.merchant_id, ledger_currency=ledger,
            sandbox=self.client.config.sandbox, product_type="PayAndShip" if shipped else "PayOnly",
            payload_json=payload_json, signature=signing.sign_button_payload(credentials, payload_json),
            public_key_id=credentials.public_key_id, algorithm=credentials.algorithm)

    async def session_of_attempt(self, session_id: str, *, intent_id: str, amount: int | None,
                                 currency: str | None, token_matches: Callable[[str], bool]) -> t.CheckoutSession:
        """Get the buyer's Checkout Session and check it is this attempt's before anything else: the
        intent (or SetupIntent) as reference, the amount and currency (a setup, ``amount`` None, has
        none), and kassa's return address of this attempt (``token_matches`` is given its last
        segment). SessionMismatch otherwise."""
        session = await self.client.get_checkout_session(session_id)
        if amount is None:  # setup only: no amount was signed (an echoed zero is tolerated)
            amount_ok = session.charge_amount is None or session.charge_amount.amount == 0
        else:
            amount_ok = session.charge_amount == t.Price(amount, currency.lower())
        return_url = session.result_return_url or ""
        token = return_url.split("?", 1)[0].rsplit(RETURN_PATH, 1)[-1] if RETURN_PATH in return_url else ""
        if session.merchant_reference_id != intent_id or not amount_ok or not token or not token_matches(token):
            raise SessionMismatch(session_id)
        return session

    async def complete(self, external_id: str, amount: int | None, currency: str | None,
                       session: t.CheckoutSession | None = None) -> Completion:
        """Complete the buyer's Checkout Session (``external_id``) with the same amount and read the
        outcome. A session that is no longer Open (a reload, a second tab, a Complete that already
        happened) is read instead, so repeating this is harmless; an Open session the buyer has not
        finished raises AmazonPayError ``InvalidCheckoutSessionStatus``. A setup (``amount`` None)
        is completed with no amount and succeeds with its Charge Permission, no Charge."""
        setup_only = amount is None
        if session is None or session.state == t.SESSION_OPEN:
            try:
                session, status = await self.client.complete_checkout_session(external_id, amount, currency)
            except AmazonPayError as error:
                if error.reason_code in (NOT_FINISHED, "CheckoutSessionCanceled"):
                    session = await self.client.get_checkout_session(external_id)
                elif error.reason_code == "AmountMismatch" or error.reason_code in DECLINES:
                    decline = decline_for(error.reason_code) if error.reason_code in DECLINES else Decline(
                        None, "Amazon Pay refused to complete the checkout: its amount is not the payment's.")
                    outcome = CANCELED if error.reason_code == "BuyerCanceled" else DECLINED
                    return Completion(outcome, reason_code=error.reason_code, decline_code=decline.decline_code,
                                      message=decline.message)
                else:
                    raise
            else:
                if status == 202 and not setup_only:  # Amazon decides later: a notification or the sweep will tell
                    return Completion(PENDING, charge_id=session.charge_id,
                                      charge_permission_id=session.charge_permission_id)
                if setup_only and session.state == t.SESSION_COMPLETED and not session.charge_permission_id:
                    session = await self.client.get_checkout_session(external_id)  # the answer left it out
        return await self._outcome_of_session(session, setup_only)

    async def session_outcome(self, session_id: str, setup_only: bool = False) -> Completion | None:
        """How a Checkout Session ended, asked without completing it; None while it is Open."""
        session = await self.client.get_checkout_session(session_id)
        return None if session.state == t.SESSION_OPEN else await self._outcome_of_session(session, setup_only)

    async def _outcome_of_session(self, session: t.CheckoutSession, setup_only: bool = False) -> Completion:
        if session.state == t.SESSION_CANCELED:
            return await self._canceled(session)
        if session.state == t.SESSION_OPEN:
            raise AmazonPayError(NOT_FINISHED, "the buyer has not finished the checkout on Amazon Pay", 422, False)
        if setup_only:  # Completed: the saved wallet is its Charge Permission; there is no Charge
            if not session.charge_permission_id:
                raise AmazonPayError("InvalidResponse", "a completed setup-only Checkout Session has no "
                                     "chargePermissionId", 200, False)
            return Completion(AUTHORIZED, charge_permission_id=session.charge_permission_id)
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

    async def capture(self, transaction_id: str, amount: int, currency: str, key: str | None = None) -> None:
        """Capture ``amount`` of an authorized charge. ``key`` (kassa's record of the request) fixes
        Amazon's idempotency key, so sending it again captures once; a charge already captured for
        that amount (the first answer lost) is fine."""
        # The amount is part of the key: Amazon refuses a key reused with another body.
        key = idempotency_key("cp", key or transaction_id, str(amount), currency.lower())
        try:
            charge = await self.client.capture_charge(transaction_id, amount, currency, key)
        except AmazonPayError as error:
            if error.retryable or error.status == 0 or error.reason_code != "InvalidChargeStatus":
                raise
            charge = await self.client.get_charge(transaction_id)
            taken = charge.capture_amount
            if charge.state not in (t.CAPTURE_INITIATED, t.CAPTURED) or taken != t.Price(amount, currency.lower()):
                raise
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

    async def charge_saved(self, request: SavedCharge) -> Completion:
        """An off-session payment under the buyer's Charge Permission (``request.permission_id``);
        ``request.idempotency_key`` (kassa's record of the call) fixes Amazon's key, so sending it
        again charges once."""
        key = idempotency_key("ch", request.idempotency_key, str(request.amount), request.currency.lower())
        try:
            # With no buyer waiting, Amazon decides at once (or declines TransactionTimedOut): no pending state.
            charge = await self.client.create_charge(
                request.permission_id, request.amount, request.currency, request.capture, key,
                can_handle_pending_authorization=False)
        except AmazonPayError as error:
            refused = error.reason_code in DECLINES or error.reason_code in PERMISSION_REFUSALS
            if error.retryable or error.status == 0 or not refused:
                raise
            decline = decline_for(error.reason_code)
            return Completion(DECLINED, charge_permission_id=request.permission_id, reason_code=error.reason_code,
                              decline_code=decline.decline_code, message=decline.message)
        return outcome_of_charge(charge, request.permission_id)

    async def permission_closed(self, charge_permission_id: str) -> bool:
        """Whether Amazon closed (or can no longer charge) a saved Charge Permission."""
        status = await self.client.get_charge_permission(charge_permission_id)
        return status.state in ("Closed", "NonChargeable")

    async def close_permission(self, charge_permission_id: str) -> None:
        """Close a Charge Permission nobody will use (a setup that ended before Amazon's answer was
        applied); one that is closed already is fine."""
        try:
            await self.client.close_charge_permission(charge_permission_id, "Setup ended before it was saved")
        except AmazonPayError as error:
            if error.retryable or error.status == 0:
                raise
            if (await self.client.get_charge_permission(charge_permission_id)).state != "Closed":
                raise

    async def give_back(self, transaction_id: str, key: str) -> None:
        """Return an authorization nobody waits for: release it while uncaptured, refund what was
        captured (``key`` fixes the refund's idempotency key), nothing for one already ended."""
        charge = await self.client.get_charge(transaction_id)
        if charge.state in (t.AUTHORIZED, t.AUTHORIZATION_INITIATED):
            await self.release(transaction_id)
        elif charge.state in (t.CAPTURED, t.CAPTURE_INITIATED) and charge.capture_amount is not None:
            taken = charge.capture_amount
            await self.refund(key, transaction_id, taken.amount, taken.currency)

    async def refund(self, refund_id: str, transaction_id: str, amount: int, currency: str) -> RefundResult:
        """Start a refund (kassa's ``refund_id`` fixes the idempotency key); Amazon settles it later."""
        refund = await self.client.create_refund(transaction_id, amount, currency, idempotency_key("rf", refund_id))
        return RefundResult(refund.id, _REFUND_STATUS[refund.state], refund.status.reason_code)

    async def refund_status(self, refund_id: str, settle_at: int | None = None, now: int = 0) -> str:
        """``pending``, ``succeeded`` or ``failed``; ``refund_id`` is Amazon's (RefundResult.external_id)."""
        refund = await self.client.get_refund(refund_id)
        return _REFUND_STATUS[refund.state]
