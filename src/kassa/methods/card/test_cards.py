"""Stripe's test cards: each number, ``pm_card_*`` id and ``tok_*`` token, and how it behaves.

Facts from Stripe's testing documentation (docs.stripe.com/testing): cards by brand and country,
declines with their codes, Radar cards, refunds that fail or settle late, 3D Secure cards. A card is
known inside kassa by its ``kind`` (the name Stripe's ids carry, e.g. ``visa_chargeDeclined``),
which is what a PaymentMethod keeps besides its card hash: never the number.
"""

from __future__ import annotations

from dataclasses import dataclass

# How a card meets 3D Secure (Stripe's table "Test 3D Secure authentication").
NO_3DS = "none"                       # not enrolled, or 3DS optional: never prompted
REQUIRED = "required"                 # always authenticate, on and off session
UNLESS_SET_UP = "unless_set_up"       # on session always; off session unless set up (saved)
ON_SESSION_ONLY = "on_session_only"   # on session authenticate; off session succeeds as if set up
FRICTIONLESS = "frictionless"         # authenticated without the buyer seeing anything
LOOKUP_ERROR = "lookup_error"         # 3DS required but the lookup fails: declined

# Refunds: succeed at once; pending then succeeded; succeeded then failed.
REFUND_SUCCEEDS, REFUND_PENDING, REFUND_FAILS_LATER = "succeeds", "pending", "fails_later"


@dataclass(frozen=True, slots=True)
class Decline:
    """A card error as Stripe gives it, and the failed charge's outcome."""

    code: str
    decline_code: str
    message: str
    advice_code: str | None = None
    param: str | None = None
    outcome_type: str = "issuer_declined"
    network_status: str = "declined_by_network"
    seller_message: str | None = None

    def seller(self) -> str:
        if self.seller_message:
            return self.seller_message
        if self.decline_code == "generic_decline":
            return "The bank did not return any further details with this decline."
        return f"The bank returned the decline code `{self.decline_code}`."


DECLINED = "Your card was declined."
DECLINES = {
    "generic_decline": Decline("card_declined", "generic_decline", DECLINED, "try_again_later"),
    "insufficient_funds": Decline("card_declined", "insufficient_funds", "Your card has insufficient funds.",
                                  "try_again_later"),
    "lost_card": Decline("card_declined", "lost_card", DECLINED, "do_not_try_again"),
    "stolen_card": Decline("card_declined", "stolen_card", DECLINED, "do_not_try_again"),
    "expired_card": Decline("expired_card", "expired_card", "Your card has expired.", "confirm_card_data",
                            "exp_month"),
    "incorrect_cvc": Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.",
                             "confirm_card_data", "cvc"),
    "processing_error": Decline("processing_error", "processing_error",
                                "An error occurred while processing your card. Try again in a little bit.",
                                "try_again_later"),
    "card_velocity_exceeded": Decline(
        "card_declined", "card_velocity_exceeded",
        "Your card was declined for making repeated attempts too frequently or exceeding its amount limit.",
        "try_again_later"),
    "fraudulent": Decline("card_declined", "fraudulent", DECLINED, None, outcome_type="blocked",
                          network_status="not_sent_to_network",
                          seller_message="Stripe blocked this payment as too risky."),
    "test_mode_live_card": Decline(
        "card_declined", "test_mode_live_card",
        "Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of "
        "valid test cards, visit: https://stripe.com/docs/testing.", None, outcome_type="invalid",
        network_status="not_sent_to_network"),
    "authentication_required": Decline(
        "authentication_required", "authentication_required",
        "Your card was declined. This transaction requires authentication.", "try_again_later"),
    "authentication_not_handled": Decline(
        "authentication_required", "authentication_not_handled",
        "This payment required an authentication action to complete, but `error_on_requires_action` was set. "
        "When you're ready, you can upgrade your integration to handle actions at "
        "https://stripe.com/docs/payments/payment-intents/upgrade-to-handle-actions.", None,
        outcome_type="invalid", network_status="not_sent_to_network"),
}


@dataclass(frozen=True, slots=True)
class TestCard:
    __test__ = False  # not a test class (for pytest)
    kind: str
    number: str
    brand: str
    funding: str = "credit"
    country: str = "US"
    decline: str | None = None                   # a key of DECLINES, when the charge is declined
    three_d_secure: str = NO_3DS
    decline_after_authentication: str | None = None
    three_d_secure_supported: bool = True
    cvc_check: str | None = None                 # forced result when a CVC is given ("fail")
    postal_code_check: str | None = None         # forced result when a postal code is given
    line1_check: str | None = None               # forced result when an address line 1 is given
    risk_level: str = "normal"
    refund: str = REFUND_SUCCEEDS
    display_brand: str | None = None
    networks: tuple[str, ...] = ()
    payment_methods: tuple[str, ...] = ()        # Stripe's test PaymentMethod ids (pm_card_…)
    tokens: tuple[str, ...] = ()                 # Stripe's test tokens (tok_…)


def _card(kind: str, number: str, brand: str = "visa", *, pm: bool = True, tok: bool = False,
          pms: tuple[str, ...] = (), toks: tuple[str, ...] = (), **facts) -> TestCard:
    ids = (("pm_card_" + kind,) if pm else ()) + pms
    tokens = (("tok_" + kind,) if tok else ()) + toks
    return TestCard(kind, number, brand, payment_methods=ids, tokens=tokens, **facts)


_DISPLAY = {"amex": "american_express", "diners": "diners_club", "unionpay": "union_pay"}

CARDS: tuple[TestCard, ...] = (
    # ---- success, by brand
    _card("visa", "4242424242424242", tok=True, pms=("pm_card_us",), toks=("tok_us",)),
    _card("visa_debit", "4000056655665556", tok=True, funding="debit"),
    _card("mastercard", "5555555555554444", "mastercard", tok=True),
    _card("mastercard_2series", "2223003122003222", "mastercard", pm=False),
    _card("mastercard_debit", "5200828282828210", "mastercard", tok=True, funding="debit"),
    _card("mastercard_prepaid", "5105105105105100", "mastercard", tok=True, funding="prepaid"),
    _card("amex", "378282246310005", "amex", tok=True, three_d_secure_supported=False,
          pms=("pm_card_amex_threeDSecureNotSupported",), toks=("tok_amex_threeDSecureNotSupported",)),
    _card("amex_2", "371449635398431", "amex", pm=False),
    _card("discover", "6011111111111117", "discover", tok=True),
    _card("discover_2", "6011000990139424", "discover", pm=False),
    _card("discover_debit", "6011981111111113", "discover", pm=False, funding="debit"),
    _card("diners", "3056930009020004", "diners", tok=True),
    _card("diners_14", "36227206271667", "diners", pm=False),
    _card("bccard_dinacard", "6555900000604105", "discover", pm=False),
    _card("jcb", "3566002020360505", "jcb", tok=True, country="JP"),
    _card("unionpay", "6200000000000005", "unionpay", tok=True, country="CN"),
    _card("unionpay_debit", "6200000000000047", "unionpay", pm=False, funding="debit", country="CN"),
    _card("unionpay_19", "6205500000000000004", "unionpay", pm=False, country="CN"),
    # ---- co-branded
    _card("visa_cartesBancaires", "4000002500001001", country="FR", tok=True, display_brand="cartes_bancaires",
          networks=("cartes_bancaires", "visa")),
    _card("mastercard_cartesBancaires", "5555552500001001", "mastercard", country="FR", tok=True,
          display_brand="cartes_bancaires", networks=("cartes_bancaires", "mastercard")),
    _card("visa_debit_eftposAuCoBranded", "4000050360000001", country="AU", funding="debit", tok=True,
          display_brand="eftpos_australia", networks=("eftpos_au", "visa")),
    _card("mastercard_debit_eftposAuCoBranded", "5555050360000080", "mastercard", country="AU", funding="debit",
          tok=True, display_brand="eftpos_australia", networks=("eftpos_au", "mastercard")),
    # ---- by country (EEA cards succeed without authentication)
    _card("gb", "4000008260000000", country="GB", tok=True),
    _card("de", "4000002760000016", country="DE", tok=True),
    _card("fr", "4000002500000003", country="FR", tok=True),
    _card("jp", "4000003920000003", country="JP", tok=True),
    _card("au", "4000000360000006", country="AU", tok=True),
    _card("ca", "4000001240000000", country="CA", tok=True),
    _card("br", "4000000760000002", country="BR", tok=True),
    _card("mx", "4000004840008001", country="MX", tok=True),
    _card("in", "4000003560000008", country="IN", tok=True),
    _card("sg", "4000007020000003", country="SG", tok=True),
    # ---- healthcare
    _card("debit_visaFsaProductCode", "4000051230000072", funding="debit",
          pms=("pm_card_debit_visaHsaProductCode",)),
    _card("mastercard_debit_mastercardFsaProductCode", "5200828282828897", "mastercard", funding="debit"),
    # ---- declines
    _card("visa_chargeDeclined", "4000000000000002", decline="generic_decline", tok=True,
          pms=("pm_card_chargeDeclined",), toks=("tok_chargeDeclined",)),
    _card("visa_chargeDeclinedInsufficientFunds", "4000000000009995", decline="insufficient_funds", tok=True,
          pms=("pm_card_chargeDeclinedInsufficientFunds",), toks=("tok_chargeDeclinedInsufficientFunds",)),
    _card("visa_debit_chargeDeclinedInsufficientFunds", "4000000000009995", funding="debit",
          decline="insufficient_funds", pm=False, tok=True),
    _card("visa_chargeDeclinedLostCard", "4000000000009987", decline="lost_card", tok=True,
          pms=("pm_card_chargeDeclinedLostCard",), toks=("tok_chargeDeclinedLostCard",)),
    _card("visa_chargeDeclinedStolenCard", "4000000000009979", decline="stolen_card", tok=True,
          pms=("pm_card_chargeDeclinedStolenCard",), toks=("tok_chargeDeclinedStolenCard",)),
    _card("chargeDeclinedExpiredCard", "4000000000000069", decline="expired_card", tok=True,
          pms=("pm_card_visa_chargeDeclinedExpiredCard",), toks=("tok_visa_chargeDeclinedExpiredCard",)),
    _card("chargeDeclinedIncorrectCvc", "4000000000000127", decline="incorrect_cvc", tok=True,
          pms=("pm_card_visa_chargeDeclinedIncorrectCvc",), toks=("tok_visa_chargeDeclinedIncorrectCvc",)),
    _card("chargeDeclinedProcessingError", "4000000000000119", decline="processing_error", tok=True,
          pms=("pm_card_visa_chargeDeclinedProcessingError",), toks=("tok_visa_chargeDeclinedProcessingError",)),
    _card("visa_chargeDeclinedVelocityLimitExceeded", "4000000000006975", decline="card_velocity_exceeded",
          tok=True),
    _card("chargeCustomerFail", "4000000000000341", decline="generic_decline", tok=True,
          toks=("tok_visa_chargeCustomerFail",)),
    _card("visa_chargeCustomerFailLostCard", "4000000000000341", decline="lost_card", pm=False, tok=True),
    _card("visa_chargeCustomerFailStolenCard", "4000000000000341", decline="stolen_card", pm=False, tok=True),
    # ---- Radar
    _card("radarBlock", "4100000000000019", decline="fraudulent", risk_level="highest", tok=True,
          pms=("pm_card_chargeDeclinedFraudulent", "pm_card_visa_chargeDeclinedFraudulent"),
          toks=("tok_chargeDeclinedFraudulent", "tok_visa_chargeDeclinedFraudulent")),
    _card("riskLevelHighest", "4000000000004954", decline="fraudulent", risk_level="highest", tok=True),
    _card("riskLevelElevated", "4000000000009235", risk_level="elevated", tok=True),
    _card("highFraudDisputeScore", "4000008400000407", tok=True),
    _card("highEfwScore", "4000008400000159", tok=True),
    _card("radarDynamicRiskThreshold", "4000008400001017", tok=True),
    _card("adaptive3dsChallenge", "4000008405600003", three_d_secure=REQUIRED, tok=True),
    _card("cvcCheckFail", "4000000000000101", cvc_check="fail", decline="incorrect_cvc", tok=True),
    _card("avsZipFail", "4000000000000036", postal_code_check="fail", tok=True),
    _card("cvcCheckFailElevatedRisk", "4000058400307872", cvc_check="fail", decline="incorrect_cvc",
          risk_level="elevated", tok=True),
    _card("avsZipFailElevatedRisk", "4000058400306072", postal_code_check="fail", risk_level="elevated",
          tok=True),
    _card("avsLine1Fail", "4000000000000028", line1_check="fail", tok=True),
    _card("avsFail", "4000000000000010", line1_check="fail", postal_code_check="fail", tok=True),
    _card("avsUnchecked", "4000000000000044", line1_check="unavailable", postal_code_check="unavailable",
          tok=True),
    # ---- disputes (kassa has no disputes: the payment succeeds), refunds, balance, captcha
    _card("createDispute", "4000000000000259", tok=True),
    _card("createDisputeProductNotReceived", "4000000000002685", tok=True),
    _card("createDisputeInquiry", "4000000000001976", tok=True),
    _card("createIssuerFraudRecord", "4000000000005423", tok=True),
    _card("createMultipleDisputes", "4000000404000079", tok=True),
    _card("createCe3EligibleDispute", "4000000404000038", tok=True),
    _card("createComplianceDispute", "4000008400000779", tok=True),
    _card("createMastercardComplianceDispute", "5105008400000002", "mastercard", tok=True),
    _card("createAutoRepresentmentEligibleDispute", "4000000001000043", tok=True),
    _card("pendingRefund", "4000000000007726", refund=REFUND_PENDING, tok=True),
    _card("refundFail", "4000000000005126", refund=REFUND_FAILS_LATER, tok=True),
    _card("bypassPending", "4000000000000077", tok=True),
    _card("bypassPendingInternational", "4000003720000278", country="IE", tok=True),
    _card("captchaChallenge", "4000000000001208", pm=False),
    _card("captchaChallenge_2", "4000000000003725", pm=False),
    # ---- 3D Secure
    _card("authenticationRequiredOnSetup", "4000002500003155", country="FR", three_d_secure=UNLESS_SET_UP,
          tok=True),
    _card("authenticationRequired", "4000002760003184", country="DE", three_d_secure=REQUIRED, tok=True),
    _card("authenticationRequiredSetupForOffSession", "4000003800000446", country="IT",
          three_d_secure=ON_SESSION_ONLY, tok=True),
    _card("authenticationRequiredChargeDeclinedInsufficientFunds", "4000008260003178", country="GB",
          three_d_secure=REQUIRED, decline_after_authentication="insufficient_funds", tok=True),
    _card("threeDSecure2Required", "4000000000003220", country="IE", three_d_secure=REQUIRED, tok=True),
    _card("threeDSecure2Required_us", "4000008400000027", three_d_secure=REQUIRED, pm=False),
    _card("threeDSecureRequiredChargeDeclined", "4000008400001629", three_d_secure=REQUIRED,
          decline_after_authentication="generic_decline", tok=True),
    _card("threeDSecureRequiredProcessingError", "4000008400001280", three_d_secure=LOOKUP_ERROR,
          decline="generic_decline", tok=True),
    _card("threeDSecureOptional", "4000000000003055", tok=True),
    _card("threeDSecureOptionalProcessingError", "4000000000003097", tok=True),
    _card("threeDSecure2Frictionless", "4000000032200000", three_d_secure=FRICTIONLESS, pm=False),
    _card("threeDSecureRequired", "4000000000003063", three_d_secure=REQUIRED, tok=True),
    _card("threeDSecureRequired_inr", "4000053560000011", country="IN", three_d_secure=REQUIRED, pm=False),
    _card("threeDSecureMobileOutOfBand", "4000582600000094", country="GB", three_d_secure=REQUIRED, pm=False),
    _card("threeDSecureMobileOtp", "4000582600000045", country="GB", three_d_secure=REQUIRED, pm=False),
    _card("threeDSecureMobileSingleSelect", "4000582600000102", country="GB", three_d_secure=REQUIRED, pm=False),
    _card("threeDSecureMobileMultiSelect", "4000582600000110", country="GB", three_d_secure=REQUIRED, pm=False),
)

BY_KIND: dict[str, TestCard] = {card.kind: card for card in CARDS}
BY_PAYMENT_METHOD: dict[str, TestCard] = {pm: card for card in CARDS for pm in card.payment_methods}
BY_TOKEN: dict[str, TestCard] = {token: card for card in CARDS for token in card.tokens}
BY_NUMBER: dict[str, TestCard] = {}
for _each in CARDS:
    BY_NUMBER.setdefault(_each.number, _each)  # a number shared by token variants is its first card's


def display_brand(card: TestCard) -> str:
    return card.display_brand or _DISPLAY.get(card.brand, card.brand)


def networks(card: TestCard) -> tuple[str, ...]:
    return card.networks or (card.brand,)


def is_test_payment_method(method_id: str) -> bool:
    """Whether an id names one of Stripe's test PaymentMethods (``pm_card_visa``)."""
    return method_id in BY_PAYMENT_METHOD
