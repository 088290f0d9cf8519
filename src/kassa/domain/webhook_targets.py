"""Where live webhooks may go: public addresses only.

A live endpoint must not make kassa a proxy into the network it runs in: loopback, private,
link-local (cloud metadata at 169.254.169.254 included), unique-local, multicast and other
non-global addresses are refused, checked on the addresses a name resolves to, at create and
again at every delivery (so a name that later resolves elsewhere gets nowhere).
"""

from __future__ import annotations

import ipaddress


def refusal(address: str) -> str | None:
    """Why a live webhook may not go to this IP address (a short phrase), or None if it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL:
        return "a unique-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "a non-public address"
    return None


_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


def literal(host: str) -> str | None:
    """The host as an IP address when it is one (``[::1]`` included), else None."""
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate.split("%", 1)[0])
    except ValueError:
        return None
    return candidate
