"""A local, wire-compatible Azure Communication Services Email endpoint that keeps what it receives.

    python -m devtools.email_sink --port 7082 --access-key <base64> --ca-file .run/email-ca.pem

The `azure-communication-email` SDK always speaks https, so this serves TLS with a certificate
from a throwaway local CA (trustme) written to --ca-file; point the client at it with
`connection_verify=<ca file>`. It checks the SDK's HMAC-SHA256 signature, honours `Operation-Id`
(a repeated id never stores a second email), answers the operation-status poll, lists received
mail at `GET /messages`, and `POST /_sink/faults {"status": 429, "count": 2, "retryAfter": 1}`
makes the next sends fail.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import ssl
import threading
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trustme

from devtools.serving import serve

MAX_CLOCK_SKEW = timedelta(minutes=15)


class SinkState:
    def __init__(self, access_key: str) -> None:
        self.secret = base64.b64decode(access_key)
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []
        self.operations: dict[str, str] = {}
        self.fault_status = 0
        self.fault_count = 0
        self.fault_retry_after = 1


class SinkHandler(BaseHTTPRequestHandler):
    server_version = "EmailSink/1.0"
    state: SinkState

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"code": code, "message": message}}, headers)

    def _read(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _signed(self, body: bytes) -> bool:
        """Check the ACS HMAC-SHA256 signature the SDK adds to every call."""
        auth = self.headers.get("Authorization") or ""
        date = self.headers.get("x-ms-date") or ""
        content_hash = self.headers.get("x-ms-content-sha256") or ""
        if not auth.startswith("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="):
            return False
        if content_hash != base64.b64encode(hashlib.sha256(body).digest()).decode():
            return False
        try:
            if abs(datetime.now(UTC) - parsedate_to_datetime(date)) > MAX_CLOCK_SKEW:
                return False
        except (TypeError, ValueError):
            return False
        to_sign = f"{self.command}\n{self.path}\n{date};{self.headers.get('Host')};{content_hash}"
        expected = base64.b64encode(hmac.new(self.state.secret, to_sign.encode(), hashlib.sha256).digest()).decode()
        return hmac.compare_digest(auth.rsplit("Signature=", 1)[1], expected)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/messages":
            with self.state.lock:
                return self._send(200, list(self.state.messages))
        if path.startswith("/emails/operations/"):
            if not self._signed(b""):
                return self._error(401, "Denied", "Invalid HMAC signature.")
            operation = path.rsplit("/", 1)[1]
            with self.state.lock:
                known = operation in self.state.operations
            if not known:
                return self._error(404, "NotFound", "Unknown operation.")
            return self._send(200, {"id": operation, "status": "Succeeded", "error": None})
        return self._error(404, "NotFound", "Not found.")

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path == "/messages":
            with self.state.lock:
                self.state.messages.clear()
                self.state.operations.clear()
            return self._send(204)
        return self._error(404, "NotFound", "Not found.")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._read()
        if path == "/_sink/faults":
            data = json.loads(body or b"{}")
            with self.state.lock:
                self.state.fault_status = int(data.get("status", 500))
                self.state.fault_count = int(data.get("count", 1))
                self.state.fault_retry_after = int(data.get("retryAfter", 1))
            return self._send(200, data)
        if path != "/emails:send":
            return self._error(404, "NotFound", "Not found.")
        if not self._signed(body):
            return self._error(401, "Denied", "Invalid HMAC signature.")
        with self.state.lock:
            if self.state.fault_count > 0:
                self.state.fault_count -= 1
                status, retry_after = self.state.fault_status, self.state.fault_retry_after
                return self._error(
                    status,
                    "TooManyRequests" if status == 429 else "ServiceError",
                    "Injected fault.",
                    {"Retry-After": str(retry_after)},
                )
        try:
            message = json.loads(body)
            recipients = [r["address"] for r in message["recipients"]["to"]]
            content = message["content"]
            assert message["senderAddress"] and recipients and content["subject"]
            assert content.get("plainText") or content.get("html")
        except (ValueError, KeyError, TypeError, AssertionError):
            return self._error(400, "BadRequest", "senderAddress, recipients.to and content.subject are required.")
        operation = self.headers.get("Operation-Id") or str(uuid.uuid4())
        with self.state.lock:
            if operation not in self.state.operations:
                self.state.operations[operation] = "Succeeded"
                self.state.messages.append(
                    {"operationId": operation, "receivedAt": datetime.now(UTC).isoformat(), "message": message}
                )
        host = self.headers.get("Host")
        location = f"https://{host}/emails/operations/{operation}?api-version=2025-09-01"
        self._send(202, {"id": operation, "status": "Running"}, {"Operation-Location": location, "Retry-After": "0"})


def make_server(host: str, port: int, access_key: str, ca_file: Path) -> ThreadingHTTPServer:
    """An HTTPS sink bound to host:port; the CA that signed its certificate is written to ca_file."""
    ca = trustme.CA()
    ca_file.parent.mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    handler = type("BoundSinkHandler", (SinkHandler,), {"state": SinkState(access_key)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7082)
    parser.add_argument("--access-key", default=base64.b64encode(b"local-acs-access-key").decode())
    parser.add_argument("--ca-file", type=Path, default=Path(".run/email-ca.pem"))
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, args.access_key, args.ca_file)
    serve(server, f"Email sink on https://{args.host}:{server.server_port} (CA: {args.ca_file})")


if __name__ == "__main__":
    main()
