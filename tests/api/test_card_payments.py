"""Cards in test mode, through the official stripe package: Stripe's test cards by brand, token and
number, every decline and 3D Secure card of Stripe's tables, invalid input, capture, cancel,
refunds, the 3D Secure page, idempotent 402s, events, webhooks and live mode's refusal."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
import stripe

from card_helpers import (FUTURE, advance, authenticate, authentication_page, card_method, declined, events_of,
                          pay, returned_with)
from receiver import Receiver
from test_auth import new_account


@pytest.fixture(scope="module")
def account(server) -> dict:
    """An account of these tests' own: their declines and refusals stay out of the default account."""
    return new_account(server)


@pytest.fixture
def client(server, account):
    return server.client(account["secret_test"])


@pytest.fixture
def public_client(server, account):
    return server.client(account["publishable_test"])


# ---- success by brand --------------------------------------------------------------------------

BRANDS = [  # (test PaymentMethod, token, number, brand, funding, last4)
    ("pm_card_visa", "tok_visa", "4242424242424242", "visa", "credit", "4242"),
    ("pm_card_visa_debit", "tok_visa_debit", "4000056655665556", "visa", "debit", "5556"),
    ("pm_card_mastercard", "tok_mastercard", "5555555555554444", "mastercard", "credit", "4444"),
    ("pm_card_mastercard_debit", "tok_mastercard_debit", "5200828282828210", "mastercard", "debit", "8210"),
    ("pm_card_mastercard_prepaid", "tok_mastercard_prepaid", "5105105105105100", "mastercard", "prepaid", "5100"),
    ("pm_card_amex", "tok_amex", "378282246310005", "amex", "credit", "0005"),
    ("pm_card_discover", "tok_discover", "6011111111111117", "discover", "credit", "1117"),
    ("pm_card_diners", "tok_diners", "3056930009020004", "diners", "credit", "0004"),
    ("pm_card_jcb", "tok_jcb", "3566002020360505", "jcb", "credit", "0505"),
    ("pm_card_unionpay", "tok_unionpay", "6200000000000005", "unionpay", "credit", "0005"),
]


@pytest.mark.parametrize("method, token, number, brand, funding, last4", BRANDS)
def test_success_by_brand_with_test_ids(client, method, token, number, brand, funding, last4):
    intent = pay(client, method)
    assert intent.status == "succeeded" and intent.amount_received == 1099
    assert intent.payment_method.startswith("pm_") and intent.payment_method != method  # a new object
    assert intent.last_payment_error is None and intent.next_action is None
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.status == "succeeded" and charge.paid is True and charge.captured is True
    details = charge.payment_method_details
    assert details.type == "card"
    assert (details.card.brand, details.card.funding, details.card.last4) == (brand, funding, last4)
    assert details.card.network == brand and details.card.three_d_secure is None
    assert details.card.exp_month and details.card.exp_year and details.card.fingerprint
    assert charge.outcome.network_status == "approved_by_network" and charge.outcome.type == "authorized"
    assert charge.outcome.seller_message == "Payment complete." and charge.outcome.risk_level == "normal"
    method_object = client.v1.payment_methods.retrieve(intent.payment_method)
    assert method_object.type == "card" and method_object.card.last4 == last4
    assert method_object.card.wallet is None and method_object.customer is None


@pytest.mark.parametrize("method, token, number, brand, funding, last4", BRANDS)
def test_tokens_at_confirm(client, method, token, number, brand, funding, last4):
    intent = client.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", "confirm": True,
        "payment_method_data": {"type": "card", "card": {"token": token}}})
    assert intent.status == "succeeded"
    card = client.v1.payment_methods.retrieve(intent.payment_method).card
    assert (card.brand, card.funding, card.last4) == (brand, funding, last4)


@pytest.mark.parametrize("method, token, number, brand, funding, last4", BRANDS)
def test_raw_numbers_with_the_publishable_key(client, public_client, method, token, number, brand, funding, last4):
    cvc = "1234" if brand == "amex" else "123"
    created = public_client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, **FUTURE, "cvc": cvc},
        "billing_details": {"address": {"postal_code": "94107"}}})
    card = created.card
    assert (card.brand, card.funding, card.last4, card.exp_month, card.exp_year) == (brand, funding, last4, 12, 2034)
    assert card.checks.cvc_check == "pass" and card.checks.address_postal_code_check == "pass"
    assert card.checks.address_line1_check is None
    assert card.three_d_secure_usage.supported is (brand != "amex")
    assert card.networks.available == [brand] and card.networks.preferred is None
    assert card.display_brand and card.country and card.wallet is None and card.generated_from is None
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    confirmed = public_client.v1.payment_intents.confirm(intent.id, params={
        "payment_method": created.id, "client_secret": intent.client_secret})
    assert confirmed.status == "succeeded"
    assert "metadata" not in confirmed  # the publishable view


def test_every_success_number_of_the_table(public_client):
    numbers = ["2223003122003222", "371449635398431", "6011000990139424", "6011981111111113", "36227206271667",
               "6555900000604105", "6200000000000047", "6205500000000000004", "4000002500001001",
               "5555552500001001", "4000050360000001", "5555050360000080", "4000008260000000", "4000002760000016",
               "4000051230000072", "5200828282828897"]
    for number in numbers:
        created = card_method(public_client, number, cvc=None)
        assert created.card.last4 == number[-4:], number
    cobranded = card_method(public_client, "4000002500001001", cvc=None).card
    assert cobranded.display_brand == "cartes_bancaires" and cobranded.networks.available == ["cartes_bancaires", "visa"]
    assert card_method(public_client, "4000008260000000", cvc=None).card.country == "GB"


def test_fingerprint_is_stable_per_number_and_account(server, client, public_client):
    first = card_method(public_client, "4242424242424242").card.fingerprint
    second = card_method(public_client, "4242 4242 4242 4242").card.fingerprint
    from_id = client.v1.payment_methods.retrieve(pay(client, "pm_card_visa").payment_method).card.fingerprint
    other_number = card_method(public_client, "5555555555554444").card.fingerprint
    assert first == second == from_id and first != other_number
    other = server.client(new_account(server)["publishable_test"])
    assert card_method(other, "4242424242424242").card.fingerprint != first


# ---- declines ------------------------------------------------------------------------------------

DECLINES = [  # (test PaymentMethod, number, code, decline_code, message, advice_code)
    ("pm_card_visa_chargeDeclined", "4000000000000002", "card_declined", "generic_decline",
     "Your card was declined.", "try_again_later"),
    ("pm_card_visa_chargeDeclinedInsufficientFunds", "4000000000009995", "card_declined", "insufficient_funds",
     "Your card has insufficient funds.", "try_again_later"),
    ("pm_card_visa_chargeDeclinedLostCard", "4000000000009987", "card_declined", "lost_card",
     "Your card was declined.", "do_not_try_again"),
    ("pm_card_visa_chargeDeclinedStolenCard", "4000000000009979", "card_declined", "stolen_card",
     "Your card was declined.", "do_not_try_again"),
    ("pm_card_chargeDeclinedExpiredCard", "4000000000000069", "expired_card", "expired_card",
     "Your card has expired.", "confirm_card_data"),
    ("pm_card_chargeDeclinedIncorrectCvc", "4000000000000127", "incorrect_cvc", "incorrect_cvc",
     "Your card's security code is incorrect.", "confirm_card_data"),
    ("pm_card_chargeDeclinedProcessingError", "4000000000000119", "processing_error", "processing_error",
     "An error occurred while processing your card. Try again in a little bit.", "try_again_later"),
    ("pm_card_visa_chargeDeclinedVelocityLimitExceeded", "4000000000006975", "card_declined",
     "card_velocity_exceeded", "Your card was declined for making repeated attempts too frequently or exceeding "
     "its amount limit.", "try_again_later"),
    ("pm_card_chargeCustomerFail", "4000000000000341", "card_declined", "generic_decline",
     "Your card was declined.", "try_again_later"),
    ("pm_card_chargeDeclinedFraudulent", "4100000000000019", "card_declined", "fraudulent",
     "Your card was declined.", None),
    ("pm_card_radarBlock", "4100000000000019", "card_declined", "fraudulent", "Your card was declined.", None),
    ("pm_card_riskLevelHighest", "4000000000004954", "card_declined", "fraudulent", "Your card was declined.", None),
    ("pm_card_cvcCheckFail", "4000000000000101", "incorrect_cvc", "incorrect_cvc",
     "Your card's security code is incorrect.", "confirm_card_data"),
]


def check_declined(client, error: stripe.CardError, code: str, decline_code: str, message: str,
                   advice_code: str | None, last4: str):
    assert error.http_status == 402
    assert error.error.type == "card_error"
    assert (error.code, error.error.decline_code, error.user_message) == (code, decline_code, message)
    assert error.error.to_dict().get("advice_code") == advice_code
    assert error.error.payment_method.card.last4 == last4
    intent = error.error.payment_intent
    assert intent.status == "requires_payment_method" and intent.payment_method is None
    last = intent.last_payment_error
    assert last.type == "card_error" and (last.code, last.decline_code) == (code, decline_code)
    assert last.payment_method.id == error.error.payment_method.id and last.charge == error.error.charge
    stored = client.v1.payment_intents.retrieve(intent.id)  # committed, not only answered
    assert stored.status == "requires_payment_method" and stored.last_payment_error.code == code
    assert stored.latest_charge == error.error.charge
    charge = client.v1.charges.retrieve(error.error.charge)
    assert charge.status == "failed" and charge.paid is False and charge.captured is False
    assert (charge.failure_code, charge.failure_message) == (code, message)
    assert charge.outcome.reason in (decline_code, "highest_risk_level")
    assert charge.outcome.type in ("issuer_declined", "blocked") and charge.outcome.seller_message
    assert charge.payment_method_details.card.last4 == last4
    assert events_of(client, intent.id)[-2:] == ["charge.failed", "payment_intent.payment_failed"]
    return stored


@pytest.mark.parametrize("method, number, code, decline_code, message, advice_code", DECLINES)
def test_declines_by_test_id(client, method, number, code, decline_code, message, advice_code):
    error = declined(client, method)
    check_declined(client, error, code, decline_code, message, advice_code, number[-4:])
    if decline_code == "fraudulent":
        charge = client.v1.charges.retrieve(error.error.charge)
        assert charge.outcome.type == "blocked" and charge.outcome.risk_level == "highest"
        assert charge.outcome.network_status == "not_sent_to_network"


@pytest.mark.parametrize("method, number, code, decline_code, message, advice_code", DECLINES)
def test_declines_by_number(client, public_client, method, number, code, decline_code, message, advice_code):
    created = card_method(public_client, number)
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    with pytest.raises(stripe.CardError) as info:
        public_client.v1.payment_intents.confirm(intent.id, params={"payment_method": created.id,
                                                                    "client_secret": intent.client_secret})
    stored = check_declined(client, info.value, code, decline_code, message, advice_code, number[-4:])
    assert "metadata" not in info.value.error.payment_intent  # the publishable key's view of the intent
    if code in ("expired_card", "incorrect_cvc"):
        assert info.value.param == {"expired_card": "exp_month", "incorrect_cvc": "cvc"}[code]
    again = client.v1.payment_intents.confirm(stored.id, params={"payment_method": "pm_card_visa"})
    assert again.status == "succeeded" and again.last_payment_error is None  # a working card pays it


@pytest.mark.parametrize("token, decline_code", [
    ("tok_visa_chargeDeclined", "generic_decline"), ("tok_chargeDeclined", "generic_decline"),
    ("tok_visa_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ("tok_visa_debit_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ("tok_visa_chargeDeclinedLostCard", "lost_card"), ("tok_visa_chargeDeclinedStolenCard", "stolen_card"),
    ("tok_chargeDeclinedExpiredCard", "expired_card"), ("tok_visa_chargeDeclinedExpiredCard", "expired_card"),
    ("tok_visa_chargeDeclinedFraudulent", "fraudulent"), ("tok_chargeDeclinedIncorrectCvc", "incorrect_cvc"),
    ("tok_visa_chargeDeclinedIncorrectCvc", "incorrect_cvc"),
    ("tok_chargeDeclinedProcessingError", "processing_error"),
    ("tok_visa_chargeDeclinedProcessingError", "processing_error"),
    ("tok_visa_chargeDeclinedVelocityLimitExceeded", "card_velocity_exceeded"),
    ("tok_chargeCustomerFail", "generic_decline"), ("tok_visa_chargeCustomerFail", "generic_decline"),
    ("tok_visa_chargeCustomerFailLostCard", "lost_card"), ("tok_visa_chargeCustomerFailStolenCard", "stolen_card"),
])
def test_decline_tokens(client, token, decline_code):
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", "confirm": True,
                                                 "payment_method_data": {"type": "card", "card": {"token": token}}})
    assert info.value.error.decline_code == decline_code
    assert client.v1.payment_intents.retrieve(info.value.error.payment_intent.id).status == "requires_payment_method"


def test_radar_cards_that_succeed(client):
    elevated = pay(client, "pm_card_riskLevelElevated")
    assert elevated.status == "succeeded"
    outcome = client.v1.charges.retrieve(elevated.latest_charge).outcome
    assert (outcome.type, outcome.risk_level, outcome.reason) == ("manual_review", "elevated", "elevated_risk_level")
    for method in ("pm_card_avsZipFail", "pm_card_avsLine1Fail", "pm_card_avsFail", "pm_card_avsUnchecked",
                   "pm_card_highFraudDisputeScore", "pm_card_createDispute", "pm_card_bypassPending",
                   "pm_card_threeDSecureOptional", "pm_card_amex_threeDSecureNotSupported"):
        assert pay(client, method).status == "succeeded", method


def test_address_checks_of_the_avs_cards(public_client):
    def checks(number):
        return public_client.v1.payment_methods.create(params={
            "type": "card", "card": {"number": number, **FUTURE},
            "billing_details": {"address": {"line1": "1 Main St", "postal_code": "94107"}}}).card.checks

    assert checks("4000000000000036").address_postal_code_check == "fail"
    assert checks("4000000000000028").address_line1_check == "fail"
    both = checks("4000000000000010")
    assert (both.address_line1_check, both.address_postal_code_check) == ("fail", "fail")
    assert checks("4000000000000044").address_postal_code_check == "unavailable"
    assert checks("4242424242424242").address_postal_code_check == "pass"
    assert card_method(public_client, "4000000000000101", cvc="123").card.checks.cvc_check == "fail"
    assert card_method(public_client, "4000000000000101", cvc=None).card.checks.cvc_check is None


def test_cvc_check_fail_card_without_a_cvc_pays(client, public_client):
    created = card_method(public_client, "4000000000000101", cvc=None)
    assert pay(client, created.id).status == "succeeded"


# ---- invalid input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("card, code, param", [
    ({"number": "4242424242424241", **FUTURE, "cvc": "123"}, "incorrect_number", "card[number]"),
    ({"number": "1234", **FUTURE}, "invalid_number", "card[number]"),
    ({"number": "4242abcd42424242", **FUTURE}, "invalid_number", "card[number]"),
    ({"number": "4242424242424242", "exp_month": "13", "exp_year": "2034"}, "invalid_expiry_month",
     "card[exp_month]"),
    ({"number": "4242424242424242", "exp_month": "0", "exp_year": "2034"}, "invalid_expiry_month",
     "card[exp_month]"),
    ({"number": "4242424242424242", "exp_month": "12", "exp_year": "95"}, "invalid_expiry_year",
     "card[exp_year]"),
    ({"number": "4242424242424242", "exp_month": "12", "exp_year": "2001"}, "invalid_expiry_year",
     "card[exp_year]"),
    ({"number": "4242424242424242", "exp_month": "12", "exp_year": "2099"}, "invalid_expiry_year",
     "card[exp_year]"),
    ({"number": "4242424242424242", **FUTURE, "cvc": "99"}, "invalid_cvc", "card[cvc]"),
    ({"number": "378282246310005", **FUTURE, "cvc": "123"}, "invalid_cvc", "card[cvc]"),
    ({"number": "4242424242424242", **FUTURE, "cvc": "12a"}, "invalid_cvc", "card[cvc]"),
])
def test_invalid_card_data(public_client, card, code, param):
    with pytest.raises(stripe.CardError) as info:
        public_client.v1.payment_methods.create(params={"type": "card", "card": card})
    assert info.value.http_status == 402 and info.value.error.type == "card_error"
    assert (info.value.code, info.value.param) == (code, param)
    assert info.value.user_message and card["number"] not in info.value.user_message


def test_a_number_that_is_not_a_test_card_is_refused(public_client, client):
    for number in ("4111111111111111", "4012888888881881", "5425233430109903"):
        with pytest.raises(stripe.CardError) as info:
            card_method(public_client, number)
        assert (info.value.code, info.value.error.decline_code) == ("card_declined", "test_mode_live_card")
        assert "test mode" in info.value.user_message
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method_data": {
            "type": "card", "card": {"number": "4111111111111111", **FUTURE}}})
    assert info.value.error.decline_code == "test_mode_live_card"
    assert info.value.error.payment_intent.id == intent.id
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_missing_and_unknown_card_parameters(public_client, client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        public_client.v1.payment_methods.create(params={"type": "card"})
    assert (info.value.code, info.value.param) == ("missing_required_parameter", "card")
    with pytest.raises(stripe.InvalidRequestError) as info:
        public_client.v1.payment_methods.create(params={"type": "card", "card": {"number": "4242424242424242"}})
    assert info.value.param == "card[exp_month]"
    with pytest.raises(stripe.InvalidRequestError) as info:
        public_client.v1.payment_methods.create(params={"type": "card", "card": {"number": "4242424242424242",
                                                                                  **FUTURE, "colour": "red"}})
    assert (info.value.code, info.value.param) == ("parameter_unknown", "card[colour]")
    with pytest.raises(stripe.InvalidRequestError) as info:
        public_client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_nope"}})
    assert info.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as info:
        pay(client, "pm_card_nope")
    assert info.value.http_status == 404 and info.value.param == "payment_method"


# ---- 3D Secure -----------------------------------------------------------------------------------

THREE_D_SECURE = [  # (test id or number, outcome after Complete: None = succeeds, else decline code)
    ("pm_card_authenticationRequired", None),
    ("pm_card_authenticationRequiredOnSetup", None),
    ("pm_card_authenticationRequiredSetupForOffSession", None),
    ("pm_card_authenticationRequiredChargeDeclinedInsufficientFunds", "insufficient_funds"),
    ("pm_card_threeDSecure2Required", None),
    ("4000008400000027", None),
    ("pm_card_threeDSecureRequiredChargeDeclined", "generic_decline"),
    ("pm_card_threeDSecureRequired", None),
    ("pm_card_adaptive3dsChallenge", None),
]


def _method_of(client, public_client, card: str) -> str:
    return card if card.startswith("pm_") else card_method(public_client, card).id


@pytest.mark.parametrize("card, after", THREE_D_SECURE)
def test_three_d_secure_complete_with_a_return_url(server, client, public_client, card, after):
    return_url = server.url + "/healthz?order=42"
    intent = pay(client, _method_of(client, public_client, card), return_url=return_url)
    assert intent.status == "requires_action" and intent.next_action.type == "redirect_to_url"
    assert intent.next_action.redirect_to_url.return_url == return_url
    url = authentication_page(intent)
    page = httpx.get(url)
    assert page.status_code == 200
    assert "Complete authentication" in page.text and "Fail authentication" in page.text
    assert "$10.99" in page.text and "ending in" in page.text
    response = authenticate(url, "complete")
    back = returned_with(response)
    assert back["payment_intent"] == intent.id and back["order"] == "42"
    assert back["payment_intent_client_secret"] == intent.client_secret
    stored = client.v1.payment_intents.retrieve(intent.id)
    if after is None:
        assert back["redirect_status"] == "succeeded" and stored.status == "succeeded"
        secure = client.v1.charges.retrieve(stored.latest_charge).payment_method_details.card.three_d_secure
        assert secure.result == "authenticated" and secure.authentication_flow == "challenge"
        assert events_of(client, intent.id)[-3:] == ["payment_intent.requires_action", "charge.succeeded",
                                                     "payment_intent.succeeded"]
    else:
        assert back["redirect_status"] == "failed" and stored.status == "requires_payment_method"
        assert stored.last_payment_error.decline_code == after and stored.last_payment_error.type == "card_error"
        assert client.v1.charges.retrieve(stored.latest_charge).status == "failed"
    again = authenticate(url, "fail")  # a second press changes nothing
    assert returned_with(again)["redirect_status"] == back["redirect_status"]
    assert client.v1.payment_intents.retrieve(intent.id).status == stored.status


def test_three_d_secure_fail(server, client):
    intent = pay(client, "pm_card_authenticationRequired", return_url=server.url + "/healthz")
    response = authenticate(authentication_page(intent), "fail")
    assert returned_with(response)["redirect_status"] == "failed"
    stored = client.v1.payment_intents.retrieve(intent.id)
    assert stored.status == "requires_payment_method" and stored.payment_method is None
    assert stored.last_payment_error.code == "payment_intent_authentication_failure"
    assert stored.last_payment_error.payment_method.card.last4 == "3184"
    assert stored.latest_charge is None
    assert events_of(client, intent.id)[-1] == "payment_intent.payment_failed"


def test_three_d_secure_without_a_return_url_uses_the_sdk_action(client, public_client):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    confirmed = public_client.v1.payment_intents.confirm(intent.id, params={
        "payment_method": card_method(public_client, "4000000000003220").id, "client_secret": intent.client_secret})
    assert confirmed.next_action.type == "use_stripe_sdk"
    sdk = confirmed.next_action.use_stripe_sdk
    assert sdk.type == "three_d_secure_redirect" and sdk.source.startswith("src_")
    page = httpx.get(sdk.stripe_js)
    assert "frame-ancestors *" in page.headers["content-security-policy"]  # kassa.js may show it in a frame
    finished = authenticate(sdk.stripe_js, "complete")
    assert finished.status_code == 200 and "you may close this window" in finished.text
    assert "postMessage" in finished.text and intent.client_secret not in finished.text
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_three_d_secure_window_ends_after_ten_minutes(server):
    client = server.client(new_account(server)["secret_test"])
    intent = pay(client, "pm_card_authenticationRequired", return_url=server.url + "/healthz")
    advance(client, 601)
    stored = client.v1.payment_intents.retrieve(intent.id)
    assert stored.status == "requires_payment_method"
    assert stored.last_payment_error.code == "payment_intent_authentication_failure"
    page = httpx.get(authentication_page(intent))
    assert "expired" in page.text.lower() and "Complete authentication" not in page.text


def test_three_d_secure_cards_that_need_no_challenge(client):
    frictionless = client.v1.payment_intents.create(params={
        "amount": 1099, "currency": "usd", "confirm": True,
        "payment_method_data": {"type": "card", "card": {"number": "4000000032200000", **FUTURE}}})
    assert frictionless.status == "succeeded"
    secure = client.v1.charges.retrieve(frictionless.latest_charge).payment_method_details.card.three_d_secure
    assert secure.authentication_flow == "frictionless" and secure.result == "authenticated"
    error = declined(client, "pm_card_threeDSecureRequiredProcessingError")
    assert error.code == "card_declined"
    forced = pay(client, "pm_card_visa", payment_method_options={"card": {"request_three_d_secure": "any"}})
    assert forced.status == "requires_action"
    assert pay(client, "pm_card_amex", payment_method_options={"card": {"request_three_d_secure": "any"}}
               ).status == "succeeded"  # Amex's test card does not support 3D Secure


def test_error_on_requires_action(client):
    error = declined(client, "pm_card_authenticationRequired", error_on_requires_action=True)
    assert (error.code, error.error.decline_code) == ("authentication_required", "authentication_not_handled")
    stored = client.v1.payment_intents.retrieve(error.error.payment_intent.id)
    assert stored.status == "requires_payment_method" and stored.last_payment_error.code == "authentication_required"
    assert pay(client, "pm_card_visa", error_on_requires_action=True).status == "succeeded"


def test_off_session(client):
    error = declined(client, "pm_card_authenticationRequired", off_session=True)
    assert (error.code, error.error.decline_code) == ("authentication_required", "authentication_required")
    assert client.v1.charges.retrieve(error.error.charge).status == "failed"
    assert pay(client, "pm_card_authenticationRequiredSetupForOffSession", off_session=True).status == "succeeded"
    assert declined(client, "pm_card_authenticationRequiredOnSetup", off_session=True).code == \
        "authentication_required"


def test_capture_of_a_card_in_requires_action_is_refused(client):
    intent = pay(client, "pm_card_authenticationRequired", capture_method="manual")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.capture(intent.id)
    assert info.value.code == "payment_intent_unexpected_state"


def test_amazon_pay_page_does_not_take_a_card_token(server, client):
    intent = pay(client, "pm_card_authenticationRequired", return_url=server.url + "/healthz")
    token = authentication_page(intent).rsplit("/", 1)[1]
    response = httpx.post(server.url + "/amazon_pay/test/" + token, data={"decision": "authorize"})
    assert response.status_code == 404
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_action"


# ---- capture, cancel, hold -------------------------------------------------------------------------

def test_manual_capture_and_partial_capture(client):
    intent = pay(client, "pm_card_visa", capture_method="manual")
    assert intent.status == "requires_capture" and intent.amount_capturable == 1099
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.captured is False and charge.payment_method_details.card.capture_before >= charge.created + 7 * 86400
    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 800})
    assert captured.status == "succeeded" and captured.amount_received == 800
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.captured is True and charge.amount_captured == 800 and charge.amount_refunded == 299
    assert events_of(client, intent.id)[-2:] == ["charge.captured", "payment_intent.succeeded"]


def test_card_options_manual_capture(client):
    intent = pay(client, "pm_card_mastercard", payment_method_options={"card": {"capture_method": "manual"}})
    assert intent.status == "requires_capture"


def test_cancel_releases_the_hold(client):
    intent = pay(client, "pm_card_visa", capture_method="manual")
    canceled = client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "requested_by_customer"})
    assert canceled.status == "canceled" and canceled.amount_capturable == 0
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 1099


def test_hold_ends_after_seven_days(server):
    client = server.client(new_account(server)["secret_test"])
    intent = pay(client, "pm_card_visa", capture_method="manual")
    advance(client, 7 * 24 * 3600 + 1)
    stored = client.v1.payment_intents.retrieve(intent.id)
    assert stored.status == "canceled" and stored.cancellation_reason == "automatic"


# ---- refunds -------------------------------------------------------------------------------------

def test_card_refunds_succeed_at_once(client):
    intent = pay(client, "pm_card_visa")
    partial = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
    assert partial.status == "succeeded" and partial.amount == 500
    rest = client.v1.refunds.create(params={"charge": intent.latest_charge})
    assert rest.status == "succeeded" and rest.amount == 599
    assert client.v1.charges.retrieve(intent.latest_charge).refunded is True
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    assert info.value.code == "charge_already_refunded"


def test_refund_fail_card_fails_later(server):
    client = server.client(new_account(server)["secret_test"])
    for intent in (pay(client, "pm_card_refundFail"), client.v1.payment_intents.create(params={
            "amount": 1099, "currency": "usd", "confirm": True,
            "payment_method_data": {"type": "card", "card": {"number": "4000000000005126", **FUTURE}}})):
        refund = client.v1.refunds.create(params={"payment_intent": intent.id})
        assert refund.status == "succeeded"
        assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 1099
        advance(client, 5)
        failed = _wait_for_status(client, refund.id, "failed")
        assert failed.failure_reason == "expired_or_canceled_card"
        assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 0
        types = [event.type for event in client.v1.events.list(params={"limit": 20}).data
                 if event.data.object.to_dict().get("id") == refund.id]
        assert "refund.failed" in types and "refund.created" in types


def test_pending_refund_card_settles_later(server):
    client = server.client(new_account(server)["secret_test"])
    refund = client.v1.refunds.create(params={"payment_intent": pay(client, "pm_card_pendingRefund").id})
    assert refund.status == "pending"
    advance(client, 5)
    assert _wait_for_status(client, refund.id, "succeeded").status == "succeeded"


def _wait_for_status(client, refund_id: str, status: str):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        refund = client.v1.refunds.retrieve(refund_id)
        if refund.status == status:
            return refund
        time.sleep(0.2)
    raise AssertionError(f"refund {refund_id} is still {refund.status}")


# ---- idempotency, events, webhooks ----------------------------------------------------------------

def test_a_declined_create_replays_the_same_402(client):
    key = "card-decline-" + uuid.uuid4().hex
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", "confirm": True,
                                                 "payment_method": "pm_card_visa_chargeDeclined"},
                                         options={"idempotency_key": key})
    first = info.value
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", "confirm": True,
                                                 "payment_method": "pm_card_visa_chargeDeclined"},
                                         options={"idempotency_key": key})
    again = info.value
    assert again.http_status == 402 and again.headers.get("idempotent-replayed") == "true"
    assert again.json_body == first.json_body
    assert again.error.payment_intent.id == first.error.payment_intent.id  # one intent, not two
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"}, options={"idempotency_key": key})
    assert info.value.error.type == "idempotency_error"


def test_a_declined_confirm_replays_the_same_402(client):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    key = "card-confirm-" + intent.id
    bodies = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as info:
            client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa_chargeDeclined"},
                                              options={"idempotency_key": key})
        bodies.append(info.value.json_body)
    assert bodies[0] == bodies[1]
    assert events_of(client, intent.id).count("charge.failed") == 1


def test_events_of_a_card_payment(client):
    intent = pay(client, "pm_card_visa")
    assert events_of(client, intent.id) == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]
    error = declined(client, "pm_card_visa_chargeDeclinedInsufficientFunds")
    failed = [event for event in client.v1.events.list(params={"type": "payment_intent.payment_failed"}).data
              if event.data.object.id == error.error.payment_intent.id]
    assert failed and failed[0].data.object.last_payment_error.decline_code == "insufficient_funds"
    assert "previous_attributes" not in failed[0].data  # *.updated events only, as Stripe


def test_card_events_arrive_signed(server):
    client = server.client(new_account(server)["secret_test"])
    receiver = Receiver()
    try:
        hook = client.v1.webhook_endpoints.create(params={"url": receiver.url,
                                                          "enabled_events": ["charge.failed", "payment_intent.created",
                                                                             "payment_intent.payment_failed"]})
        error = declined(client, "pm_card_visa_chargeDeclined")
        receiver.wait_for(lambda: len(receiver.received) >= 3)
        events = receiver.events(hook.secret)
        assert sorted(event.type for event in events) == ["charge.failed", "payment_intent.created",
                                                          "payment_intent.payment_failed"]
        failed = next(event for event in events if event.type == "charge.failed")
        assert failed.data.object.id == error.error.charge and failed.data.object.failure_code == "card_declined"
    finally:
        receiver.close()


# ---- which methods an intent offers; live mode; accounts -------------------------------------------

def test_automatic_methods_by_currency(server, client):
    assert client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"}
                                            ).payment_method_types == ["card", "amazon_pay"]
    euro = client.v1.payment_intents.create(params={"amount": 1099, "currency": "eur",
                                                    "automatic_payment_methods": {"enabled": True}})
    assert euro.payment_method_types == ["card"]
    assert pay(client, "pm_card_visa", currency="eur").status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 1099, "currency": "eur",
                                                 "payment_method_types": ["amazon_pay"]})
    assert info.value.code == "payment_intent_invalid_currency"
    only_cards = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd",
                                                          "payment_method_types": ["card"]})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.confirm(only_cards.id, params={"payment_method_data": {"type": "amazon_pay"},
                                                                 "return_url": "https://shop.example/"})
    assert info.value.code == "payment_intent_incompatible_payment_method"
    amazon_only = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd",
                                                           "payment_method_types": ["amazon_pay"]})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.confirm(amazon_only.id, params={"payment_method": "pm_card_visa"})
    assert info.value.code == "payment_intent_incompatible_payment_method"


def test_amazon_pay_still_needs_a_return_url_on_an_automatic_intent(client):
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method_data": {"type": "amazon_pay"}})
    assert info.value.code == "payment_intent_redirect_confirmation_without_return_url"


def test_live_mode_has_no_cards(server):
    keys = new_account(server)
    live = server.client(keys["secret_live"])
    live_public = server.client(keys["publishable_live"])
    with pytest.raises(stripe.InvalidRequestError) as info:
        card_method(live_public, "4242424242424242")
    assert info.value.http_status == 400 and info.value.code == "payment_method_unactivated"
    with pytest.raises(stripe.InvalidRequestError) as info:
        live.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", "payment_method_types": ["card"]})
    assert (info.value.code, info.value.param) == ("payment_method_unactivated", "payment_method_types[0]")
    automatic = live.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    assert automatic.payment_method_types == ["amazon_pay"]


def test_a_card_of_one_account_is_invisible_to_another(server, client, public_client):
    created = card_method(public_client, "4242424242424242")
    other = server.client(new_account(server)["secret_test"])
    with pytest.raises(stripe.InvalidRequestError) as info:
        other.v1.payment_methods.retrieve(created.id)
    assert info.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as info:
        pay(other, created.id)
    assert info.value.http_status == 404


def test_a_card_method_made_before_its_unit_takes_the_units_time(server):
    """The PaymentMethod of a confirmation's card data is made before its unit of work; under a test
    clock it still carries the clock's time, as the intent and the charge do."""
    client = server.client(new_account(server)["secret_test"])
    advance(client, 3 * 24 * 3600)
    before = time.time()
    for source in ({"payment_method": "pm_card_visa"},
                   {"payment_method_data": {"type": "card", "card": {"number": "4242424242424242", **FUTURE}}}):
        intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", "confirm": True,
                                                          **source})
        method = client.v1.payment_methods.retrieve(intent.payment_method)
        charge = client.v1.charges.retrieve(intent.latest_charge)
        assert intent.status == "succeeded"
        assert method.created == charge.created == intent.created >= before + 3 * 24 * 3600 - 1


def test_refused_card_data_answers_after_the_confirmations_earlier_checks(client):
    """Card data is read before the unit, its refusal raised inside it where it always was: an
    intent that cannot be confirmed says so first, and a refusal names the intent and changes nothing."""
    paid = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", "confirm": True,
                                                    "payment_method": "pm_card_visa"})
    bad_card = {"payment_method_data": {"type": "card", "card": {"number": "4242424242424241", **FUTURE}}}
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.confirm(paid.id, params=bad_card)
    assert info.value.code == "payment_intent_unexpected_state"
    intent = client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd"})
    with pytest.raises(stripe.CardError) as refused:
        client.v1.payment_intents.confirm(intent.id, params=bad_card)
    assert refused.value.code == "incorrect_number" and refused.value.error.payment_intent.id == intent.id
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", "confirm": True,
                                                 "payment_method": "pm_card_nope"})
    assert (unknown.value.http_status, unknown.value.code) == (404, "resource_missing")
    assert unknown.value.param == "payment_method"
