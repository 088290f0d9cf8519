"""A local double of Amazon Pay API v2 and its checkout.js, from Amazon's documentation.

It verifies every request's signature (``signing.verify_request``) and its ``x-amz-pay-*`` headers,
keeps Checkout Sessions, Charges and Refunds, replays a POST sent again with the same
``x-amz-pay-idempotency-key`` (and refuses the key with another body: DuplicateIdempotencyKey),
and answers errors as ``{"reasonCode", "message"}``.

A ProcessOrder checkout starts as Amazon documents it: the merchant's page loads ``/checkout.js``
(a stand-in for Amazon's, with ``amazon.Pay.renderButton`` and ``initCheckout``), which hands the
signed Create Checkout Session payload to the double; the double verifies the signature with the
merchant's public key, creates the session and shows its approval page; the buyer approves or
cancels there and goes to ``checkoutResultReturnUrl?amazonCheckoutSessionId=…`` (or
``checkoutCancelUrl``). A server-side Create starts no ProcessOrder checkout: ``checkoutMode`` is an
UnrecognizedField there, and the session it makes has no redirect URL (``BuyerNotAssociated``).
Complete answers 200, or 202 while the authorization is pending; 422 InvalidCheckoutSessionStatus
for a session Completed, Canceled or not finished by the buyer; 409 AmountMismatch.

A saved-wallet setup (``chargePermissionType: PaymentMethodOnFile`` with
``paymentMethodOnFileMetadata.setupOnly`` and ``paymentIntent: Confirm``, Amazon's SetupIntent
flow) carries no amount; its Complete takes none (an empty body, as Amazon's guide shows), creates
no Charge, and keeps a PaymentMethodOnFile Charge Permission that Create Charge then charges. The
double refuses an amount in either, which Amazon documents only as "not required". CHARGE
notifications go out only for asynchronous outcomes; refunds may exceed the charge by Amazon's
documented margin (15%, at most 75 of the currency).

Steer it from Python (``decline``, ``buyer_cancel``, ``settle_charge``, ``settle_refund``,
``close_permission``, ``drop_next``, ``hold_next``, ``authorization = "approve" | "decline" |
"async"``) or over HTTP (``/__double__/…``). It signs SNS notifications with a self-signed
certificate that ``fetch_certificate`` serves for :data:`CERT_URL`. :func:`running` serves it with
uvicorn on 127.0.0.1 in a thread.

Amazon's hosted side (checkout.js, the session it starts, the buyer's page) is in
:mod:`.amazon_pay_checkout`; the request fields and JSON helpers in :mod:`.amazon_pay_wire`.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kassa.methods.amazon_pay import signing

from .amazon_pay_checkout import HostedCheckout
from .amazon_pay_wire import ALLOWED, METADATA_LIMITS, PERMISSION_TYPES, ApiError, _amazon_id, _fields, _price
from .amazon_pay_wire import _same, _setup_only, _stamp, _status

__all__ = ["CERT_URL", "TOPIC_ARN", "AmazonPayDouble", "ApiError", "Hold", "Recorded", "generate_key_pair", "running"]

CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-kassadouble0000000000000000.pem"
TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000:kassa-double-ipn"
MAX_SKEW = timedelta(minutes=15)
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    status: int
    reason_code: str | None
    idempotency_key: str | None
    replayed: bool


def generate_key_pair() -> tuple[str, rsa.RSAPublicKey]:
    """A fresh merchant key pair: the private key as PEM text, the public key object."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode("ascii")
    return pem, key.public_key()


@dataclass
class Hold:
    """A request held by the double: `arrived` is set once it was processed, `release` lets its
    answer go."""

    arrived: threading.Event
    release: threading.Event


class AmazonPayDouble(HostedCheckout):
    """The double's state and behaviour; ``public_keys`` maps public key ids to merchant public keys."""

    def __init__(self, public_keys: Mapping[str, Any], *, region: str = "na", sandbox: bool = True,
                 merchant_id: str = "A1KASSADOUBLE"):
        self.public_keys = dict(public_keys)
        self.region = signing.normalize_region(region)
        self.sandbox = sandbox
        self.merchant_id = merchant_id
        self.authorization = "approve"  # what the buyer's approval leads to: approve, decline, async
        self.decline_reason = "HardDeclined"
        self.base_url = "http://double.invalid"
        self.sessions: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self.notifications: list[str] = []  # signed SNS bodies, one per asynchronous change
        self.checkouts: list[str] = []  # sessions created by checkout.js from a signed button payload
        self.permissions: dict[str, dict[str, Any]] = {}  # Recurring and PaymentMethodOnFile permissions, by id
        self.saved_charges = "approve"  # what Create Charge answers: approve, or a reason code (SoftDeclined, …)
        self._buyer: dict[str, str] = {}  # checkoutSessionId → the buyer's answer
        self._intent_of_charge: dict[str, str] = {}
        self._saved: dict[str, tuple[tuple[str, str, bytes], int, Any]] = {}
        self._drops: list[tuple[str, str, bool]] = []
        self._holds: list[tuple[str, str, Hold]] = []
        self._lock = threading.RLock()
        self._sns_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.certificate_pem = _self_signed(self._sns_key)
        self.app = Starlette(routes=[
            Route("/checkout.js", self._script, methods=["GET"]),
            Route("/checkout/start", self._start, methods=["GET"]),
            Route("/checkout", self._page, methods=["GET"]),
            Route("/checkout/{answer:str}", self._answer, methods=["POST"]),
            Route("/__double__/settings", self._control_settings, methods=["POST"]),
            Route("/__double__/{kind:str}/{object_id:str}/settle", self._control_settle, methods=["POST"]),
            Route("/__double__/drop", self._control_drop, methods=["POST"]),
            Route("/{path:path}", self._api, methods=["GET", "POST", "DELETE", "PATCH"]),
        ])

    # ---- serving, and dropping a connection --------------------------------------------------

    async def asgi(self, scope: dict, receive: Any, send: Any) -> None:
        hold = self._take(self._holds, scope["method"], scope["path"]) if scope["type"] == "http" else None
        if hold is not None:  # processed now, answered once the test releases it
            answer: list[dict] = []

            async def keep(message: dict) -> None:
                answer.append(message)

            await self.app(scope, receive, keep)
            hold.arrived.set()
            if not await asyncio.to_thread(hold.release.wait, 30):
                raise RuntimeError("a held request was never released")
            for message in answer:
                await send(message)
            return
        drop = self._take(self._drops, scope["method"], scope["path"]) if scope["type"] == "http" else None
        if drop is None:
            return await self.app(scope, receive, send)
        if drop:  # processed, but the answer is lost on the way back

            async def swallow(message: dict) -> None:
                return None

            await self.app(scope, receive, swallow)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})
        # returning now, without the body, makes the server close the connection mid-response

    def drop_next(self, method: str, path_suffix: str, *, after: bool = True) -> None:
        """Lose the connection of the next matching request, after processing it (or before)."""
        with self._lock:
            self._drops.append((method.upper(), path_suffix, after))

    def hold_next(self, method: str, path_suffix: str) -> Hold:
        """Process the next matching request at once but hold its answer until `release` is set:
        the test acts while the caller still waits for Amazon."""
        hold = Hold(threading.Event(), threading.Event())
        with self._lock:
            self._holds.append((method.upper(), path_suffix, hold))
        return hold

    def _take(self, waiting: list[tuple[str, str, Any]], method: str, path: str) -> Any:
        """What waits in `waiting` for the first (method, path suffix) matching this request,
        taken out; None if nothing does."""
        with self._lock:
            for index, (wanted_method, suffix, what) in enumerate(waiting):
                if wanted_method == method and path.endswith(suffix):
                    del waiting[index]
                    return what
        return None

    # ---- the API --------------------------------------------------------------------------

    async def _api(self, request: Request) -> JSONResponse:
        body = await request.body()
        key = request.headers.get("x-amz-pay-idempotency-key")
        replayed = False
        try:
            key_id = self._authenticate(request, body)
            handler, ids, needs_key = self._route(request, key_id)
            data = None
            if request.method != "GET":
                try:
                    data = json.loads(body or b"{}")
                except ValueError:
                    raise ApiError(400, "InvalidRequestFormat", "The request body is not valid JSON.") from None
            if key is not None and not _KEY.match(key):
                raise ApiError(400, "InvalidHeaderValue", "x-amz-pay-idempotency-key is invalid.")
            if needs_key and key is None:
                raise ApiError(400, "MissingHeader", "x-amz-pay-idempotency-key is missing.")
            with self._lock:
                fingerprint = (request.method, request.url.path, body)
                if key is not None and request.method == "POST" and key in self._saved:
                    saved_for, status, payload = self._saved[key]
                    if saved_for != fingerprint:
                        raise ApiError(400, "DuplicateIdempotencyKey", "The idempotency key was already used "
                                       "in a different request.")
                    replayed = True
                else:
                    status, payload = handler(*ids, data)
                    if key is not None and request.method == "POST":
                        self._saved[key] = (fingerprint, status, copy.deepcopy(payload))
            payload = copy.deepcopy(payload)
        except ApiError as error:
            status, payload = error.status, {"reasonCode": error.reason_code, "message": error.message}
        self.requests.append(Recorded(request.method, request.url.path, status, payload.get("reasonCode")
                                      if status >= 400 else None, key, replayed))
        return JSONResponse(payload, status_code=status)

    def _authenticate(self, request: Request, body: bytes) -> str:
        headers = {name.lower(): value for name, value in request.headers.items()}
        if "authorization" not in headers:
            raise ApiError(400, "MissingHeader", "The authorization header is missing.")
        auth = signing.parse_authorization(headers["authorization"])
        if auth is None:
            raise ApiError(400, "InvalidHeaderValue", "The authorization header is invalid.")
        if auth.public_key_id not in self.public_keys:
            raise ApiError(401, "UnauthorizedAccess", "The public key id is not known.")
        for name in ("x-amz-pay-date", "x-amz-pay-host", "x-amz-pay-region"):
            if name not in auth.signed_headers:
                raise ApiError(400, "MissingHeader", f"{name} must be present and signed.")
        if "x-amz-pay-idempotency-key" in headers and "x-amz-pay-idempotency-key" not in auth.signed_headers:
            raise ApiError(403, "InvalidRequestSignature", "x-amz-pay-idempotency-key must be signed.")
        if headers["x-amz-pay-host"] != signing.HOSTS[self.region]:
            raise ApiError(400, "InvalidHeaderValue", "x-amz-pay-host does not name this region's host.")
        try:
            region_ok = signing.normalize_region(headers["x-amz-pay-region"]) == self.region
            sent = datetime.strptime(headers["x-amz-pay-date"], signing.DATE_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            raise ApiError(400, "InvalidHeaderValue", "x-amz-pay-region or x-amz-pay-date is invalid.") from None
        if not region_ok or abs(datetime.now(timezone.utc) - sent) > MAX_SKEW:
            raise ApiError(400, "InvalidHeaderValue", "x-amz-pay-region is wrong or the request has expired.")
        url = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.url.query:
            url += "?" + request.url.query
        if not signing.verify_request(self.public_keys, request.method, url, headers, body):
            raise ApiError(403, "InvalidRequestSignature", "The request signature does not match.")
        return auth.public_key_id

    def _route(self, request: Request, key_id: str) -> tuple[Any, tuple[str, ...], bool]:
        parts = [part for part in request.url.path.split("/") if part]
        environment = "sandbox" if self.sandbox else "live"
        upper = key_id.upper()  # Amazon's SDKs: any key id starting with SANDBOX or LIVE, in any case
        named = "sandbox" if upper.startswith("SANDBOX") else "live" if upper.startswith("LIVE") else None
        if named is None:  # a key without an environment prefix: the path names the environment
            if parts[:1] != [environment]:
                raise ApiError(404, "ResourceNotFound", f"No such resource (expected /{environment}/v2/...).")
            parts = parts[1:]
        elif named != environment:
            raise ApiError(401, "UnauthorizedAccess", "The public key belongs to the other environment.")
        if parts[:1] != ["v2"]:
            raise ApiError(404, "ResourceNotFound", "No such resource.")
        method, rest = request.method, parts[1:]
        routes = {
            ("POST", 1, "checkoutSessions"): (self._create_session, True),
            ("GET", 2, "checkoutSessions"): (self._get_session, False),
            ("POST", 3, "checkoutSessions", "complete"): (self._complete, False),
            ("GET", 2, "charges"): (self._get_charge, False),
            ("POST", 3, "charges", "capture"): (self._capture, True),
            ("DELETE", 3, "charges", "cancel"): (self._cancel, False),
            ("POST", 1, "refunds"): (self._create_refund, True),
            ("POST", 1, "charges"): (self._create_charge, True),
            ("GET", 2, "chargePermissions"): (self._get_permission, False),
            ("DELETE", 3, "chargePermissions", "close"): (self._close_permission, False),
            ("GET", 2, "refunds"): (self._get_refund, False),
        }
        shape = (method, len(rest), *rest[:1], *rest[2:3])
        if shape not in routes:
            raise ApiError(404 if method in ("GET", "POST", "DELETE") else 405, "ResourceNotFound", "No such resource.")
        handler, needs_key = routes[shape]
        return handler, tuple(rest[1:2]), needs_key

    def _object(self, table: dict[str, dict[str, Any]], object_id: str, what: str) -> dict[str, Any]:
        if object_id not in table:
            raise ApiError(404, "ResourceNotFound", f"{what} {object_id} does not exist.")
        return table[object_id]

    def _create_session(self, data: Any) -> tuple[int, dict[str, Any]]:
        """A server-side Create: it starts no ProcessOrder checkout (``checkoutMode`` is refused
        here), and its session waits for a buyer the button must bring (no redirect URL)."""
        _fields(data, ALLOWED["create"], "")
        web = _fields(data.get("webCheckoutDetails", {}), ALLOWED["webCheckoutDetails"] - {"checkoutMode"},
                      "webCheckoutDetails.")
        session = self._new_session(data, web, mode=None)
        session["constraints"] = [{"constraintId": "BuyerNotAssociated", "description": "There is no buyer "
                                   "associated with the Checkout Session. Return the checkout session id to the "
                                   "Amazon Pay Button to allow buyer to login."}]
        return 201, session

    def _new_session(self, data: dict[str, Any], web: dict[str, Any], mode: str | None) -> dict[str, Any]:
        payment = _fields(data.get("paymentDetails", {}), ALLOWED["paymentDetails"], "paymentDetails.")
        metadata = _fields(data.get("merchantMetadata", {}), ALLOWED["merchantMetadata"], "merchantMetadata.")
        if not isinstance(data.get("storeId"), str) or not data["storeId"]:
            raise ApiError(400, "MissingParameterValue", "storeId is required.")
        for name in ("checkoutResultReturnUrl", "checkoutCancelUrl", "checkoutReviewReturnUrl"):
            url = web.get(name)
            if url is not None and (not isinstance(url, str) or urlsplit(url).scheme != "https"):
                raise ApiError(400, "InvalidParameterValue", f"The value provided for {name} is invalid: "
                               "it must be an https URL.")
        on_file = _fields(data.get("paymentMethodOnFileMetadata", {}), ALLOWED["paymentMethodOnFileMetadata"],
                          "paymentMethodOnFileMetadata.")
        permission_type = data.get("chargePermissionType") or "OneTime"
        if permission_type not in PERMISSION_TYPES:
            raise ApiError(400, "InvalidParameterValue", "The value provided for chargePermissionType is invalid.")
        if not isinstance(on_file.get("setupOnly", False), bool):
            raise ApiError(400, "InvalidParameterValue", "paymentMethodOnFileMetadata.setupOnly must be a boolean.")
        if on_file and permission_type != "PaymentMethodOnFile":
            raise ApiError(400, "InvalidParameterValue", "paymentMethodOnFileMetadata needs chargePermissionType "
                           "PaymentMethodOnFile.")
        setup_only = on_file.get("setupOnly") is True
        if setup_only:  # Amazon's SetupIntent flow: paymentIntent Confirm, nothing to charge now
            if payment.get("paymentIntent") != "Confirm":
                raise ApiError(400, "InvalidParameterValue", "A setupOnly checkout takes paymentIntent Confirm.")
            if payment.get("chargeAmount") is not None or data.get("addressDetails"):
                raise ApiError(400, "InvalidParameterValue", "A setupOnly checkout charges nothing: no chargeAmount "
                               "(nor addressDetails) here.")
        if mode == "ProcessOrder":
            if not web.get("checkoutResultReturnUrl"):
                raise ApiError(400, "MissingParameterValue", "checkoutResultReturnUrl is required for ProcessOrder.")
            allowed = ("Confirm",) if setup_only else ("Authorize", "AuthorizeWithCapture")
            if payment.get("paymentIntent") not in allowed:
                raise ApiError(400, "InvalidParameterValue", "The value provided for paymentIntent is invalid.")
        if not isinstance(payment.get("canHandlePendingAuthorization", False), bool):
            raise ApiError(400, "InvalidParameterValue", "canHandlePendingAuthorization must be a boolean.")
        price = _price(payment.get("chargeAmount"), "paymentDetails.chargeAmount") if mode and not setup_only else \
            (payment.get("chargeAmount") and _price(payment["chargeAmount"], "paymentDetails.chargeAmount"))
        if price and payment.get("presentmentCurrency", price["currencyCode"]) != price["currencyCode"]:
            raise ApiError(400, "CurrencyMismatch", "presentmentCurrency does not match chargeAmount.")
        for name, limit in METADATA_LIMITS.items():
            if name in metadata and (not isinstance(metadata[name], str) or len(metadata[name]) > limit):
                raise ApiError(400, "InvalidParameterValue", f"The value provided for {name} is invalid.")
        session_id = str(uuid.uuid4())
        now = datetime.now(timezone.utc)
        session = {
            "checkoutSessionId": session_id,
            "webCheckoutDetails": {"checkoutReviewReturnUrl": web.get("checkoutReviewReturnUrl"),
                                   "checkoutResultReturnUrl": web.get("checkoutResultReturnUrl"),
                                   "checkoutCancelUrl": web.get("checkoutCancelUrl"),
                                   "checkoutMode": mode, "amazonPayRedirectUrl": None},
            "paymentDetails": {"paymentIntent": payment.get("paymentIntent"), "chargeAmount": price or None,
                               "canHandlePendingAuthorization": payment.get("canHandlePendingAuthorization", False),
                               "presentmentCurrency": price["currencyCode"] if price else None,
                               "totalOrderAmount": None, "softDescriptor": None},
            "merchantMetadata": {name: metadata.get(name) for name in METADATA_LIMITS},
            "buyer": None, "shippingAddress": data.get("addressDetails"), "billingAddress": None,
            "chargePermissionId": None, "chargeId": None, "constraints": [],
            "chargePermissionType": permission_type,
            "recurringMetadata": data.get("recurringMetadata"),
            "paymentMethodOnFileMetadata": {"setupOnly": setup_only} if on_file else None,
            "statusDetails": _status("Open"), "creationTimestamp": _stamp(now),
            "expirationTimestamp": _stamp(now + timedelta(hours=24)), "storeId": data["storeId"],
            "releaseEnvironment": "Sandbox" if self.sandbox else "Live",
            "providerMetadata": {"providerReferenceId": None},
        }
        self.sessions[session_id] = session
        return session

    def _get_session(self, session_id: str, _: Any) -> tuple[int, dict[str, Any]]:
        return 200, self._object(self.sessions, session_id, "Checkout Session")

    def _complete(self, session_id: str, data: Any) -> tuple[int, dict[str, Any]]:
        """Finalize what the buyer approved: 200 with the Charge, 202 while its authorization is
        pending, 422 InvalidCheckoutSessionStatus once Completed or Canceled (or before the buyer
        finished), 409 AmountMismatch for another amount."""
        data = _fields(data, ALLOWED["complete"], "")
        session = self._object(self.sessions, session_id, "Checkout Session")
        setup_only = _setup_only(session)
        if setup_only and (data.get("chargeAmount") is not None or data.get("totalOrderAmount") is not None):
            raise ApiError(400, "InvalidParameterValue", "A setupOnly Checkout Session has no amount to complete.")
        price = None if setup_only else _price(data.get("chargeAmount"), "chargeAmount")
        state = session["statusDetails"]["state"]
        if state in ("Completed", "Canceled"):
            raise ApiError(422, "InvalidCheckoutSessionStatus", "You tried to call an operation on a Checkout "
                           f"Session that is in a state where that operation is not allowed ({state}).")
        answer = self._buyer.get(session_id)
        if answer is None:
            raise ApiError(422, "InvalidCheckoutSessionStatus", "You tried to call an operation on a Checkout "
                           "Session that is in a state where that operation is not allowed (the buyer has not "
                           "finished checkout).")
        if setup_only:  # the saved wallet: a Charge Permission, no Charge
            permission = self._new_permission(session, _amazon_id())
            session.update(chargePermissionId=permission["chargePermissionId"], statusDetails=_status("Completed"))
            return 200, session
        if not _same(price, session["paymentDetails"]["chargeAmount"]):
            raise ApiError(409, "AmountMismatch", "The chargeAmount does not match the Checkout Session's.")
        pending = answer == "async" and session["paymentDetails"]["canHandlePendingAuthorization"]
        if answer == "async" and not pending:  # Amazon cannot wait: the authorization times out
            charge = self._new_charge(session, _status("Declined", "TransactionTimedOut"))
            session.update(chargeId=charge["chargeId"], statusDetails=_status("Canceled", "Declined"))
            raise ApiError(422, "InvalidCheckoutSessionStatus", "The Checkout Session was canceled: Declined.")
        if pending:
            charge = self._new_charge(session, _status("AuthorizationInitiated"))
        elif session["paymentDetails"]["paymentIntent"] == "AuthorizeWithCapture":
            charge = self._new_charge(session, _status("Captured"))
        else:
            charge = self._new_charge(session, _status("Authorized"))
        session.update(chargeId=charge["chargeId"], chargePermissionId=charge["chargePermissionId"],
                       statusDetails=_status("Completed"))
        return (202 if pending else 200), session

    def _new_charge(self, session: dict[str, Any], status: dict[str, Any], price: dict[str, str] | None = None,
                    permission: str | None = None) -> dict[str, Any]:
        price = price or session["paymentDetails"]["chargeAmount"]
        now = datetime.now(timezone.utc)
        permission = permission or session.get("chargePermissionId") or _amazon_id()
        if session.get("chargePermissionType") == "Recurring":
            self._new_permission(session, permission)
        charge = {"chargeId": f"{permission}-C{str(uuid.uuid4().int)[:6]}", "chargePermissionId": permission,
                  "chargeAmount": price, "captureAmount": price if status["state"] == "Captured" else None,
                  "refundedAmount": None, "convertedAmount": None, "conversionRate": None, "softDescriptor": None,
                  "merchantMetadata": session["merchantMetadata"], "providerMetadata": {"providerReferenceId": None},
                  "statusDetails": status, "creationTimestamp": _stamp(now),
                  "expirationTimestamp": _stamp(now + timedelta(days=30)),
                  "releaseEnvironment": session["releaseEnvironment"]}
        self.charges[charge["chargeId"]] = charge
        self._intent_of_charge[charge["chargeId"]] = session["paymentDetails"]["paymentIntent"]
        return charge

    def _new_permission(self, session: dict[str, Any], permission_id: str) -> dict[str, Any]:
        """The Charge Permission a Recurring or PaymentMethodOnFile checkout leaves (kept once):
        Chargeable until the buyer or Amazon closes it (a saved wallet never expires)."""
        if permission_id not in self.permissions:
            now = datetime.now(timezone.utc)
            kind = session.get("chargePermissionType")
            self.permissions[permission_id] = {
                "chargePermissionId": permission_id, "chargePermissionType": kind,
                "recurringMetadata": session.get("recurringMetadata"),
                "paymentMethodOnFileMetadata": session.get("paymentMethodOnFileMetadata"),
                "merchantMetadata": session["merchantMetadata"], "statusDetails": _status("Chargeable"),
                "creationTimestamp": _stamp(now),
                "expirationTimestamp": None if kind == "PaymentMethodOnFile" else _stamp(now + timedelta(days=365)),
                "releaseEnvironment": session["releaseEnvironment"]}
        return self.permissions[permission_id]

    def _create_charge(self, data: Any) -> tuple[int, dict[str, Any]]:
        """Charge a Recurring or PaymentMethodOnFile Charge Permission with no buyer present (201), or
        refuse: the permission not Chargeable (422 InvalidChargePermissionStatus), a decline the test
        asked for."""
        _fields(data, ALLOWED["charge"], "")
        permission = self._object(self.permissions, str(data.get("chargePermissionId")), "Charge Permission")
        price = _price(data.get("chargeAmount"), "chargeAmount")
        if not isinstance(data.get("captureNow", False), bool):
            raise ApiError(400, "InvalidParameterValue", "captureNow must be a boolean.")
        if permission["statusDetails"]["state"] != "Chargeable":
            raise ApiError(422, "InvalidChargePermissionStatus", "The Charge Permission is in "
                           f"{permission['statusDetails']['state']} state.")
        if self.saved_charges != "approve":
            raise ApiError(422, self.saved_charges, "The charge was declined.")
        session = {"paymentDetails": {"paymentIntent": "AuthorizeWithCapture" if data.get("captureNow") else
                                      "Authorize", "chargeAmount": price},
                   "merchantMetadata": permission["merchantMetadata"], "releaseEnvironment": permission[
                       "releaseEnvironment"], "chargePermissionType": permission["chargePermissionType"]}
        charge = self._new_charge(session, _status("Captured" if data.get("captureNow") else "Authorized"), price,
                                  permission["chargePermissionId"])
        return 201, charge

    def _get_permission(self, permission_id: str, _: Any) -> tuple[int, dict[str, Any]]:
        return 200, self._object(self.permissions, permission_id, "Charge Permission")

    def _close_permission(self, permission_id: str, data: Any) -> tuple[int, dict[str, Any]]:
        """The merchant closes a Charge Permission (Close Charge Permission): closed for good; one
        closed already answers 422 InvalidChargePermissionStatus."""
        reason = _fields(data, ALLOWED["close"], "").get("closureReason")
        permission = self._object(self.permissions, permission_id, "Charge Permission")
        if permission["statusDetails"]["state"] == "Closed":
            raise ApiError(422, "InvalidChargePermissionStatus", "The Charge Permission is in Closed state.")
        permission["statusDetails"] = _status("Closed", "MerchantClosed", reason)
        return 200, permission

    def close_permission(self, permission_id: str, reason: str = "BuyerCanceled") -> None:
        """The buyer (or Amazon) closes a Charge Permission: a CHARGE_PERMISSION notification goes out."""
        with self._lock:
            self.permissions[permission_id]["statusDetails"] = _status("Closed", reason)
            self.notifications.append(self.notification("CHARGE_PERMISSION", permission_id, permission_id))

    def _get_charge(self, charge_id: str, _: Any) -> tuple[int, dict[str, Any]]:
        return 200, self._object(self.charges, charge_id, "Charge")

    def _capture(self, charge_id: str, data: Any) -> tuple[int, dict[str, Any]]:
        price = _price(_fields(data, ALLOWED["capture"], "").get("captureAmount"), "captureAmount")
        charge = self._object(self.charges, charge_id, "Charge")
        if charge["statusDetails"]["state"] != "Authorized":
            raise ApiError(422, "InvalidChargeStatus", f"The Charge is in {charge['statusDetails']['state']} state.")
        if price["currencyCode"] != charge["chargeAmount"]["currencyCode"]:
            raise ApiError(400, "CurrencyMismatch", "captureAmount is not in the Charge's currency.")
        if Decimal(price["amount"]) > Decimal(charge["chargeAmount"]["amount"]):
            raise ApiError(400, "TransactionAmountExceeded", "captureAmount exceeds the authorized amount.")
        charge.update(captureAmount=price, statusDetails=_status("Captured"))
        return 200, charge

    def _cancel(self, charge_id: str, data: Any) -> tuple[int, dict[str, Any]]:
        reason = _fields(data, ALLOWED["cancel"], "").get("cancellationReason")
        charge = self._object(self.charges, charge_id, "Charge")
        if charge["statusDetails"]["state"] not in ("Authorized", "AuthorizationInitiated"):
            raise ApiError(422, "InvalidChargeStatus", f"The Charge is in {charge['statusDetails']['state']} state.")
        charge["statusDetails"] = _status("Canceled", "MerchantCanceled", reason)
        return 200, charge

    def _create_refund(self, data: Any) -> tuple[int, dict[str, Any]]:
        _fields(data, ALLOWED["refund"], "")
        price = _price(data.get("refundAmount"), "refundAmount")
        charge = self._object(self.charges, str(data.get("chargeId")), "Charge")
        if charge["statusDetails"]["state"] != "Captured":
            raise ApiError(422, "InvalidChargeStatus", f"The Charge is in {charge['statusDetails']['state']} state.")
        if price["currencyCode"] != charge["captureAmount"]["currencyCode"]:
            raise ApiError(400, "CurrencyMismatch", "refundAmount is not in the Charge's currency.")
        taken = sum(Decimal(r["refundAmount"]["amount"]) for r in self.refunds.values()
                    if r["chargeId"] == charge["chargeId"] and r["statusDetails"]["state"] != "Declined")
        captured = Decimal(charge["captureAmount"]["amount"])
        margin = min(captured * Decimal("0.15"), Decimal(75))  # Amazon's documented allowance over the charge
        if taken + Decimal(price["amount"]) > captured + margin:
            raise ApiError(400, "TransactionAmountExceeded", "The refunds would exceed the captured amount.")
        refund = {"refundId": f"{charge['chargePermissionId']}-R{str(uuid.uuid4().int)[:6]}",
                  "chargeId": charge["chargeId"], "refundAmount": price, "softDescriptor": None,
                  "creationTimestamp": _stamp(), "statusDetails": _status("RefundInitiated"),
                  "releaseEnvironment": charge["releaseEnvironment"]}
        self.refunds[refund["refundId"]] = refund
        return 201, refund

    def _get_refund(self, refund_id: str, _: Any) -> tuple[int, dict[str, Any]]:
        return 200, self._object(self.refunds, refund_id, "Refund")

    # ---- Amazon's own later decisions ------------------------------------------------------------

    def settle_charge(self, charge_id: str, state: str = "Authorized", reason: str | None = None) -> None:
        """An AuthorizationInitiated charge ends: Authorized (captured for AuthorizeWithCapture) or Declined."""
        with self._lock:
            charge = self.charges[charge_id]
            if charge["statusDetails"]["state"] != "AuthorizationInitiated":
                raise ValueError(f"charge {charge_id} is not pending")
            if state == "Authorized" and self._intent_of_charge[charge_id] == "AuthorizeWithCapture":
                state = "Captured"
                charge["captureAmount"] = charge["chargeAmount"]
            charge["statusDetails"] = _status(state, reason)
            self.notifications.append(self.notification("CHARGE", charge_id, charge["chargePermissionId"]))

    def settle_refund(self, refund_id: str, state: str = "Refunded", reason: str | None = None) -> None:
        with self._lock:
            refund = self.refunds[refund_id]
            refund["statusDetails"] = _status(state, reason)
            charge = self.charges[refund["chargeId"]]
            if state == "Refunded":
                before = Decimal((charge["refundedAmount"] or {"amount": "0"})["amount"])
                total = before + Decimal(refund["refundAmount"]["amount"])
                currency = refund["refundAmount"]["currencyCode"]
                charge["refundedAmount"] = {"amount": str(total), "currencyCode": currency}
            self.notifications.append(self.notification("REFUND", refund_id, charge["chargePermissionId"]))

    async def _control_settings(self, request: Request) -> JSONResponse:
        data = await request.json()
        self.authorization = data.get("authorization", self.authorization)
        self.decline_reason = data.get("decline_reason", self.decline_reason)
        return JSONResponse({"authorization": self.authorization, "decline_reason": self.decline_reason})

    async def _control_settle(self, request: Request) -> JSONResponse:
        data = await request.json()
        kind, object_id = request.path_params["kind"], request.path_params["object_id"]
        settle = {"charges": self.settle_charge, "refunds": self.settle_refund}.get(kind)
        if settle is None:
            return JSONResponse({"error": "charges or refunds"}, status_code=404)
        settle(object_id, data["state"], data.get("reasonCode"))
        return JSONResponse({"ok": True})

    async def _control_drop(self, request: Request) -> JSONResponse:
        data = await request.json()
        self.drop_next(data["method"], data["path"], after=data.get("when", "after") == "after")
        return JSONResponse({"ok": True})

    # ---- SNS notifications -----------------------------------------------------------------

    def notification(self, object_type: str, object_id: str, charge_permission_id: str | None = None, *,
                     signature_version: str = "2", subject: str | None = None, cert_url: str = CERT_URL) -> str:
        """A signed SNS body carrying an Amazon Pay IPN for that object."""
        message = {"MerchantID": self.merchant_id, "ObjectType": object_type, "ObjectId": object_id,
                   "ChargePermissionId": charge_permission_id, "NotificationType": "STATE_CHANGE",
                   "NotificationId": str(uuid.uuid4()), "NotificationVersion": "V2"}
        envelope = {"Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": TOPIC_ARN,
                    "Message": json.dumps(message), "Timestamp": datetime.now(timezone.utc).isoformat(
                        timespec="milliseconds").replace("+00:00", "Z"),
                    "SignatureVersion": signature_version, "SigningCertURL": cert_url,
                    "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
                                      + TOPIC_ARN}
        if subject is not None:
            envelope["Subject"] = subject
        envelope["Signature"] = self.sign_sns(envelope)
        return json.dumps(envelope)

    def sign_sns(self, envelope: Mapping[str, Any]) -> str:
        """SNS's signature: SHA1withRSA (version 1) or SHA256withRSA over ``name\\nvalue\\n`` lines."""
        names = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
        text = "".join(f"{name}\n{envelope[name]}\n" for name in names if name in envelope)
        digest = hashes.SHA1() if envelope["SignatureVersion"] == "1" else hashes.SHA256()
        return base64.b64encode(self._sns_key.sign(text.encode("utf-8"), padding.PKCS1v15(), digest)).decode()

    async def fetch_certificate(self, url: str) -> bytes:
        """Stands in for an HTTPS GET of the certificate: only :data:`CERT_URL` is served."""
        if url != CERT_URL:
            raise AssertionError(f"the verifier fetched an unexpected certificate URL: {url}")
        return self.certificate_pem


def _self_signed(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM)


@contextmanager
def running(double: AmazonPayDouble) -> Iterator[AmazonPayDouble]:
    """Serve the double on 127.0.0.1 (a free port) in a thread; ``double.base_url`` says where."""
    config = uvicorn.Config(double.asgi, host="127.0.0.1", port=0, log_level="critical", lifespan="off",
                            http="h11", loop="asyncio", interface="asgi3", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="amazon-pay-double", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the Amazon Pay double did not start")
        time.sleep(0.01)
    double.base_url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    try:
        yield double
    finally:
        server.should_exit = True
        thread.join(10)
