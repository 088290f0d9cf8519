"""Currencies: which exist, how many decimals they have, and the smallest amount Stripe accepts."""

from __future__ import annotations

from .errors import InvalidRequest

# ISO 4217 codes that Stripe presents in its API (lowercase).
CURRENCIES = frozenset("""
aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn bzd
cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq
gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd
lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk
php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd top
try ttd twd tzs uah ugx usd uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw
""".split())

# Amounts in these are whole units: 500 jpy is ¥500.
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())

# Amounts in these have three decimals; Stripe requires the last digit to be 0.
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())

# Stripe's minimum charge amounts, in the smallest unit; others default to the equivalent of 50 cents.
MINIMUM_AMOUNT = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
    "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
}
DEFAULT_MINIMUM = 50

# Stripe's upper bound for an amount (eight digits before the decimals, as in its API).
MAXIMUM_AMOUNT = 99_999_999

# Amazon Pay's currencies by account country (Stripe's guide).
_AMAZON_PAY_EUROPE = frozenset("usd aud gbp dkk eur hkd jpy nzd nok zar sek chf".split())
_EUROPEAN_COUNTRIES = frozenset(
    "AT BE CY DK FR DE HU IE IT LU NL PT ES SE CH GB".split()
)


def amazon_pay_currencies(country: str) -> frozenset[str]:
    """Currencies an account in `country` may take with Amazon Pay."""
    if country.upper() in _EUROPEAN_COUNTRIES:
        return _AMAZON_PAY_EUROPE
    return frozenset({"usd"})


def validate_currency(value: object, param: str = "currency") -> str:
    """A known lowercase currency code, or a 400 naming `param`."""
    if not isinstance(value, str) or value.lower() not in CURRENCIES:
        raise InvalidRequest(
            f"Invalid currency: {value!s}. Stripe currently supports these currencies: "
            + ", ".join(sorted(CURRENCIES)),
            code="parameter_invalid_string" if not isinstance(value, str) else None,
            param=param,
        )
    return value.lower()


def validate_amount(amount: int, currency: str, param: str = "amount") -> int:
    """Check an amount against the currency's minimum, maximum and decimals."""
    minimum = MINIMUM_AMOUNT.get(currency, DEFAULT_MINIMUM)
    if amount < minimum:
        raise InvalidRequest(
            f"Amount must be at least {format_amount(minimum, currency)}",
            code="amount_too_small", param=param,
        )
    if amount > MAXIMUM_AMOUNT:
        raise InvalidRequest(
            f"Amount must be no more than {format_amount(MAXIMUM_AMOUNT, currency)}",
            code="amount_too_large", param=param,
        )
    if currency in THREE_DECIMAL and amount % 10:
        raise InvalidRequest(
            f"Amounts in {currency} must be a multiple of 10 (the last digit must be 0).",
            code="invalid_amount", param=param,
        )
    return amount


def decimals(currency: str) -> int:
    """How many minor-unit digits an amount in `currency` has."""
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "aud": "A$", "nzd": "NZ$", "hkd": "HK$",
            "chf": "CHF ", "sek": "kr ", "nok": "kr ", "dkk": "kr ", "zar": "R "}


def format_amount(amount: int, currency: str) -> str:
    """A human form of an amount: ``$10.99``, ``¥500``, ``12.50 CAD``."""
    digits = decimals(currency)
    major = f"{amount / 10 ** digits:,.{digits}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{major}" if symbol else f"{major} {currency.upper()}"
