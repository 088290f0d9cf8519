"""Request signing for Amazon Pay API v2, written from Amazon's "Signing requests" documentation.

Every request to Amazon Pay carries an ``authorization`` header::

    <algorithm> PublicKeyId=<id>, SignedHeaders=<name;name;...>, Signature=<base64>

The signature is RSASSA-PSS (SHA-256, MGF1 with SHA-256) with the merchant's private key over the
*string to sign*: the algorithm name, a newline and the hex SHA-256 of the *canonical request*::

    METHOD \\n canonical URI \\n canonical query \\n canonical headers \\n signed headers \\n hex(SHA-256(payload))

``AMZN-PAY-RSASSA-PSS`` uses a salt of 20 bytes, ``AMZN-PAY-RSASSA-PSS-V2`` one of 32 bytes.

Canonical forms (checked against the SDK test vectors in shared/reference/amazon-pay-signing):

* URI: the path of the URI (a reference starting with ``//`` names a host, as RFC 3986 says, so
  ``//foo//`` has the path ``//``); empty, ``.`` and ``..`` segments are removed; each segment is
  percent-decoded, then percent-encoded in UTF-8 with only RFC 3986's unreserved characters
  (``A-Z a-z 0-9 - . _ ~``) left as they are, upper-case hex digits. ``""`` becomes ``/``; a
  trailing ``/`` is kept when something is left before it. A path is therefore taken in its wire
  form: a literal ``%`` in a segment has to be given as ``%25``.
* Query: every (name, value) pair encoded the same way (a space is ``%20``, never ``+``; ``*`` is
  ``%2A``; ``~`` stays), sorted by encoded name, then encoded value, in code-point (byte) order,
  joined as ``name=value`` with ``&``. Parameters given as a mapping or pairs are raw values; a query
  given as a string is the wire form and is percent-decoded first (``+`` is a literal plus).
* Headers: names lower-cased, values with leading and trailing whitespace removed, one
  ``name:value\\n`` line each in name order; the signed headers are the names joined by ``;``.

The button signature (the ``signature`` of ``amazon.Pay.renderButton``) signs the algorithm name,
a newline and the hex SHA-256 of the payload string itself, with the same PSS parameters.

Nothing here talks to the network, and the private key never appears in a repr, str or exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Union
from urllib.parse import quote, unquote_to_bytes, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ALGORITHM_V1 = "AMZN-PAY-RSASSA-PSS"
ALGORITHM_V2 = "AMZN-PAY-RSASSA-PSS-V2"
DEFAULT_ALGORITHM = ALGORITHM_V2
SALT_LENGTHS = {ALGORITHM_V1: 20, ALGORITHM_V2: 32}

API_VERSION = "v2"
HOSTS = {"na": "pay-api.amazon.com", "eu": "pay-api.amazon.eu", "jp": "pay-api.amazon.jp"}
# Country codes the Amazon Pay SDKs also take for a region.
REGION_ALIASES = {"us": "na", "de": "eu", "uk": "eu"}
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
JSON = "application/json"

Query = Union[Mapping[str, Any], Iterable[tuple[str, Any]], str, None]
PrivateKeyLike = Union["Credentials", rsa.RSAPrivateKey, bytes, str]
PublicKeyLike = Union[rsa.RSAPublicKey, bytes, str]


# --------------------------------------------------------------------------- regions and URLs


def normalize_region(region: str) -> str:
    """``na``, ``eu`` or ``jp`` for a region name or one of the SDKs' aliases, in any case."""
    key = region.strip().lower() if isinstance(region, str) else ""
    key = REGION_ALIASES.get(key, key)
    if key not in HOSTS:
        raise ValueError(f"unknown Amazon Pay region {region!r}: expected one of na, eu, jp")
    return key


def host_for(region: str) -> str:
    return HOSTS[normalize_region(region)]


def api_url(region: str, sandbox: bool, path: str, query: Query = None) -> str:
    """``https://<host>/<sandbox|live>/v2/<path>[?<query>]``.

    ``path`` is relative to the API version (``checkoutSessions/{id}/complete``); each of its
    segments is percent-encoded, and the query is written in its canonical form, so the URL sent is
    exactly the one signed.
    """
    segments = [quote(segment, safe="") for segment in path.strip("/").split("/") if segment]
    environment = "sandbox" if sandbox else "live"
    url = f"https://{host_for(region)}/" + "/".join([environment, API_VERSION, *segments])
    query_string = canonical_query_string(query)
    return f"{url}?{query_string}" if query_string else url


# --------------------------------------------------------------------------- canonical request


def _encode(raw: bytes) -> str:
    # quote() leaves exactly the RFC 3986 unreserved set (letters, digits, "-._~") unencoded.
    return quote(raw, safe="")


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).encode("ascii")
    raise TypeError(f"query parameter names and values must be str, not {type(value).__name__}")


def canonical_uri(uri: str) -> str:
    """The canonical URI of a path, a full URL or any URI reference (only its path counts)."""
    raw = urlsplit(uri).path
    raw_segments = raw.split("/")
    kept: list[str] = []
    for segment in raw_segments:
        decoded = unquote_to_bytes(segment)
        if decoded in (b"", b"."):
            continue
        if decoded == b"..":
            if kept:
                kept.pop()
            continue
        kept.append(_encode(decoded))
    if not kept:
        return "/"
    trailing = len(raw_segments) > 1 and unquote_to_bytes(raw_segments[-1]) in (b"", b".", b"..")
    return "/" + "/".join(kept) + ("/" if trailing else "")


def _query_pairs(query: Query) -> list[tuple[bytes, bytes]]:
    if query is None:
        return []
    if isinstance(query, str):
        pairs = []
        for part in query.split("&"):
            if part:
                name, _, value = part.partition("=")
                pairs.append((unquote_to_bytes(name), unquote_to_bytes(value)))
        return pairs
    items = query.items() if isinstance(query, Mapping) else query
    pairs = []
    for name, values in items:
        if isinstance(values, (str, bytes, int)):
            values = [values]
        pairs.extend((_to_bytes(name), _to_bytes(value)) for value in values)
    return pairs


def canonical_query_string(query: Query) -> str:
    encoded = sorted((_encode(name), _encode(value)) for name, value in _query_pairs(query))
    return "&".join(f"{name}={value}" for name, value in encoded)


def _header_lines(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    lines: dict[str, str] = {}
    for name, value in headers.items():
        key = name.strip().lower()
        if key in lines:
            raise ValueError(f"header {key!r} given twice")
        lines[key] = str(value).strip()
    return sorted(lines.items())


def canonical_headers(headers: Mapping[str, str]) -> str:
    return "".join(f"{name}:{value}\n" for name, value in _header_lines(headers))


def signed_header_names(headers: Mapping[str, str]) -> str:
    return ";".join(name for name, _ in _header_lines(headers))


def payload_hash(payload: str | bytes | None) -> str:
    if payload is None:
        payload = b""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def canonical_request(method: str, path: str, query: Query, headers: Mapping[str, str],
                      payload: str | bytes | None) -> str:
    """The canonical request for one HTTP request.

    ``path`` may be a full URL; a query string in it is used when ``query`` is empty. Every header
    in ``headers`` is signed.
    """
    url_query = urlsplit(path).query
    if url_query:
        if query:
            raise ValueError("query given both in the URL and as parameters")
        query = url_query
    return "\n".join([
        method.upper(),
        canonical_uri(path),
        canonical_query_string(query),
        canonical_headers(headers),
        signed_header_names(headers),
        payload_hash(payload),
    ])


def _check_algorithm(algorithm: str) -> str:
    if algorithm not in SALT_LENGTHS:
        raise ValueError(f"unknown signing algorithm {algorithm!r}: expected {ALGORITHM_V1} or {ALGORITHM_V2}")
    return algorithm


def string_to_sign(algorithm: str, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{_check_algorithm(algorithm)}\n{digest}"


def button_string_to_sign(algorithm: str, payload: str | bytes) -> str:
    """What the button signature signs: the algorithm and the hex SHA-256 of the payload as sent."""
    return f"{_check_algorithm(algorithm)}\n{payload_hash(payload)}"


# --------------------------------------------------------------------------- keys and signatures


def load_private_key(pem: bytes | str) -> rsa.RSAPrivateKey:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        # cryptography's message says nothing of the key, but keep the PEM out of tracebacks anyway.
        raise ValueError("the Amazon Pay private key is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the Amazon Pay private key must be an RSA key")
    return key


def load_public_key(pem: bytes | str) -> rsa.RSAPublicKey:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("an Amazon Pay public key must be an RSA key")
    return key


def _pss(algorithm: str) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=SALT_LENGTHS[_check_algorithm(algorithm)])


@dataclass(frozen=True)
class Credentials:
    """A merchant's Amazon Pay API key. The private key is left out of repr() and str()."""

    public_key_id: str
    private_key_pem: bytes = field(repr=False)
    region: str
    sandbox: bool
    algorithm: str = DEFAULT_ALGORITHM
    _private_key: rsa.RSAPrivateKey = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        pem = self.private_key_pem
        if isinstance(pem, str):
            pem = pem.encode("ascii")
            object.__setattr__(self, "private_key_pem", pem)
        object.__setattr__(self, "region", normalize_region(self.region))
        _check_algorithm(self.algorithm)
        if not self.public_key_id or any(c in self.public_key_id for c in " ,=\r\n"):
            raise ValueError("public_key_id must be a non-empty id without spaces, commas or '='")
        object.__setattr__(self, "_private_key", load_private_key(pem))

    @property
    def host(self) -> str:
        return HOSTS[self.region]

    def url(self, path: str, query: Query = None) -> str:
        return api_url(self.region, self.sandbox, path, query)


def _private_key_of(key: PrivateKeyLike) -> rsa.RSAPrivateKey:
    if isinstance(key, Credentials):
        return key._private_key
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    return load_private_key(key)


def sign(key: PrivateKeyLike, string_to_sign: str, algorithm: str) -> str:
    """Base64 RSASSA-PSS signature of ``string_to_sign``; randomised, so it differs every time."""
    signature = _private_key_of(key).sign(string_to_sign.encode("utf-8"), _pss(algorithm), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(public_key: PublicKeyLike, string_to_sign: str, signature_b64: str, algorithm: str) -> bool:
    """Whether ``signature_b64`` is a signature of ``string_to_sign`` with that key and algorithm.

    The salt length is checked exactly: a ``-V2`` signature does not pass as the other algorithm.
    """
    key = public_key if isinstance(public_key, rsa.RSAPublicKey) else load_public_key(public_key)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        key.verify(signature, string_to_sign.encode("utf-8"), _pss(algorithm), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign_button_payload(credentials: Credentials, payload: str | bytes) -> str:
    """The ``signature`` for ``amazon.Pay.renderButton``: the page must carry this exact payload."""
    return sign(credentials, button_string_to_sign(credentials.algorithm, payload), credentials.algorithm)


# --------------------------------------------------------------------------- whole requests


def authorization_header(algorithm: str, public_key_id: str, signed_headers: str, signature: str) -> str:
    return (f"{_check_algorithm(algorithm)} PublicKeyId={public_key_id}, "
            f"SignedHeaders={signed_headers}, Signature={signature}")


_AUTHORIZATION = re.compile(r"^(?P<algorithm>\S+) PublicKeyId=(?P<key>[^,\s]+),"
                            r" ?SignedHeaders=(?P<headers>[^,\s]+), ?Signature=(?P<signature>\S+)$")


@dataclass(frozen=True)
class Authorization:
    algorithm: str
    public_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> Authorization | None:
    """The parts of an ``authorization`` header, or None when it is not one of Amazon Pay's."""
    match = _AUTHORIZATION.match(value.strip())
    if not match or match["algorithm"] not in SALT_LENGTHS:
        return None
    return Authorization(match["algorithm"], match["key"], tuple(match["headers"].split(";")), match["signature"])


def format_date(now: datetime) -> str:
    """``YYYYMMDDTHHMMSSZ`` in UTC; a naive datetime is refused rather than guessed at."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("x-amz-pay-date needs an aware datetime")
    return now.astimezone(timezone.utc).strftime(DATE_FORMAT)


def signed_headers(credentials: Credentials, method: str, url_or_path: str, query: Query = None,
                   payload: str | bytes | None = "", now: datetime | None = None,
                   idempotency_key: str | None = None) -> dict[str, str]:
    """Every header to send with one request, ``authorization`` included (names in lower case).

    ``x-amz-pay-host`` is always the region's API host, whatever host ``url_or_path`` names (so a
    local double of the API checks the same string). ``x-amz-pay-idempotency-key`` is sent on POST
    only: Amazon Pay takes it on POST requests, and it is left off the others.
    """
    method = method.upper()
    headers = {
        "accept": JSON,
        "content-type": JSON,
        "x-amz-pay-date": format_date(now if now is not None else datetime.now(timezone.utc)),
        "x-amz-pay-host": credentials.host,
        "x-amz-pay-region": credentials.region,
    }
    if idempotency_key is not None and method == "POST":
        if not idempotency_key.strip():
            raise ValueError("an idempotency key must not be blank")
        headers["x-amz-pay-idempotency-key"] = idempotency_key
    to_sign = string_to_sign(credentials.algorithm,
                             canonical_request(method, url_or_path, query, headers, payload))
    signature = sign(credentials, to_sign, credentials.algorithm)
    headers["authorization"] = authorization_header(credentials.algorithm, credentials.public_key_id,
                                                    signed_header_names(headers), signature)
    return headers


def verify_request(public_key: PublicKeyLike | Mapping[str, PublicKeyLike], method: str, url: str,
                   headers: Mapping[str, str], payload: str | bytes | None) -> bool:
    """Amazon's side of the check, for a local double: does this request carry a good signature?

    ``public_key`` is one key, or a mapping of public key id to key. Only the headers named in
    ``SignedHeaders`` are canonicalised, as the receiving side must; every one of them must be there.
    """
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        lowered[name.lower()] = value
    auth = parse_authorization(lowered.get("authorization", ""))
    if auth is None:
        return False
    if isinstance(public_key, Mapping):
        if auth.public_key_id not in public_key:
            return False
        public_key = public_key[auth.public_key_id]
    names = auth.signed_headers
    if any(name != name.lower() or name not in lowered for name in names) or "authorization" in names:
        return False
    signed = {name: lowered[name] for name in names}
    if signed_header_names(signed) != ";".join(names):
        return False  # not sorted, or repeated
    to_sign = string_to_sign(auth.algorithm, canonical_request(method, url, None, signed, payload))
    return verify(public_key, to_sign, auth.signature, auth.algorithm)
