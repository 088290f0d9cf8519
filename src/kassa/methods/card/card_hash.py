"""The ``card`` hash of a PaymentMethod and the charge's ``payment_method_details.card``.

The fingerprint is a keyed hash (HMAC-SHA256) of the number: the same number gives the same
fingerprint in one account, another one in any other account, and nobody without the key can
tell which number it came from.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import string

from .test_cards import TestCard, display_brand, networks


@functools.lru_cache(maxsize=4096)
def account_key(deployment_key: bytes, account_id: str) -> bytes:
    """The fingerprint key of one account, derived from the deployment's key."""
    return hmac.new(deployment_key, b"card-fingerprint:" + account_id.encode(), hashlib.sha256).digest()


@functools.lru_cache(maxsize=16384)
def fingerprint(deployment_key: bytes, account_id: str, number: str) -> str:
    """The fingerprint of `number` in one account. Only the test table's numbers get here (any other
    is refused first), so the cache holds nothing but Stripe's public test numbers."""
    mac = hmac.new(account_key(deployment_key, account_id), number.encode(), hashlib.sha256).digest()
    value, chars = int.from_bytes(mac[:16], "big"), []
    for _ in range(16):
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


_BASE62 = string.ascii_letters + string.digits


def card_hash(card: TestCard, *, last4: str, exp_month: int, exp_year: int, fingerprint: str,
              cvc_check: str | None, postal_code_check: str | None, line1_check: str | None) -> dict:
    """Stripe's PaymentMethod ``card`` hash."""
    return {
        "brand": card.brand,
        "checks": {"address_line1_check": line1_check, "address_postal_code_check": postal_code_check,
                   "cvc_check": cvc_check},
        "country": card.country,
        "display_brand": display_brand(card),
        "exp_month": exp_month,
        "exp_year": exp_year,
        "fingerprint": fingerprint,
        "funding": card.funding,
        "generated_from": None,
        "last4": last4,
        "networks": {"available": list(networks(card)), "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": card.three_d_secure_supported},
        "wallet": None,
    }


def charge_details(card: dict, *, amount: int | None, capture_before: int | None, three_d_secure: dict | None,
                   authorization_code: str | None, network_transaction_id: str | None) -> dict:
    """Stripe's ``payment_method_details.card`` of a charge, from the PaymentMethod's card hash."""
    details = {
        "amount_authorized": amount,
        "authorization_code": authorization_code,
        "brand": card["brand"],
        "checks": dict(card["checks"]),
        "country": card["country"],
        "exp_month": card["exp_month"],
        "exp_year": card["exp_year"],
        "extended_authorization": {"status": "disabled"},
        "fingerprint": card["fingerprint"],
        "funding": card["funding"],
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": card["last4"],
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": card["networks"]["available"][-1] if card["networks"]["available"] else card["brand"],
        "network_token": {"used": False},
        "network_transaction_id": network_transaction_id,
        "overcapture": {"maximum_amount_capturable": amount or 0, "status": "unavailable"},
        "regulated_status": card.get("regulated_status"),
        "three_d_secure": three_d_secure,
        "wallet": None,
    }
    if capture_before is not None:
        details["capture_before"] = capture_before
    return details
