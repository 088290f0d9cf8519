"""PaymentIntent create, retrieve, update, cancel through the official stripe package."""

from __future__ import annotations

import pytest
import stripe

from test_auth import new_account


def create(client, **params):
    return client.v1.payment_intents.create(params={"amount": 1099, "currency": "usd", **params})


def test_create_has_defaults_and_nulls(client):
    intent = create(client)
    assert intent.id.startswith("pi_")
    assert intent.object == "payment_intent"
    assert intent.status == "requires_payment_method"
    assert intent.amount == 1099 and intent.currency == "usd"
    assert intent.amount_capturable == 0 and intent.amount_received == 0
    assert intent.client_secret.startswith(intent.id + "_secret_")
    assert intent.capture_method == "automatic_async"
    assert intent.confirmation_method == "automatic"
    # Stripe's default (no types given): automatic payment methods, every method the account allows
    assert intent.payment_method_types == ["card", "amazon_pay"]
    assert intent.automatic_payment_methods.to_dict() == {"enabled": True}
    assert intent.livemode is False
    assert intent.metadata.to_dict() == {}
    for unset in ("customer", "description", "canceled_at", "cancellation_reason", "last_payment_error",
                  "latest_charge", "next_action", "payment_method", "receipt_email", "shipping",
                  "statement_descriptor", "setup_future_usage"):
        assert intent[unset] is None, unset
    assert intent.last_response.request_id.startswith("req_")


def test_create_with_every_parameter(server):
    client = server.client(new_account(server, "DE")["secret_test"])
    intent = create(
        client, amount=2000, currency="EUR", description="Order 42", customer="cus_123",
        metadata={"order_id": "42", "channel": "web"}, receipt_email="buyer@example.com",
        capture_method="manual", confirmation_method="automatic", payment_method_types=["amazon_pay"],
        payment_method_options={"amazon_pay": {"capture_method": "manual"}},
        setup_future_usage="off_session", statement_descriptor="KASSA SHOP",
        statement_descriptor_suffix="ORDER42", transfer_group="group_1",
        shipping={"name": "Ada Lovelace", "phone": "+15555550100",
                  "address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
                              "country": "US"}},
    )
    assert intent.currency == "eur"
    assert intent.description == "Order 42"
    assert intent.customer == "cus_123"
    assert intent.metadata.to_dict() == {"order_id": "42", "channel": "web"}
    assert intent.receipt_email == "buyer@example.com"
    assert intent.capture_method == "manual"
    assert intent.payment_method_options.to_dict() == {"amazon_pay": {"capture_method": "manual"}}
    assert intent.setup_future_usage == "off_session"
    assert intent.statement_descriptor == "KASSA SHOP"
    assert intent.shipping.name == "Ada Lovelace"
    assert intent.shipping.address.line1 == "1 Main St"
    assert intent.shipping.address.line2 is None
    assert intent.shipping.carrier is None


def test_automatic_payment_methods(client):
    intent = create(client, automatic_payment_methods={"enabled": True})
    assert intent.automatic_payment_methods.to_dict() == {"enabled": True}
    assert intent.payment_method_types == ["card", "amazon_pay"]


def test_zero_decimal_currency(server):
    client = server.client(new_account(server, "DE")["secret_test"])
    intent = create(client, amount=500, currency="jpy")
    assert intent.amount == 500 and intent.currency == "jpy"
    with pytest.raises(stripe.InvalidRequestError) as info:
        create(client, amount=49, currency="jpy")
    assert info.value.code == "amount_too_small" and info.value.param == "amount"


def test_retrieve_and_isolation_by_id(client):
    intent = create(client)
    fetched = client.v1.payment_intents.retrieve(intent.id)
    assert fetched.to_dict() == intent.to_dict()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.retrieve("pi_doesnotexist")
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"


def test_update_fields_and_metadata(client):
    intent = create(client, metadata={"a": "1", "b": "2"}, description="first")
    updated = client.v1.payment_intents.update(
        intent.id, params={"amount": 1500, "metadata": {"b": "", "c": "3"}, "description": "second",
                           "receipt_email": "x@example.com"})
    assert updated.amount == 1500
    assert updated.metadata.to_dict() == {"a": "1", "c": "3"}
    assert updated.description == "second"
    assert updated.receipt_email == "x@example.com"
    cleared = client.v1.payment_intents.update(intent.id, params={"description": "", "metadata": ""})
    assert cleared.description is None
    assert cleared.metadata.to_dict() == {}
    assert client.v1.payment_intents.retrieve(intent.id).amount == 1500


def test_update_validates(client):
    intent = create(client)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.update(intent.id, params={"amount": 10})
    assert info.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.update(intent.id, params={"currency": "xyz"})
    assert info.value.param == "currency"


def test_cancel(client):
    intent = create(client)
    canceled = client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "requested_by_customer"})
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"
    assert isinstance(canceled.canceled_at, int) and canceled.canceled_at >= intent.created
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.cancel(intent.id)
    assert info.value.code == "payment_intent_unexpected_state"
    assert info.value.http_status == 400
    # As on Stripe, the error carries the PaymentIntent itself.
    assert info.value.error.payment_intent.id == intent.id
    assert info.value.error.payment_intent.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.update(intent.id, params={"amount": 2000})
    assert info.value.code == "payment_intent_unexpected_state"
    # As on Stripe, bookkeeping fields stay editable after the payment is over.
    late = client.v1.payment_intents.update(intent.id, params={"description": "late", "metadata": {"o": "1"}})
    assert late.description == "late" and late.metadata["o"] == "1" and late.status == "canceled"


def test_cancel_rejects_unknown_reason(client):
    intent = create(client)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "bored"})
    assert info.value.param == "cancellation_reason"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


@pytest.mark.parametrize("params, code, param", [
    ({"currency": "usd"}, "missing_required_parameter", "amount"),
    ({"amount": 1099}, "missing_required_parameter", "currency"),
    ({"amount": 49, "currency": "usd"}, "amount_too_small", "amount"),
    ({"amount": 29, "currency": "gbp"}, "amount_too_small", "amount"),
    ({"amount": 100_000_000, "currency": "usd"}, "amount_too_large", "amount"),
    ({"amount": "12.5", "currency": "usd"}, "parameter_invalid_integer", "amount"),
    ({"amount": -100, "currency": "usd"}, "amount_too_small", "amount"),
    ({"amount": 1099, "currency": "usd", "colour": "red"}, "parameter_unknown", "colour"),
    ({"amount": 1099, "currency": "usd", "shipping": {"name": "A", "address": {"line1": "x"}, "boat": "1"}},
     "parameter_unknown", "shipping[boat]"),
    ({"amount": 1099, "currency": "usd", "capture_method": "later"}, "parameter_invalid_string", "capture_method"),
    ({"amount": 1099, "currency": "usd", "payment_method_types": ["klarna"]},
     "payment_intent_invalid_parameter", "payment_method_types[0]"),
    ({"amount": 1099, "currency": "usd", "receipt_email": "not-an-email"}, "email_invalid", "receipt_email"),
    ({"amount": 1099, "currency": "usd", "automatic_payment_methods": {"enabled": "yes"}},
     "parameter_invalid_string", "automatic_payment_methods[enabled]"),
])
def test_create_errors(client, params, code, param):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params=params)
    assert info.value.http_status == 400
    assert info.value.code == code
    assert info.value.param == param
    assert info.value.error.type == "invalid_request_error"
    assert info.value.error.message


def test_amazon_pay_currency_depends_on_the_account_country(server, client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        create(client, currency="eur", payment_method_types=["amazon_pay"])
    assert info.value.code == "payment_intent_invalid_currency"
    assert info.value.param == "currency"
    assert info.value.http_status == 400
    german = server.client(new_account(server, "DE")["secret_test"])
    for currency in ("eur", "gbp", "usd", "chf"):
        assert create(german, currency=currency, payment_method_types=["amazon_pay"]).currency == currency
    with pytest.raises(stripe.InvalidRequestError) as info:
        create(german, currency="cad", payment_method_types=["amazon_pay"])
    assert info.value.code == "payment_intent_invalid_currency"


def test_unknown_currency(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        create(client, currency="zzz")
    assert info.value.param == "currency"
    assert "Invalid currency" in info.value.user_message


def test_metadata_limits(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        create(client, metadata={f"k{i}": "v" for i in range(51)})
    assert info.value.param == "metadata"
    with pytest.raises(stripe.InvalidRequestError) as info:
        create(client, metadata={"k" * 41: "v"})
    assert info.value.param.startswith("metadata[")
    with pytest.raises(stripe.InvalidRequestError) as info:
        create(client, metadata={"k": "v" * 501})
    assert info.value.param == "metadata[k]"
    assert create(client, metadata={f"k{i}": "v" * 500 for i in range(50)}).metadata["k49"] == "v" * 500


def test_both_list_styles_are_accepted(server):
    import httpx
    for body in ("amount=1099&currency=usd&payment_method_types[]=amazon_pay",
                 "amount=1099&currency=usd&payment_method_types[0]=amazon_pay"):
        response = httpx.post(server.url + "/v1/payment_intents", content=body, auth=(server.secret_key, ""),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200, response.text
        assert response.json()["payment_method_types"] == ["amazon_pay"]
        assert response.headers["request-id"].startswith("req_")
