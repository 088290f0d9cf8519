"""Typed views of the Amazon Pay API v2 objects kassa reads, and the parsers that make them.

Written from Amazon's API reference (Checkout Session, Charge, Refund objects; "Manage errors").
Parsers ignore fields they do not know and refuse a missing or malformed required one with an
:class:`AmazonPayFormatError` naming it. Amounts cross the boundary here, once: Amazon's ``price``
(``{"amount": "10.99", "currencyCode": "USD"}``) becomes kassa's integer minor units and a
lowercase currency, using :func:`kassa.domain.money.decimals`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from ...domain.money import decimals

# Checkout Session states.
SESSION_OPEN, SESSION_COMPLETED, SESSION_CANCELED = "Open", "Completed", "Canceled"
SESSION_STATES = frozenset({SESSION_OPEN, SESSION_COMPLETED, SESSION_CANCELED})

# Charge states.
AUTHORIZATION_INITIATED = "AuthorizationInitiated"
AUTHORIZED = "Authorized"
CAPTURE_INITIATED = "CaptureInitiated"
CAPTURED = "Captured"
CHARGE_CANCELED = "Canceled"
CHARGE_DECLINED = "Declined"
CHARGE_STATES = frozenset({AUTHORIZATION_INITIATED, AUTHORIZED, CAPTURE_INITIATED, CAPTURED, CHARGE_CANCELED,
                           CHARGE_DECLINED})

# Refund states.
REFUND_INITIATED, REFUNDED, REFUND_DECLINED = "RefundInitiated", "Refunded", "Declined"
REFUND_STATES = frozenset({REFUND_INITIATED, REFUNDED, REFUND_DECLINED})

# paymentDetails.paymentIntent values kassa uses (Confirm: a Charge Permission only, no Charge).
AUTHORIZE_WITH_CAPTURE, AUTHORIZE, CONFIRM = "AuthorizeWithCapture", "Authorize", "Confirm"

# chargePermissionType values kassa asks for (OneTime is Amazon's default).
RECURRING, PAYMENT_METHOD_ON_FILE = "Recurring", "PaymentMethodOnFile"

_AMOUNT = re.compile(r"^(?P<whole>\d+)(?:\.(?P<fraction>\d+))?$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


class AmazonPayFormatError(ValueError):
    """Amazon answered with JSON kassa cannot read: a required field is missing or malformed."""


# --------------------------------------------------------------------------- amounts


@dataclass(frozen=True, slots=True)
class Price:
    """An amount in kassa's terms: integer minor units and a lowercase ISO currency."""

    amount: int
    currency: str


def to_amazon_price(amount: int, currency: str) -> dict[str, str]:
    """kassa's ``(1099, "usd")`` as Amazon's ``{"amount": "10.99", "currencyCode": "USD"}``."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"an amount must be a non-negative integer of minor units, not {amount!r}")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise ValueError(f"a currency must be a three-letter code, not {currency!r}")
    digits = decimals(currency.lower())
    text = str(amount) if digits == 0 else f"{amount // 10 ** digits}.{amount % 10 ** digits:0{digits}d}"
    return {"amount": text, "currencyCode": currency.upper()}


def parse_price(data: Any, field: str) -> Price:
    """Amazon's ``price`` object as a :class:`Price`; more decimals than the currency has is an error
    (``"10.990"`` is fine in USD, ``"10.999"`` is not)."""
    if not isinstance(data, Mapping):
        raise AmazonPayFormatError(f"{field} must be a price object, got {type(data).__name__}")
    code = data.get("currencyCode")
    if not isinstance(code, str) or not _CURRENCY.match(code):
        raise AmazonPayFormatError(f"{field}.currencyCode must be a three-letter code, got {code!r}")
    currency = code.lower()
    raw = data.get("amount")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = str(raw)  # tolerated: a number where the documentation says string
    match = _AMOUNT.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise AmazonPayFormatError(f"{field}.amount must be a decimal string such as \"10.99\", got {raw!r}")
    digits = decimals(currency)
    value = Decimal(raw).scaleb(digits)
    if value != value.to_integral_value():
        raise AmazonPayFormatError(f"{field}.amount {raw!r} has more decimals than {code} allows ({digits})")
    return Price(int(value), currency)


# --------------------------------------------------------------------------- helpers


def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise AmazonPayFormatError(f"a {what} must be a JSON object, got {type(data).__name__}")
    return data


def _string(data: Mapping[str, Any], field: str, *, required: bool = True, prefix: str = "") -> str | None:
    value = data.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise AmazonPayFormatError(f"{prefix}{field} must be a non-empty string, got {value!r}")
    return value


def _optional_price(data: Mapping[str, Any], field: str) -> Price | None:
    return None if data.get(field) is None else parse_price(data[field], field)


@dataclass(frozen=True, slots=True)
class Status:
    """``statusDetails``: a state, and why it is so when Amazon says."""

    state: str
    reason_code: str | None = None
    reason_description: str | None = None


def _status(data: Mapping[str, Any], states: frozenset[str], what: str) -> Status:
    details = data.get("statusDetails")
    if not isinstance(details, Mapping):
        raise AmazonPayFormatError(f"a {what} needs statusDetails, got {details!r}")
    state = _string(details, "state", prefix="statusDetails.")
    if state not in states:
        raise AmazonPayFormatError(f"unknown {what} state {state!r}: expected one of {', '.join(sorted(states))}")
    return Status(state, _string(details, "reasonCode", required=False, prefix="statusDetails."),
                  _string(details, "reasonDescription", required=False, prefix="statusDetails."))


# --------------------------------------------------------------------------- objects


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    status: Status
    redirect_url: str | None  # webCheckoutDetails.amazonPayRedirectUrl
    charge_id: str | None
    charge_permission_id: str | None
    charge_amount: Price | None  # paymentDetails.chargeAmount
    payment_intent: str | None  # paymentDetails.paymentIntent
    merchant_reference_id: str | None = None  # merchantMetadata.merchantReferenceId: kassa's intent id
    result_return_url: str | None = None  # webCheckoutDetails.checkoutResultReturnUrl

    @property
    def state(self) -> str:
        return self.status.state


@dataclass(frozen=True, slots=True)
class Charge:
    id: str
    status: Status
    charge_amount: Price
    capture_amount: Price | None
    refunded_amount: Price | None
    charge_permission_id: str | None
    merchant_reference_id: str | None = None  # merchantMetadata.merchantReferenceId: kassa's intent id

    @property
    def state(self) -> str:
        return self.status.state


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    charge_id: str
    status: Status
    refund_amount: Price

    @property
    def state(self) -> str:
        return self.status.state


def parse_checkout_session(data: Any) -> CheckoutSession:
    body = _object(data, "Checkout Session")
    web = body.get("webCheckoutDetails") or {}
    payment = body.get("paymentDetails") or {}
    if not isinstance(web, Mapping) or not isinstance(payment, Mapping):
        raise AmazonPayFormatError("webCheckoutDetails and paymentDetails must be objects")
    return CheckoutSession(
        id=_string(body, "checkoutSessionId"),
        status=_status(body, SESSION_STATES, "Checkout Session"),
        redirect_url=_string(web, "amazonPayRedirectUrl", required=False, prefix="webCheckoutDetails."),
        charge_id=_string(body, "chargeId", required=False),
        charge_permission_id=_string(body, "chargePermissionId", required=False),
        charge_amount=None if payment.get("chargeAmount") is None
        else parse_price(payment["chargeAmount"], "paymentDetails.chargeAmount"),
        payment_intent=_string(payment, "paymentIntent", required=False, prefix="paymentDetails."),
        merchant_reference_id=_merchant_reference(body),
        result_return_url=_string(web, "checkoutResultReturnUrl", required=False, prefix="webCheckoutDetails."),
    )


def parse_charge(data: Any) -> Charge:
    body = _object(data, "Charge")
    return Charge(
        id=_string(body, "chargeId"),
        status=_status(body, CHARGE_STATES, "Charge"),
        charge_amount=parse_price(body.get("chargeAmount"), "chargeAmount"),
        capture_amount=_optional_price(body, "captureAmount"),
        refunded_amount=_optional_price(body, "refundedAmount"),
        charge_permission_id=_string(body, "chargePermissionId", required=False),
        merchant_reference_id=_merchant_reference(body),
    )


def _merchant_reference(body: Mapping[str, Any]) -> str | None:
    metadata = body.get("merchantMetadata")
    if not isinstance(metadata, Mapping):
        return None
    return _string(metadata, "merchantReferenceId", required=False, prefix="merchantMetadata.")


CHARGE_PERMISSION_STATES = frozenset({"Chargeable", "NonChargeable", "Closed"})


def parse_charge_permission_status(data: Any) -> Status:
    """A Charge Permission's statusDetails (state and reason): what kassa needs of it."""
    return _status(_object(data, "Charge Permission"), CHARGE_PERMISSION_STATES, "Charge Permission")


def parse_refund(data: Any) -> Refund:
    body = _object(data, "Refund")
    return Refund(
        id=_string(body, "refundId"),
        charge_id=_string(body, "chargeId"),
        status=_status(body, REFUND_STATES, "Refund"),
        refund_amount=parse_price(body.get("refundAmount"), "refundAmount"),
    )


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """Amazon's error response: ``{"reasonCode": …, "message": …}``."""

    reason_code: str
    message: str


def parse_error(data: Any, status: int) -> ErrorBody:
    """The error body of a non-2xx answer; anything unreadable still gives a usable error."""
    if isinstance(data, Mapping) and isinstance(data.get("reasonCode"), str) and data["reasonCode"]:
        message = data.get("message")
        return ErrorBody(data["reasonCode"], message if isinstance(message, str) else "")
    return ErrorBody(f"HTTP{status}", "Amazon Pay answered with an error kassa could not read")
