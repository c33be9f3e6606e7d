"""Which webhook URLs Liveness Guard will call (docs/api.md, Webhooks): SSRF protection, as a pure check.

Only `https://` URLs whose host resolves to public addresses only. A host that resolves to a
private, loopback, link-local (the cloud metadata address 169.254.169.254 among them), shared,
multicast, reserved or unspecified address is refused — at registration and again before every
delivery, since DNS can change in between; and the delivery connects to the very address that was
checked (`Target.address`: no second DNS look-up, so rebinding between check and connect reaches
nothing). IPv6 forms that embed an IPv4 address (`::a.b.c.d`, `::ffff:a.b.c.d`, NAT64
`64:ff9b::/96`, 6to4 `2002::/16`, Teredo `2001::/32`) are judged by the address they embed, and the
Azure platform addresses (168.63.129.16, 169.254.169.254) are refused. With `WEBHOOK_ALLOW_LOOPBACK`
(local runs only; refused in Azure), `http://127.0.0.1`, `http://localhost` and `http://[::1]` are
allowed, and nothing else that is not public.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolve = Callable[[str, int], list[str]]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
AZURE_PLATFORM = frozenset(ipaddress.ip_address(a) for a in ("168.63.129.16", "169.254.169.254"))
_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated IPv4-compatible form, ::a.b.c.d
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: where to connect (the address that was checked) and what to send."""

    url: str
    scheme: str
    host: str  # for TLS (SNI, certificate) and the Host header
    port: int
    path: str  # path and query
    address: str  # the checked address the delivery connects to


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: mapped, compatible, NAT64, 6to4, Teredo."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    elif ip in _COMPATIBLE and int(ip) > 1:  # :: and ::1 are themselves, not an IPv4 address
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def is_public(ip: IP) -> bool:
    """Whether a webhook may go to this address: globally routable, not multicast, not an Azure
    platform address; an IPv6 form that embeds IPv4 addresses is judged by them."""
    if ip in AZURE_PLATFORM:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner:
            return all(is_public(v4) for v4 in inner)
    return ip.is_global and not ip.is_multicast


class UnsafeUrl(ValueError):
    """A webhook URL Liveness Guard will not call (the message says why)."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host resolves to (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"the host {host!r} does not resolve") from exc
    return sorted({str(info[4][0]) for info in infos})


def check_url(url: str, allow_loopback: bool = False, resolve: Resolve = resolve_host) -> Target:
    """Where the URL may be called (the checked address to connect to); UnsafeUrl naming the reason
    otherwise. Every address the host resolves to must be acceptable."""
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
    addresses = resolve(host, port)
    if not addresses:
        raise UnsafeUrl(f"the host {host!r} does not resolve")
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError as exc:
            raise UnsafeUrl(f"the host resolves to an unreadable address ({address})") from exc
        if loopback and ip.is_loopback:
            continue
        if not is_public(ip):
            raise UnsafeUrl(f"the host resolves to a non-public address ({address})")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url, parts.scheme, host, port, path, addresses[0])
