"""Currencies and amounts (`kassa.domain.money`): validation, decimals, minimums, formatting, Amazon Pay."""

from __future__ import annotations

import pytest

from kassa.domain import money
from kassa.domain.errors import InvalidRequest
from kassa.domain.money import (
    MAXIMUM_AMOUNT,
    amazon_pay_currencies,
    decimals,
    format_amount,
    validate_amount,
    validate_currency,
)

AMAZON_PAY_EUROPE = {"usd", "aud", "gbp", "dkk", "eur", "hkd", "jpy", "nzd", "nok", "zar", "sek", "chf"}


def error_of(call) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        call()
    return info.value


# --------------------------------------------------------------------------- currencies


@pytest.mark.parametrize("value, expected", [("usd", "usd"), ("USD", "usd"), ("Eur", "eur"), ("jpy", "jpy")])
def test_known_currencies_are_returned_lowercase(value, expected):
    assert validate_currency(value) == expected


@pytest.mark.parametrize("value", ["xyz", "", "us", "usdd", " usd", "btc"])
def test_unknown_currency_is_refused_naming_the_param(value):
    error = error_of(lambda: validate_currency(value, param="payment_method_data[currency]"))
    assert error.param == "payment_method_data[currency]"
    assert error.message.startswith(f"Invalid currency: {value}. Stripe currently supports these currencies:")
    assert "usd" in error.message


@pytest.mark.parametrize("value", [None, 840, {"code": "usd"}, ["usd"]])
def test_a_currency_that_is_not_a_string_is_refused(value):
    error = error_of(lambda: validate_currency(value))
    assert error.param == "currency" and error.code == "parameter_invalid_string"


def test_currency_codes_are_three_lowercase_letters():
    assert all(len(code) == 3 and code.isalpha() and code.islower() for code in money.CURRENCIES)
    assert money.ZERO_DECIMAL <= money.CURRENCIES
    assert money.THREE_DECIMAL <= money.CURRENCIES
    assert not money.ZERO_DECIMAL & money.THREE_DECIMAL


# --------------------------------------------------------------------------- decimals


@pytest.mark.parametrize("currency", ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
                                      "ugx", "vnd", "vuv", "xaf", "xof", "xpf"])
def test_stripes_zero_decimal_currencies(currency):
    assert decimals(currency) == 0


@pytest.mark.parametrize("currency", ["bhd", "jod", "kwd", "omr", "tnd"])
def test_stripes_three_decimal_currencies(currency):
    assert decimals(currency) == 3


@pytest.mark.parametrize("currency", ["usd", "eur", "gbp", "cad", "huf", "inr"])
def test_other_currencies_have_two_decimals(currency):
    assert decimals(currency) == 2


# --------------------------------------------------------------------------- minimum and maximum


@pytest.mark.parametrize("currency, minimum", [
    ("usd", 50), ("gbp", 30), ("eur", 50), ("jpy", 50), ("aed", 200), ("czk", 1500), ("dkk", 250),
    ("hkd", 400), ("huf", 17500), ("mxn", 1000), ("nok", 300), ("sek", 300), ("thb", 1000),
])
def test_minimum_amounts(currency, minimum):
    assert validate_amount(minimum, currency) == minimum
    error = error_of(lambda: validate_amount(minimum - 1, currency))
    assert error.code == "amount_too_small" and error.param == "amount"
    assert error.message == f"Amount must be at least {format_amount(minimum, currency)}"


def test_minimum_message_for_usd_and_gbp():
    assert error_of(lambda: validate_amount(49, "usd")).message == "Amount must be at least $0.50"
    assert error_of(lambda: validate_amount(29, "gbp")).message == "Amount must be at least £0.30"


def test_currencies_without_a_listed_minimum_use_the_default():
    assert validate_amount(money.DEFAULT_MINIMUM, "cop") == money.DEFAULT_MINIMUM
    assert error_of(lambda: validate_amount(money.DEFAULT_MINIMUM - 1, "cop")).code == "amount_too_small"


@pytest.mark.parametrize("amount", [0, -1, -1099])
def test_zero_and_negative_amounts_are_too_small(amount):
    assert error_of(lambda: validate_amount(amount, "usd")).code == "amount_too_small"


@pytest.mark.parametrize("currency", ["usd", "jpy", "gbp"])
def test_maximum_amount_is_eight_digits(currency):
    assert validate_amount(MAXIMUM_AMOUNT, currency) == 99_999_999
    error = error_of(lambda: validate_amount(MAXIMUM_AMOUNT + 1, currency, param="amount_to_capture"))
    assert error.code == "amount_too_large" and error.param == "amount_to_capture"
    assert error.message == f"Amount must be no more than {format_amount(MAXIMUM_AMOUNT, currency)}"


def test_three_decimal_amounts_must_end_in_zero():
    assert validate_amount(1230, "kwd") == 1230
    error = error_of(lambda: validate_amount(1235, "kwd"))
    assert error.code == "invalid_amount" and error.param == "amount"
    assert validate_amount(1235, "usd") == 1235  # the rule is only for three-decimal currencies


def test_zero_decimal_amounts_are_whole_units():
    assert validate_amount(500, "jpy") == 500
    assert format_amount(500, "jpy") == "¥500"


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize("amount, currency, text", [
    (1099, "usd", "$10.99"),
    (50, "usd", "$0.50"),
    (5, "usd", "$0.05"),
    (99_999_999, "usd", "$999,999.99"),
    (30, "gbp", "£0.30"),
    (1000, "eur", "€10.00"),
    (500, "jpy", "¥500"),
    (1_234_567, "jpy", "¥1,234,567"),
    (1250, "cad", "12.50 CAD"),
    (1500, "bhd", "1.500 BHD"),
    (1000, "krw", "1,000 KRW"),
    (50, "chf", "CHF 0.50"),
    (300, "sek", "kr 3.00"),
    (17500, "huf", "175.00 HUF"),
])
def test_format_amount(amount, currency, text):
    assert format_amount(amount, currency) == text


# --------------------------------------------------------------------------- Amazon Pay


@pytest.mark.parametrize("country", ["US", "us"])
def test_amazon_pay_in_the_us_takes_only_usd(country):
    assert amazon_pay_currencies(country) == {"usd"}


@pytest.mark.parametrize("country", ["DE", "GB", "gb", "FR", "AT", "IE", "CH", "SE", "DK", "NL"])
def test_amazon_pay_in_europe_and_gb_takes_the_european_list(country):
    assert amazon_pay_currencies(country) == AMAZON_PAY_EUROPE


def test_amazon_pay_european_list_excludes_currencies_stripe_does_not_list():
    currencies = amazon_pay_currencies("DE")
    assert "cad" not in currencies and "pln" not in currencies and "huf" not in currencies
