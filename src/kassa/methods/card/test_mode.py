"""Cards in test mode: Stripe's test cards, decided at once, with 3D Secure on kassa's own page.

`describe` turns card data (a number, a test token, a test PaymentMethod id) into the card hash and
the test card's name; it is the only place that reads a number or a CVC, and it keeps neither.
`authorize_now` answers as Stripe answers for that test card.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ...domain.errors import InvalidRequest, NotFound, PaymentFailed
from ...domain.ids import random_base62
from ...domain.payment_method import CardInput
from ...domain.records import quick_init
from ..base import (ACTION_REQUIRED, AUTHORIZED, DECLINED, Attempt, AuthorizationRequest, Decision, Failure,
                    Redirect, RefundTerms)
from . import card_hash, numbers, three_d_secure
from .test_cards import (BY_KIND, BY_NUMBER, BY_PAYMENT_METHOD, BY_TOKEN, DECLINES, FRICTIONLESS, LOOKUP_ERROR,
                         ON_SESSION_ONLY, REFUND_FAILS_LATER, REFUND_PENDING, REQUIRED, UNLESS_SET_UP, TestCard)

# Without KASSA_CARD_FINGERPRINT_KEY: test mode takes Stripe's published numbers only, so this
# fixed key hides nothing a test number could reveal; it keeps accounts' fingerprints apart.
DEFAULT_FINGERPRINT_KEY = b"kassa test-mode card fingerprints"
LATE_REFUND_SECONDS = 2  # how long after a test refund its later change (refundFail, pendingRefund) comes
CHARGE_CUSTOMER_FAIL_NUMBER = "4000000000000341"  # attaches, then every charge declines


@quick_init
@dataclass(frozen=True, slots=True)
class Described:
    """What may be kept of card data: the card hash, and which test card it is."""

    card: dict
    kind: str


_today_until = [0.0, (0, 0)]  # (until when, the (year, month) of then): read once a minute


def _today() -> tuple[int, int]:
    wall = time.time()
    if wall >= _today_until[0]:
        now = time.gmtime(wall)
        _today_until[:] = [wall + 60, (now.tm_year, now.tm_mon)]
    return _today_until[1]


class TestModeCards:
    __test__ = False  # not a test class (for pytest)
    name = "card"

    def __init__(self, fingerprint_key: bytes | None = None):
        self.fingerprint_key = fingerprint_key or DEFAULT_FINGERPRINT_KEY

    # ---- card data → card hash ---------------------------------------------------------

    def describe(self, source: CardInput, *, account_id: str, billing_details: dict | None) -> Described:
        """The card hash of `source`; Stripe's card errors (402) for data it would refuse, and
        ``test_mode_live_card`` for a number that is not one of Stripe's test cards."""
        address = (billing_details or {}).get("address") or {}
        if source.test_method is not None:
            card = BY_PAYMENT_METHOD.get(source.test_method)
            if card is None:
                raise NotFound(f"No such PaymentMethod: '{source.test_method[:60]}'", param="payment_method")
            return self._fixture(card, account_id, address)
        if source.token is not None:
            card = BY_TOKEN.get(source.token)
            if card is None:
                raise InvalidRequest(f"No such token: '{source.token[:60]}'", code="resource_missing",
                                     param=f"{source.prefix}[token]")
            return self._fixture(card, account_id, address)
        prefix = source.prefix
        for name in ("number", "exp_month", "exp_year"):
            if getattr(source, name) is None:
                raise InvalidRequest(f"Missing required param: {prefix}[{name}].", code="missing_required_parameter",
                                     param=f"{prefix}[{name}]")
        digits = numbers.check_number(source.number, f"{prefix}[number]")
        expiry = numbers.check_expiry(source.exp_month, source.exp_year, prefix=prefix, today=_today())
        brand = numbers.brand_of(digits)
        cvc_given = numbers.check_cvc(source.cvc, brand, f"{prefix}[cvc]")
        card = BY_NUMBER.get(digits)
        if card is None:
            decline = DECLINES["test_mode_live_card"]
            raise PaymentFailed(decline.message, code=decline.code, extra={"decline_code": decline.decline_code})
        return Described(card_hash.card_hash(
            card, last4=digits[-4:], exp_month=expiry.month, exp_year=expiry.year,
            fingerprint=card_hash.fingerprint(self.fingerprint_key, account_id, digits),
            cvc_check=(card.cvc_check or "pass") if cvc_given else None,
            postal_code_check=_check(card.postal_code_check, address.get("postal_code")),
            line1_check=_check(card.line1_check, address.get("line1"))), card.kind)

    def _fixture(self, card: TestCard, account_id: str, address: dict) -> Described:
        """A card from Stripe's test ids: its number is the table's, its CVC counts as given."""
        year, month = _today()
        return Described(card_hash.card_hash(
            card, last4=card.number[-4:], exp_month=month, exp_year=year + 1,
            fingerprint=card_hash.fingerprint(self.fingerprint_key, account_id, card.number),
            cvc_check=card.cvc_check or "pass", postal_code_check=_check(card.postal_code_check,
                                                                          address.get("postal_code")),
            line1_check=_check(card.line1_check, address.get("line1"))), card.kind)

    # ---- authorization -------------------------------------------------------------------

    async def authorize_now(self, request: AuthorizationRequest, method, attempt: Attempt) -> Decision:
        """Stripe's answer for this test card: authorized, declined, or 3D Secure first."""
        card = BY_KIND.get(method.test_card or "")
        if card is None:
            return self._declined(method, request, DECLINES["test_mode_live_card"], charged=False)
        if not attempt.authenticated:
            if card.three_d_secure == LOOKUP_ERROR:
                return self._declined(method, request, DECLINES[card.decline or "generic_decline"])
            if _needs_authentication(card, attempt):
                if attempt.off_session:
                    return self._declined(method, request, DECLINES["authentication_required"])
                if attempt.error_on_requires_action:
                    return self._declined(method, request, DECLINES["authentication_not_handled"], charged=False)
                return Decision(ACTION_REQUIRED, {}, {})
        secure = None
        if attempt.authenticated:
            secure = three_d_secure.result("challenge")
        elif card.three_d_secure == FRICTIONLESS:
            secure = three_d_secure.result("frictionless")
        after = card.decline_after_authentication if attempt.authenticated else None
        decline = after or (card.decline if card.three_d_secure != LOOKUP_ERROR else None)
        if decline == "incorrect_cvc" and method.card["checks"]["cvc_check"] != "fail" and card.cvc_check:
            decline = None  # cvcCheckFail declines only when a CVC was checked
        if decline:
            return self._declined(method, request, DECLINES[decline], secure=secure)
        outcome = {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
                   "network_status": "approved_by_network", "reason": None, "risk_level": card.risk_level,
                   "seller_message": "Payment complete.", "type": "authorized"}
        if card.risk_level == "elevated":
            outcome.update(reason="elevated_risk_level", type="manual_review",
                           seller_message="Stripe evaluated this payment as having elevated risk, and placed it "
                                          "in your manual review queue.")
        return Decision(AUTHORIZED, self._details(method, request, secure, approved=True), outcome)

    def _declined(self, method, request: AuthorizationRequest, decline, *, charged: bool = True,
                  secure: dict | None = None) -> Decision:
        card = BY_KIND.get(method.test_card or "")
        reason = decline.decline_code
        if decline.outcome_type == "blocked" and card is not None and card.risk_level == "highest":
            reason = "highest_risk_level"
        outcome = {"advice_code": decline.advice_code, "network_advice_code": None, "network_decline_code": None,
                   "network_status": decline.network_status, "reason": reason,
                   "risk_level": card.risk_level if card else "normal", "seller_message": decline.seller(),
                   "type": decline.outcome_type}
        failure = Failure(decline.code, decline.decline_code, decline.message, decline.advice_code, decline.param,
                          charged=charged)
        return Decision(DECLINED, self._details(method, request, secure, approved=False), outcome, failure)

    @staticmethod
    def _details(method, request: AuthorizationRequest, secure: dict | None, *, approved: bool) -> dict:
        return card_hash.charge_details(
            method.card, amount=request.amount if approved else None, capture_before=None, three_d_secure=secure,
            authorization_code=random_base62(6).upper() if approved else None,
            network_transaction_id=random_base62(15).upper() if approved else None)

    async def verify_now(self, request: AuthorizationRequest, method, attempt: Attempt) -> Decision:
        """Saving a card (a SetupIntent, an attach): Stripe's answer for this test card, with no charge.
        A card that declines every charge is refused; the ``chargeCustomerFail`` cards are saved and
        then decline when charged."""
        card = BY_KIND.get(method.test_card or "")
        if card is not None and card.number == CHARGE_CUSTOMER_FAIL_NUMBER and not _needs_authentication(card, attempt):
            return Decision(AUTHORIZED, {}, {})
        decided = await self.authorize_now(request, method, attempt)
        return Decision(decided.outcome, {}, decided.outcome_details, decided.failure)

    async def start_authentication(self, request: AuthorizationRequest) -> Redirect:
        return three_d_secure.start(request)

    async def capture(self, transaction_id: str, amount: int, currency: str) -> None:
        return None

    async def release(self, transaction_id: str) -> None:
        return None

    # ---- refunds -------------------------------------------------------------------------

    def refund_terms(self, method_kind: str | None) -> RefundTerms:
        card = BY_KIND.get(method_kind or "")
        if card is not None and card.refund == REFUND_PENDING:
            return RefundTerms("pending", "succeeded", LATE_REFUND_SECONDS)
        if card is not None and card.refund == REFUND_FAILS_LATER:
            return RefundTerms("succeeded", "failed", LATE_REFUND_SECONDS)
        return RefundTerms("succeeded")


def _needs_authentication(card: TestCard, attempt: Attempt) -> bool:
    if card.three_d_secure == UNLESS_SET_UP:
        return not (attempt.off_session and attempt.set_up)
    if card.three_d_secure == REQUIRED:
        return True
    if card.three_d_secure == ON_SESSION_ONLY:
        return not attempt.off_session
    forced = attempt.request_three_d_secure in ("any", "challenge")
    return forced and card.three_d_secure_supported and card.three_d_secure != FRICTIONLESS


def _check(forced: str | None, given: str | None) -> str | None:
    """A check's result: none when nothing was given to check, else the test card's or a pass."""
    if not given:
        return None
    return forced or "pass"
