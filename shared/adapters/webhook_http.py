"""One webhook delivery over the wire (docs/api.md, Webhooks): a POST to the address that was checked, within
one deadline, reading at most 64 KiB of the answer.

A general HTTP client would resolve the host again (DNS rebinding between the SSRF check and the
connection), give each socket read its own timeout (a receiver dripping a byte every few seconds
holds it for minutes) and read the whole body. Here every step — connect, TLS handshake, send, read —
gets only what is left of the one deadline, the connection goes to `Target.address` (TLS still
verifies the certificate for the URL's host), and only the status line is read: redirects are not
followed and nothing past 64 KiB is read.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable

from shared.domain.webhook_urls import Target

MAX_ANSWER = 64 * 1024
Connect = Callable[[tuple[str, int], float], socket.socket]


class DeliveryFailed(Exception):
    """The endpoint could not be reached or did not answer in time (the message says which)."""


def post(
    target: Target,
    body: bytes,
    headers: dict[str, str],
    deadline_seconds: float,
    tls: ssl.SSLContext | None = None,
    connect: Connect = socket.create_connection,
) -> int:
    """POST `body` to the checked address; the HTTP status, or DeliveryFailed (`timeout` once the
    deadline passed)."""
    deadline = time.monotonic() + deadline_seconds

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeliveryFailed("timeout")
        return remaining

    try:
        sock = connect((target.address, target.port), left())
    except OSError as exc:
        raise _failed(exc, deadline) from None
    try:
        if target.scheme == "https":
            sock.settimeout(left())
            sock = (tls or ssl.create_default_context()).wrap_socket(sock, server_hostname=target.host)
        sock.settimeout(left())
        sock.sendall(_request(target, body, headers))
        return _status(sock, left)
    except (OSError, ssl.SSLError) as exc:
        raise _failed(exc, deadline) from None
    finally:
        sock.close()


def _request(target: Target, body: bytes, headers: dict[str, str]) -> bytes:
    default_port = 443 if target.scheme == "https" else 80
    host = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host and not target.host.startswith("["):  # an IPv6 literal
        host = f"[{target.host}]" + (f":{target.port}" if target.port != default_port else "")
    lines = [f"POST {target.path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items() if "\r" not in value and "\n" not in value]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _status(sock: socket.socket, left: Callable[[], float]) -> int:
    """Read up to the end of the status line (at most 64 KiB) and return its code."""
    answer = b""
    while b"\r\n" not in answer:
        if len(answer) >= MAX_ANSWER:
            raise DeliveryFailed("answer too long")
        sock.settimeout(left())
        chunk = sock.recv(min(4096, MAX_ANSWER - len(answer)))
        if not chunk:
            break
        answer += chunk
    parts = answer.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise DeliveryFailed("not an HTTP answer")
    return int(parts[1])


def _failed(exc: BaseException, deadline: float) -> DeliveryFailed:
    if isinstance(exc, DeliveryFailed):
        return exc
    if isinstance(exc, TimeoutError | socket.timeout) or time.monotonic() >= deadline:
        return DeliveryFailed("timeout")
    return DeliveryFailed(type(exc).__name__)
