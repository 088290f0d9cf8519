"""The live Amazon Pay client and connector, against the local double of Amazon Pay API v2.

The double verifies every request's signature, so each passing call is also a signing check.
"""

from __future__ import annotations

import asyncio
import functools
import json

import httpx
import pytest

from doubles.amazon_pay_api import AmazonPayDouble, ApiError, generate_key_pair, running
from kassa.domain.errors import InvalidRequest, PaymentFailed
from kassa.domain.ids import new_id
from kassa.methods.amazon_pay import signing
from kassa.methods.amazon_pay.config import LiveConfig
from kassa.methods.amazon_pay.live import (
    AUTHORIZED,
    CANCELED,
    DECLINED,
    DECLINES,
    CHECKOUT_PATH,
    PENDING,
    RETURN_PATH,
    SessionMismatch,
    AmazonPayClient,
    AmazonPayError,
    AmazonPayUnavailable,
    LiveAmazonPay,
    idempotency_key,
)
from kassa.methods.amazon_pay.notifications import NotificationVerifier
from kassa.methods.base import AuthorizationRequest, SavedCharge

KEY_ID = "AFVX7ULWSGBZ5535PCUQOY7B"
NAMED_KEY_ID = "SANDBOX-AFVX7ULWSGBZ5535PCUQOY7B"
PEM, PUBLIC = generate_key_pair()
OTHER_PEM, _ = generate_key_pair()


@pytest.fixture(scope="module")
def double():
    with running(AmazonPayDouble({KEY_ID: PUBLIC, NAMED_KEY_ID: PUBLIC})) as served:
        yield served


@pytest.fixture(autouse=True)
def _reset(request):
    if "double" in request.fixturenames:
        served = request.getfixturevalue("double")
        served.authorization, served.decline_reason = "approve", "HardDeclined"


@functools.lru_cache(maxsize=None)
def _config(items: tuple) -> LiveConfig:
    return LiveConfig(**dict(items))


def config(**changes) -> LiveConfig:
    """The test account's configuration (cached: loading a private key takes tens of milliseconds)."""
    values = dict(public_key_id=KEY_ID, store_id="amzn1.application-oa2-client.kassatest", merchant_id="A1KASSADOUBLE",
                  region="us", sandbox=True, private_key_pem=PEM)
    values.update(changes)
    return _config(tuple(sorted(values.items())))


def live(double, scenario, *, pending_ok: bool = False, **client_options):
    """Run ``scenario(connector, client)`` against the double, in a fresh event loop."""
    client_options.setdefault("backoff", 0)

    async def main():
        async with AmazonPayClient(client_options.pop("config", None) or config(), base_url=double.base_url,
                                   **client_options) as client:
            return await scenario(LiveAmazonPay(client, can_handle_pending_authorization=pending_ok), client)

    return asyncio.run(main())


def request_for(amount: int = 1099, currency: str = "usd", capture: bool = True,
                shipping: dict | None = None) -> AuthorizationRequest:
    return AuthorizationRequest(attempt_id=new_id("atmpt"), intent_id=new_id("pi"), amount=amount, currency=currency,
                                capture=capture, return_url="https://shop.example/done?order=7",
                                kassa_base_url="https://kassa.test/", merchant_name="Test shop", shipping=shipping)


def start(connector, double, request: AuthorizationRequest, token: str = "tok_test") -> str:
    """kassa's page hands checkout.js the signed button; Amazon creates the session: its id."""
    button = connector.checkout_button(request, token, "US")
    session = double.start_checkout(button.payload_json, button.signature, button.public_key_id, button.algorithm,
                                    merchant_id=button.merchant_id, ledger_currency=button.ledger_currency,
                                    sandbox=button.sandbox, product_type=button.product_type)
    return session["checkoutSessionId"]


async def paid(connector, double, *, capture: bool = True, amount: int = 1099):
    """Start a checkout, let the buyer approve it, complete it: the Completion."""
    session_id = start(connector, double, request_for(amount, capture=capture))
    double.approve(session_id)
    return await connector.complete(session_id, amount, "usd")


# --------------------------------------------------------------------------- the buyer's way


def test_start_authorization_sends_the_buyer_to_kassas_page_and_asks_amazon_nothing(double):
    before = len(double.requests)

    async def scenario(connector, client):
        return await connector.start_authorization(request_for())

    redirect = live(double, scenario)
    assert redirect.url == "https://kassa.test" + CHECKOUT_PATH + redirect.token and redirect.external_id is None
    assert redirect.token.startswith("tok_") and len(redirect.token) == 44
    assert len(double.requests) == before


def test_the_button_payload_is_a_signed_process_order_checkout(double):
    request = request_for(capture=True)

    async def scenario(connector, client):
        return connector.checkout_button(request, "tok_abc", "US"), start(connector, double, request, "tok_abc")

    button, session_id = live(double, scenario)
    assert (button.script_url, button.merchant_id, button.ledger_currency, button.product_type) == (
        "https://static-na.payments-amazon.com/checkout.js", "A1KASSADOUBLE", "USD", "PayOnly")
    assert signing.verify(PUBLIC, signing.button_string_to_sign(button.algorithm, button.payload_json),
                          button.signature, button.algorithm)
    session = double.sessions[session_id]
    web = session["webCheckoutDetails"]
    assert web["checkoutResultReturnUrl"] == "https://kassa.test" + RETURN_PATH + "tok_abc"
    assert web["checkoutCancelUrl"] == "https://kassa.test" + CHECKOUT_PATH + "tok_abc/cancel"
    assert web["checkoutMode"] == "ProcessOrder"
    assert session["paymentDetails"]["paymentIntent"] == "AuthorizeWithCapture"
    assert session["paymentDetails"]["chargeAmount"] == {"amount": "10.99", "currencyCode": "USD"}
    assert session["paymentDetails"]["presentmentCurrency"] == "USD"
    assert session["merchantMetadata"]["merchantReferenceId"] == request.intent_id
    assert session["merchantMetadata"]["merchantStoreName"] == "Test shop"
    assert session["storeId"] == "amzn1.application-oa2-client.kassatest"
    assert not [r for r in double.requests if r.path.endswith("/v2/checkoutSessions")]  # none server-side


def test_manual_capture_asks_for_authorize_only(double):
    async def scenario(connector, client):
        return start(connector, double, request_for(capture=False))

    assert double.sessions[live(double, scenario)]["paymentDetails"]["paymentIntent"] == "Authorize"


def test_shipping_makes_it_pay_and_ship_and_the_region_picks_script_and_ledger(double):
    shipping = {"name": "Erika Muster", "address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115",
                                                    "country": "de"}}

    async def scenario(connector, client):
        return connector.checkout_button(request_for(currency="eur", shipping=shipping), "tok_x", "DE")

    button = live(double, scenario, config=config(region="eu"))
    assert button.product_type == "PayAndShip"
    assert button.script_url == "https://static-eu.payments-amazon.com/checkout.js" and button.ledger_currency == "EUR"
    assert json.loads(button.payload_json)["addressDetails"] == {
        "name": "Erika Muster", "addressLine1": "Hauptstr. 1", "city": "Berlin", "postalCode": "10115",
        "countryCode": "DE"}


def test_a_server_side_create_starts_no_process_order_checkout(double):
    body = {"webCheckoutDetails": {"checkoutResultReturnUrl": "https://kassa.test/r", "checkoutMode": "ProcessOrder"},
            "storeId": "amzn1.application-oa2-client.kassatest",
            "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": {"amount": "1.00", "currencyCode": "USD"}}}

    async def scenario(connector, client):
        with pytest.raises(AmazonPayError) as refused:
            await client._call(lambda data: data, "POST", ("checkoutSessions",), body, idempotency_key="k-1")
        del body["webCheckoutDetails"]["checkoutMode"]
        made = await client._call(lambda data: data, "POST", ("checkoutSessions",), body, idempotency_key="k-2")
        return refused.value, made

    refused, made = live(double, scenario)
    assert (refused.status, refused.reason_code) == (400, "UnrecognizedField")
    assert made["webCheckoutDetails"]["amazonPayRedirectUrl"] is None
    assert [c["constraintId"] for c in made["constraints"]] == ["BuyerNotAssociated"]


def test_buyer_approves_on_the_page_and_comes_back(double):
    async def scenario(connector, client):
        session_id = start(connector, double, request_for(), "tok_back")
        async with httpx.AsyncClient() as browser:
            page = await browser.get(f"{double.base_url}/checkout?amazonCheckoutSessionId={session_id}")
            assert page.status_code == 200 and "10.99" in page.text
            answer = await browser.post(double.base_url + "/checkout/approve", data={"session": session_id})
        assert answer.status_code == 303
        back = httpx.URL(answer.headers["location"])
        assert back.path == RETURN_PATH + "tok_back"
        assert back.params["amazonCheckoutSessionId"] == session_id
        return await connector.complete(back.params["amazonCheckoutSessionId"], 1099, "usd")

    outcome = live(double, scenario)
    assert outcome.outcome == AUTHORIZED and outcome.captured
    assert double.charges[outcome.charge_id]["statusDetails"]["state"] == "Captured"
    assert outcome.charge_permission_id == double.charges[outcome.charge_id]["chargePermissionId"]


def test_the_session_is_checked_against_the_attempt(double):
    request = request_for()

    async def scenario(connector, client):
        session_id = start(connector, double, request, "tok_mine")
        found = await connector.session_of_attempt(session_id, intent_id=request.intent_id, amount=1099,
                                                   currency="usd", token_matches=lambda t: t == "tok_mine")
        refusals = []
        for changes in ({"intent_id": "pi_other"}, {"amount": 1000}, {"currency": "eur"},
                        {"token_matches": lambda t: False}):
            terms = {"intent_id": request.intent_id, "amount": 1099, "currency": "usd",
                     "token_matches": lambda t: t == "tok_mine", **changes}
            with pytest.raises(SessionMismatch):
                await connector.session_of_attempt(session_id, **terms)
            refusals.append(changes)
        return found, refusals

    found, refusals = live(double, scenario)
    assert found.merchant_reference_id == request.intent_id and len(refusals) == 4


def test_completing_again_reads_the_outcome_instead(double):
    async def scenario(connector, client):
        session_id = start(connector, double, request_for())
        double.approve(session_id)
        first = await connector.complete(session_id, 1099, "usd")
        return first, await connector.complete(session_id, 1099, "usd")

    charges_before = len(double.charges)
    first, second = live(double, scenario)
    assert first == second and first.outcome == AUTHORIZED
    assert len(double.charges) == charges_before + 1
    assert [r.reason_code for r in double.requests if r.path.endswith("/complete")][-2:] == [
        None, "InvalidCheckoutSessionStatus"]


def test_decline(double):
    async def scenario(connector, client):
        session_id = start(connector, double, request_for())
        double.decline(session_id, "HardDeclined")
        return await connector.complete(session_id, 1099, "usd")

    outcome = live(double, scenario)
    assert outcome.outcome == DECLINED and outcome.reason_code == "HardDeclined"
    assert outcome.decline_code == "generic_decline"
    assert outcome.message == DECLINES["HardDeclined"].message


def test_soft_decline_through_the_buyers_approval(double):
    double.authorization, double.decline_reason = "decline", "SoftDeclined"

    async def scenario(connector, client):
        return await paid(connector, double)

    outcome = live(double, scenario)
    assert (outcome.outcome, outcome.reason_code, outcome.decline_code) == (DECLINED, "SoftDeclined", "try_again_later")


def test_buyer_cancels(double):
    async def scenario(connector, client):
        session_id = start(connector, double, request_for())
        assert double.buyer_cancel(session_id) == "https://kassa.test" + CHECKOUT_PATH + "tok_test/cancel"
        return await connector.complete(session_id, 1099, "usd")

    outcome = live(double, scenario)
    assert outcome.outcome == CANCELED and outcome.reason_code == "BuyerCanceled" and outcome.charge_id is None
    assert outcome.message == DECLINES["BuyerCanceled"].message


def test_asynchronous_authorization_then_authorized(double):
    double.authorization = "async"
    verifier = NotificationVerifier(double.fetch_certificate)

    async def scenario(connector, client):
        notes = len(double.notifications)
        outcome = await paid(connector, double)
        assert outcome.outcome == PENDING and outcome.charge_id
        assert [r.status for r in double.requests if r.path.endswith("/complete")][-1] == 202
        assert len(double.notifications) == notes
        assert (await connector.authorization_status(outcome.charge_id)).outcome == PENDING
        double.settle_charge(outcome.charge_id)
        notification = await verifier.verify(double.notifications[-1])
        assert (notification.object_type, notification.object_id) == ("CHARGE", outcome.charge_id)
        return await connector.authorization_status(notification.object_id)

    outcome = live(double, scenario, pending_ok=True)
    assert outcome.outcome == AUTHORIZED and outcome.captured


def test_asynchronous_authorization_then_declined(double):
    double.authorization = "async"

    async def scenario(connector, client):
        outcome = await paid(connector, double, capture=False)
        double.settle_charge(outcome.charge_id, "Declined", "AmazonRejected")
        return await connector.authorization_status(outcome.charge_id)

    outcome = live(double, scenario, pending_ok=True)
    assert (outcome.outcome, outcome.reason_code, outcome.decline_code) == (DECLINED, "AmazonRejected", "do_not_honor")


def test_pending_authorization_not_allowed_times_out(double):
    double.authorization = "async"

    async def scenario(connector, client):
        return await paid(connector, double)

    outcome = live(double, scenario, pending_ok=False)
    assert (outcome.outcome, outcome.reason_code) == (DECLINED, "TransactionTimedOut")


def test_completing_before_the_buyer_finished_is_an_error(double):
    async def scenario(connector, client):
        session_id = start(connector, double, request_for())
        with pytest.raises(AmazonPayError) as caught:
            await connector.complete(session_id, 1099, "usd")
        return caught.value

    error = live(double, scenario)
    assert (error.reason_code, error.status, error.retryable) == ("InvalidCheckoutSessionStatus", 422, False)


def test_completing_with_another_amount_is_an_amount_mismatch_decline(double):
    async def scenario(connector, client):
        session_id = start(connector, double, request_for())
        double.approve(session_id)
        outcome = await connector.complete(session_id, 999, "usd")
        return outcome, [r for r in double.requests if r.path.endswith("/complete")][-1]

    outcome, call = live(double, scenario)
    assert (call.status, call.reason_code) == (409, "AmountMismatch")
    assert (outcome.outcome, outcome.reason_code) == (DECLINED, "AmountMismatch")
    assert "amount" in outcome.message


# --------------------------------------------------------------------------- saving Amazon Pay (SetupIntent)


def setup_request() -> AuthorizationRequest:
    return AuthorizationRequest(attempt_id=new_id("setatt"), intent_id=new_id("seti"), amount=0, currency="usd",
                                capture=False, return_url="https://shop.example/saved",
                                kassa_base_url="https://kassa.test", merchant_name="Test shop", setup_only=True)


def test_a_setup_payload_asks_for_amazons_saved_wallet_and_no_payment(double):
    request = setup_request()

    async def scenario(connector, client):
        redirect = await connector.start_setup(request)
        button = connector.checkout_button(request, "tok_set", "US")
        return redirect, button, start(connector, double, request, "tok_set")

    before = len(double.requests)
    redirect, button, session_id = live(double, scenario)
    assert redirect.url == "https://kassa.test" + CHECKOUT_PATH + redirect.token and len(double.requests) == before
    assert signing.verify(PUBLIC, signing.button_string_to_sign(button.algorithm, button.payload_json),
                          button.signature, button.algorithm)
    assert button.product_type == "PayOnly"
    payload = json.loads(button.payload_json)
    assert payload == {
        "webCheckoutDetails": {"checkoutMode": "ProcessOrder",
                               "checkoutResultReturnUrl": "https://kassa.test" + RETURN_PATH + "tok_set",
                               "checkoutCancelUrl": "https://kassa.test" + CHECKOUT_PATH + "tok_set/cancel"},
        "storeId": "amzn1.application-oa2-client.kassatest",
        "paymentDetails": {"paymentIntent": "Confirm"},
        "merchantMetadata": {"merchantReferenceId": request.intent_id, "merchantStoreName": "Test shop",
                             "customInformation": f"kassa {request.intent_id} {request.attempt_id}"},
        "chargePermissionType": "PaymentMethodOnFile",
        "paymentMethodOnFileMetadata": {"setupOnly": True},
    }
    # The stand-in checkout.js accepts it as Amazon's would, and refuses a setup that carries an amount.
    session = double.sessions[session_id]
    assert session["chargePermissionType"] == "PaymentMethodOnFile"
    assert session["paymentDetails"]["chargeAmount"] is None
    with_amount = dict(payload, paymentDetails={"paymentIntent": "Confirm",
                                                "chargeAmount": {"amount": "1.00", "currencyCode": "USD"}})
    with pytest.raises(ApiError, match="charges nothing"):
        _start_signed(double, json.dumps(with_amount))


def _start_signed(double, payload_json: str) -> dict:
    credentials = config().credentials()
    return double.start_checkout(payload_json, signing.sign_button_payload(credentials, payload_json),
                                 credentials.public_key_id, credentials.algorithm, merchant_id="A1KASSADOUBLE",
                                 ledger_currency="USD", sandbox=True, product_type="PayOnly")


def test_a_setup_is_completed_with_no_amount_and_leaves_a_permission_but_no_charge(double):
    request = setup_request()

    async def scenario(connector, client):
        session_id = start(connector, double, request, "tok_save")
        found = await connector.session_of_attempt(session_id, intent_id=request.intent_id, amount=None,
                                                   currency=None, token_matches=lambda t: t == "tok_save")
        with pytest.raises(SessionMismatch):  # a setup is never taken for a payment, nor another setup's
            await connector.session_of_attempt(session_id, intent_id=request.intent_id, amount=1099, currency="usd",
                                               token_matches=lambda t: t == "tok_save")
        double.approve(session_id)
        first = await connector.complete(session_id, None, None, session=found)
        again = await connector.complete(session_id, None, None)  # a lost answer, asked again
        asked = await connector.session_outcome(session_id, setup_only=True)
        return session_id, first, again, asked

    charges = len(double.charges)
    session_id, first, again, asked = live(double, scenario)
    assert first.outcome == AUTHORIZED and first.charge_id is None and first.charge_permission_id
    assert first == again == asked
    assert len(double.charges) == charges  # no Charge: nothing was paid
    permission = double.permissions[first.charge_permission_id]
    assert (permission["chargePermissionType"], permission["statusDetails"]["state"]) == (
        "PaymentMethodOnFile", "Chargeable")
    calls = [r for r in double.requests if r.path.endswith(f"{session_id}/complete")]
    assert [(r.status, r.reason_code) for r in calls] == [(200, None), (422, "InvalidCheckoutSessionStatus")]


def test_a_saved_wallet_is_charged_later_and_closed_once(double):
    request = setup_request()

    async def scenario(connector, client):
        session_id = start(connector, double, request)
        double.approve(session_id)
        saved = await connector.complete(session_id, None, None)
        charge = await connector.charge_saved(SavedCharge(intent_id="pi_later", amount=2500, currency="usd",
                                                          capture=True, mandate_id="mandate_x",
                                                          permission_id=saved.charge_permission_id,
                                                          idempotency_key="preq_later"))
        await connector.close_permission(saved.charge_permission_id)
        await connector.close_permission(saved.charge_permission_id)  # closed already: fine
        closed = await connector.permission_closed(saved.charge_permission_id)
        return saved, charge, closed

    saved, charge, closed = live(double, scenario)
    assert charge.outcome == AUTHORIZED and charge.captured
    assert double.charges[charge.charge_id]["chargePermissionId"] == saved.charge_permission_id
    assert closed is True


def test_a_setup_the_buyer_cancels_or_amazon_declines_saves_nothing(double):
    async def scenario(connector, client):
        outcomes = []
        for act in (double.buyer_cancel, lambda session_id: double.decline(session_id, "HardDeclined")):
            session_id = start(connector, double, setup_request())
            act(session_id)
            outcomes.append(await connector.complete(session_id, None, None))
        return outcomes

    charges, permissions = len(double.charges), len(double.permissions)
    canceled, declined = live(double, scenario)
    assert (canceled.outcome, canceled.reason_code, canceled.charge_permission_id) == (CANCELED, "BuyerCanceled", None)
    assert declined.outcome == DECLINED and declined.charge_id is None
    assert (len(double.charges), len(double.permissions)) == (charges, permissions)


# --------------------------------------------------------------------------- capture, release, refunds


@pytest.mark.parametrize("amount, expected", [(1099, "10.99"), (500, "5.00")], ids=["full", "partial"])
def test_capture(double, amount, expected):
    async def scenario(connector, client):
        outcome = await paid(connector, double, capture=False)
        assert outcome.outcome == AUTHORIZED and not outcome.captured
        await connector.capture(outcome.charge_id, amount, "usd")
        return outcome.charge_id

    charge = double.charges[live(double, scenario)]
    assert charge["statusDetails"]["state"] == "Captured"
    assert charge["captureAmount"] == {"amount": expected, "currencyCode": "USD"}


def test_capture_above_the_authorized_amount_is_refused(double):
    async def scenario(connector, client):
        outcome = await paid(connector, double, capture=False)
        with pytest.raises(AmazonPayError) as caught:
            await connector.capture(outcome.charge_id, 1100, "usd")
        return caught.value

    error = live(double, scenario)
    assert (error.reason_code, error.status, error.retryable) == ("TransactionAmountExceeded", 400, False)


def test_release_cancels_the_charge_and_is_repeatable(double):
    async def scenario(connector, client):
        outcome = await paid(connector, double, capture=False)
        await connector.release(outcome.charge_id)
        await connector.release(outcome.charge_id)  # canceled already: fine
        return outcome.charge_id

    status = double.charges[live(double, scenario)]["statusDetails"]
    assert (status["state"], status["reasonCode"]) == ("Canceled", "MerchantCanceled")


def test_release_of_a_captured_charge_is_an_error(double):
    async def scenario(connector, client):
        outcome = await paid(connector, double, capture=True)
        with pytest.raises(AmazonPayError) as caught:
            await connector.release(outcome.charge_id)
        return caught.value

    assert live(double, scenario).reason_code == "InvalidChargeStatus"


def test_refund_is_initiated_then_refunded(double):
    async def scenario(connector, client):
        outcome = await paid(connector, double)
        result = await connector.refund(new_id("re"), outcome.charge_id, 300, "usd")
        assert result.status == "pending"
        assert await connector.refund_status(result.external_id) == "pending"
        double.settle_refund(result.external_id)
        assert await connector.refund_status(result.external_id) == "succeeded"
        charge = await client.get_charge(outcome.charge_id)
        return charge, result

    charge, result = live(double, scenario)
    assert charge.refunded_amount.amount == 300
    assert double.refunds[result.external_id]["refundAmount"] == {"amount": "3.00", "currencyCode": "USD"}


def test_refund_declined(double):
    async def scenario(connector, client):
        outcome = await paid(connector, double)
        result = await connector.refund(new_id("re"), outcome.charge_id, 1099, "usd")
        double.settle_refund(result.external_id, "Declined", "AmazonRejected")
        return await connector.refund_status(result.external_id)

    assert live(double, scenario) == "failed"


def test_refund_above_what_is_left_is_refused(double):
    async def scenario(connector, client):
        outcome = await paid(connector, double)
        await connector.refund(new_id("re"), outcome.charge_id, 1000, "usd")
        # Amazon allows refunds over the charge by 15% (at most 75 of the currency): 1.64 on 10.99.
        await connector.refund(new_id("re"), outcome.charge_id, 263, "usd")
        with pytest.raises(AmazonPayError) as caught:
            await connector.refund(new_id("re"), outcome.charge_id, 1, "usd")
        return caught.value

    error = live(double, scenario)
    assert error.reason_code == "TransactionAmountExceeded"
    assert isinstance(error.as_kassa_error(), InvalidRequest)


# --------------------------------------------------------------------------- idempotency and retries


def test_a_lost_capture_answer_is_retried_and_captures_once(double):
    async def scenario(connector, client):
        outcome = await paid(connector, double, capture=False)
        double.drop_next("POST", f"/charges/{outcome.charge_id}/capture")
        await connector.capture(outcome.charge_id, 700, "usd")
        return outcome.charge_id

    charge_id = live(double, scenario)
    calls = [r for r in double.requests if r.path.endswith(f"/charges/{charge_id}/capture")]
    assert [(r.status, r.replayed) for r in calls] == [(200, False), (200, True)]
    assert calls[0].idempotency_key == calls[1].idempotency_key == idempotency_key("cp", charge_id, "700", "usd")
    assert double.charges[charge_id]["captureAmount"] == {"amount": "7.00", "currencyCode": "USD"}


def test_a_lost_refund_answer_is_retried_and_refunds_once(double):
    refund_id = new_id("re")

    async def scenario(connector, client):
        outcome = await paid(connector, double)
        double.drop_next("POST", "/v2/refunds")
        result = await connector.refund(refund_id, outcome.charge_id, 400, "usd")
        again = await connector.refund(refund_id, outcome.charge_id, 400, "usd")  # kassa retries its own call
        assert again == result
        return outcome.charge_id

    charge_id = live(double, scenario)
    assert len([r for r in double.refunds.values() if r["chargeId"] == charge_id]) == 1


def test_a_connection_dropped_before_the_request_is_retried(double):
    async def scenario(connector, client):
        outcome = await paid(connector, double)
        double.drop_next("GET", f"/charges/{outcome.charge_id}", after=False)
        return await connector.authorization_status(outcome.charge_id)

    assert live(double, scenario).outcome == AUTHORIZED


def test_without_retries_a_lost_answer_is_a_retryable_network_error(double):
    async def scenario(connector, client):
        outcome = await paid(connector, double, capture=False)
        double.drop_next("POST", "/capture")
        with pytest.raises(AmazonPayError) as caught:
            await connector.capture(outcome.charge_id, 1099, "usd")
        return caught.value

    error = live(double, scenario, max_attempts=1)
    assert (error.reason_code, error.status, error.retryable) == ("NetworkError", 0, True)
    assert isinstance(error.as_kassa_error(), AmazonPayUnavailable)


def test_the_same_key_with_another_body_is_refused(double):
    async def scenario(connector, client):
        outcome = await paid(connector, double, capture=False)
        first = await client.capture_charge(outcome.charge_id, 500, "usd", "kassa-test-key-1")
        replay = await client.capture_charge(outcome.charge_id, 500, "usd", "kassa-test-key-1")
        assert replay == first
        with pytest.raises(AmazonPayError) as caught:
            await client.capture_charge(outcome.charge_id, 600, "usd", "kassa-test-key-1")
        return caught.value

    assert live(double, scenario).reason_code == "DuplicateIdempotencyKey"


def test_idempotency_keys_fit_amazons_rules():
    key = idempotency_key("cs", "pi_" + "x" * 40, "atmpt_" + "y" * 40)
    assert len(key) == 32 and key.replace("-", "").isalnum()
    assert key == idempotency_key("cs", "pi_" + "x" * 40, "atmpt_" + "y" * 40)
    assert key != idempotency_key("cs", "pi_" + "x" * 40, "atmpt_" + "z" * 40)
    assert idempotency_key("rf", "re_1") != idempotency_key("cp", "re_1")


# --------------------------------------------------------------------------- errors and signatures


def test_an_unknown_object_is_not_found(double):
    async def scenario(connector, client):
        with pytest.raises(AmazonPayError) as caught:
            await client.get_charge("S01-0000000-0000000-C000000")
        return caught.value

    error = live(double, scenario)
    assert (error.reason_code, error.status, error.retryable) == ("ResourceNotFound", 404, False)


def test_a_request_signed_with_another_key_is_refused(double):
    async def scenario(connector, client):
        with pytest.raises(AmazonPayError) as caught:
            await client.get_charge("S01-0000000-0000000-C000000")
        return caught.value

    error = live(double, scenario, config=config(private_key_pem=OTHER_PEM))
    assert (error.reason_code, error.status) == ("InvalidRequestSignature", 403)
    kassa_error = error.as_kassa_error()
    assert isinstance(kassa_error, AmazonPayUnavailable) and kassa_error.status == 502
    assert "credentials" in kassa_error.message


def test_an_unknown_public_key_id_is_refused(double):
    async def scenario(connector, client):
        with pytest.raises(AmazonPayError) as caught:
            await client.get_refund("S01-0000000-0000000-R000000")
        return caught.value

    assert live(double, scenario, config=config(public_key_id="UNKNOWNKEY")).reason_code == "UnauthorizedAccess"


def test_a_tampered_body_fails_the_doubles_signature_check(double):
    credentials = config().credentials()
    path = "/sandbox/v2/refunds"
    signed_body = json.dumps({"chargeId": "S01-1", "refundAmount": {"amount": "1.00", "currencyCode": "USD"}})
    headers = signing.signed_headers(credentials, "POST", path, payload=signed_body, idempotency_key="tamper-1")
    sent = signed_body.replace("1.00", "9.00")
    answer = httpx.post(double.base_url + path, content=sent, headers=headers)
    assert answer.status_code == 403 and answer.json()["reasonCode"] == "InvalidRequestSignature"


def test_a_key_naming_its_environment_leaves_it_out_of_the_path(double):
    async def scenario(connector, client):
        assert client.path("charges", "x") == "/v2/charges/x"
        return await paid(connector, double)

    outcome = live(double, scenario, config=config(public_key_id=NAMED_KEY_ID))
    assert outcome.outcome == AUTHORIZED
    assert any(r.path == f"/v2/charges/{outcome.charge_id}" and r.status == 200 for r in double.requests)


@pytest.mark.parametrize("key_id, sandbox", [("SANDBOXAFVX7ULWSGBZ5535", True), ("live-AFVX7ULWSGBZ5535", False),
                                             ("Sandbox_AFVX7", True), ("LIVEAFVX7", False)])
def test_any_key_id_starting_with_live_or_sandbox_names_its_environment(key_id, sandbox):
    client = AmazonPayClient(config(public_key_id=key_id, sandbox=sandbox))
    assert client.path("charges", "x") == "/v2/charges/x"
    asyncio.run(client.aclose())


def test_a_classic_key_names_the_environment_in_the_path():
    client_live = AmazonPayClient(config(sandbox=False))
    assert client_live.path("checkoutSessions", "a/b") == "/live/v2/checkoutSessions/a%2Fb"
    assert client_live.base_url == "https://pay-api.amazon.com"
    asyncio.run(client_live.aclose())


def _scripted(*answers):
    """An httpx transport answering with ``answers`` in turn (an exception is raised instead)."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = answers[len(calls) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), calls


CHARGE = {"chargeId": "S01-1-1-C1", "chargeAmount": {"amount": "1.00", "currencyCode": "USD"},
          "statusDetails": {"state": "Authorized"}}


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_throttling_and_server_errors_are_retried(status):
    transport, calls = _scripted(httpx.Response(status, json={"reasonCode": "Busy", "message": "later"}),
                                 httpx.Response(200, json=CHARGE))

    async def main():
        async with AmazonPayClient(config(), transport=transport, backoff=0) as client:
            return await client.get_charge("S01-1-1-C1")

    assert asyncio.run(main()).state == "Authorized"
    assert len(calls) == 2 and all(call.headers["authorization"].startswith(signing.ALGORITHM_V2) for call in calls)


def test_retries_stop_after_max_attempts_with_a_readable_error():
    transport, calls = _scripted(*[httpx.Response(503, text="<html>down</html>")] * 3)

    async def main():
        async with AmazonPayClient(config(), transport=transport, backoff=0, max_attempts=3) as client:
            with pytest.raises(AmazonPayError) as caught:
                await client.get_charge("S01-1-1-C1")
            return caught.value

    error = asyncio.run(main())
    assert (error.reason_code, error.status, error.retryable, len(calls)) == ("HTTP503", 503, True, 3)


def test_client_errors_are_not_retried():
    transport, calls = _scripted(httpx.Response(400, json={"reasonCode": "InvalidParameterValue", "message": "x"}))

    async def main():
        async with AmazonPayClient(config(), transport=transport, backoff=0) as client:
            with pytest.raises(AmazonPayError):
                await client.get_charge("S01-1-1-C1")

    asyncio.run(main())
    assert len(calls) == 1


def test_timeouts_are_retried_with_the_same_idempotency_key():
    refund = {"refundId": "S01-1-1-R1", "chargeId": "S01-1-1-C1",
              "refundAmount": {"amount": "1.00", "currencyCode": "USD"},
              "statusDetails": {"state": "RefundInitiated"}}
    transport, calls = _scripted(httpx.ReadTimeout("slow"), httpx.Response(201, json=refund))

    async def main():
        async with AmazonPayClient(config(), transport=transport, backoff=0) as client:
            return await LiveAmazonPay(client).refund("re_123", "S01-1-1-C1", 100, "usd")

    assert asyncio.run(main()).external_id == "S01-1-1-R1"
    keys = {call.headers["x-amz-pay-idempotency-key"] for call in calls}
    assert keys == {idempotency_key("rf", "re_123")}


def test_an_answer_that_is_not_an_amazon_object_is_a_clear_error():
    transport, _ = _scripted(httpx.Response(200, json={"chargeId": "S01-1-1-C1"}))

    async def main():
        async with AmazonPayClient(config(), transport=transport) as client:
            await client.get_charge("S01-1-1-C1")

    with pytest.raises(AmazonPayError, match="statusDetails") as caught:
        asyncio.run(main())
    assert (caught.value.reason_code, caught.value.retryable) == ("InvalidResponse", False)


def test_declines_become_payment_failures():
    error = AmazonPayError("HardDeclined", "declined", 200, False).as_kassa_error()
    assert isinstance(error, PaymentFailed) and error.status == 402
    assert error.code == "payment_intent_payment_attempt_failed"
    assert error.extra == {"decline_code": "generic_decline"} and error.message == DECLINES["HardDeclined"].message
    for reason in ("HardDeclined", "SoftDeclined", "AmazonRejected", "ProcessingFailure", "TransactionTimedOut",
                   "BuyerCanceled"):
        assert reason in DECLINES and DECLINES[reason].message
