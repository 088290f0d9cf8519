"""The merchant's ``return_url``: where the buyer goes back to, and what is added to it."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import InvalidRequest

MAX_LENGTH = 2048


def validate(url: str, *, livemode: bool, param: str = "return_url") -> str:
    """An absolute http(s) URL with a host (https only in live mode), without credentials."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = None
    allowed = ("https",) if livemode else ("http", "https")
    if (parts is None or not port_ok or parts.scheme.lower() not in allowed or not parts.hostname
            or parts.username is not None or len(url) > MAX_LENGTH
            or any(ch in url for ch in "\r\n\t\\ ") or any(ord(ch) < 32 for ch in url)):
        need = "an absolute https URL (live mode)" if livemode else "an absolute http or https URL"
        raise InvalidRequest(f"Invalid {param}: it must be {need}, such as https://example.com/checkout/complete.",
                             code="url_invalid", param=param)
    return url


def with_outcome(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to its query; the merchant's own parameters and fragment are kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
