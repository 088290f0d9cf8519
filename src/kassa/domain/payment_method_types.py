"""Which payment method types an intent offers: the ones asked for, or every one the account,
mode and currency allow (``automatic_payment_methods``, Stripe's default)."""

from __future__ import annotations

from . import money
from .errors import InvalidRequest

SUPPORTED = ("card", "amazon_pay")
LIVE = ("amazon_pay",)  # live mode has no card processor


class CardsUnavailable(InvalidRequest):
    """Live mode has no card processor: a card there is refused plainly."""

    def __init__(self, param: str) -> None:
        super().__init__(
            "Card payments are not available in live mode: kassa has no card processor. Cards work in test "
            "mode (Stripe's test cards); in live mode use amazon_pay.",
            code="payment_method_unactivated", param=param)


def requested(types: tuple[str, ...], *, currency: str, country: str, livemode: bool) -> tuple[str, ...]:
    """The types a merchant listed, checked: known, available in this mode, and for Amazon Pay in a
    currency it takes."""
    if not types:
        raise InvalidRequest("payment_method_types must contain at least one payment method type.",
                             param="payment_method_types")
    for index, kind in enumerate(types):
        if kind not in SUPPORTED:
            raise InvalidRequest(
                f"The payment method type provided: {kind[:60]} is invalid. This PaymentIntent can "
                f"only accept: {', '.join(SUPPORTED)}.",
                code="payment_intent_invalid_parameter", param=f"payment_method_types[{index}]")
        if kind == "card" and livemode:
            raise CardsUnavailable(f"payment_method_types[{index}]")
    if "amazon_pay" in types:
        check_amazon_pay_currency(currency, country)
    return tuple(dict.fromkeys(types))


def automatic(*, currency: str, country: str, livemode: bool) -> tuple[str, ...]:
    """Every type this account and mode may take in `currency`: cards in any currency (test mode),
    Amazon Pay in the currencies it takes for the account's country."""
    offered = [] if livemode else ["card"]
    if currency in money.amazon_pay_currencies(country):
        offered.append("amazon_pay")
    if not offered:  # live mode in a currency Amazon Pay does not take: say why
        check_amazon_pay_currency(currency, country)
    return tuple(offered)


def check_amazon_pay_currency(currency: str, country: str) -> None:
    allowed = money.amazon_pay_currencies(country)
    if currency not in allowed:
        raise InvalidRequest(
            f"The currency provided ({currency}) is invalid for Amazon Pay on an account in {country.upper()}. "
            f"Amazon Pay accepts: {', '.join(sorted(allowed))}.",
            code="payment_intent_invalid_currency", param="currency")
