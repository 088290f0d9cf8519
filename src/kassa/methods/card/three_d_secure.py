"""3D Secure in test mode: kassa's authentication page stands in for the issuer's.

An attempt that needs authentication gets a one-time page (``/three_d_secure/test/{token}``), shown
as ``next_action.redirect_to_url`` when the merchant gave a return_url, or inside Stripe.js's
``use_stripe_sdk`` action otherwise. Attempt ids start with ``src_`` (Stripe names the source of a
3D Secure redirect so), which keeps them apart from the redirect attempts of other methods.
"""

from __future__ import annotations

import uuid

from ...domain.ids import new_id, random_base62
from ..base import AuthorizationRequest, Redirect

PAGE_PATH = "/three_d_secure/test/"
ATTEMPT_PREFIX = "src"
VERSION = "2.2.0"


def new_attempt_id() -> str:
    return new_id(ATTEMPT_PREFIX)


def is_attempt(attempt_id: str | None) -> bool:
    return bool(attempt_id) and attempt_id.startswith(ATTEMPT_PREFIX + "_")


def start(request: AuthorizationRequest) -> Redirect:
    token = "tds_" + random_base62(40)
    return Redirect(request.kassa_base_url.rstrip("/") + PAGE_PATH + token, token)


def next_action(page_url: str, return_url: str | None, attempt_id: str) -> dict:
    """Stripe's ``next_action``: a redirect when there is somewhere to come back to, else the
    action Stripe.js (here kassa.js) handles by opening the page itself."""
    if return_url:
        return {"type": "redirect_to_url", "redirect_to_url": {"url": page_url, "return_url": return_url}}
    return {"type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": page_url, "source": attempt_id}}


def result(flow: str) -> dict:
    """The charge's ``three_d_secure`` after a successful authentication (challenge or frictionless)."""
    return {"authentication_flow": flow, "electronic_commerce_indicator": "05", "exemption_indicator": None,
            "exemption_indicator_applied": False, "result": "authenticated", "result_reason": None,
            "transaction_id": str(uuid.uuid4()), "version": VERSION}
