"""Object ids: a prefix, then base62 characters, as Stripe's are.

An object id starts with its creation time (milliseconds, in base62 characters that sort as the
numbers do) and ends with random characters. Ids made one after another therefore sort near each
other, so that each index on an id grows at its end instead of at a random place: a database of
millions of objects keeps the pages it writes in cache. Tokens, keys and client secrets are wholly
random (`random_base62`).
"""

import hashlib
import os
import string
import time

_ALPHABET = string.ascii_letters + string.digits
_SORTED = string.digits + string.ascii_uppercase + string.ascii_lowercase  # in ASCII order
_UNBIASED = 62 * 4  # bytes below this map evenly onto the 62 characters
# Byte b becomes the character b % 62 (one C call for a whole id); bytes from 248 up are dropped.
_TO_BASE62 = bytes(ord(_ALPHABET[b % 62]) for b in range(256))
_BIASED = bytes(range(_UNBIASED, 256))
TIME_CHARS = 7  # milliseconds since 1970 in 7 base62 characters: until the year 2081


class _RandomPool:
    """Base62 characters from os.urandom, made 16 KiB of random bytes at a time: one getrandom()
    call and one translation serve hundreds of ids (each call costs tens of microseconds on some
    virtual machines). Refilled after a fork."""

    def __init__(self) -> None:
        self._chars = ""
        self._offset = 0

    def reset(self) -> None:
        self._chars = ""
        self._offset = 0

    def take(self, count: int) -> str:
        offset = self._offset
        if offset + count > len(self._chars):
            chars = ""
            while len(chars) < count:
                chars += os.urandom(max(16384, count * 2)).translate(_TO_BASE62, _BIASED).decode("ascii")
            self._chars, offset = chars, 0
        self._offset = offset + count
        return self._chars[offset:offset + count]


_pool = _RandomPool()
os.register_at_fork(after_in_child=_pool.reset)  # a child never reuses its parent's bytes


def random_base62(length: int = 24) -> str:
    """A random string of `length` base62 characters from the system's CSPRNG, without modulo
    bias: bytes of 248 and above are dropped."""
    return _pool.take(length)


class _Clock:
    """The time part of ids, made once per millisecond."""

    def __init__(self) -> None:
        self._millisecond = -1
        self._text = ""

    def text(self) -> str:
        millisecond = time.time_ns() // 1_000_000
        if millisecond != self._millisecond:
            digits, value = [], millisecond
            for _ in range(TIME_CHARS):
                value, digit = divmod(value, 62)
                digits.append(_SORTED[digit])
            self._millisecond, self._text = millisecond, "".join(reversed(digits))
        return self._text


_clock = _Clock()


def new_id(prefix: str, length: int = 24) -> str:
    """A fresh id such as ``pi_1Ab3Xk9…``: its creation time, then random characters."""
    return f"{prefix}_{_clock.text()}{_pool.take(length - TIME_CHARS)}"


def digest(secret: str) -> bytes:
    """The SHA-256 digest under which a key or one-time token is stored (never the secret itself)."""
    return hashlib.sha256(secret.encode()).digest()
