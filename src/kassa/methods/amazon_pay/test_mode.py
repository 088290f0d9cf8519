"""Amazon Pay in test mode: kassa's own hosted page stands in for Amazon's.

The buyer lands on ``/amazon_pay/test/{token}`` and presses Authorize or Fail; capture, release
and refunds succeed, refunds once their settlement time has come (as Amazon Pay's are
asynchronous).
"""

from __future__ import annotations

from ...domain.ids import random_base62
from ..base import AUTHORIZED, AuthorizationRequest, Completion, Redirect, RefundResult, SavedCharge

PAGE_PATH = "/amazon_pay/test/"
SETUP_PAGE_PATH = "/amazon_pay/test/setup/"


class TestModeAmazonPay:
    name = "amazon_pay"

    async def start_authorization(self, request: AuthorizationRequest) -> Redirect:
        token = "tok_" + random_base62(40)
        return Redirect(request.kassa_base_url.rstrip("/") + PAGE_PATH + token, token)

    async def capture(self, transaction_id: str, amount: int, currency: str) -> None:
        return None

    async def release(self, transaction_id: str) -> None:
        return None

    async def refund(self, refund_id: str, transaction_id: str, amount: int, currency: str) -> RefundResult:
        return RefundResult(None, "pending")

    async def refund_status(self, refund_id: str, settle_at: int | None, now: int) -> str:
        return "succeeded" if settle_at is not None and settle_at <= now else "pending"

    # ---- saved methods -------------------------------------------------------------------

    async def start_setup(self, request: AuthorizationRequest) -> Redirect:
        """Saving Amazon Pay: the buyer approves (or refuses) future payments on kassa's setup page."""
        token = "tok_" + random_base62(40)
        return Redirect(request.kassa_base_url.rstrip("/") + SETUP_PAGE_PATH + token, token)

    async def charge_saved(self, request: SavedCharge) -> Completion:
        """An off-session payment under an active mandate: approved at once (no buyer, no page)."""
        transaction = "P01-" + random_base62(7).upper() + "-" + random_base62(7).upper()
        return Completion(AUTHORIZED, charge_id=transaction, captured=request.capture)
