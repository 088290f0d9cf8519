"""Stripe's test card table, Luhn and brand detection, validation codes, the card hash and the
test-mode connector's decisions (no server)."""

from __future__ import annotations

import asyncio

import pytest

from kassa.domain.errors import NotFound, PaymentFailed
from kassa.domain.payment_method import CardInput, PaymentMethod
from kassa.methods.base import ACTION_REQUIRED, AUTHORIZED, DECLINED, Attempt, AuthorizationRequest
from kassa.methods.card import numbers, test_cards
from kassa.methods.card.test_mode import TestModeCards

TODAY = (2026, 6)


def test_every_number_of_the_table_passes_luhn_and_is_of_its_brand():
    for card in test_cards.CARDS:
        assert numbers.luhn_valid(card.number), card.kind
        assert numbers.brand_of(card.number) == card.brand, card.kind
        assert numbers.check_number(card.number, "n") == card.number


def test_luhn():
    assert numbers.luhn_valid("4242424242424242")
    assert not numbers.luhn_valid("4242424242424241")
    assert numbers.luhn_valid("79927398713") and not numbers.luhn_valid("79927398710")


@pytest.mark.parametrize("prefix, brand", [
    ("4", "visa"), ("51", "mastercard"), ("55", "mastercard"), ("2221", "mastercard"), ("2720", "mastercard"),
    ("2721", "unknown"), ("34", "amex"), ("37", "amex"), ("6011", "discover"), ("65", "discover"),
    ("644", "discover"), ("300", "diners"), ("36", "diners"), ("3528", "jcb"), ("3589", "jcb"),
    ("62", "unionpay"), ("9", "unknown"), ("50", "unknown"),
])
def test_brand_of(prefix, brand):
    assert numbers.brand_of(prefix + "0" * 12) == brand


def test_ids_and_tokens_of_the_table():
    assert test_cards.BY_PAYMENT_METHOD["pm_card_visa"].number == "4242424242424242"
    assert test_cards.BY_PAYMENT_METHOD["pm_card_chargeDeclined"].decline == "generic_decline"
    assert test_cards.BY_PAYMENT_METHOD["pm_card_chargeDeclinedFraudulent"].number == "4100000000000019"
    assert test_cards.BY_TOKEN["tok_visa_debit"].funding == "debit"
    assert test_cards.BY_TOKEN["tok_visa_chargeCustomerFailStolenCard"].decline == "stolen_card"
    assert test_cards.BY_NUMBER["4000000000009995"].funding == "credit"  # the first card of a shared number
    assert test_cards.BY_PAYMENT_METHOD["pm_card_refundFail"].refund == test_cards.REFUND_FAILS_LATER
    assert test_cards.is_test_payment_method("pm_card_threeDSecure2Required")
    assert not test_cards.is_test_payment_method("pm_card_nope")
    for decline in {card.decline for card in test_cards.CARDS} | {card.decline_after_authentication
                                                                   for card in test_cards.CARDS}:
        assert decline is None or decline in test_cards.DECLINES


@pytest.mark.parametrize("raw, code", [
    ("4242424242424241", "incorrect_number"), ("1234", "invalid_number"), ("abcd", "invalid_number"),
    ("42424242424242424242", "invalid_number"), (None, "invalid_number"), ("４２４２４２４２４２４２４２４２", "invalid_number"),
    ("424242424242424", "incorrect_number"),  # a visa of 15 digits
])
def test_check_number_codes(raw, code):
    with pytest.raises(PaymentFailed) as info:
        numbers.check_number(raw, "card[number]")
    assert (info.value.code, info.value.param, info.value.status) == (code, "card[number]", 402)


def test_check_number_takes_spaces_and_dashes():
    assert numbers.check_number("4242 4242-4242 4242", "n") == "4242424242424242"


@pytest.mark.parametrize("month, year, code", [
    ("13", "2030", "invalid_expiry_month"), ("0", "2030", "invalid_expiry_month"), ("x", "2030",
                                                                                     "invalid_expiry_month"),
    ("12", "95", "invalid_expiry_year"), ("12", "2025", "invalid_expiry_year"), ("12", "2077", "invalid_expiry_year"),
    ("12", "203", "invalid_expiry_year"), ("5", "2026", "invalid_expiry_month"),
])
def test_check_expiry_codes(month, year, code):
    with pytest.raises(PaymentFailed) as info:
        numbers.check_expiry(month, year, prefix="card", today=TODAY)
    assert info.value.code == code
    assert info.value.param == "card[exp_month]" if code == "invalid_expiry_month" else "card[exp_year]"


def test_check_expiry_accepts_two_and_four_digit_years():
    assert numbers.check_expiry("6", "2026", prefix="card", today=TODAY) == numbers.Expiry(6, 2026)
    assert numbers.check_expiry("01", "34", prefix="card", today=TODAY) == numbers.Expiry(1, 2034)
    assert numbers.check_expiry("12", "2076", prefix="card", today=TODAY).year == 2076


def test_check_cvc():
    assert numbers.check_cvc("123", "visa", "c") is True
    assert numbers.check_cvc(None, "visa", "c") is False
    assert numbers.check_cvc("1234", "amex", "c") is True
    for bad, brand in (("12", "visa"), ("1234", "visa"), ("123", "amex"), ("12a", "visa")):
        with pytest.raises(PaymentFailed) as info:
            numbers.check_cvc(bad, brand, "card[cvc]")
        assert info.value.code == "invalid_cvc"


def test_card_input_never_shows_its_number():
    source = CardInput("card", number="4242424242424242", exp_month="12", exp_year="2034", cvc="123")
    assert "4242" not in repr(source) and "123" not in repr(source)


def _describe(connector, **card):
    return connector.describe(CardInput("card", **card), account_id="acct_1", billing_details=None)


def test_describe_makes_the_card_hash_and_keeps_no_number():
    connector = TestModeCards(b"key")
    described = _describe(connector, number="4000056655665556", exp_month="3", exp_year="2031", cvc="321")
    card = described.card
    assert described.kind == "visa_debit"
    assert (card["brand"], card["funding"], card["last4"], card["exp_month"], card["exp_year"]) == (
        "visa", "debit", "5556", 3, 2031)
    assert card["checks"] == {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"}
    assert card["wallet"] is None and card["three_d_secure_usage"] == {"supported": True}
    assert "4000056655665556" not in repr(card) and "321" not in str(card.values())


def test_fingerprint_depends_on_number_account_and_key():
    one, other_key = TestModeCards(b"key"), TestModeCards(b"other")
    source = CardInput("card", number="4242424242424242", exp_month="12", exp_year="2034")
    first = one.describe(source, account_id="acct_1", billing_details=None).card["fingerprint"]
    assert first == one.describe(source, account_id="acct_1", billing_details=None).card["fingerprint"]
    assert first != one.describe(source, account_id="acct_2", billing_details=None).card["fingerprint"]
    assert first != other_key.describe(source, account_id="acct_1", billing_details=None).card["fingerprint"]
    by_id = one.describe(CardInput("payment_method", test_method="pm_card_visa"), account_id="acct_1",
                         billing_details=None).card["fingerprint"]
    assert by_id == first and len(first) == 16


def test_describe_refuses_numbers_that_are_not_test_cards_and_unknown_ids():
    with pytest.raises(PaymentFailed) as info:
        _describe(TestModeCards(), number="4111111111111111", exp_month="12", exp_year="2034")
    assert info.value.extra["decline_code"] == "test_mode_live_card"
    with pytest.raises(NotFound):
        TestModeCards().describe(CardInput("payment_method", test_method="pm_card_nope"), account_id="a",
                                 billing_details=None)


def _decide(kind: str, **attempt) -> object:
    connector = TestModeCards()
    card = test_cards.BY_KIND[kind]
    described = connector.describe(CardInput("payment_method", test_method=card.payment_methods[0])
                                   if card.payment_methods else CardInput("card", number=card.number,
                                                                          exp_month="12", exp_year="2034"),
                                   account_id="acct_1", billing_details=None)
    method = PaymentMethod("pm_1", "card", False, 0, card=described.card, test_card=described.kind)
    request = AuthorizationRequest("src_1", "pi_1", 1099, "usd", True, "", "http://k", "Shop")
    return asyncio.run(connector.authorize_now(request, method, Attempt(**attempt)))


def test_decisions_of_the_connector():
    assert _decide("visa").outcome == AUTHORIZED
    declined = _decide("visa_chargeDeclinedInsufficientFunds")
    assert declined.outcome == DECLINED and declined.failure.decline_code == "insufficient_funds"
    assert declined.outcome_details["network_status"] == "declined_by_network"
    assert _decide("authenticationRequired").outcome == ACTION_REQUIRED
    assert _decide("authenticationRequired", authenticated=True).outcome == AUTHORIZED
    after = _decide("threeDSecureRequiredChargeDeclined", authenticated=True)
    assert after.outcome == DECLINED and after.details["three_d_secure"]["result"] == "authenticated"
    off = _decide("authenticationRequired", off_session=True)
    assert off.failure.code == "authentication_required" and off.failure.charged
    not_handled = _decide("authenticationRequired", error_on_requires_action=True)
    assert not_handled.failure.decline_code == "authentication_not_handled" and not not_handled.failure.charged
    assert _decide("authenticationRequiredSetupForOffSession", off_session=True).outcome == AUTHORIZED
    assert _decide("visa", request_three_d_secure="any").outcome == ACTION_REQUIRED
    assert _decide("amex", request_three_d_secure="any").outcome == AUTHORIZED
    assert _decide("threeDSecureRequiredProcessingError").outcome == DECLINED
    assert _decide("riskLevelElevated").outcome_details["type"] == "manual_review"


def test_refund_terms():
    connector = TestModeCards()
    assert connector.refund_terms("visa").status == "succeeded" and connector.refund_terms("visa").later is None
    fails = connector.refund_terms("refundFail")
    assert (fails.status, fails.later) == ("succeeded", "failed") and fails.after_seconds
    assert connector.refund_terms("pendingRefund").status == "pending"
