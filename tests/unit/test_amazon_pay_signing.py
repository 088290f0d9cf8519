"""Amazon Pay API v2 request signing (`kassa.methods.amazon_pay.signing`).

Checked against the 34 vectors of Amazon's Java SDK in tests/reference/amazon-pay-signing, whose
headers are the same in every case (see tests/reference/README.md), and with the SDK's test key pair.
PSS signatures are randomised, so signatures are checked by verifying them, never by value.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from support import REFERENCE as REFERENCE_DIR
from kassa.methods.amazon_pay import signing
from kassa.methods.amazon_pay.signing import (
    ALGORITHM_V1,
    ALGORITHM_V2,
    Credentials,
    api_url,
    button_string_to_sign,
    canonical_query_string,
    canonical_request,
    canonical_uri,
    parse_authorization,
    sign,
    sign_button_payload,
    signed_headers,
    string_to_sign,
    verify,
    verify_request,
)

REFERENCE = REFERENCE_DIR / "amazon-pay-signing"
VECTORS = json.loads((REFERENCE / "vectors.json").read_text())
PRIVATE_PEM = (REFERENCE / "test_private_key.pem").read_bytes()
PUBLIC_PEM = (REFERENCE / "test_public_key.pem").read_bytes()
VECTOR_HEADERS = {
    "accept": "application/json",
    "content-type": "application/json",
    "x-amz-pay-date": "20180524T223710Z",
    "x-amz-pay-host": "pay-api.amazon.eu",
    "x-amz-pay-region": "EU",
}
# The button payload of the SDKs' tests; its SHA-256 is the one shared/reference/README.md gives.
BUTTON_PAYLOAD = ('{"storeId":"amzn1.application-oa2-client.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",'
                  '"webCheckoutDetails":{"checkoutReviewReturnUrl":"https://localhost/test/CheckoutReview.php",'
                  '"checkoutResultReturnUrl":"https://localhost/test/CheckoutResult.php"}}')
BUTTON_PAYLOAD_SHA256 = "8dec52d799607be40f82d5c8e7ecb6c171e6591c41b1111a576b16076c89381c"
VECTOR_TIME = datetime(2018, 5, 24, 22, 37, 10, tzinfo=timezone.utc)
ALGORITHMS = [ALGORITHM_V1, ALGORITHM_V2]


def algorithm_of(vector: dict) -> str:
    return vector["stringToSign"].split("\n", 1)[0]


def credentials(region: str = "eu", sandbox: bool = True, algorithm: str = ALGORITHM_V2) -> Credentials:
    return Credentials("SANDBOX-AEXAMPLEPUBLICKEYID000000", PRIVATE_PEM, region, sandbox, algorithm)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --------------------------------------------------------------------------- the SDK's vectors


def test_the_reference_holds_34_vectors_17_per_algorithm():
    assert len(VECTORS) == 34
    assert sum(algorithm_of(v) == ALGORITHM_V1 for v in VECTORS) == 17
    assert sum(algorithm_of(v) == ALGORITHM_V2 for v in VECTORS) == 17
    for vector in VECTORS:
        assert vector.get("algorithm", algorithm_of(vector)) == algorithm_of(vector)


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{algorithm_of(v)}:{v['name']}" for v in VECTORS])
def test_canonical_request_and_string_to_sign_match_the_vector(vector):
    request = canonical_request(vector["method"], vector["uri"], vector["parameters"], VECTOR_HEADERS,
                                vector["payload"])
    assert request == vector["canonicalRequest"]
    assert string_to_sign(algorithm_of(vector), request) == vector["stringToSign"]


@pytest.mark.parametrize("vector", VECTORS[:17], ids=[v["name"] for v in VECTORS[:17]])
def test_header_names_and_values_are_normalised_before_signing(vector):
    messy = {"Accept": " application/json", "CONTENT-TYPE": "application/json  ",
             "X-Amz-Pay-Region": "EU", "x-amz-pay-host": "\tpay-api.amazon.eu",
             "X-Amz-Pay-Date": "20180524T223710Z"}
    request = canonical_request(vector["method"], vector["uri"], vector["parameters"], messy, vector["payload"])
    assert request == vector["canonicalRequest"]


def test_the_button_payload_hashes_as_the_reference_says():
    for algorithm in ALGORITHMS:
        assert button_string_to_sign(algorithm, BUTTON_PAYLOAD) == f"{algorithm}\n{BUTTON_PAYLOAD_SHA256}"
        assert button_string_to_sign(algorithm, BUTTON_PAYLOAD.encode()) == f"{algorithm}\n{BUTTON_PAYLOAD_SHA256}"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_button_signature_verifies_with_the_public_key(algorithm):
    signature = sign_button_payload(credentials(algorithm=algorithm), BUTTON_PAYLOAD)
    assert verify(PUBLIC_PEM, f"{algorithm}\n{BUTTON_PAYLOAD_SHA256}", signature, algorithm)
    assert not verify(PUBLIC_PEM, f"{algorithm}\n{BUTTON_PAYLOAD_SHA256}", signature,
                      ALGORITHM_V2 if algorithm == ALGORITHM_V1 else ALGORITHM_V1)


# --------------------------------------------------------------------------- canonical forms beyond the vectors


@pytest.mark.parametrize("uri, expected", [
    ("/live/v2/checkoutSessions/abc-123", "/live/v2/checkoutSessions/abc-123"),
    ("https://pay-api.amazon.eu/live/v2/charges/S02-1?x=1", "/live/v2/charges/S02-1"),
    ("/a/./b/../c", "/a/c"),
    ("/a/b/..", "/a/"),
    ("/../a", "/a"),
    ("/foo/", "/foo/"),
    ("/a//b", "/a/b"),
    ("/a b/c*d", "/a%20b/c%2Ad"),
    ("/a%20b", "/a%20b"),          # already encoded: decoded, then encoded once
    ("/a%2Fb", "/a%2Fb"),          # an encoded slash stays inside its segment
    ("/%7e%41", "/~A"),            # unreserved characters are never escaped, hex comes out upper case
    ("/\u00e9", "/%C3%A9"),
])
def test_canonical_uri(uri, expected):
    assert canonical_uri(uri) == expected


@pytest.mark.parametrize("query, expected", [
    ({"a": "b c"}, "a=b%20c"),
    ({"a": "x+y*z~!'()"}, "a=x%2By%2Az~%21%27%28%29"),
    ({"b": ["2", "1"], "a": 3}, "a=3&b=1&b=2"),
    ([("b", "1"), ("a", "2"), ("a", "1")], "a=1&a=2&b=1"),
    ({"e": ""}, "e="),
    ({"\u00e9": "\u00e9"}, "%C3%A9=%C3%A9"),
    ("b=x%20y&a=1+2&c", "a=1%2B2&b=x%20y&c="),   # a wire query: decoded first, "+" is a plus sign
    (None, ""),
    ({}, ""),
])
def test_canonical_query_string(query, expected):
    assert canonical_query_string(query) == expected


def test_a_query_in_the_url_is_used_and_may_not_be_given_twice():
    from_url = canonical_request("GET", "/x?b=2&a=1", None, VECTOR_HEADERS, "")
    assert from_url == canonical_request("GET", "/x", {"a": "1", "b": "2"}, VECTOR_HEADERS, "")
    with pytest.raises(ValueError):
        canonical_request("GET", "/x?b=2", {"a": "1"}, VECTOR_HEADERS, "")


def test_a_header_given_twice_in_different_case_is_refused():
    with pytest.raises(ValueError):
        canonical_request("GET", "/", None, {"Accept": "a", "accept": "b"}, "")


def test_payload_is_hashed_as_utf8():
    body = '{"chargeAmount":{"amount":"12.50","currencyCode":"EUR"},"note":"\u00e9"}'
    request = canonical_request("POST", "/", None, VECTOR_HEADERS, body)
    assert request.endswith("\n" + signing.hashlib.sha256(body.encode("utf-8")).hexdigest())
    assert request == canonical_request("POST", "/", None, VECTOR_HEADERS, body.encode("utf-8"))


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError):
        string_to_sign("AMZN-PAY-RSASSA-PSS-V3", "x")
    with pytest.raises(ValueError):
        credentials(algorithm="RSA")


# --------------------------------------------------------------------------- signing and verifying


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("vector", [VECTORS[0], VECTORS[15]], ids=lambda v: v["name"])
def test_sign_then_verify_with_the_test_key_pair(algorithm, vector):
    text = string_to_sign(algorithm, vector["canonicalRequest"])
    for key in (PRIVATE_PEM, PRIVATE_PEM.decode(), credentials(algorithm=algorithm)):
        signature = sign(key, text, algorithm)
        assert len(base64.b64decode(signature)) == 256  # a 2048-bit key
        assert verify(PUBLIC_PEM, text, signature, algorithm)
    assert sign(PRIVATE_PEM, text, algorithm) != sign(PRIVATE_PEM, text, algorithm)  # PSS is randomised


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_signature_does_not_verify_with_a_changed_string(algorithm):
    text = VECTORS[0]["stringToSign"]
    signature = sign(PRIVATE_PEM, text, algorithm)
    assert not verify(PUBLIC_PEM, text[:-1] + ("0" if text[-1] != "0" else "1"), signature, algorithm)
    assert not verify(PUBLIC_PEM, text + "\n", signature, algorithm)


@pytest.mark.parametrize("signed_with, checked_as", [(ALGORITHM_V1, ALGORITHM_V2), (ALGORITHM_V2, ALGORITHM_V1)])
def test_signature_does_not_verify_with_the_other_salt_length(signed_with, checked_as):
    text = VECTORS[0]["stringToSign"]
    signature = sign(PRIVATE_PEM, text, signed_with)
    assert verify(PUBLIC_PEM, text, signature, signed_with)
    assert not verify(PUBLIC_PEM, text, signature, checked_as)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_signature_does_not_verify_with_another_key(algorithm, other_key):
    text = VECTORS[0]["stringToSign"]
    other_public = other_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    assert not verify(other_public, text, sign(PRIVATE_PEM, text, algorithm), algorithm)
    assert not verify(PUBLIC_PEM, text, sign(other_key, text, algorithm), algorithm)


@pytest.mark.parametrize("bad", ["", "not base64!", base64.b64encode(b"\0" * 256).decode(),
                                 base64.b64encode(b"short").decode()])
def test_garbage_signatures_do_not_verify(bad):
    assert not verify(PUBLIC_PEM, VECTORS[0]["stringToSign"], bad, ALGORITHM_V2)


# --------------------------------------------------------------------------- headers of a request


def test_authorization_header_format():
    creds = credentials()
    headers = signed_headers(creds, "POST", "/sandbox/v2/checkoutSessions", payload='{"a":1}',
                             now=VECTOR_TIME, idempotency_key="idem-1")
    match = re.fullmatch(r"AMZN-PAY-RSASSA-PSS-V2 PublicKeyId=(\S+), SignedHeaders=(\S+), Signature=(\S+)",
                         headers["authorization"])
    assert match
    assert match[1] == creds.public_key_id
    assert match[2] == "accept;content-type;x-amz-pay-date;x-amz-pay-host;x-amz-pay-idempotency-key;x-amz-pay-region"
    base64.b64decode(match[3], validate=True)
    expected_request = (
        "POST\n/sandbox/v2/checkoutSessions\n\n"
        "accept:application/json\ncontent-type:application/json\nx-amz-pay-date:20180524T223710Z\n"
        "x-amz-pay-host:pay-api.amazon.eu\nx-amz-pay-idempotency-key:idem-1\nx-amz-pay-region:eu\n\n"
        + match[2] + "\n" + signing.hashlib.sha256(b'{"a":1}').hexdigest())
    assert verify(PUBLIC_PEM, string_to_sign(ALGORITHM_V2, expected_request), match[3], ALGORITHM_V2)
    parsed = parse_authorization(headers["authorization"])
    assert parsed is not None and parsed.algorithm == ALGORITHM_V2 and parsed.signature == match[3]
    assert parsed.signed_headers == tuple(match[2].split(";"))


def test_the_older_algorithm_is_named_in_the_authorization_header():
    headers = signed_headers(credentials(algorithm=ALGORITHM_V1), "GET", "/live/v2/charges/S02-1", now=VECTOR_TIME)
    assert headers["authorization"].startswith("AMZN-PAY-RSASSA-PSS PublicKeyId=")


def test_a_request_like_the_vectors_reproduces_their_canonical_request():
    # The vectors send the region as "EU"; kassa sends the lower-case code Amazon's docs show.
    headers = signed_headers(credentials(algorithm=ALGORITHM_V1), "get", "https://example.test/", now=VECTOR_TIME)
    vector = VECTORS[0]
    assert headers["x-amz-pay-region"] == "eu"
    request = canonical_request("GET", "/", None, {**VECTOR_HEADERS, "x-amz-pay-region": "eu"}, "")
    assert request == vector["canonicalRequest"].replace("x-amz-pay-region:EU", "x-amz-pay-region:eu")
    signature = parse_authorization(headers["authorization"]).signature
    assert verify(PUBLIC_PEM, string_to_sign(ALGORITHM_V1, request), signature, ALGORITHM_V1)


@pytest.mark.parametrize("region, host", [("na", "pay-api.amazon.com"), ("eu", "pay-api.amazon.eu"),
                                          ("jp", "pay-api.amazon.jp"), ("NA", "pay-api.amazon.com"),
                                          ("us", "pay-api.amazon.com"), ("uk", "pay-api.amazon.eu"),
                                          ("de", "pay-api.amazon.eu")])
def test_host_and_region_headers_per_region(region, host):
    headers = signed_headers(credentials(region=region), "GET", "/live/v2/charges/x", now=VECTOR_TIME)
    assert headers["x-amz-pay-host"] == host
    assert headers["x-amz-pay-region"] in {"na", "eu", "jp"}
    assert signing.HOSTS[headers["x-amz-pay-region"]] == host


def test_unknown_region_is_refused():
    with pytest.raises(ValueError):
        credentials(region="fe")


def test_the_set_of_headers_and_the_date_format():
    headers = signed_headers(credentials(), "GET", "/live/v2/charges/x", now=VECTOR_TIME)
    assert set(headers) == {"accept", "content-type", "x-amz-pay-date", "x-amz-pay-host", "x-amz-pay-region",
                            "authorization"}
    assert headers["accept"] == headers["content-type"] == "application/json"
    assert headers["x-amz-pay-date"] == "20180524T223710Z"


def test_the_date_is_converted_to_utc_and_a_naive_one_is_refused():
    berlin_summer = timezone(timedelta(hours=2))
    headers = signed_headers(credentials(), "GET", "/", now=datetime(2018, 5, 25, 0, 37, 10, tzinfo=berlin_summer))
    assert headers["x-amz-pay-date"] == "20180524T223710Z"
    with pytest.raises(ValueError):
        signed_headers(credentials(), "GET", "/", now=datetime(2018, 5, 24, 22, 37, 10))


def test_the_date_defaults_to_now():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = signed_headers(credentials(), "GET", "/")["x-amz-pay-date"]
    after = datetime.now(timezone.utc)
    assert re.fullmatch(r"\d{8}T\d{6}Z", stamp)
    assert before <= datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) <= after


@pytest.mark.parametrize("method, sent", [("POST", True), ("post", True), ("GET", False), ("PATCH", False),
                                          ("DELETE", False)])
def test_idempotency_key_only_on_post(method, sent):
    headers = signed_headers(credentials(), method, "/sandbox/v2/charges", payload="{}", now=VECTOR_TIME,
                             idempotency_key="key-42")
    assert ("x-amz-pay-idempotency-key" in headers) is sent
    assert ("x-amz-pay-idempotency-key" in parse_authorization(headers["authorization"]).signed_headers) is sent
    if sent:
        assert headers["x-amz-pay-idempotency-key"] == "key-42"


def test_post_without_idempotency_key_has_none():
    headers = signed_headers(credentials(), "POST", "/sandbox/v2/charges", payload="{}", now=VECTOR_TIME)
    assert "x-amz-pay-idempotency-key" not in headers


# --------------------------------------------------------------------------- the receiving side (a local double)


def test_verify_request_accepts_a_signed_request_and_rejects_tampering(other_key):
    creds = credentials()
    url = creds.url("checkoutSessions/abc/complete", {"note": "a b"})
    body = '{"chargeAmount":{"amount":"10.00","currencyCode":"EUR"}}'
    headers = signed_headers(creds, "POST", url, payload=body, now=VECTOR_TIME, idempotency_key="k1")
    sent = {"Host": "pay-api.amazon.eu", "User-Agent": "kassa", **{k.title(): v for k, v in headers.items()}}
    assert verify_request(PUBLIC_PEM, "POST", url, sent, body)
    assert verify_request({creds.public_key_id: PUBLIC_PEM}, "POST", url, sent, body)

    assert not verify_request({"other-id": PUBLIC_PEM}, "POST", url, sent, body)
    assert not verify_request(PUBLIC_PEM, "POST", url, sent, body.replace("10.00", "11.00"))
    assert not verify_request(PUBLIC_PEM, "PUT", url, sent, body)
    assert not verify_request(PUBLIC_PEM, "POST", url.replace("abc", "abd"), sent, body)
    assert not verify_request(PUBLIC_PEM, "POST", url.replace("a%20b", "a%20c"), sent, body)
    assert not verify_request(PUBLIC_PEM, "POST", url, {**sent, "X-Amz-Pay-Idempotency-Key": "k2"}, body)
    assert not verify_request(PUBLIC_PEM, "POST", url, {k: v for k, v in sent.items() if k != "X-Amz-Pay-Date"}, body)
    assert not verify_request(PUBLIC_PEM, "POST", url, {k: v for k, v in sent.items() if k != "Authorization"}, body)
    other_public = other_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    assert not verify_request(other_public, "POST", url, sent, body)


# --------------------------------------------------------------------------- URLs and credentials


@pytest.mark.parametrize("region, sandbox, expected", [
    ("na", True, "https://pay-api.amazon.com/sandbox/v2/checkoutSessions/ab-1"),
    ("na", False, "https://pay-api.amazon.com/live/v2/checkoutSessions/ab-1"),
    ("eu", True, "https://pay-api.amazon.eu/sandbox/v2/checkoutSessions/ab-1"),
    ("eu", False, "https://pay-api.amazon.eu/live/v2/checkoutSessions/ab-1"),
    ("jp", True, "https://pay-api.amazon.jp/sandbox/v2/checkoutSessions/ab-1"),
    ("jp", False, "https://pay-api.amazon.jp/live/v2/checkoutSessions/ab-1"),
])
def test_api_url(region, sandbox, expected):
    assert api_url(region, sandbox, "checkoutSessions/ab-1") == expected
    assert api_url(region, sandbox, "/checkoutSessions/ab-1/") == expected
    assert credentials(region=region, sandbox=sandbox).url("checkoutSessions/ab-1") == expected


def test_api_url_encodes_segments_and_writes_the_canonical_query():
    url = api_url("eu", True, "refunds/a b", {"z": "1", "a": "x y"})
    assert url == "https://pay-api.amazon.eu/sandbox/v2/refunds/a%20b?a=x%20y&z=1"
    assert canonical_uri(url) == "/sandbox/v2/refunds/a%20b"


def test_credentials_repr_and_str_hold_no_private_key():
    creds = credentials()
    body = b"".join(line for line in PRIVATE_PEM.splitlines() if not line.startswith(b"-----"))
    for text in (repr(creds), str(creds)):
        assert "PRIVATE" not in text
        assert PRIVATE_PEM.decode() not in text
        assert body[:40].decode() not in text and body[-40:].decode() not in text
        assert creds.public_key_id in text


def test_credentials_take_a_str_pem_and_refuse_a_bad_key_without_echoing_it():
    assert credentials().private_key_pem == Credentials("id", PRIVATE_PEM.decode(), "eu", False).private_key_pem
    bogus = "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LXN0dWZm\n-----END RSA PRIVATE KEY-----\n"
    with pytest.raises(ValueError) as info:
        Credentials("id", bogus, "eu", False)
    assert "c2VjcmV0" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
