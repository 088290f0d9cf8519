"""Card numbers, expiry dates and CVCs checked the way Stripe checks them, with Stripe's codes."""

from __future__ import annotations

from dataclasses import dataclass

from ...domain.errors import PaymentFailed

# (brand, prefixes as (low, high) of the leading digits, accepted lengths)
_BRANDS: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]], ...] = (
    ("amex", (("34", "34"), ("37", "37")), (15,)),
    ("diners", (("300", "305"), ("36", "36"), ("38", "39")), (14, 15, 16, 17, 18, 19)),
    ("jcb", (("3528", "3589"),), (16, 17, 18, 19)),
    ("visa", (("4", "4"),), (13, 16, 19)),
    ("mastercard", (("51", "55"), ("2221", "2720")), (16,)),
    ("discover", (("6011", "6011"), ("644", "649"), ("65", "65")), (16, 17, 18, 19)),
    ("unionpay", (("62", "62"), ("81", "81")), (16, 17, 18, 19)),
)

MESSAGES = {
    "incorrect_number": "Your card number is incorrect.",
    "invalid_number": "Your card number is not a valid credit card number.",
    "invalid_expiry_month": "Your card's expiration month is invalid.",
    "invalid_expiry_year": "Your card's expiration year is invalid.",
    "invalid_cvc": "Your card's security code is invalid.",
}


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every card number passes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def brand_of(digits: str) -> str:
    """Stripe's brand name for a number's leading digits, or ``unknown``."""
    for brand, ranges, _ in _BRANDS:
        for low, high in ranges:
            head = digits[:len(low)]
            if len(head) == len(low) and low <= head <= high:
                return brand
    return "unknown"


def _lengths(brand: str) -> tuple[int, ...]:
    for name, _, lengths in _BRANDS:
        if name == brand:
            return lengths
    return tuple(range(12, 20))


def card_error(code: str, param: str, message: str | None = None) -> PaymentFailed:
    return PaymentFailed(message or MESSAGES[code], code=code, param=param)


@dataclass(frozen=True, slots=True)
class Expiry:
    month: int
    year: int


def check_number(raw: str | None, param: str) -> str:
    """The digits of a card number (spaces and dashes allowed between them); Stripe's
    ``invalid_number`` for something that is not a card number, ``incorrect_number`` when the
    check digit is wrong."""
    if raw is None:
        raise card_error("invalid_number", param)
    digits = raw.replace(" ", "").replace("-", "")
    if not digits.isascii() or not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise card_error("invalid_number", param)
    if len(digits) not in _lengths(brand_of(digits)) or not luhn_valid(digits):
        raise card_error("incorrect_number", param)
    return digits


def check_expiry(month: str | None, year: str | None, *, prefix: str, today: tuple[int, int]) -> Expiry:
    """Month 1-12; a year of two or four digits, not in the past and at most 50 years ahead."""
    this_year, this_month = today
    if month is None or not month.isascii() or not month.isdigit() or not 1 <= int(month) <= 12:
        raise card_error("invalid_expiry_month", f"{prefix}[exp_month]")
    if year is None or not year.isascii() or not year.isdigit() or len(year) not in (2, 4):
        raise card_error("invalid_expiry_year", f"{prefix}[exp_year]")
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    if full_year < this_year or full_year > this_year + 50:
        raise card_error("invalid_expiry_year", f"{prefix}[exp_year]")
    if full_year == this_year and int(month) < this_month:
        raise card_error("invalid_expiry_month", f"{prefix}[exp_month]")
    return Expiry(int(month), full_year)


def check_cvc(cvc: str | None, brand: str, param: str) -> bool:
    """Whether a CVC was given; three digits, four for American Express."""
    if cvc is None:
        return False
    if not cvc.isascii() or not cvc.isdigit() or len(cvc) != (4 if brand == "amex" else 3):
        raise card_error("invalid_cvc", param)
    return True
