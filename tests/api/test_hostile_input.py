"""Hostile input at every endpoint of a real `kassa serve`: never a 5xx, always Stripe's shapes.

Hypothesis sends random and deliberately broken requests (broken percent-encodings, invalid UTF-8,
NUL bytes, brackets nested 50 deep or unbalanced, mixed list styles, a key given as a value and a
hash, huge and malformed numbers, oversized metadata, garbage search queries and cursors, both
paging cursors, missing and very long ids, oversized / JSON / binary / empty bodies, bad and
reused Idempotency-Keys, missing / publishable / malformed keys) and checks every answer
(`check`):

* no 5xx, and a ``Request-Id`` header on every response;
* only 2xx and 4xx (a redirect or a 1xx is not a Stripe answer);
* a 4xx is ``application/json`` ``{"error": {"type": <a Stripe error type>, "message": "…"}}``;
* a 2xx is a JSON object with an ``object`` field (``/healthz``: ``{"status": "ok"}``), given only
  to a valid key that the endpoint allows; no key or a broken one gets a 401 (or the 404/405 of an
  unknown route), a publishable key on a secret-only call a 403 (or 404/405);
* a path that no row of ENDPOINTS names answers a Stripe-shaped 4xx (OPTIONS may also get a CORS
  preflight's bodiless 2xx).

To cover a new endpoint, add a row to ENDPOINTS (and its parameter names); endpoints listed before
they exist must already answer a Stripe-shaped 404.

The requests use an account of their own (created with ``kassa accounts create``), so that moving
its test clock or filling its lists cannot disturb the other tests sharing the server; the
default account's keys (``server.secret_key``, ``server.publishable_key``) are used as well, for
reads only.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import uuid
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, unquote

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from support import kassa_command


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {name} placeholders are filled with real, missing and hostile ids
    params: tuple[str, ...] = ()  # parameter names worth sending (unknown ones are added anyway)
    publishable: bool = False  # a publishable key may call it
    stripe: bool = True  # False: not a Stripe resource (/healthz), its 2xx body is checked apart
    valid: tuple[tuple[str, str], ...] = ()  # a valid request's parameters, to mutate (reaches the store)


LIST = ("limit", "starting_after", "ending_before", "created", "created[gt]", "created[gte]",
        "created[lt]", "created[lte]", "expand")
PI_CREATE = (
    "amount", "currency", "payment_method_types", "automatic_payment_methods[enabled]",
    "automatic_payment_methods[allow_redirects]", "capture_method", "confirmation_method",
    "payment_method_options[amazon_pay][capture_method]",
    "payment_method_options[amazon_pay][setup_future_usage]", "description", "customer", "metadata",
    "receipt_email", "setup_future_usage", "shipping[name]", "shipping[phone]",
    "shipping[address][line1]", "shipping[address][country]", "shipping[carrier]",
    "statement_descriptor", "statement_descriptor_suffix", "transfer_group", "payment_method",
    "confirm", "return_url", "payment_method_data[type]", "off_session", "expand")
PI_UPDATE = tuple(name for name in PI_CREATE if name not in ("confirm", "confirmation_method", "return_url",
                                                             "off_session", "automatic_payment_methods[enabled]"))
PI_CONFIRM = ("payment_method", "payment_method_data[type]", "payment_method_data[billing_details][name]",
              "payment_method_data[billing_details][email]", "return_url", "receipt_email",
              "setup_future_usage", "shipping[name]", "shipping[address][line1]", "off_session",
              "error_on_requires_action", "use_stripe_sdk", "mandate_data[customer_acceptance][type]",
              "payment_method_options[amazon_pay][capture_method]", "client_secret", "expand")
PM_CREATE = ("type", "billing_details[name]", "billing_details[email]", "billing_details[phone]",
             "billing_details[address][line1]", "billing_details[address][country]", "amazon_pay",
             "allow_redisplay", "metadata", "expand")
WEBHOOK = ("url", "enabled_events", "description", "metadata", "api_version", "expand")
CUSTOMER = ("email", "name", "phone", "description", "metadata", "address[line1]", "address[country]",
            "shipping[name]", "shipping[address][line1]", "preferred_locales",
            "invoice_settings[default_payment_method]", "invoice_settings[footer]", "expand")
PM_UPDATE = ("metadata", "billing_details[name]", "billing_details[email]", "billing_details[address][line1]",
             "allow_redisplay", "card[exp_month]", "card[exp_year]", "expand")
SETUP_CONFIRM = ("payment_method", "payment_method_data[type]", "payment_method_data[billing_details][name]",
                 "payment_method_data[card][number]", "return_url", "use_stripe_sdk",
                 "payment_method_options[card][request_three_d_secure]", "mandate_data[customer_acceptance][type]",
                 "mandate_data[customer_acceptance][online][ip_address]", "client_secret", "expand")
SETUP_CREATE = ("payment_method_types", "automatic_payment_methods[enabled]",
                "automatic_payment_methods[allow_redirects]", "usage", "customer", "description", "metadata",
                "flow_directions", "attach_to_self", "confirm") + tuple(
                    name for name in SETUP_CONFIRM if name != "client_secret")
SETUP_UPDATE = ("customer", "payment_method", "description", "metadata", "payment_method_types",
                "payment_method_options[card][request_three_d_secure]", "flow_directions", "expand")

RETURN = (("return_url", "https://shop.example/done?order=1"),)

# Every endpoint, today's and those to come. Placeholders: {intent}, {payment_method}, {charge},
# {refund}, {event}, {webhook_endpoint}, {customer}, {setup_intent}, {mandate}; seeded objects are
# written @name (see SEEDED).
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/v1/payment_intents", PI_CREATE, valid=(("amount", "1099"), ("currency", "usd"))),
    Endpoint("GET", "/v1/payment_intents", LIST + ("customer",)),
    Endpoint("GET", "/v1/payment_intents/search", ("query", "limit", "page", "expand"),
             valid=(("query", "status:'canceled'"),)),
    Endpoint("GET", "/v1/payment_intents/{intent}", ("client_secret", "expand"), publishable=True),
    Endpoint("POST", "/v1/payment_intents/{intent}", PI_UPDATE),
    Endpoint("POST", "/v1/payment_intents/{intent}/cancel", ("cancellation_reason", "expand")),
    Endpoint("POST", "/v1/payment_intents/{intent}/confirm", PI_CONFIRM, publishable=True,
             valid=(("payment_method_data[type]", "amazon_pay"),) + RETURN),
    Endpoint("POST", "/v1/payment_intents/{intent}/capture",
             ("amount_to_capture", "application_fee_amount", "final_capture", "metadata", "statement_descriptor",
              "statement_descriptor_suffix", "expand")),
    Endpoint("POST", "/v1/payment_methods", PM_CREATE, publishable=True, valid=(("type", "amazon_pay"),)),
    Endpoint("GET", "/v1/payment_methods", LIST + ("type", "customer")),
    Endpoint("GET", "/v1/payment_methods/{payment_method}", ("expand",)),
    Endpoint("POST", "/v1/payment_methods/{payment_method}", PM_UPDATE),
    Endpoint("POST", "/v1/payment_methods/{payment_method}/attach", ("customer", "expand"),
             valid=(("customer", "@customer"),)),
    Endpoint("POST", "/v1/payment_methods/{payment_method}/detach", ("expand",)),
    Endpoint("POST", "/v1/customers", CUSTOMER, valid=(("email", "buyer@example.com"),)),
    Endpoint("GET", "/v1/customers", LIST + ("email", "test_clock")),
    Endpoint("GET", "/v1/customers/search", ("query", "limit", "page", "expand"),
             valid=(("query", "email:'buyer@example.com'"),)),
    Endpoint("GET", "/v1/customers/{customer}", ("expand",)),
    Endpoint("POST", "/v1/customers/{customer}", CUSTOMER),
    Endpoint("DELETE", "/v1/customers/{customer}", ()),
    Endpoint("GET", "/v1/customers/{customer}/payment_methods", LIST + ("type", "allow_redisplay")),
    Endpoint("GET", "/v1/customers/{customer}/payment_methods/{payment_method}", ("expand",)),
    Endpoint("POST", "/v1/setup_intents", SETUP_CREATE, valid=(("customer", "@customer"),)),
    Endpoint("GET", "/v1/setup_intents", LIST + ("customer", "payment_method", "attach_to_self")),
    Endpoint("GET", "/v1/setup_intents/{setup_intent}", ("client_secret", "expand"), publishable=True),
    Endpoint("POST", "/v1/setup_intents/{setup_intent}", SETUP_UPDATE),
    Endpoint("POST", "/v1/setup_intents/{setup_intent}/confirm", SETUP_CONFIRM, publishable=True,
             valid=(("payment_method_data[type]", "amazon_pay"),) + RETURN),
    Endpoint("POST", "/v1/setup_intents/{setup_intent}/cancel", ("cancellation_reason", "expand")),
    Endpoint("GET", "/v1/mandates/{mandate}", ("expand",)),
    Endpoint("GET", "/v1/charges", LIST + ("payment_intent", "customer")),
    Endpoint("GET", "/v1/charges/{charge}", ("expand",)),
    Endpoint("POST", "/v1/charges/{charge}", ("description", "metadata", "receipt_email", "expand")),
    Endpoint("POST", "/v1/refunds", ("payment_intent", "charge", "amount", "reason", "metadata",
                                     "instructions_email", "expand"),
             valid=(("payment_intent", "@succeeded"), ("amount", "50"))),
    Endpoint("GET", "/v1/refunds", LIST + ("payment_intent", "charge")),
    Endpoint("GET", "/v1/refunds/{refund}", ("expand",)),
    Endpoint("POST", "/v1/refunds/{refund}", ("metadata", "expand")),
    Endpoint("POST", "/v1/refunds/{refund}/cancel", ("expand",)),
    Endpoint("GET", "/v1/events", LIST + ("type", "types", "delivery_success")),
    Endpoint("GET", "/v1/events/{event}", ("expand",)),
    Endpoint("POST", "/v1/webhook_endpoints", WEBHOOK,
             valid=(("url", "https://shop.example/hook"), ("enabled_events[]", "*"))),
    Endpoint("GET", "/v1/webhook_endpoints", LIST),
    Endpoint("GET", "/v1/webhook_endpoints/{webhook_endpoint}", ("expand",)),
    Endpoint("POST", "/v1/webhook_endpoints/{webhook_endpoint}", WEBHOOK + ("disabled",)),
    Endpoint("DELETE", "/v1/webhook_endpoints/{webhook_endpoint}", ()),
    Endpoint("POST", "/v1/test_helpers/clock/advance", ("seconds",), valid=(("seconds", "60"),)),
    Endpoint("GET", "/healthz", (), stripe=False),
)

# What a placeholder is filled with, besides missing and hostile ids (seeded by the `probe` fixture).
SEEDED_IDS = {
    "{intent}": ["@open1", "@open2", "@canceled", "@succeeded", "@capturable", "@action"],
    "{payment_method}": ["@pm", "@saved_pm"], "{charge}": ["@charge"], "{refund}": ["@refund"],
    "{event}": ["@event"], "{webhook_endpoint}": ["@webhook"], "{customer}": ["@customer", "@customer2"],
    "{setup_intent}": ["@setup", "@setup_action", "@setup_done"], "{mandate}": ["@mandate"],
}
SEEDED = sorted({name for names in SEEDED_IDS.values() for name in names} | {"@secret1", "@setup_secret"})

# Paths served to browsers, not API endpoints (left out of the unknown-path test).
NON_API_PREFIXES = ("/amazon_pay/", "/v3/")

ERROR_TYPES = {"invalid_request_error", "authentication_error", "card_error", "idempotency_error",
               "rate_limit_error", "api_error"}

EXAMPLES = 150
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow, HealthCheck.data_too_large,
                                                      HealthCheck.large_base_example])


def _template_regex(template: str) -> re.Pattern:
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part)
                              for part in re.split(r"(\{\w+\})", template)) + r"\Z")


ROUTES = [(endpoint.method, _template_regex(endpoint.path)) for endpoint in ENDPOINTS]


# ---- the server, the account, the oracle ---------------------------------------------------------

@dataclass
class Keys:
    secret: str
    publishable: str
    live_secret: str
    default_secret: str  # the default account's, used for reads only
    default_publishable: str


class Probe:
    """Sends one request and checks its answer against the oracle."""

    def __init__(self, server, client: httpx.Client, keys: Keys, seeded: dict[str, str]):
        self.server = server
        self.client = client
        self.keys = keys
        self.seeded = seeded
        self.live: list[Endpoint] = list(ENDPOINTS)

    def authorization(self, auth: str, method: str) -> tuple[str, str | bytes | None]:
        """The kind of key the request carries (secret, publishable, none, bad) and the header."""
        keys = self.keys
        if auth.startswith("default") and method != "GET":  # the default account is only read
            auth = auth.removeprefix("default").lstrip("_") or "secret"
        header = {
            "secret": f"Bearer {keys.secret}",
            "basic": "Basic " + base64.b64encode(f"{keys.secret}:".encode()).decode(),
            "lowercase": f"bearer {keys.secret}",
            "live": f"Bearer {keys.live_secret}",
            "default": f"Bearer {keys.default_secret}",
            "publishable": f"Bearer {keys.publishable}",
            "default_publishable": f"Bearer {keys.default_publishable}",
        }.get(auth)
        if header is not None:
            return ("publishable" if "publishable" in auth else "secret"), header
        if auth == "none":
            return "none", None
        return "bad", BAD_AUTHORIZATION[auth]

    def resolve(self, text: str) -> str:
        """Seeded objects are named @open1, @canceled, … in generated values and paths."""
        for name in sorted(self.seeded, key=len, reverse=True):
            text = text.replace(name, self.seeded[name])
        return text

    def send(self, method: str, path: str, *, query: bytes = b"", body=None, auth: str = "secret",
             content_type: str | None = None, idempotency_key: str | bytes | None = None,
             endpoint: Endpoint | None = None) -> httpx.Response:
        kind, authorization = self.authorization(auth, method)
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        if content_type is not None:
            headers["Content-Type"] = content_type
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        url = request_url(self.server.url, self.resolve(path), query)
        shown_body = body if isinstance(body, bytes) else b"<streamed>" if body is not None else b""
        shown_headers = {name: value for name, value in headers.items() if name != "Authorization"}
        described = (f"{method} {url.raw_path[:600]!r} auth={auth} headers={shown_headers} "
                     f"body({len(shown_body)} bytes)={shown_body[:600]!r}")
        with contextlib.suppress(InvalidArgument):  # outside a hypothesis test
            note(described)
        response = self.client.request(method, url, content=body, headers=headers)
        check(response, self.server, described, endpoint=endpoint, key=kind,
              idempotency_key=idempotency_key if method == "POST" else None)
        return response


def request_url(base: str, path: str, query: bytes = b"") -> httpx.URL:
    """The URL as sent: httpx removes dot segments (``/a/./b/..``) from the path."""
    return httpx.URL(base).copy_with(raw_path=url_safe(path.encode()) + (b"?" + query if query else b""))


def server_path(url: httpx.URL) -> str:
    """The path as kassa routes it (percent-decoded)."""
    return unquote(url.raw_path.split(b"?")[0].decode("ascii"), errors="replace")


def server_trace(server, request_id: str | None) -> str:
    """The server log's lines about one request (its traceback), or the log's tail."""
    log = server.log()
    if request_id and request_id in log:
        start = log.index(request_id)
        start = log.rfind("\n", 0, start) + 1
        return log[start:start + 6000]
    return log[-4000:]


def check(response: httpx.Response, server, described: str, *, endpoint: Endpoint | None, key: str,
          idempotency_key=None) -> None:
    """The oracle (see the module's docstring); `key` is secret, publishable, none or bad."""
    status = response.status_code
    request_id = response.headers.get("request-id")
    what = f"{described}\n  -> {status} {response.headers.get('content-type')} {response.text[:800]!r}"
    assert status < 500, f"server error for {what}\n--- server log ---\n{server_trace(server, request_id)}"
    assert 200 <= status < 300 or 400 <= status < 500, f"neither 2xx nor 4xx: {what}"
    if response.request.method == "OPTIONS" and 200 <= status < 300:
        return  # a CORS preflight: headers, no body
    assert request_id and request_id.startswith("req_"), f"no Request-Id: {what}"
    assert response.headers.get("content-type", "").split(";")[0].strip() == "application/json", what
    try:
        body = response.json()
    except ValueError:
        pytest.fail(f"not JSON: {what}")
    assert isinstance(body, dict), what
    if status >= 400:
        error = body.get("error")
        assert isinstance(error, dict), f"no error object: {what}"
        assert error.get("type") in ERROR_TYPES, f"error type: {what}"
        assert isinstance(error.get("message"), str) and error["message"].strip(), f"error message: {what}"
        for name in ("code", "param", "doc_url"):
            assert error.get(name) is None or isinstance(error[name], str), f"error {name}: {what}"
    if endpoint is not None and endpoint.stripe:
        if key in ("none", "bad"):
            assert status in (401, 404, 405), f"no valid key, yet: {what}"
        if status == 401:
            assert body["error"]["type"] == "authentication_error", what
        if key == "publishable" and not endpoint.publishable:
            assert status in (403, 404, 405), f"publishable key on a secret-only call: {what}"
    if 200 <= status < 300:
        if endpoint is not None and not endpoint.stripe:
            assert body == {"status": "ok"}, what
            return
        assert isinstance(body.get("object"), str) and body["object"], f"2xx without object: {what}"
        assert key in ("secret", "publishable"), f"2xx without a valid key: {what}"
        if isinstance(idempotency_key, (str, bytes)) and len(idempotency_key) > 255:
            pytest.fail(f"a {len(idempotency_key)}-character Idempotency-Key was accepted: {what}")


# ---- encoding ----------------------------------------------------------------------------------

_URL_KEEP = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?[]%")


def url_safe(raw: bytes) -> bytes:
    """A valid request target: bytes outside the URL alphabet are %-escaped, `%` itself is kept
    (so that broken escapes such as ``%zz`` reach the server as they are)."""
    return b"".join(bytes([b]) if b in _URL_KEEP else b"%%%02X" % b for b in raw)


def enc_key(key: str, brackets: bool = True) -> bytes:
    return quote(key, safe="[]" if brackets else "").encode()


def enc_value(value: str) -> bytes:
    return quote_plus(value, safe="").encode()


def join(pairs: list) -> bytes:
    """Pairs are (key, value) strings, encoded here, or raw bytes sent as they are."""
    return b"&".join(p if isinstance(p, bytes) else enc_key(p[0]) + b"=" + enc_value(p[1]) for p in pairs)


# ---- strategies --------------------------------------------------------------------------------

BROKEN_ESCAPES = [b"%", b"%z", b"%zz", b"%2", b"%%", b"%C3%28", b"%ED%A0%80", b"%ED%B0%80", b"%FF%FE",
                  b"%E2%82", b"%F4%90%80%80", b"%C0%AF", b"%00", b"%0", b"%G0", b"%E9t%E9"]
RAW_FRAGMENTS = BROKEN_ESCAPES + [b"+", b"=", b"==", b"&", b";", b"%26", b"%3D", b"%5B", b"%5D", b"[", b"]",
                                  b"[]", b"][", b"a[", b"a]b[", b"[x]", b"a[b", b"=x", b"a=b=c"]
INTEGERS = ["0", "-1", "1", "49", "50", "100", "101", "1099", "99999999", "100000000", "99999999999999999999999",
            "-99999999999999999999999", "9223372036854775807", "9223372036854775808",
            "-9223372036854775808", "-9223372036854775809", "-9999999999999999999", "9999999999999999999",
            "18446744073709551616", "1.5", "10.00", "1e3", "1E3", "0x10", "+5", " 5", "5 ", "\u0661\u0662\u0663",
            "NaN", "Infinity", "-0", "00000000000000000000001", "", "true", "abc", "1_000", "１２３"]
BOOLEANS = ["true", "false", "True", "FALSE", "1", "0", "yes", "on", "", "null", "tru", "t"]
CURRENCIES = ["usd", "USD", "Usd", "eur", "jpy", "bhd", "kwd", "gbp", "xxx", "us", "usdd", "", "ü", "u d",
              "usd ", "0", "btc", "\u0130sd"]
ENUMS = {
    "capture_method": ["automatic", "automatic_async", "manual"],
    "confirmation_method": ["automatic", "manual"],
    "setup_future_usage": ["off_session", "on_session", "none"],
    "allow_redirects": ["always", "never"],
    "cancellation_reason": ["duplicate", "fraudulent", "requested_by_customer", "abandoned", "expired"],
    "reason": ["duplicate", "fraudulent", "requested_by_customer", "expired_uncaptured_charge"],
    "type": ["amazon_pay", "card", "payment_intent.succeeded", "charge.refunded"],
    "payment_method_types": ["amazon_pay", "card", "link"],
    "allow_redisplay": ["always", "limited", "unspecified"],
    "enabled_events": ["*", "payment_intent.succeeded", "charge.refunded", "nope"],
    "types": ["payment_intent.created", "payment_intent.*", "*"],
    "usage": ["off_session", "on_session"],
    "request_three_d_secure": ["any", "automatic", "challenge"],
    "flow_directions": ["inbound", "outbound"],
    "preferred_locales": ["en", "de-DE", "fr"],
    "expand": ["customer", "latest_charge", "payment_method", "data", "data.customer", "data.latest_charge",
               "latest_charge.refunds", "a.b.c.d.e", ".", "customer.", "..", "charge", "payment_intent",
               "data.payment_intent"],
}
INT_PARAMS = {"amount", "limit", "created", "gt", "gte", "lt", "lte", "amount_to_capture", "seconds", "exp_month",
              "exp_year"}
BOOL_PARAMS = {"confirm", "enabled", "off_session", "final_capture", "error_on_requires_action",
               "use_stripe_sdk", "disabled", "delivery_success", "attach_to_self", "infer_from_client"}
ID_PARAMS = {"starting_after", "ending_before", "payment_method", "customer", "payment_intent", "charge",
             "client_secret", "default_payment_method", "test_clock"}
LIST_PARAMS = {"payment_method_types", "expand", "enabled_events", "types", "preferred_locales", "flow_directions"}
LENGTHS = [22, 23, 40, 41, 64, 65, 255, 256, 500, 501, 800, 801, 1000, 1001, 2048, 2049, 5000, 5001]

texts = st.text(max_size=30)
control_texts = st.text(st.sampled_from("\x00\x01\x1f\x7f\r\n\t \u2028\ufeff\u0301\U0001f4a9'\"\\[]&=%+;#"),
                        max_size=12)
long_texts = st.sampled_from(LENGTHS).map(lambda n: "x" * n)
strings = st.one_of(texts, control_texts, long_texts, st.sampled_from(["", " ", "null", "None", "[]", "{}"]))
INT64_EDGES = [2**63 - 1, 2**63, 2**64 - 1, 2**64, -2**63, -2**63 - 1, 2**31, -1, 0, True]
integerish = st.one_of(st.sampled_from(INTEGERS), st.integers(-2**70, 2**70).map(str),
                       st.integers(-10, 200_000).map(str), st.floats().map(repr))
ids = st.one_of(
    st.sampled_from(SEEDED + ["pi_doesnotexist", "pi_", "pi", "pm_missing", "ch_missing", "re_missing",
                              "evt_missing", "we_missing", "cus_1", "@open1_secret_wrong", "@open1x",
                              "cus_missing", "seti_missing", "mandate_missing", "pm_card_visa",
                              "pm_card_chargeCustomerFail", "@setup_secret_wrong"]),
    st.sampled_from(["pi_", "pm_", "ch_", "re_", "evt_", "we_", "cus_", "seti_", "mandate_", ""]).flatmap(
        lambda prefix: st.sampled_from(LENGTHS + [10_000]).map(lambda n: prefix + "A" * n)),
    strings,
)
emails = st.one_of(st.sampled_from(["a@b.co", "@b.co", "a@", "a b@c.d", "a@@b", "ü@ü.de", "a@b.co" * 200]),
                   strings)

# metadata keys chosen to walk into a seeded intent's metadata ({"a", "order", "a.b", 'a"b'})
META_KEYS = ["a", "order", "a.b", 'a"b', 'a"', '"', "a\\", "a'b", "a b", "é", "$", "[0]", "a]", "*", "a\x00",
             "x" * 40, "x" * 41, ""]


def quoted(text: str, quote_char: str, escape: bool) -> str:
    if escape:
        text = text.replace("\\", "\\\\").replace(quote_char, "\\" + quote_char)
    return quote_char + text + quote_char


search_values = st.one_of(
    st.builds(quoted, st.one_of(texts, st.sampled_from(["succeeded", "usd", "canceled", "42", "1", ""])),
              st.sampled_from("'\""), st.booleans()),
    st.sampled_from(INTEGERS).filter(lambda s: s and " " not in s),
    st.sampled_from(["null", "NULL", "Null", "succeeded", "'unclosed", '"unclosed', "''", '""', "\\", "-", "-1"]),
)
metadata_fields = st.builds(lambda key, q, escape: f"metadata[{quoted(key, q, escape)}]",
                            st.one_of(st.sampled_from(META_KEYS), texts), st.sampled_from("'\""),
                            st.sampled_from([True, True, False]))
search_fields = st.one_of(
    metadata_fields,
    st.sampled_from(["status", "amount", "created", "currency", "customer", "metadata", "foo", "id", "AND",
                     "OR", "null", "", "Amount", "metadata.a"]),
    st.sampled_from(["metadata[]", "metadata['a'", "metadata[a]", "metadata['a']['b']"]),
)
# clauses that mostly parse (so that they reach the store), and wild ones
plain_clauses = st.builds(
    lambda negate, field, op, value: ("-" if negate else "") + field + op + value,
    st.booleans(), st.one_of(metadata_fields, st.sampled_from(["status", "amount", "created", "currency", "customer"])),
    st.sampled_from([":"] * 4 + [">", ">=", "<", "<="]), search_values)
wild_clauses = st.builds(
    lambda negate, field, op, value: ("-" if negate else "") + field + op + value,
    st.booleans(), search_fields, st.sampled_from([":", ">", ">=", "<", "<=", "~", "=", "", " : ", "::"]),
    search_values)


@st.composite
def joined(draw, clauses: st.SearchStrategy[str], max_size: int) -> str:
    items = draw(st.lists(clauses, min_size=1, max_size=max_size))
    query = items[0]
    for item in items[1:]:
        query += draw(st.sampled_from([" AND ", " OR ", " ", " and ", " or ", "AND", " AND OR "])) + item
    return query


search_queries = st.one_of(
    joined(plain_clauses, 3),
    joined(plain_clauses, 3),
    joined(wild_clauses, 12),
    texts,
    st.lists(st.sampled_from(["status", ":", "'", '"', "[", "]", "-", "AND", "OR", "metadata", "amount", ">",
                              "<", "=", "~", "null", "1", "\\", " ", "(", ")", "'a'", "9" * 30]),
             max_size=15).map("".join),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=5)
pages = st.one_of(
    texts,
    st.binary(max_size=24).map(bytes.hex),
    json_values.map(lambda value: json.dumps({"seq": value}).encode().hex()),
    st.one_of(st.integers(-2**70, 2**70), st.sampled_from(INT64_EDGES)).map(
        lambda seq: json.dumps({"seq": seq}).encode().hex()),
    json_values.map(lambda value: json.dumps(value).encode().hex()),
    st.sampled_from(["abc", "7b", "7b7d", "00", "zz"]),
)


def values_for(name: str) -> st.SearchStrategy[str]:
    leaf = re.findall(r"\[([^\]]*)\]", name)[-1] if "[" in name else name
    if leaf in INT_PARAMS:
        specific = integerish
    elif leaf == "currency":
        specific = st.sampled_from(CURRENCIES)
    elif leaf in BOOL_PARAMS:
        specific = st.sampled_from(BOOLEANS)
    elif leaf in ID_PARAMS:
        specific = ids
    elif leaf == "query":
        specific = search_queries
    elif leaf == "page":
        specific = pages
    elif "email" in leaf:
        specific = emails
    elif leaf in ENUMS:
        specific = st.sampled_from(ENUMS[leaf] + ["", "bogus"])
    elif leaf in ("url", "return_url"):
        specific = st.sampled_from(["https://example.com/r", "http://localhost/x?a=1", "ftp://x", "javascript:1",
                                    "not a url", "https://" + "x" * 3000, ""])
    else:
        return strings
    return st.one_of(specific, specific, strings)


@st.composite
def list_pairs(draw, name: str) -> list:
    """A list parameter in any style, mixed styles included: a[]=1&a[0]=2&a[x]=3."""
    items = draw(st.lists(values_for(name), max_size=4))
    styles = st.sampled_from(["append", "index", "hash", "plain"])
    pairs = []
    for index, item in enumerate(items):
        style = draw(styles)
        key = {"append": f"{name}[]", "index": f"{name}[{index}]", "hash": f"{name}[x{index}]",
               "plain": name}[style]
        pairs.append((key, item))
    if draw(st.integers(0, 5)) == 0:
        pairs.append((f"{name}[{draw(st.sampled_from(['99999', '-1', '1e3', '000001', '']))}]", "x"))
    return pairs or [(name, "")]


@st.composite
def metadata_pairs(draw, name: str = "metadata") -> list:
    kind = draw(st.sampled_from(["small", "small", "many", "long_key", "long_value", "nested", "list",
                                 "value_and_hash", "clear", "remove"]))
    if kind == "many":
        count = draw(st.sampled_from([50, 51, 60]))
        return [(f"{name}[k{i}]", "v") for i in range(count)]
    if kind == "long_key":
        return [(f"{name}[{'k' * draw(st.sampled_from([40, 41, 100]))}]", "v")]
    if kind == "long_value":
        return [(f"{name}[k]", "v" * draw(st.sampled_from([500, 501, 5000])))]
    if kind == "nested":
        return [(f"{name}[a][b]", "c")]
    if kind == "list":
        return [(f"{name}[]", "x"), (f"{name}[0]", "y")]
    if kind == "value_and_hash":
        pairs = [(name, "x"), (f"{name}[a]", "b")]
        return pairs if draw(st.booleans()) else pairs[::-1]
    if kind == "clear":
        return [(name, "")]
    if kind == "remove":
        return [(f"{name}[a]", "")]
    keys = st.one_of(st.sampled_from(META_KEYS), texts)
    return [(f"{name}[{key}]", value) for key, value in
            draw(st.dictionaries(keys, strings, max_size=5)).items()]


def pairs_for(name: str) -> st.SearchStrategy[list]:
    base = name.split("[")[0]
    if base in LIST_PARAMS:
        return list_pairs(name)
    if name == "metadata":
        return metadata_pairs()
    return values_for(name).map(lambda value: [(name, value)])


def deep_key(base: str, depth: int) -> str:
    return base + "".join(f"[{chr(97 + i % 26)}]" for i in range(depth))


hostile_pairs = st.one_of(
    st.tuples(st.from_regex(r"[a-z_]{1,24}", fullmatch=True), strings),  # unknown keys
    st.tuples(st.sampled_from(["metadata", "shipping", "amount", "a", "expand", "created"]),
              st.sampled_from([2, 8, 9, 50])).map(lambda t: (deep_key(*t), "1")),
    st.tuples(st.sampled_from(["a[b", "a]b[", "[x]", "]", "[", "a[b]]", "a[[b]]", "a[b]c", "a[b][", "", "a[]b",
                               "a[][]", "a[][x]", "metadata[", "metadata]", "metadata[a][", "expand[[]", "[]",
                               "a]", "amount[]", "currency[x]", "limit[0]", "x" * 1001]), strings),
    st.sampled_from(RAW_FRAGMENTS),  # a whole raw chunk
    st.tuples(st.sampled_from(["description", "customer", "query", "a", "metadata[a]"]),
              st.sampled_from(BROKEN_ESCAPES)).map(lambda t: enc_key(t[0]) + b"=" + b"x" + t[1]),
    st.tuples(st.sampled_from(BROKEN_ESCAPES), st.sampled_from([b"", b"[a]", b"[]"])).map(
        lambda t: b"k" + t[0] + t[1] + b"=v"),
    st.sampled_from(["payment_method_types", "expand", "metadata"]).map(
        lambda name: [(f"{name}[]", "1"), (f"{name}[0]", "2"), (f"{name}[x]", "3")]),
    st.sampled_from(["metadata", "shipping", "amount", "expand", "created", "payment_method_options"]).flatmap(
        lambda name: st.permutations([(name, "x"), (f"{name}[a]", "b")])),
)


@st.composite
def form_pairs(draw, endpoint: Endpoint, extra_names: tuple[str, ...] = ()) -> list:
    """Mostly a valid request with some of its parameters given hostile values (so that they reach
    the services and the store), sometimes with hostile keys and raw fragments as well."""
    names = endpoint.params + extra_names or ("expand",)
    pairs: list = []
    if endpoint.valid and draw(st.integers(0, 3)):
        pairs += list(endpoint.valid)
    for name in draw(st.lists(st.sampled_from(names), max_size=6)):
        pairs += draw(pairs_for(name))
    if draw(st.integers(0, 2)) == 0:
        for hostile in draw(st.lists(hostile_pairs, min_size=1, max_size=3)):
            pairs += hostile if isinstance(hostile, list) else [hostile]
    return draw(st.permutations(pairs)) if len(pairs) < 30 else pairs


BAD_AUTHORIZATION = {
    "bearer_empty": "Bearer", "bearer_spaces": "Bearer    x", "wrong_key": "Bearer sk_test_wrongwrongwrongwrong",
    "token": "Token sk_test_x", "garbage": "garbage", "basic_garbage": "Basic !!!not-base64!!!",
    "basic_empty_user": "Basic " + base64.b64encode(b":secret").decode(),
    "basic_binary": "Basic " + base64.b64encode(b"\xff\xfe\x00:").decode(),
    "long": "Bearer sk_test_" + "x" * 8000, "latin1": b"Bearer sk_test_\xe9\xff", "pk_wrong": "Bearer pk_test_nope",
    "double": "Bearer sk_test_a Bearer sk_test_b", "live_wrong": "Bearer sk_live_nope", "empty": "",
}
auths = st.sampled_from(["secret"] * 8 + ["basic", "lowercase", "live", "default", "publishable",
                                          "default_publishable", "none"] + list(BAD_AUTHORIZATION))
idempotency_keys = st.one_of(
    st.none(), st.none(), st.none(),
    st.sampled_from(["hostile-key-1", "hostile-key-2"]),  # reused across examples, with other parameters
    st.sampled_from([255, 256, 300, 1000]).map(lambda n: "k" * n),
    st.sampled_from(["", "k k", "k\u00e9y".encode("latin-1"), b"\xff" * 10]),  # h11 refuses edge spaces
    st.uuids().map(str),
)


@st.composite
def path_ids(draw, template: str) -> str:
    """The template with every placeholder filled: mostly a seeded object, else a missing or a
    hostile id (``%zz``, ``%00``, ``%2F``, 10 000 characters, another object's id…)."""
    path = template
    for placeholder in re.findall(r"\{\w+\}", template):
        choice = draw(st.one_of(
            st.sampled_from(SEEDED_IDS[placeholder]),
            st.sampled_from(SEEDED_IDS[placeholder]),
            ids.filter(bool).map(lambda text: quote(text, safe="@")),
            st.sampled_from(BROKEN_ESCAPES).map(lambda escape: "pi_" + escape.decode()),
            st.sampled_from(["%2F", "x%2F", "%2e%2e", "%2E", "%20", "%25", "pi_%3Fa%3Db", "%23", "%3B"]),
        ))
        path = path.replace(placeholder, choice, 1)
    return path


# ---- fixtures ----------------------------------------------------------------------------------

def unrecognized(response: httpx.Response) -> bool:
    """The answer of a route kassa does not have (yet)."""
    return response.status_code in (404, 405) and "Unrecognized request URL" in response.text


def seed(client: httpx.Client, url: str, secret: str) -> dict[str, str]:
    """Objects in every state the endpoints care about, named as in SEEDED; those of endpoints that
    do not exist yet are left out (their names then reach the server as missing ids)."""
    auth = {"Authorization": f"Bearer {secret}"}

    def call(method: str, path: str, data: dict | None = None) -> httpx.Response:
        return client.request(method, url + path, data=data, headers=auth)

    def ok(response: httpx.Response) -> dict:
        assert response.status_code == 200, response.text
        return response.json()

    def intent(**params) -> dict:
        return ok(call("POST", "/v1/payment_intents", {"amount": "5000", "currency": "usd", **params}))

    seeded = {}
    open1 = intent(**{"metadata[order]": "42"})
    seeded.update({"@open1": open1["id"], "@secret1": open1["client_secret"],
                   "@open2": intent(customer="cus_hostile")["id"]})
    canceled = intent()
    ok(call("POST", f"/v1/payment_intents/{canceled['id']}/cancel"))
    seeded["@canceled"] = canceled["id"]
    # metadata searches walk into this one's keys (a search key beginning with "a" walks into "a")
    intent(**{"metadata[a]": "1", "metadata[order]": "7", "metadata[a.b]": "x", 'metadata[a"b]': "y"})

    def confirmed(**params) -> dict | None:
        created = intent(**params)
        response = call("POST", f"/v1/payment_intents/{created['id']}/confirm",
                        {"payment_method_data[type]": "amazon_pay", "return_url": "https://shop.example/done"})
        return None if unrecognized(response) else ok(response)

    action = confirmed()
    if action is not None:
        seeded["@action"] = action["id"]
        for name, capture_method in (("@succeeded", "automatic"), ("@capturable", "manual")):
            waiting = confirmed(capture_method=capture_method)
            pressed = client.post(waiting["next_action"]["redirect_to_url"]["url"], data={"decision": "authorize"})
            assert pressed.status_code == 303, pressed.text
            done = ok(call("GET", f"/v1/payment_intents/{waiting['id']}"))
            seeded[name] = done["id"]
            if name == "@succeeded":
                seeded["@charge"] = done["latest_charge"]
                seeded["@pm"] = done["payment_method"]
        refund = call("POST", "/v1/refunds", {"payment_intent": seeded["@succeeded"], "amount": "100"})
        if not unrecognized(refund):
            seeded["@refund"] = ok(refund)["id"]
    events = call("GET", "/v1/events", {"limit": "1"})
    if not unrecognized(events) and ok(events)["data"]:
        seeded["@event"] = events.json()["data"][0]["id"]
    webhook = call("POST", "/v1/webhook_endpoints", {"url": "https://shop.example/hook", "enabled_events[]": "*"})
    if not unrecognized(webhook):
        seeded["@webhook"] = ok(webhook)["id"]
    customer = call("POST", "/v1/customers", {"email": "buyer@example.com", "metadata[order]": "42"})
    if not unrecognized(customer):
        seeded["@customer"] = ok(customer)["id"]
        seeded["@customer2"] = ok(call("POST", "/v1/customers", {"name": "Second Buyer"}))["id"]
        seeded["@saved_pm"] = ok(call("POST", "/v1/payment_methods/pm_card_visa/attach",
                                      {"customer": seeded["@customer"]}))["id"]
        setup = call("POST", "/v1/setup_intents", {"customer": seeded["@customer"]})
        if not unrecognized(setup):
            seeded["@setup"] = ok(setup)["id"]
            seeded["@setup_secret"] = setup.json()["client_secret"]
            seeded["@setup_action"] = ok(call("POST", "/v1/setup_intents", {
                "customer": seeded["@customer"], "payment_method_types[]": "amazon_pay", "confirm": "true",
                "payment_method_data[type]": "amazon_pay", "return_url": "https://shop.example/done"}))["id"]
            done = ok(call("POST", "/v1/setup_intents", {
                "customer": seeded["@customer"], "payment_method_types[]": "card", "confirm": "true",
                "payment_method": "pm_card_visa"}))
            seeded["@setup_done"] = done["id"]
            seeded["@mandate"] = done.get("mandate")
    return {name: value for name, value in seeded.items() if value}


@pytest.fixture(scope="module")
def probe(server):
    out = subprocess.run([*kassa_command(), "accounts", "create", "--country", "US", "--name", "hostile input",
                          "--json", "--database", server.database], capture_output=True, text=True, check=True,
                         cwd=server.log_path.parent)
    account = json.loads(out.stdout)
    keys = Keys(account["secret_test"], account["publishable_test"], account["secret_live"], server.secret_key,
                server.publishable_key)
    with httpx.Client(timeout=60) as client:
        seeded = seed(client, server.url, keys.secret)
        probe = Probe(server, client, keys, seeded)
        # Endpoints that exist today are drawn more often than those still to come.
        probe.live = [endpoint for endpoint in ENDPOINTS if not unrecognized(client.request(
            endpoint.method, server.url + probe.resolve(re.sub(r"\{\w+\}", lambda m: SEEDED_IDS[m.group()][0],
                                                               endpoint.path)),
            headers={"Authorization": f"Bearer {keys.secret}"}, params={"unknown_parameter": "x"}))]
        yield probe


def endpoints(probe, among=ENDPOINTS) -> st.SearchStrategy[Endpoint]:
    live = [endpoint for endpoint in among if endpoint in probe.live]
    return st.sampled_from(live * 3 + list(among))


# ---- the tests ---------------------------------------------------------------------------------

@settings(max_examples=EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_every_endpoint_answers_hostile_parameters(probe, data):
    """Any endpoint of the table, its own parameters mixed with hostile ones, in the query of a GET
    and the body of a POST (sometimes split between both), with any kind of key."""
    endpoint = data.draw(endpoints(probe), label="endpoint")
    path = data.draw(path_ids(endpoint.path), label="path")
    pairs = data.draw(form_pairs(endpoint), label="pairs")
    auth = data.draw(auths, label="auth")
    encoded = [p if isinstance(p, bytes) else (p[0], probe.resolve(p[1])) for p in pairs]
    if endpoint.method == "GET":
        probe.send("GET", path, query=url_safe(join(encoded)), auth=auth, endpoint=endpoint)
        return
    split = data.draw(st.integers(0, len(encoded)), label="pairs in the query") if data.draw(
        st.integers(0, 4)) == 0 else 0
    key = data.draw(idempotency_keys, label="idempotency key")
    content_type = data.draw(st.sampled_from(["application/x-www-form-urlencoded"] * 4 + [
        None, "application/x-www-form-urlencoded; charset=utf-8", "APPLICATION/X-WWW-FORM-URLENCODED"]))
    probe.send(endpoint.method, path, query=url_safe(join(encoded[:split])), body=join(encoded[split:]),
               auth=auth, content_type=content_type, idempotency_key=key, endpoint=endpoint)


LISTS = tuple(e for e in ENDPOINTS if e.method == "GET" and "{" not in e.path and e.stripe)


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_lists_and_search_answer_hostile_queries(probe, data):
    """Every list and search endpoint: paging (limit 0/101/-1/abc, both cursors, missing and foreign
    ids), created filters, expand, and for search garbage queries and page cursors."""
    endpoint = data.draw(endpoints(probe, LISTS), label="endpoint")
    extra = ("limit", "starting_after", "ending_before", "created", "created[gt]", "query", "page")
    pairs = data.draw(form_pairs(endpoint, extra), label="pairs")
    if data.draw(st.booleans(), label="both cursors"):
        pairs += [("starting_after", data.draw(ids)), ("ending_before", data.draw(ids))]
    if "search" in endpoint.path:
        pairs += [("query", data.draw(search_queries, label="query"))] * data.draw(st.integers(1, 2))
    auth = data.draw(st.sampled_from(["secret"] * 6 + ["default", "live", "publishable", "none", "bad_key"]))
    auth = "wrong_key" if auth == "bad_key" else auth
    encoded = [p if isinstance(p, bytes) else (p[0], probe.resolve(p[1])) for p in pairs]
    probe.send("GET", endpoint.path, query=url_safe(join(encoded)), auth=auth, endpoint=endpoint)


POSTS = tuple(e for e in ENDPOINTS if e.method == "POST")
OVERSIZED = 300 * 1024  # kassa takes bodies up to 256 KiB


@st.composite
def bodies(draw, endpoint: Endpoint) -> tuple[bytes | None, str | None, str]:
    """(body, Content-Type, kind) of every shape a body may take."""
    kind = draw(st.sampled_from(["json", "binary", "empty", "oversized", "oversized_chunked", "almost_limit",
                                 "raw_bytes", "wrong_type", "many_pairs"]))
    form = "application/x-www-form-urlencoded"
    if kind == "json":
        pairs = [p for p in draw(form_pairs(endpoint)) if not isinstance(p, bytes)]
        return json.dumps(dict(pairs)).encode(), draw(st.sampled_from(["application/json", form, None])), kind
    if kind == "binary":
        return draw(st.binary(min_size=1, max_size=2048)), draw(st.sampled_from([form, None, "application/octet-stream"])), kind
    if kind == "empty":
        return b"", draw(st.sampled_from([form, None, "application/json", "multipart/form-data"])), kind
    if kind == "oversized":
        filler = draw(st.sampled_from([b"description=" + b"x" * OVERSIZED, b"a=b&" * (OVERSIZED // 4),
                                       b"\xff" * OVERSIZED]))
        return filler, form, kind
    if kind == "oversized_chunked":
        return None, form, kind  # streamed below, with no Content-Length
    if kind == "almost_limit":
        # just under the limit, but with far too many parameters
        return b"&".join([b"a=1"] * (64 * 1024)), form, kind
    if kind == "raw_bytes":
        raw = draw(st.lists(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x00", b"description=",
                                             b"amount=1000", b"&", b"=", b"%", b"currency=usd", b"\xe9"]),
                            min_size=1, max_size=10))
        return b"".join(raw), form, kind
    if kind == "many_pairs":
        count = draw(st.sampled_from([1999, 2000, 2001, 5000]))
        return b"&".join(b"k%d=v" % i for i in range(count)), form, kind
    return b"amount=1099&currency=usd", draw(st.sampled_from(["multipart/form-data; boundary=x", "text/plain",
                                                              "application/xml", "form", ";;", "*/*"])), kind


def chunks():
    for _ in range(OVERSIZED // 8192 + 1):
        yield b"x" * 8192


@settings(max_examples=EXAMPLES // 2, **SETTINGS)
@given(data=st.data())
def test_post_endpoints_answer_hostile_bodies_and_headers(probe, data):
    """Oversized (with and without Content-Length), JSON, binary, empty and wrongly typed bodies,
    too many parameters, and broken Idempotency-Keys, on every POST endpoint."""
    endpoint = data.draw(endpoints(probe, POSTS), label="endpoint")
    path = data.draw(path_ids(endpoint.path), label="path")
    body, content_type, kind = data.draw(bodies(endpoint), label="body")
    auth = data.draw(st.sampled_from(["secret"] * 4 + ["publishable", "none", "garbage"]))
    key = data.draw(idempotency_keys, label="idempotency key")
    probe.send("POST", path, body=body if kind != "oversized_chunked" else chunks(), auth=auth,
               content_type=content_type, idempotency_key=key, endpoint=endpoint)


valid_metadata = st.dictionaries(
    st.text(st.characters(blacklist_characters="[]\x00", blacklist_categories=("Cs",)), min_size=1, max_size=40),
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1, max_size=500),
    max_size=4)
valid_create = st.fixed_dictionaries(
    {"amount": st.integers(50, 99_999_999).map(str), "currency": st.sampled_from(["usd", "USD"])},
    optional={"description": st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                                     min_size=1, max_size=100),
              "customer": st.from_regex(r"cus_[A-Za-z0-9]{1,40}", fullmatch=True),
              "capture_method": st.sampled_from(["automatic", "manual"])},
).flatmap(lambda params: valid_metadata.map(
    lambda metadata: list(params.items()) + [(f"metadata[{k}]", v) for k, v in metadata.items()]))


@settings(max_examples=EXAMPLES // 2, **SETTINGS)
@given(first=valid_create, second=st.one_of(st.none(), valid_create), data=st.data())
def test_idempotency_key_reused_with_other_parameters(probe, first, second, data):
    """A key replays its first response for the same request (in any parameter order), and is an
    idempotency_error for other parameters or another path."""
    key = str(uuid.uuid4())
    body = join(first)
    answer = probe.send("POST", "/v1/payment_intents", body=body, idempotency_key=key,
                        content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200, answer.text
    where = data.draw(st.sampled_from(["same path", "same path", "cancel", "update"]), label="second request")
    if second is None:
        second = data.draw(st.permutations(first), label="same parameters, reordered")
    path = {"same path": "/v1/payment_intents", "cancel": f"/v1/payment_intents/{answer.json()['id']}/cancel",
            "update": f"/v1/payment_intents/{answer.json()['id']}"}[where]
    again = probe.send("POST", path, body=join(second), idempotency_key=key,
                       content_type="application/x-www-form-urlencoded")
    if where == "same path" and sorted(first) == sorted(second):
        assert again.status_code == 200, again.text
        assert again.content == answer.content
        assert again.headers.get("idempotent-replayed") == "true"
    else:
        assert again.status_code == 400, again.text
        assert again.json()["error"]["type"] == "idempotency_error", again.text


segments = st.one_of(
    st.sampled_from(["v1", "v2", "payment_intents", "PAYMENT_INTENTS", "search", "cancel", "confirm", "charges",
                     "customers", "refunds", "events", "test_helpers", "clock", "advance", "healthz", "", ".",
                     "setup_intents", "mandates", "payment_methods", "attach", "detach", "cus_x", "seti_x",
                     "..", "%2e%2e", "%2F", "%00", "%zz", "%C3%28", "%ED%A0%80", "pi_x", "x" * 3000, "%20", "~"]),
    st.text(max_size=12).map(lambda text: quote(text, safe="")),
)
unknown_paths = st.one_of(
    st.lists(segments, min_size=1, max_size=6).map(lambda parts: "/" + "/".join(parts)),
    st.sampled_from([e.path for e in ENDPOINTS]).flatmap(
        lambda template: path_ids(template).map(lambda path: path + "/")),  # trailing slash
    st.sampled_from([e.path for e in ENDPOINTS]).flatmap(
        lambda template: path_ids(template).map(lambda path: "/" + path)),  # double slash
    st.sampled_from(["/", "/v1", "/v1/", "/v1/payment_intents/search/x", "/V1/payment_intents", "/healthz/",
                     "/v1/payment_intents/pi_x/cancel/x", "/v1/payment_intents/pi_x/refund", "/v1/customer",
                     "/v1/customers/search/x", "/v1/customers/cus_x/payment_methods/pm_x/x", "/v1/customers/cus_x/x",
                     "/v1/customers/cus_x/sources", "/v1/payment_methods/pm_x/attach/x", "/v1/payment_methods/pm_x/x",
                     "/v1/setup_intents/search", "/v1/setup_intents/seti_x/verify_microdeposits",
                     "/v1/setup_intents/seti_x/confirm/x", "/v1/mandates", "/v1/mandates/mandate_x/x",
                     "/v1/setup_attempts", "/v1/customer/cus_x"]),
)


@settings(max_examples=EXAMPLES // 2, **SETTINGS)
@given(path=unknown_paths, method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
       auth=st.sampled_from(["secret", "none", "publishable", "garbage"]))
def test_unknown_paths_and_methods_answer_stripe_errors(probe, path, method, auth):
    """A path or method that no row of ENDPOINTS names: a Stripe-shaped 4xx, whatever the key."""
    decoded = server_path(request_url(probe.server.url, path))
    assume(not decoded.startswith(NON_API_PREFIXES))
    assume(not any(m == method and regex.match(decoded) for m, regex in ROUTES))
    response = probe.send(method, path, body=b"amount=1099&currency=usd" if method != "GET" else None,
                          content_type="application/x-www-form-urlencoded" if method != "GET" else None,
                          auth=auth)
    preflight = method == "OPTIONS" and decoded.startswith("/v1/") and response.status_code in (200, 204)
    assert 400 <= response.status_code < 500 or preflight, response.text


# Values that pass most validation and so reach the store: NUL characters, lengths around the
# columns' and Stripe's limits, multi-byte characters, SQL and JSON-path metacharacters, extremes.
NASTY_QUERIES = [f"metadata[{quoted(key, q, True)}]:'v'" for key in META_KEYS if key for q in "'\""] + [
    f"-metadata['a']:{quoted(value, q, True)}" for value in ("a\x00b", "x" * 501, "'\"\\%_*$.[]") for q in "'\""] + [
    "amount>9223372036854775807", "amount<-9223372036854775807", "created>=0 OR created<0", "customer:'" + "x" * 65 + "'",
    "status:'canceled' AND amount>0 AND -metadata['a']:null"]
NASTY_STRINGS = ["a\x00b", "x" * 65, "x" * 256, "x" * 5001, "\u00e9" * 65, "\U0001f600" * 17,
                 "'\"\\%_*$.[]", "-9223372036854775809", "9223372036854775807", "-1"]


NASTY_VALUES = {"query": NASTY_QUERIES}  # more values for some parameters


def nasty_requests(probe) -> list[tuple[Endpoint, str, list]]:
    """Each live endpoint's valid request with one parameter (or the id in its path) replaced by each
    nasty value, in every form the parameter takes (a value, a list item, a metadata key and value)."""
    requests = []
    for endpoint in probe.live:
        placeholders = re.findall(r"\{\w+\}", endpoint.path)

        def fill(nasty_placeholder: str | None = None, value: str = "") -> str:
            path = endpoint.path
            for placeholder in placeholders:
                path = path.replace(placeholder, quote(value, safe="") if placeholder == nasty_placeholder
                                    else SEEDED_IDS[placeholder][0])
            return path

        for placeholder in placeholders:
            requests += [(endpoint, fill(placeholder, value), list(endpoint.valid)) for value in NASTY_STRINGS]
        for name in endpoint.params:
            base = [pair for pair in endpoint.valid if pair[0].split("[")[0] != name.split("[")[0]]
            for value in NASTY_STRINGS + NASTY_VALUES.get(name, []):
                if name == "metadata":
                    variants = [[("metadata[k]", value)], [(f"metadata[{value[:40]}]", "v")]]
                elif name in LIST_PARAMS:
                    variants = [[(f"{name}[0]", value)], [(f"{name}[]", value)]]
                else:
                    variants = [[(name, value)]]
                requests += [(endpoint, fill(), base + variant) for variant in variants]
    return requests


def test_every_parameter_takes_nasty_values(probe):
    """Not random: every parameter of every live endpoint, with every nasty value, in an otherwise
    valid request (random draws rarely combine one given parameter with one given value). All
    failures are collected and reported together."""
    failures = []
    for endpoint, path, pairs in nasty_requests(probe):
        pairs = [(key, probe.resolve(value)) for key, value in pairs]
        if "@open1" in path:  # a fresh intent each time: updates and cancels change it
            fresh = probe.client.post(probe.server.url + "/v1/payment_intents", data={"amount": "1099", "currency": "usd"},
                                      headers={"Authorization": f"Bearer {probe.keys.secret}"})
            assert fresh.status_code == 200, fresh.text
            path = path.replace("@open1", fresh.json()["id"])
        try:
            if endpoint.method == "GET":
                probe.send("GET", path, query=join(pairs), endpoint=endpoint)
            else:
                probe.send(endpoint.method, path, body=join(pairs), endpoint=endpoint,
                           content_type="application/x-www-form-urlencoded")
        except AssertionError as failure:
            failures.append(str(failure).split("\nassert")[0])
    if failures:
        def summary(failure: str) -> str:  # the request, the status, the server's exception
            lines = failure.splitlines()
            status = lines[1].strip()[:6] if len(lines) > 1 else ""
            errors = [line.strip() for line in lines if re.match(r"\s*[\w.]+(Error|Exception)\b", line)]
            return f"{lines[0][:300]} {status} {errors[-1][:200] if errors else ''}"
        pytest.fail(f"{len(failures)} failures:\n" + "\n".join(map(summary, failures))
                    + "\n\nThe first in full:\n" + "\n\n".join(failures[:3]), pytrace=False)
