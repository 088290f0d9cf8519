"""Amazon Pay API v2's JSON as the local double checks and writes it: the fields each request may
carry (others get ``UnrecognizedField``, as Amazon answers), prices, status details, ids, and the
error every refusal raises (``{"reasonCode", "message"}`` on the wire)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
ALLOWED = {  # request fields the double knows; others get UnrecognizedField, as Amazon answers
    "create": {"webCheckoutDetails", "storeId", "scopes", "chargePermissionType", "paymentDetails",
               "merchantMetadata", "platformId", "providerMetadata", "addressDetails", "recurringMetadata",
               "paymentMethodOnFileMetadata"},
    "paymentMethodOnFileMetadata": {"setupOnly"},
    "webCheckoutDetails": {"checkoutReviewReturnUrl", "checkoutResultReturnUrl", "checkoutCancelUrl", "checkoutMode"},
    "paymentDetails": {"paymentIntent", "canHandlePendingAuthorization", "chargeAmount", "totalOrderAmount",
                       "softDescriptor", "presentmentCurrency", "allowOvercharge", "extendExpiration"},
    "merchantMetadata": {"merchantReferenceId", "merchantStoreName", "noteToBuyer", "customInformation"},
    "complete": {"chargeAmount", "totalOrderAmount"},
    "capture": {"captureAmount", "softDescriptor"},
    "cancel": {"cancellationReason"},
    "refund": {"chargeId", "refundAmount", "softDescriptor"},
    "charge": {"chargePermissionId", "chargeAmount", "captureNow", "canHandlePendingAuthorization", "softDescriptor",
               "merchantMetadata", "providerMetadata"},
    "close": {"closureReason", "cancelPendingCharges"},
}
PERMISSION_TYPES = ("OneTime", "Recurring", "PaymentMethodOnFile")
METADATA_LIMITS = {"merchantReferenceId": 256, "merchantStoreName": 50, "noteToBuyer": 255, "customInformation": 4096}


class ApiError(Exception):
    def __init__(self, status: int, reason_code: str, message: str):
        super().__init__(message)
        self.status, self.reason_code, self.message = status, reason_code, message


def _stamp(at: datetime | None = None) -> str:
    return (at or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def _fields(body: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "InvalidRequestFormat", f"{where or 'the request body'} must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, "UnrecognizedField", f"Unrecognized field {where}{unknown[0]}")
    return body


def _price(value: Any, field: str) -> dict[str, str]:
    if (not isinstance(value, dict) or not isinstance(value.get("amount"), str) or not _AMOUNT.match(value["amount"])
            or not isinstance(value.get("currencyCode"), str) or not re.match(r"^[A-Z]{3}$", value["currencyCode"])):
        raise ApiError(400, "InvalidParameterValue", f"The value provided for {field} is invalid.")
    return {"amount": value["amount"], "currencyCode": value["currencyCode"]}


def _same(a: dict[str, str], b: dict[str, str]) -> bool:
    return a["currencyCode"] == b["currencyCode"] and Decimal(a["amount"]) == Decimal(b["amount"])


def _status(state: str, reason: str | None = None, description: str | None = None) -> dict[str, Any]:
    return {"state": state, "reasonCode": reason, "reasonDescription": description, "lastUpdatedTimestamp": _stamp()}


def _setup_only(session: Mapping[str, Any]) -> bool:
    """A saved-wallet setup: a PaymentMethodOnFile Charge Permission and no payment."""
    return bool((session.get("paymentMethodOnFileMetadata") or {}).get("setupOnly"))


def _amazon_id(suffix: str = "") -> str:
    digits = str(uuid.uuid4().int)
    return f"S01-{digits[:7]}-{digits[7:14]}" + (f"-{suffix}{digits[14:21]}" if suffix else "")
