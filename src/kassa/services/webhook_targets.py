"""Checking a live webhook endpoint's address when it is set: its name resolved now, every
address it gives public (see domain.webhook_targets). The worker checks again at each delivery."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from ..domain.errors import InvalidRequest
from ..domain.webhook_targets import literal, refusal


class TargetRefused(InvalidRequest):
    def __init__(self, host: str, address: str, why: str) -> None:
        named = f"{host} resolves to {address}, " if host != address else f"{address} is "
        super().__init__(
            f"Invalid URL: {named}{why}. Live webhook endpoints must be reachable on public addresses "
            "(set KASSA_WEBHOOK_ALLOW_PRIVATE=1 on the server to lift this for a private network).",
            code="url_invalid", param="url")


async def check(url: str, *, livemode: bool, allow_private: bool) -> None:
    """Refuse a live endpoint whose host is, or resolves to, a non-public address. A name that
    does not resolve yet is accepted: its deliveries are checked when they are sent."""
    if not livemode or allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    address = literal(host)
    if address is not None:
        addresses = [address]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return
        addresses = [info[4][0] for info in infos]
    for candidate in addresses:
        why = refusal(candidate)
        if why:
            raise TargetRefused(host, candidate, why)
