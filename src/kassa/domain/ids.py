"""Object ids: a prefix and a random base62 string, as Stripe's are."""

import hashlib
import os
import string

_ALPHABET = string.ascii_letters + string.digits
_UNBIASED = 62 * 4  # bytes below this map evenly onto the 62 characters
# Byte b becomes the character b % 62 (one C call for a whole id); bytes from 248 up are dropped.
_TO_BASE62 = bytes(ord(_ALPHABET[b % 62]) for b in range(256))
_BIASED = bytes(range(_UNBIASED, 256))


class _RandomPool:
    """Bytes from os.urandom, fetched 16 KiB at a time: one getrandom() call serves hundreds of
    ids (each call costs tens of microseconds on some virtual machines). Refilled after a fork."""

    def __init__(self) -> None:
        self._buffer = b""
        self._offset = 0

    def reset(self) -> None:
        self._buffer = b""
        self._offset = 0

    def take(self, count: int) -> bytes:
        if self._offset + count > len(self._buffer):
            self._buffer = os.urandom(max(16384, count))
            self._offset = 0
        chunk = self._buffer[self._offset:self._offset + count]
        self._offset += count
        return chunk


_pool = _RandomPool()
os.register_at_fork(after_in_child=_pool.reset)  # a child never reuses its parent's bytes


def random_base62(length: int = 24) -> str:
    """A random string of `length` base62 characters from the system's CSPRNG, without modulo
    bias: bytes of 248 and above are dropped."""
    chars = b""
    while len(chars) < length:
        chars += _pool.take(length + 8).translate(_TO_BASE62, _BIASED)
    return chars[:length].decode("ascii")


def new_id(prefix: str, length: int = 24) -> str:
    """A fresh id such as ``pi_3Pq…``."""
    return f"{prefix}_{random_base62(length)}"


def client_secret_for(intent_id: str) -> str:
    """A PaymentIntent client secret: ``{pi_id}_secret_{random}``."""
    return f"{intent_id}_secret_{random_base62(25)}"


def intent_id_of_client_secret(secret: str) -> str | None:
    """The PaymentIntent id a client secret names, or None if it is not shaped like one."""
    head, sep, tail = secret.partition("_secret_")
    if not sep or not head.startswith("pi_") or not tail:
        return None
    return head


def digest(secret: str) -> bytes:
    """The SHA-256 digest under which a key or one-time token is stored (never the secret itself)."""
    return hashlib.sha256(secret.encode()).digest()
