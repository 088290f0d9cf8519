"""PaymentIntent rules (`kassa.domain.payment_intent`, `kassa.domain.metadata`): create, update, cancel."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import FrozenInstanceError, replace

import orjson
import pytest

from kassa.domain import payment_intent as pi
from kassa.domain.errors import InvalidRequest
from kassa.domain.metadata import MAX_KEYS, apply_metadata

NOW = 1_700_000_000
LATER = NOW + 60

ALL_STATUSES = (pi.REQUIRES_PAYMENT_METHOD, pi.REQUIRES_CONFIRMATION, pi.REQUIRES_ACTION, pi.PROCESSING,
                pi.REQUIRES_CAPTURE, pi.SUCCEEDED, pi.CANCELED)
REDIRECT = {"type": "redirect_to_url", "redirect_to_url": {"url": "http://kassa/pay", "return_url": "http://shop"}}


def error_of(call) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        call()
    return info.value


def new_intent(**command) -> pi.PaymentIntent:
    intent, _ = pi.create(pi.CreateIntent(**{"amount": 1099, "currency": "usd", **command}), livemode=False, now=NOW)
    return intent


def intent_in(status: str, **fields) -> pi.PaymentIntent:
    """An intent as the other transitions would leave it in `status`."""
    shape = {
        pi.REQUIRES_CONFIRMATION: {"payment_method": "pm_1"},
        pi.REQUIRES_ACTION: {"payment_method": "pm_1", "next_action": REDIRECT, "deadline": NOW + 600},
        pi.PROCESSING: {"payment_method": "pm_1"},
        pi.REQUIRES_CAPTURE: {"payment_method": "pm_1", "amount_capturable": 1099, "latest_charge": "ch_1",
                              "deadline": NOW + 7 * 86400},
        pi.SUCCEEDED: {"payment_method": "pm_1", "amount_received": 1099, "latest_charge": "ch_1"},
        pi.CANCELED: {"canceled_at": NOW, "cancellation_reason": "duplicate"},
    }.get(status, {})
    return replace(new_intent(metadata={"order_id": "42"}), status=status, **{**shape, **fields})


def update(intent, changes=None, metadata=None, **kwargs):
    return pi.update(intent, pi.UpdateIntent(changes or {}, metadata), now=LATER, **kwargs)


# --------------------------------------------------------------------------- create


def test_create_defaults():
    intent, events = pi.create(pi.CreateIntent(amount=1099, currency="usd"), livemode=False, now=NOW)
    assert intent.id.startswith("pi_") and len(intent.id) > 10
    assert intent.client_secret is None  # derived from the id when shown, never kept (see client_secrets)
    assert (intent.amount, intent.currency, intent.created, intent.livemode) == (1099, "usd", NOW, False)
    assert intent.status == pi.REQUIRES_PAYMENT_METHOD
    assert intent.capture_method == "automatic_async"
    assert intent.confirmation_method == "automatic"
    # Stripe's default (no types given): automatic payment methods, every method the account allows
    assert intent.payment_method_types == ("card", "amazon_pay")
    assert intent.automatic_payment_methods == {"enabled": True}
    assert intent.payment_method_options == {} and intent.metadata == {}
    assert (intent.amount_capturable, intent.amount_received) == (0, 0)
    assert intent.payment_method is None and intent.next_action is None and intent.last_payment_error is None
    assert intent.canceled_at is None and intent.cancellation_reason is None
    assert [(event.type, event.object, event.previous_attributes) for event in events] == [
        ("payment_intent.created", intent, {})]


def test_create_keeps_what_the_merchant_set():
    shipping = {"name": "Jo", "address": {"line1": "1 Main St"}}
    intent = new_intent(capture_method="manual", confirmation_method="manual", description="Order 42",
                        customer="cus_1", metadata={"order_id": "42"}, receipt_email="jo@example.com",
                        setup_future_usage="off_session", shipping=shipping, statement_descriptor="SHOP",
                        statement_descriptor_suffix="42", transfer_group="g1", return_url="https://shop/back")
    assert intent.capture_method == "manual" and intent.confirmation_method == "manual"
    assert (intent.description, intent.customer, intent.receipt_email) == ("Order 42", "cus_1", "jo@example.com")
    assert intent.metadata == {"order_id": "42"} and intent.shipping == shipping
    assert (intent.setup_future_usage, intent.transfer_group, intent.return_url) == (
        "off_session", "g1", "https://shop/back")
    assert (intent.statement_descriptor, intent.statement_descriptor_suffix) == ("SHOP", "42")


def test_create_livemode_is_recorded():
    assert new_intent().livemode is False
    live, _ = pi.create(pi.CreateIntent(amount=1099, currency="usd"), livemode=True, now=NOW)
    assert live.livemode is True


def test_create_gives_fresh_ids_and_secrets():
    first, second = new_intent(), new_intent()
    assert first.id != second.id


def test_create_with_a_payment_method_requires_confirmation():
    intent = new_intent(payment_method="pm_1")
    assert intent.status == pi.REQUIRES_CONFIRMATION and intent.payment_method == "pm_1"


@pytest.mark.parametrize("amount, currency, code", [(49, "usd", "amount_too_small"), (29, "gbp", "amount_too_small"),
                                                    (100_000_000, "usd", "amount_too_large"),
                                                    (1235, "kwd", "invalid_amount")])
def test_create_validates_the_amount(amount, currency, code):
    error = error_of(lambda: new_intent(amount=amount, currency=currency))
    assert error.code == code and error.param == "amount"


def test_create_accepts_zero_decimal_amounts():
    intent, _ = pi.create(pi.CreateIntent(amount=50, currency="jpy"), livemode=False, now=NOW, country="DE")
    assert (intent.amount, intent.currency) == (50, "jpy")


@pytest.mark.parametrize("currency", ["eur", "gbp", "jpy"])
def test_create_on_a_us_account_takes_only_usd_for_amazon_pay(currency):
    error = error_of(lambda: new_intent(amount=1000, currency=currency, payment_method_types=("amazon_pay",)))
    assert error.code == "payment_intent_invalid_currency" and error.param == "currency"


@pytest.mark.parametrize("country, currency", [("DE", "eur"), ("GB", "gbp"), ("DE", "usd"), ("FR", "chf")])
def test_create_on_a_european_account_takes_the_european_currencies(country, currency):
    intent, _ = pi.create(pi.CreateIntent(amount=1000, currency=currency, payment_method_types=("amazon_pay",)),
                          livemode=False, now=NOW, country=country)
    assert intent.currency == currency


def test_create_on_a_european_account_refuses_other_currencies():
    error = error_of(lambda: pi.create(pi.CreateIntent(amount=5000, currency="pln",
                                                       payment_method_types=("amazon_pay",)), livemode=False, now=NOW,
                                       country="DE"))
    assert error.code == "payment_intent_invalid_currency"


def test_create_with_explicit_payment_method_types_dedupes_in_order():
    intent = new_intent(payment_method_types=("amazon_pay", "amazon_pay"))
    assert intent.payment_method_types == ("amazon_pay",)


def test_create_refuses_an_unsupported_payment_method_type_naming_its_index():
    error = error_of(lambda: new_intent(payment_method_types=("amazon_pay", "klarna")))
    assert error.code == "payment_intent_invalid_parameter"
    assert error.param == "payment_method_types[1]"
    assert "klarna" in error.message


def test_create_refuses_empty_payment_method_types():
    assert error_of(lambda: new_intent(payment_method_types=())).param == "payment_method_types"


def test_create_with_automatic_payment_methods():
    intent = new_intent(automatic_payment_methods={"enabled": True})
    assert intent.automatic_payment_methods == {"enabled": True}
    assert intent.payment_method_types == ("card", "amazon_pay")


def test_create_refuses_both_payment_method_types_and_automatic_payment_methods():
    error = error_of(lambda: new_intent(payment_method_types=("amazon_pay",),
                                        automatic_payment_methods={"enabled": True}))
    assert "automatic_payment_methods" in error.message and "payment_method_types" in error.message


def test_create_allows_payment_method_types_with_automatic_payment_methods_disabled():
    intent = new_intent(payment_method_types=("amazon_pay",), automatic_payment_methods={"enabled": False})
    assert intent.payment_method_types == ("amazon_pay",)


def test_create_payment_method_options_must_match_the_types():
    intent = new_intent(payment_method_options={"amazon_pay": {"capture_method": "manual"}})
    assert intent.payment_method_options == {"amazon_pay": {"capture_method": "manual"}}
    error = error_of(lambda: new_intent(payment_method_types=("amazon_pay",), payment_method_options={"card": {}}))
    assert error.code == "payment_intent_invalid_parameter" and error.param == "payment_method_options[card]"


@pytest.mark.parametrize("capture_method, options, expected", [
    ("automatic_async", {}, "automatic"),
    ("automatic", {}, "automatic"),
    ("manual", {}, "manual"),
    ("automatic_async", {"amazon_pay": {"capture_method": "manual"}}, "manual"),
    ("automatic_async", {"amazon_pay": {}}, "automatic"),
])
def test_effective_capture_method(capture_method, options, expected):
    intent = new_intent(capture_method=capture_method, payment_method_options=options)
    assert pi.effective_capture_method(intent) == expected


def test_create_does_not_share_the_commands_metadata():
    command = pi.CreateIntent(amount=1099, currency="usd", metadata={"a": "1"})
    intent, _ = pi.create(command, livemode=False, now=NOW)
    command.metadata["b"] = "2"
    assert intent.metadata == {"a": "1"}


def test_intents_are_frozen_and_round_trip_through_stored_json():
    intent = intent_in(pi.REQUIRES_CAPTURE)
    with pytest.raises(FrozenInstanceError):
        intent.status = pi.SUCCEEDED
    # The store writes the dataclass with orjson and reads it back with from_record.
    assert pi.PaymentIntent.from_record(orjson.loads(orjson.dumps(intent))) == intent


# --------------------------------------------------------------------------- update


@pytest.mark.parametrize("status", sorted(pi.UPDATABLE))
def test_update_is_allowed_before_processing(status):
    intent = intent_in(status)
    updated, events = update(intent, {"description": "New"})
    assert updated.description == "New" and updated.status == status
    assert events == []


@pytest.mark.parametrize("status", [pi.PROCESSING, pi.REQUIRES_CAPTURE, pi.SUCCEEDED, pi.CANCELED])
def test_update_of_the_amount_is_refused_once_processing_started(status):
    intent = intent_in(status)
    error = error_of(lambda: update(intent, {"amount": 2000}))
    assert error.code == "payment_intent_unexpected_state"
    assert error.extra == {"payment_intent": intent.id}
    assert status in error.message


def test_update_of_metadata_is_allowed_on_a_succeeded_intent():
    updated, _ = update(intent_in(pi.SUCCEEDED), metadata={"shipped": "yes"})
    assert updated.metadata == {"order_id": "42", "shipped": "yes"}


def test_update_never_sends_an_event():
    _, events = update(intent_in(pi.REQUIRES_PAYMENT_METHOD), {"amount": 2000, "description": "x"},
                       metadata={"k": "v"})
    assert events == []


def test_update_that_changes_nothing_returns_the_same_intent():
    intent = intent_in(pi.REQUIRES_PAYMENT_METHOD, description="Same")
    updated, events = update(intent, {"description": "Same", "amount": intent.amount}, metadata={"order_id": "42"})
    assert updated is intent and events == []


def test_update_metadata_merges():
    intent = intent_in(pi.REQUIRES_PAYMENT_METHOD, metadata={"a": "1", "b": "2"})
    updated, _ = update(intent, metadata={"b": None, "c": "3", "a": "9"})
    assert updated.metadata == {"a": "9", "c": "3"}


def test_update_metadata_empty_hash_clears_all():
    updated, _ = update(intent_in(pi.REQUIRES_PAYMENT_METHOD, metadata={"a": "1", "b": "2"}), metadata={})
    assert updated.metadata == {}


def test_update_without_metadata_keeps_it():
    updated, _ = update(intent_in(pi.REQUIRES_PAYMENT_METHOD), {"description": "x"})
    assert updated.metadata == {"order_id": "42"}


def test_update_metadata_cannot_exceed_50_keys_in_total():
    intent = intent_in(pi.REQUIRES_PAYMENT_METHOD, metadata={f"k{i}": "v" for i in range(MAX_KEYS)})
    error = error_of(lambda: update(intent, metadata={"one_more": "v"}))
    assert error.param == "metadata"
    replaced, _ = update(intent, metadata={"k0": None, "one_more": "v"})
    assert len(replaced.metadata) == MAX_KEYS and "one_more" in replaced.metadata


def test_update_revalidates_the_amount():
    intent = intent_in(pi.REQUIRES_PAYMENT_METHOD)
    assert error_of(lambda: update(intent, {"amount": 49})).code == "amount_too_small"
    assert error_of(lambda: update(intent, {"amount": 100_000_000})).code == "amount_too_large"
    updated, _ = update(intent, {"amount": 50})
    assert updated.amount == 50


def test_update_of_the_currency_revalidates_the_current_amount():
    intent = intent_in(pi.REQUIRES_PAYMENT_METHOD, amount=200)  # enough for usd, not for dkk (minimum 250)
    error = error_of(lambda: update(intent, {"currency": "dkk"}, country="DE"))
    assert error.code == "amount_too_small" and error.param == "amount"
    updated, _ = update(intent, {"currency": "dkk", "amount": 250}, country="DE")
    assert (updated.currency, updated.amount) == ("dkk", 250)


def test_update_of_the_currency_rechecks_amazon_pay_currencies():
    amazon_pay = intent_in(pi.REQUIRES_PAYMENT_METHOD, payment_method_types=("amazon_pay",),
                           automatic_payment_methods=None)
    error = error_of(lambda: update(amazon_pay, {"currency": "eur"}))
    assert error.code == "payment_intent_invalid_currency" and error.param == "currency"


def test_update_with_a_payment_method_requires_confirmation():
    updated, _ = update(intent_in(pi.REQUIRES_PAYMENT_METHOD), {"payment_method": "pm_2"})
    assert updated.status == pi.REQUIRES_CONFIRMATION and updated.payment_method == "pm_2"


def test_update_of_the_payment_method_during_requires_action_requires_confirmation_again():
    updated, _ = update(intent_in(pi.REQUIRES_ACTION), {"payment_method": "pm_2"})
    assert updated.status == pi.REQUIRES_CONFIRMATION
    assert updated.next_action is None


def test_update_of_payment_method_types_drops_automatic_payment_methods():
    intent = intent_in(pi.REQUIRES_PAYMENT_METHOD, automatic_payment_methods={"enabled": True})
    updated, _ = update(intent, {"payment_method_types": ("amazon_pay",)})
    assert updated.payment_method_types == ("amazon_pay",) and updated.automatic_payment_methods is None
    error = error_of(lambda: update(intent, {"payment_method_types": ("klarna",)}))
    assert error.param == "payment_method_types[0]"


def test_update_of_payment_method_options_merges_per_type():
    intent = intent_in(pi.REQUIRES_PAYMENT_METHOD, payment_method_types=("amazon_pay",), automatic_payment_methods=None)
    updated, _ = update(intent, {"payment_method_options": {"amazon_pay": {"capture_method": "manual"}}})
    assert updated.payment_method_options == {"amazon_pay": {"capture_method": "manual"}}
    error = error_of(lambda: update(intent, {"payment_method_options": {"card": {}}}))
    assert error.param == "payment_method_options[card]"


def test_update_does_not_mutate_its_input():
    intent = intent_in(pi.REQUIRES_PAYMENT_METHOD, metadata={"a": "1"})
    before = copy.deepcopy(dataclasses.asdict(intent))
    command = pi.UpdateIntent({"amount": 2000, "description": "x"}, {"a": None, "b": "2"})
    command_before = copy.deepcopy((command.changes, command.metadata))
    updated, _ = pi.update(intent, command, now=LATER)
    assert dataclasses.asdict(intent) == before
    assert (command.changes, command.metadata) == command_before
    assert updated.metadata == {"b": "2"} and updated.amount == 2000


# --------------------------------------------------------------------------- cancel


@pytest.mark.parametrize("status", [pi.REQUIRES_PAYMENT_METHOD, pi.REQUIRES_CONFIRMATION, pi.REQUIRES_ACTION,
                                    pi.REQUIRES_CAPTURE])
def test_cancel_from_a_cancelable_status(status):
    intent = intent_in(status)
    canceled, events = pi.cancel(intent, "requested_by_customer", now=LATER)
    assert canceled.status == pi.CANCELED
    assert canceled.canceled_at == LATER
    assert canceled.cancellation_reason == "requested_by_customer"
    assert canceled.next_action is None and canceled.amount_capturable == 0 and canceled.deadline is None
    assert (canceled.id, canceled.amount, canceled.metadata) == (intent.id, intent.amount, intent.metadata)
    [event] = events
    assert event.type == "payment_intent.canceled" and event.object == canceled
    assert event.previous_attributes["status"] == status
    assert event.previous_attributes["canceled_at"] is None


@pytest.mark.parametrize("status", [pi.PROCESSING, pi.SUCCEEDED, pi.CANCELED])
def test_cancel_is_refused_once_processing_started_or_finished(status):
    intent = intent_in(status)
    error = error_of(lambda: pi.cancel(intent, None, now=LATER))
    assert error.code == "payment_intent_unexpected_state"
    assert error.extra == {"payment_intent": intent.id}
    assert f"status of {status}" in error.message


def test_cancel_without_a_reason():
    canceled, _ = pi.cancel(intent_in(pi.REQUIRES_PAYMENT_METHOD), None, now=LATER)
    assert canceled.cancellation_reason is None and canceled.status == pi.CANCELED


def test_cancel_of_an_authorization_releases_the_capturable_amount():
    canceled, [event] = pi.cancel(intent_in(pi.REQUIRES_CAPTURE), "abandoned", now=LATER)
    assert canceled.amount_capturable == 0
    assert event.previous_attributes["amount_capturable"] == 1099
    assert canceled.latest_charge == "ch_1"


def test_cancel_during_requires_action_drops_the_redirect():
    canceled, [event] = pi.cancel(intent_in(pi.REQUIRES_ACTION), None, now=LATER)
    assert canceled.next_action is None
    assert event.previous_attributes["next_action"] == REDIRECT


def test_cancel_event_lists_only_attributes_that_changed():
    canceled, [event] = pi.cancel(intent_in(pi.REQUIRES_PAYMENT_METHOD), None, now=LATER)
    assert event.previous_attributes == {"status": pi.REQUIRES_PAYMENT_METHOD, "canceled_at": None}


def test_cancel_does_not_mutate_its_input():
    intent = intent_in(pi.REQUIRES_ACTION)
    before = copy.deepcopy(dataclasses.asdict(intent))
    canceled, _ = pi.cancel(intent, "duplicate", now=LATER)
    assert dataclasses.asdict(intent) == before
    assert canceled is not intent and intent.status == pi.REQUIRES_ACTION


def test_cancelable_and_updatable_statuses_are_the_documented_ones():
    assert pi.CANCELABLE == {pi.REQUIRES_PAYMENT_METHOD, pi.REQUIRES_CONFIRMATION, pi.REQUIRES_ACTION,
                             pi.REQUIRES_CAPTURE}
    assert set(ALL_STATUSES) - pi.CANCELABLE == {pi.PROCESSING, pi.SUCCEEDED, pi.CANCELED}


# --------------------------------------------------------------------------- metadata merging


def test_apply_metadata_none_keeps_the_current_metadata():
    current = {"a": "1"}
    assert apply_metadata(current, None) == {"a": "1"}


def test_apply_metadata_empty_clears():
    assert apply_metadata({"a": "1", "b": "2"}, {}) == {}


def test_apply_metadata_sets_replaces_and_removes():
    assert apply_metadata({"a": "1", "b": "2"}, {"a": "x", "b": None, "c": "3"}) == {"a": "x", "c": "3"}


def test_apply_metadata_removing_an_absent_key_is_harmless():
    assert apply_metadata({"a": "1"}, {"zz": None}) == {"a": "1"}


def test_apply_metadata_does_not_mutate_the_current_metadata():
    current = {"a": "1"}
    apply_metadata(current, {"a": None, "b": "2"})
    assert current == {"a": "1"}


def test_apply_metadata_limit_counts_the_merged_result():
    current = {f"k{i}": "v" for i in range(MAX_KEYS - 1)}
    assert len(apply_metadata(current, {"new": "v"})) == MAX_KEYS
    error = error_of(lambda: apply_metadata(current, {"new": "v", "newer": "v"}))
    assert error.param == "metadata" and str(MAX_KEYS) in error.message


def test_automatic_methods_follow_the_currency_and_mode():
    assert new_intent(currency="eur").payment_method_types == ("card",)  # a US account: Amazon Pay takes usd
    live, _ = pi.create(pi.CreateIntent(amount=1099, currency="usd"), livemode=True, now=NOW)
    assert live.payment_method_types == ("amazon_pay",)  # live mode has no cards
    error = error_of(lambda: pi.create(pi.CreateIntent(amount=1099, currency="usd", payment_method_types=("card",)),
                                       livemode=True, now=NOW))
    assert (error.code, error.param) == ("payment_method_unactivated", "payment_method_types[0]")
    error = error_of(lambda: pi.create(pi.CreateIntent(amount=1099, currency="eur"), livemode=True, now=NOW))
    assert error.code == "payment_intent_invalid_currency"
    automatic = new_intent()
    updated, _ = update(automatic, {"currency": "eur"})
    assert updated.payment_method_types == ("card",)


def test_changing_the_amount_or_currency_ends_the_attempt_the_buyer_is_on():
    intent = pi.PaymentIntent(id="pi_1", livemode=False, amount=1099, currency="usd", created=1, client_secret="s",
                              status=pi.REQUIRES_ACTION, payment_method="pm_1", attempt="atmpt_1", deadline=700,
                              next_action={"type": "redirect_to_url"})
    for changes in ({"amount": 2500}, {"currency": "eur"}):
        updated, events = pi.update(intent, pi.UpdateIntent(changes=changes), now=100, country="DE")
        assert (updated.status, updated.attempt, updated.next_action, updated.deadline) == (
            pi.REQUIRES_CONFIRMATION, None, None, None)
        assert updated.payment_method == "pm_1" and events == []
    same, _ = pi.update(intent, pi.UpdateIntent(changes={"amount": 1099, "description": "same terms"}), now=100)
    assert (same.status, same.attempt) == (pi.REQUIRES_ACTION, "atmpt_1")
