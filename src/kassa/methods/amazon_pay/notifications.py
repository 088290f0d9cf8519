"""Amazon Pay Instant Payment Notifications (IPN): Amazon SNS messages, verified, then read.

An IPN is an HTTPS POST (``text/plain``) whose body is an SNS envelope (``Type``, ``MessageId``,
``TopicArn``, ``Message``, ``Timestamp``, ``SignatureVersion``, ``Signature``, ``SigningCertURL``)
and whose ``Message`` is a JSON string naming the object that changed (``ObjectType``,
``ObjectId``, ``NotificationType``, …). An IPN says only *that* something changed: kassa must read
the object from the API before it changes anything.

Verification follows Amazon SNS's documentation: the signature (``SignatureVersion`` 1:
SHA1withRSA, 2: SHA256withRSA, PKCS#1 v1.5) covers ``name\\nvalue\\n`` for ``Message``,
``MessageId``, ``Subject`` (when present), ``Timestamp``, ``TopicArn`` and ``Type``, in that order.
The certificate is fetched only from ``https://sns.<region>.amazonaws.com[.cn]/….pem``, through an
injectable fetcher (HTTPS with certificate checks by default), and cached.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
OBJECT_TYPES = frozenset({"CHARGE", "REFUND", "CHECKOUT_SESSION", "CHARGE_PERMISSION", "CHARGEBACK"})
_CERT_HOST = re.compile(r"^sns\.[a-z0-9]+(?:-[a-z0-9]+)*\.amazonaws\.com(?:\.cn)?$")
_CERT_PATH = re.compile(r"^/[A-Za-z0-9._/-]+\.pem$")
MAX_BODY = 256 * 1024

CertificateFetcher = Callable[[str], Awaitable[bytes]]


class NotificationError(ValueError):
    """A notification that is not authentic or not readable; answer 400 and change nothing."""


class CertificateUnavailable(Exception):
    """The signing certificate could not be fetched now; answer 503 so that SNS delivers again."""


@dataclass(frozen=True, slots=True)
class Notification:
    """What changed, by Amazon's word (verified); read the object before acting on it."""

    object_type: str  # CHARGE, REFUND, CHECKOUT_SESSION, CHARGE_PERMISSION, CHARGEBACK
    object_id: str
    notification_type: str | None  # STATE_CHANGE, ATTRIBUTE_CHANGE
    charge_permission_id: str | None
    merchant_id: str | None
    notification_id: str | None
    message_id: str  # the SNS MessageId: the same on SNS's redeliveries
    topic_arn: str
    timestamp: str


def check_certificate_url(url: str) -> str:
    """The URL if it names an SNS signing certificate; anything else raises NotificationError."""
    if not isinstance(url, str) or not url.isascii() or any(c.isspace() or c in "\\@%?#" for c in url):
        raise NotificationError("SigningCertURL is not an Amazon SNS certificate URL")
    parts = urlsplit(url)
    host = parts.netloc
    if parts.scheme != "https" or parts.username or parts.password or parts.query or parts.fragment:
        raise NotificationError("SigningCertURL must be a plain https:// URL")
    if host.endswith(":443"):
        host = host[:-4]
    if not _CERT_HOST.match(host) or not _CERT_PATH.match(parts.path) or "/../" in parts.path + "/":
        raise NotificationError("SigningCertURL must point to a .pem file on sns.<region>.amazonaws.com")
    return url


async def fetch_certificate_https(url: str) -> bytes:
    """The default fetcher: one HTTPS GET with certificate verification, no redirects."""
    try:
        async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as http:
            response = await http.get(url)
    except httpx.HTTPError as error:
        raise CertificateUnavailable(f"the SNS signing certificate could not be fetched: {error!r}") from None
    if response.status_code != 200:
        raise CertificateUnavailable(f"the SNS signing certificate could not be fetched (HTTP {response.status_code})")
    return response.content


def string_to_sign(envelope: Mapping[str, Any]) -> bytes:
    """SNS's canonical form for a Notification: ``name\\nvalue\\n`` for each signed field present."""
    lines = []
    for name in NOTIFICATION_FIELDS:
        if name == "Subject" and envelope.get(name) is None:
            continue
        value = envelope.get(name)
        if not isinstance(value, str):
            raise NotificationError(f"the SNS envelope lacks {name}")
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode("utf-8")


class NotificationVerifier:
    """Verifies IPNs. ``fetch`` gets a certificate's PEM bytes from its (already checked) URL, and
    raises :class:`CertificateUnavailable` when it cannot (a passing failure, not a forgery).

    ``topic_arns``, when given, is the set of topics accepted (the SNS documentation advises it).
    """

    def __init__(self, fetch: CertificateFetcher = fetch_certificate_https, *,
                 topic_arns: Collection[str] | None = None, cache_size: int = 32,
                 clock: Callable[[], datetime] | None = None):
        self._fetch = fetch
        self._topics = frozenset(topic_arns) if topic_arns is not None else None
        self._cache: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()
        self._cache_size = cache_size
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    async def verify(self, body: bytes | str) -> Notification:
        """The notification in ``body`` once its signature is good; NotificationError otherwise
        (CertificateUnavailable when the certificate cannot be fetched now)."""
        envelope = _envelope(body)
        if envelope.get("Type") != "Notification":
            raise NotificationError(f"not a Notification: Type is {envelope.get('Type')!r}")
        hash_type = HASHES.get(str(envelope.get("SignatureVersion")))
        if hash_type is None:
            raise NotificationError(f"unknown SignatureVersion {envelope.get('SignatureVersion')!r}")
        if self._topics is not None and envelope.get("TopicArn") not in self._topics:
            raise NotificationError("the notification comes from a topic kassa does not accept")
        key = await self._key(check_certificate_url(envelope.get("SigningCertURL", "")))
        try:
            signature = base64.b64decode(str(envelope.get("Signature", "")), validate=True)
            key.verify(signature, string_to_sign(envelope), padding.PKCS1v15(), hash_type())
        except (InvalidSignature, binascii.Error, ValueError):
            raise NotificationError("the notification's signature does not verify") from None
        return _notification(envelope)

    async def _key(self, url: str) -> rsa.RSAPublicKey:
        if url in self._cache:
            self._cache.move_to_end(url)
            return self._cache[url]
        try:
            certificate = x509.load_pem_x509_certificate(await self._fetch(url))
        except ValueError:
            raise NotificationError("the SNS signing certificate is not a PEM certificate") from None
        now = self._clock()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise NotificationError("the SNS signing certificate is not valid now")
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise NotificationError("the SNS signing certificate does not hold an RSA key")
        self._cache[url] = key
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return key


def _envelope(body: bytes | str) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise NotificationError("the notification is too large")
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NotificationError("the notification body is not JSON") from None
    if not isinstance(envelope, dict):
        raise NotificationError("the notification body is not a JSON object")
    return envelope


def _field(message: Mapping[str, Any], name: str) -> str | None:
    """A message field by name in any case (Amazon documents both ``ObjectType`` and ``objectType``)."""
    for key, value in message.items():
        if key.lower() == name.lower() and isinstance(value, str) and value:
            return value
    return None


def _notification(envelope: Mapping[str, Any]) -> Notification:
    try:
        message = json.loads(envelope["Message"])
    except ValueError:
        raise NotificationError("the notification's Message is not JSON") from None
    if not isinstance(message, dict):
        raise NotificationError("the notification's Message is not a JSON object")
    object_type, object_id = _field(message, "ObjectType"), _field(message, "ObjectId")
    if object_type is None or object_id is None:
        raise NotificationError("the notification names no ObjectType and ObjectId")
    if object_type.upper() not in OBJECT_TYPES:
        raise NotificationError(f"unknown ObjectType {object_type!r}")
    return Notification(object_type=object_type.upper(), object_id=object_id,
                        notification_type=_field(message, "NotificationType"),
                        charge_permission_id=_field(message, "ChargePermissionId"),
                        merchant_id=_field(message, "MerchantID"), notification_id=_field(message, "NotificationId"),
                        message_id=str(envelope["MessageId"]), topic_arn=str(envelope["TopicArn"]),
                        timestamp=str(envelope["Timestamp"]))
