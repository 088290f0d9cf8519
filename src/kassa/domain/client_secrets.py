"""Client secrets derived from the intent's id, never stored.

A PaymentIntent's or SetupIntent's client secret is ``{id}_secret_{mac}``: the mac is keyed BLAKE2b
(a MAC by design, and a third of HMAC-SHA256's cost here) of the id under the deployment's key, 25
characters of [0-9A-Za-z] as Stripe's are long. So the secret can be given again whenever the
intent is shown, and checked, without being kept anywhere.
Several keys may be known: the first derives, every one is accepted (rotating the key).

Stored copies of what the API answered (events, idempotent responses) keep a mark in the secret's
place, ``{id}_secret_`` with nothing after it, and get the secret back when they are read:
`stored` strips, `restore_event` and `restore_tree` put back. Intents stored before secrets were
derived keep the secret they were given (their field holds it); marks are only ever made of
derived secrets, so those stay as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Any

SEPARATOR = "_secret_"
MAC_CHARS = 25
OWNERS = ("payment_intent", "setup_intent")  # the objects that have client secrets

_ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TO_ALPHABET = bytes(_ALPHABET[byte % 62] for byte in range(256))  # bytes.translate table
_ID = re.compile(r"(?:pi|seti)_[0-9A-Za-z]{1,64}")
_WORD = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_MAC = re.compile(r"[0-9A-Za-z]{%d}(?![0-9A-Za-z])" % MAC_CHARS)
_REMEMBERED = 4096  # derived secrets kept in memory (an intent's is asked for several times a request)


class ClientSecrets:
    """Derives and checks client secrets under the deployment's keys (the first one derives)."""

    def __init__(self, keys: Sequence[bytes]):
        if not keys or not all(keys):
            raise ValueError("client secrets need at least one non-empty key")
        # BLAKE2b takes keys of up to 64 bytes: a longer one is hashed to 64 first.
        self.keys = tuple(key if len(key) <= 64 else hashlib.blake2b(key).digest() for key in keys)
        self._derived: dict[str, str] = {}

    def of(self, object_id: str) -> str:
        """The client secret of the intent `object_id`."""
        secret = self._derived.get(object_id)
        if secret is None:
            if len(self._derived) >= _REMEMBERED:
                self._derived.clear()
            secret = self._derived[object_id] = object_id + SEPARATOR + self._mac(self.keys[0], object_id)
        return secret

    def matches(self, object_id: str, given: str) -> bool:
        """Whether `given` is `object_id`'s secret under any known key (compared in constant time)."""
        head, separator, mac = given.partition(SEPARATOR)
        if head != object_id or not separator:
            return False
        if hmac.compare_digest(given.encode(), self.of(object_id).encode()):
            return True
        found = False
        for key in self.keys[1:]:
            found |= hmac.compare_digest(mac.encode(), self._mac(key, object_id).encode())
        return found

    def belongs(self, obj: Any, given: str) -> bool:
        """Whether `given` is the client secret of `obj` (an intent): the one it was given when it
        was stored before secrets were derived (its ``client_secret`` field), else the derived one.
        A secret naming another intent never is."""
        if obj.client_secret is not None:
            return hmac.compare_digest(given.encode(), obj.client_secret.encode())
        return self.matches(obj.id, given)

    def shown(self, obj: Any) -> str:
        """The client secret to show of `obj` (an intent): the one it keeps, else the derived one."""
        return obj.client_secret or self.of(obj.id)

    @staticmethod
    def _mac(key: bytes, object_id: str) -> str:
        digest = hashlib.blake2b(object_id.encode(), key=key, digest_size=MAC_CHARS).digest()
        return digest.translate(_TO_ALPHABET).decode()

    def stored(self, text: str) -> str:
        """`text` (JSON the API answered) as it may be kept: each derived secret in it replaced by
        its mark. Only secrets this deployment derives are touched (an intent's own older secret,
        or a look-alike in a merchant's string, stays: it is not one of ours to give back)."""
        at = text.find(SEPARATOR)
        if at < 0:
            return text
        pieces, copied = [], 0
        while at >= 0:
            mac_at = at + len(SEPARATOR)
            # The intent's id before it starts at the last "pi_" or "seti_" (an id's own characters
            # hold no underscore), and is a whole word.
            window = max(0, at - 70)
            start = max(text.rfind("pi_", window, at), text.rfind("seti_", window, at))
            if (start >= 0 and (start == 0 or text[start - 1] not in _WORD) and _ID.fullmatch(text, start, at)
                    and _MAC.match(text, mac_at) and self.of(text[start:at]) == text[start:mac_at + MAC_CHARS]):
                pieces.append(text[copied:mac_at])
                copied = mac_at + MAC_CHARS
            at = text.find(SEPARATOR, mac_at)
        return "".join(pieces) + text[copied:] if pieces else text

    def restore_event(self, text: str) -> str:
        """A stored event's JSON with its object's secret back. Only the mark of the event's own
        object (the intent the event is about) is replaced, so no text a merchant wrote elsewhere in
        the event can make it reveal another intent's secret."""
        object_id = _event_object_id(text)
        if object_id is None:
            return text
        mark = f'"client_secret":"{object_id}{SEPARATOR}"'
        if mark not in text:
            return text
        return text.replace(mark, f'"client_secret":"{self.of(object_id)}"', 1)

    def restore_tree(self, body: Any) -> Any:
        """A parsed stored answer (an intent, an error carrying one, a list, expanded objects) with
        every intent's marked secret back. An intent is a dict whose ``object`` names one and whose
        mark names its own ``id``; metadata (the merchant's own keys and values) is never looked into."""
        if isinstance(body, dict):
            if body.get("object") in OWNERS and body.get("client_secret") == f"{body.get('id')}{SEPARATOR}":
                body["client_secret"] = self.of(body["id"])
            for name, value in body.items():
                if name != "metadata" and isinstance(value, (dict, list)):
                    self.restore_tree(value)
        elif isinstance(body, list):
            for item in body:
                self.restore_tree(item)
        return body


def mark(secret: str) -> str:
    """What is kept in a derived secret's place: ``{id}_secret_``."""
    return secret[:len(secret) - MAC_CHARS]


def has_marks(text: str) -> bool:
    """Whether stored JSON may hold a mark to restore (a quick test before parsing it)."""
    return SEPARATOR + '"' in text


_EVENT_OBJECT = re.compile(r'"data":\{"object":\{"id":"((?:pi|seti)_[0-9A-Za-z]{1,64})",'
                           r'"object":"(?:payment|setup)_intent"')


def _event_object_id(text: str) -> str | None:
    """The id of a stored event's object when it is an intent (its JSON is kassa's own: the object
    is the first member of ``data``, its id and type its first two)."""
    found = _EVENT_OBJECT.search(text, 0, 400)  # the envelope's first members come before it
    return found.group(1) if found else None
