"""Amazon Pay API v2 JSON → kassa's typed views (`kassa.methods.amazon_pay.api_types`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kassa.methods.amazon_pay import api_types as t
from kassa.methods.amazon_pay.api_types import AmazonPayFormatError, Price


@pytest.mark.parametrize("amount, currency, wire", [
    (1099, "usd", {"amount": "10.99", "currencyCode": "USD"}),
    (5, "usd", {"amount": "0.05", "currencyCode": "USD"}),
    (100000, "eur", {"amount": "1000.00", "currencyCode": "EUR"}),
    (500, "jpy", {"amount": "500", "currencyCode": "JPY"}),
    (1230, "kwd", {"amount": "1.230", "currencyCode": "KWD"}),
    (0, "gbp", {"amount": "0.00", "currencyCode": "GBP"}),
])
def test_amounts_to_amazon(amount, currency, wire):
    assert t.to_amazon_price(amount, currency) == wire
    assert t.parse_price(wire, "x") == Price(amount, currency)


@pytest.mark.parametrize("amount, currency", [(-1, "usd"), (True, "usd"), (1.5, "usd"), (100, "us"), (100, None)])
def test_bad_amounts_are_refused_on_the_way_out(amount, currency):
    with pytest.raises(ValueError):
        t.to_amazon_price(amount, currency)


@pytest.mark.parametrize("wire, amount", [
    ({"amount": "10.9", "currencyCode": "USD"}, 1090),
    ({"amount": "10.990", "currencyCode": "USD"}, 1099),
    ({"amount": "10", "currencyCode": "USD"}, 1000),
    ({"amount": "14.00", "currencyCode": "usd"}, 1400),
])
def test_amazon_amounts_in_other_spellings(wire, amount):
    assert t.parse_price(wire, "chargeAmount").amount == amount


@pytest.mark.parametrize("wire, words", [
    ({"amount": "10.999", "currencyCode": "USD"}, "more decimals"),
    ({"amount": "500.5", "currencyCode": "JPY"}, "more decimals"),
    ({"amount": "1e3", "currencyCode": "USD"}, "decimal string"),
    ({"amount": "-1.00", "currencyCode": "USD"}, "decimal string"),
    ({"amount": "", "currencyCode": "USD"}, "decimal string"),
    ({"amount": None, "currencyCode": "USD"}, "decimal string"),
    ({"amount": "1.00"}, "currencyCode"),
    ({"amount": "1.00", "currencyCode": "DOLLARS"}, "currencyCode"),
    ("1.00", "price object"),
])
def test_malformed_amazon_amounts_are_refused_with_the_field_named(wire, words):
    with pytest.raises(AmazonPayFormatError, match=words) as caught:
        t.parse_price(wire, "chargeAmount")
    assert "chargeAmount" in str(caught.value)


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["usd", "eur", "jpy", "kwd", "gbp", "chf"]))
def test_amounts_round_trip(amount, currency):
    assert t.parse_price(t.to_amazon_price(amount, currency), "x") == Price(amount, currency)


SESSION = {
    "checkoutSessionId": "bd504926-f659-4ad7-a1a9-9a747aaf5275",
    "webCheckoutDetails": {"checkoutReviewReturnUrl": None, "checkoutResultReturnUrl": "https://a.com/done",
                           "amazonPayRedirectUrl": "https://apay-us.amazon.com/checkout?amazonCheckoutSessionId=bd50"},
    "paymentDetails": {"paymentIntent": "Authorize", "canHandlePendingAuthorization": False,
                       "chargeAmount": {"amount": "14.00", "currencyCode": "USD"}, "totalOrderAmount": None},
    "chargePermissionId": None, "chargeId": None,
    "statusDetails": {"state": "Open", "reasonCode": None, "reasonDescription": None,
                      "lastUpdatedTimestamp": "20191015T204327Z"},
    "buyer": None, "shippingAddress": None, "constraints": [], "creationTimestamp": "20191015T204313Z",
    "someFieldAmazonAddsLater": {"nested": [1, 2]},
}


def test_checkout_session():
    session = t.parse_checkout_session(SESSION)
    assert session.id == "bd504926-f659-4ad7-a1a9-9a747aaf5275"
    assert session.state == t.SESSION_OPEN and session.status.reason_code is None
    assert session.redirect_url.startswith("https://apay-us.amazon.com/")
    assert session.charge_amount == Price(1400, "usd") and session.payment_intent == "Authorize"
    assert session.charge_id is None and session.charge_permission_id is None


def test_completed_and_canceled_sessions():
    completed = t.parse_checkout_session({**SESSION, "chargeId": "S01-1-1-C1", "chargePermissionId": "S01-1-1",
                                          "statusDetails": {"state": "Completed"}})
    assert (completed.state, completed.charge_id) == ("Completed", "S01-1-1-C1")
    assert completed.charge_permission_id == "S01-1-1"
    canceled = t.parse_checkout_session({"checkoutSessionId": "x", "statusDetails": {
        "state": "Canceled", "reasonCode": "BuyerCanceled", "reasonDescription": "The buyer canceled"}})
    assert canceled.status == t.Status("Canceled", "BuyerCanceled", "The buyer canceled")
    assert canceled.redirect_url is None and canceled.charge_amount is None


@pytest.mark.parametrize("change, words", [
    ({"checkoutSessionId": None}, "checkoutSessionId"),
    ({"checkoutSessionId": 7}, "checkoutSessionId"),
    ({"statusDetails": None}, "statusDetails"),
    ({"statusDetails": {"state": "Pending"}}, "unknown Checkout Session state 'Pending'"),
    ({"statusDetails": {}}, "statusDetails.state"),
    ({"webCheckoutDetails": {"amazonPayRedirectUrl": 5}}, "webCheckoutDetails.amazonPayRedirectUrl"),
    ({"paymentDetails": {"chargeAmount": {"amount": "x", "currencyCode": "USD"}}}, "paymentDetails.chargeAmount"),
])
def test_checkout_session_errors_name_the_field(change, words):
    with pytest.raises(AmazonPayFormatError, match=words):
        t.parse_checkout_session({**SESSION, **change})


def test_not_an_object():
    for parse in (t.parse_checkout_session, t.parse_charge, t.parse_refund):
        with pytest.raises(AmazonPayFormatError, match="JSON object"):
            parse(["not", "an", "object"])


CHARGE = {
    "chargeId": "P21-1111111-1111111-C111111", "chargePermissionId": "P21-1111111-1111111",
    "chargeAmount": {"amount": "14.00", "currencyCode": "USD"},
    "captureAmount": {"amount": "10.00", "currencyCode": "USD"},
    "refundedAmount": {"amount": "1.00", "currencyCode": "USD"},
    "convertedAmount": None, "conversionRate": None, "softDescriptor": "Descriptor",
    "merchantMetadata": {"merchantReferenceId": "pi_1"},
    "statusDetails": {"state": "Captured", "reasonCode": None, "reasonDescription": None,
                      "lastUpdatedTimestamp": "20190714T155300Z"},
    "creationTimestamp": "20190714T155300Z", "expirationTimestamp": "20190715T155300Z",
    "releaseEnvironment": "Sandbox",
}


@pytest.mark.parametrize("state", sorted(t.CHARGE_STATES))
def test_charge_states(state):
    charge = t.parse_charge({**CHARGE, "statusDetails": {"state": state, "reasonCode": "SoftDeclined"}})
    assert charge.state == state and charge.status.reason_code == "SoftDeclined"


def test_charge_amounts():
    charge = t.parse_charge(CHARGE)
    assert charge.id == "P21-1111111-1111111-C111111" and charge.charge_permission_id == "P21-1111111-1111111"
    amounts = (charge.charge_amount.amount, charge.capture_amount.amount, charge.refunded_amount.amount)
    assert amounts == (1400, 1000, 100)
    bare = t.parse_charge({**CHARGE, "captureAmount": None, "refundedAmount": None})
    assert bare.capture_amount is None and bare.refunded_amount is None


@pytest.mark.parametrize("change, words", [
    ({"chargeId": ""}, "chargeId"),
    ({"chargeAmount": None}, "chargeAmount"),
    ({"captureAmount": {"amount": "1.001", "currencyCode": "USD"}}, "captureAmount"),
    ({"statusDetails": {"state": "Completed"}}, "unknown Charge state"),
])
def test_charge_errors(change, words):
    with pytest.raises(AmazonPayFormatError, match=words):
        t.parse_charge({**CHARGE, **change})


REFUND = {"refundId": "P21-1111111-1111111-R111111", "chargeId": "P21-1111111-1111111-C111111",
          "refundAmount": {"amount": "14.00", "currencyCode": "USD"}, "softDescriptor": "Descriptor",
          "creationTimestamp": "20190714T155300Z",
          "statusDetails": {"state": "RefundInitiated", "reasonCode": None, "reasonDescription": None,
                            "lastUpdatedTimestamp": "20190714T155300Z"},
          "releaseEnvironment": "Sandbox"}


@pytest.mark.parametrize("state", sorted(t.REFUND_STATES))
def test_refunds(state):
    refund = t.parse_refund({**REFUND, "statusDetails": {"state": state}})
    assert (refund.id, refund.charge_id, refund.state) == ("P21-1111111-1111111-R111111", "P21-1111111-1111111-C111111",
                                                           state)
    assert refund.refund_amount == Price(1400, "usd")


@pytest.mark.parametrize("change, words", [({"chargeId": None}, "chargeId"), ({"refundAmount": {}}, "refundAmount"),
                                           ({"statusDetails": {"state": "Pending"}}, "unknown Refund state")])
def test_refund_errors(change, words):
    with pytest.raises(AmazonPayFormatError, match=words):
        t.parse_refund({**REFUND, **change})


def test_errors():
    assert t.parse_error({"reasonCode": "InvalidChargeStatus", "message": "nope"}, 422) == t.ErrorBody(
        "InvalidChargeStatus", "nope")
    assert t.parse_error({"reasonCode": "TooManyRequests"}, 429) == t.ErrorBody("TooManyRequests", "")
    assert t.parse_error(None, 502).reason_code == "HTTP502"
    assert t.parse_error({"error": "x"}, 500).reason_code == "HTTP500"
