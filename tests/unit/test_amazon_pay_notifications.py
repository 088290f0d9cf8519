"""Amazon Pay IPNs: SNS signature verification, certificate URL checks, parsing."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from doubles.amazon_pay_api import CERT_URL, TOPIC_ARN, AmazonPayDouble, generate_key_pair
from kassa.methods.amazon_pay.notifications import (
    Notification,
    NotificationError,
    NotificationVerifier,
    check_certificate_url,
)

_, PUBLIC = generate_key_pair()
DOUBLE = AmazonPayDouble({"KEY": PUBLIC})  # used for its SNS signing only, never served


class Fetcher:
    """Serves the double's certificate and counts the fetches."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    async def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return await DOUBLE.fetch_certificate(url)


def verify(body: str, **options) -> Notification:
    verifier = options.pop("verifier", None) or NotificationVerifier(options.pop("fetch", Fetcher()), **options)
    return asyncio.run(verifier.verify(body))


def resign(envelope: dict) -> str:
    envelope = dict(envelope)
    envelope["Signature"] = DOUBLE.sign_sns(envelope)
    return json.dumps(envelope)


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_good_notification(version):
    body = DOUBLE.notification("CHARGE", "S01-1-1-C1", "S01-1-1", signature_version=version)
    notification = verify(body)
    envelope = json.loads(body)
    assert notification == Notification(
        object_type="CHARGE", object_id="S01-1-1-C1", notification_type="STATE_CHANGE",
        charge_permission_id="S01-1-1", merchant_id=DOUBLE.merchant_id,
        notification_id=json.loads(envelope["Message"])["NotificationId"], message_id=envelope["MessageId"],
        topic_arn=TOPIC_ARN, timestamp=envelope["Timestamp"])


def test_a_subject_is_part_of_what_is_signed():
    body = DOUBLE.notification("REFUND", "S01-1-1-R1", subject="Amazon Pay IPN")
    assert verify(body, topic_arns=[TOPIC_ARN]).object_type == "REFUND"
    tampered = json.loads(body)
    tampered["Subject"] = "Something else"
    with pytest.raises(NotificationError, match="signature"):
        verify(json.dumps(tampered))
    del tampered["Subject"]
    with pytest.raises(NotificationError, match="signature"):
        verify(json.dumps(tampered))


@pytest.mark.parametrize("field, value", [
    ("Message", json.dumps({"ObjectType": "CHARGE", "ObjectId": "S01-9-9-C9"})),
    ("MessageId", "another"),
    ("Timestamp", "2030-01-01T00:00:00.000Z"),
    ("TopicArn", "arn:aws:sns:us-east-1:000000000000:other"),
    ("Signature", "AAAA"),
    ("Signature", "not base64!"),
])
def test_a_tampered_notification_is_refused(field, value):
    envelope = json.loads(DOUBLE.notification("CHARGE", "S01-1-1-C1"))
    envelope[field] = value
    with pytest.raises(NotificationError, match="signature"):
        verify(json.dumps(envelope))


def test_a_version_1_signature_does_not_pass_as_version_2():
    envelope = json.loads(DOUBLE.notification("CHARGE", "S01-1-1-C1", signature_version="1"))
    envelope["SignatureVersion"] = "2"
    with pytest.raises(NotificationError, match="signature"):
        verify(json.dumps(envelope))


@pytest.mark.parametrize("version", ["3", "0", "", None, 2.0])
def test_an_unknown_signature_version_is_refused(version):
    envelope = json.loads(DOUBLE.notification("CHARGE", "S01-1-1-C1"))
    envelope["SignatureVersion"] = version
    fetch = Fetcher()
    with pytest.raises(NotificationError, match="SignatureVersion"):
        verify(json.dumps(envelope), fetch=fetch)
    assert fetch.urls == []


BAD_URLS = [
    "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://example.com/SimpleNotificationService-abc.pem",
    "https://sns.evil.com/SimpleNotificationService-abc.pem",
    "https://amazonaws.com.evil.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-abc.pem",
    "https://evil.com@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://evil.com#@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com\\@evil.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem?x=1",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.txt",
    "https://sns.us-east-1.amazonaws.com/../evil/abc.pem",
    "https://sns.us-east-1.amazonaws.com/%2e%2e/abc.pem",
    "https://sns..amazonaws.com/abc.pem",
    "https://sns.us-east-1.amazonaws.com./abc.pem",
    "https://xsns.us-east-1.amazonaws.com/abc.pem",
    "https://sns.us-east-1.amazonaws.co/abc.pem",
    "https://sns.us-east-1.amazonaws.com /abc.pem",
    "https://sns.us-east-1.amazonaws.com\u3002/abc.pem",
    "//sns.us-east-1.amazonaws.com/abc.pem",
    "",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_certificate_urls_are_refused(url):
    with pytest.raises(NotificationError):
        check_certificate_url(url)
    fetch = Fetcher()
    with pytest.raises(NotificationError, match="SigningCertURL"):
        verify(DOUBLE.notification("CHARGE", "S01-1-1-C1", cert_url=url), fetch=fetch)
    assert fetch.urls == []  # refused before anything is fetched


@pytest.mark.parametrize("url", [
    CERT_URL,
    "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem",
    "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
    "https://sns.us-gov-west-1.amazonaws.com:443/SimpleNotificationService-abc.pem",
])
def test_sns_certificate_urls_are_accepted(url):
    assert check_certificate_url(url) == url


def test_the_certificate_is_fetched_once():
    fetch = Fetcher()
    verifier = NotificationVerifier(fetch)
    for index in range(3):
        verify(DOUBLE.notification("CHARGE", f"S01-1-1-C{index}"), verifier=verifier)
    assert fetch.urls == [CERT_URL]


def test_an_unexpected_topic_is_refused():
    with pytest.raises(NotificationError, match="topic"):
        verify(DOUBLE.notification("CHARGE", "S01-1-1-C1"), topic_arns=["arn:aws:sns:us-east-1:1:mine"])


def test_a_certificate_out_of_its_validity_is_refused():
    later = datetime.now(timezone.utc) + timedelta(days=400)
    with pytest.raises(NotificationError, match="not valid now"):
        verify(DOUBLE.notification("CHARGE", "S01-1-1-C1"), clock=lambda: later)


def test_a_fetched_document_that_is_not_a_certificate():
    async def junk(url: str) -> bytes:
        return b"<html>hello</html>"

    with pytest.raises(NotificationError, match="not a PEM certificate"):
        verify(DOUBLE.notification("CHARGE", "S01-1-1-C1"), fetch=junk)


def test_only_notifications_are_taken():
    envelope = json.loads(DOUBLE.notification("CHARGE", "S01-1-1-C1"))
    envelope["Type"] = "SubscriptionConfirmation"
    with pytest.raises(NotificationError, match="not a Notification"):
        verify(resign(envelope))


@pytest.mark.parametrize("body, words", [
    ("not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ("x" * 300_000, "too large"),
])
def test_unreadable_bodies(body, words):
    with pytest.raises(NotificationError, match=words):
        verify(body)


@pytest.mark.parametrize("message, words", [
    ("not json", "Message is not JSON"),
    (json.dumps(["x"]), "not a JSON object"),
    (json.dumps({"ObjectType": "CHARGE"}), "no ObjectType and ObjectId"),
    (json.dumps({"ObjectType": "ORDER", "ObjectId": "1"}), "unknown ObjectType"),
])
def test_unreadable_messages_even_when_signed(message, words):
    envelope = json.loads(DOUBLE.notification("CHARGE", "S01-1-1-C1"))
    envelope["Message"] = message
    with pytest.raises(NotificationError, match=words):
        verify(resign(envelope))


def test_lower_camel_case_messages_are_read():
    envelope = json.loads(DOUBLE.notification("CHARGE", "S01-1-1-C1"))
    envelope["Message"] = json.dumps({"merchantID": "M1", "objectType": "refund", "objectId": "S01-1-1-R1",
                                      "chargePermissionId": "S01-1-1", "notificationType": "STATE_CHANGE",
                                      "notificationId": "n1", "notificationVersion": "V2"})
    notification = verify(resign(envelope))
    assert (notification.object_type, notification.object_id) == ("REFUND", "S01-1-1-R1")
    assert notification.merchant_id == "M1"


def test_a_certificate_that_cannot_be_fetched_now_is_a_passing_failure(monkeypatch):
    import httpx

    from kassa.methods.amazon_pay import notifications

    class Unreachable(httpx.AsyncClient):
        async def get(self, url, **kwargs):
            raise httpx.ConnectError("no route", request=httpx.Request("GET", url))

    monkeypatch.setattr(notifications.httpx, "AsyncClient", Unreachable)
    with pytest.raises(notifications.CertificateUnavailable):
        verify(DOUBLE.notification("CHARGE", "S01-1-1-C1"), fetch=notifications.fetch_certificate_https)
