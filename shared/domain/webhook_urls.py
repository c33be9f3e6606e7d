"""Which webhook URLs Liveness Guard will call (SPEC section 7a): SSRF protection, as a pure check.

Only `https://` URLs whose host resolves to public addresses only. A host that resolves to a
private, loopback, link-local (the cloud metadata address 169.254.169.254 among them), shared,
multicast, reserved or unspecified address is refused — at registration and again before every
delivery, since DNS can change in between. With `WEBHOOK_ALLOW_LOOPBACK` (local runs only; refused
in Azure), `http://127.0.0.1`, `http://localhost` and `http://[::1]` are allowed, and nothing else
that is not public.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

Resolve = Callable[[str, int], list[str]]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class UnsafeUrl(ValueError):
    """A webhook URL Liveness Guard will not call (the message says why)."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host resolves to (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"the host {host!r} does not resolve") from exc
    return sorted({str(info[4][0]) for info in infos})


def check_url(url: str, allow_loopback: bool = False, resolve: Resolve = resolve_host) -> str:
    """The URL, when it may be called; UnsafeUrl naming the reason otherwise."""
    if len(url) > 2048:
        raise UnsafeUrl("the URL is longer than 2048 characters")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeUrl("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("the URL may not carry credentials")
    loopback = allow_loopback and host in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (loopback and parts.scheme == "http"):
        raise UnsafeUrl("the URL must use https")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeUrl("the URL has an invalid port") from exc
    for address in resolve(host, port):
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if loopback and ip.is_loopback:
            continue
        if not ip.is_global or ip.is_multicast:
            raise UnsafeUrl(f"the host resolves to a non-public address ({address})")
    return url
