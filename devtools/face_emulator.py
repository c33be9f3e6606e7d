"""A wire-compatible stand-in for the Face liveness-session API (REST v1.2 GA), SPEC section 6.

    python -m devtools.face_emulator --port 7081 --key <subscription key>

Beyond the real API it plays the device SDK: `POST .../detectLiveness-sessions/{id}/attempts`
with `Authorization: Bearer <authToken>` and `{"livenessDecision": ...}` records an attempt.
`POST /_emulator/faults {"status": 500, "count": 3}` makes the next Face calls fail (for outage
tests). State lives in memory; the process is for development and tests only.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devtools.serving import serve

ROOT = "/face/v1.2/detectLiveness-sessions"
MODES = {"Passive", "PassiveActive"}
DECISIONS = {"realface", "spoofface", "uncertain"}
MAX_ATTEMPTS = 3
_SESSION_PATH = re.compile(rf"^{ROOT}/([A-Za-z0-9-]+)(/attempts)?$")


class FaceState:
    """Sessions and injected faults, shared by the handler threads."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.fault_status = 0
        self.fault_count = 0

    def take_fault(self) -> int:
        with self.lock:
            if self.fault_count > 0:
                self.fault_count -= 1
                return self.fault_status
        return 0


def _now() -> datetime:
    return datetime.now(UTC)


class FaceHandler(BaseHTTPRequestHandler):
    server_version = "FaceEmulator/1.2"
    state: FaceState

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing -----------------------------------------------------------------------
    def _send(self, status: int, body: Any = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("apim-request-id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"error": {"code": code, "message": message}})

    def _json(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _key_ok(self) -> bool:
        key = self.headers.get("Ocp-Apim-Subscription-Key")
        bearer = (self.headers.get("Authorization") or "").startswith("Bearer ")
        return bool(key and secrets.compare_digest(key, self.state.key)) or bearer

    def _route(self, method: str) -> None:
        if self.path.startswith("/_emulator/"):
            return self._control(method)
        if not self.path.startswith(ROOT):
            return self._error(404, "NotFound", "Resource not found.")
        match = _SESSION_PATH.match(self.path)
        if method == "POST" and match and match.group(2):
            return self._attempt(match.group(1))
        if not self._key_ok():
            return self._error(401, "401", "Access denied due to invalid subscription key.")
        fault = self.state.take_fault()
        if fault:
            return self._error(fault, "InternalServerError", "Injected fault.")
        if method == "POST" and self.path == ROOT:
            return self._create()
        if match and not match.group(2) and method in ("GET", "DELETE"):
            return self._get(match.group(1)) if method == "GET" else self._delete(match.group(1))
        return self._error(404, "NotFound", "Resource not found.")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    # --- Face API -----------------------------------------------------------------------
    def _create(self) -> None:
        body = self._json()
        if body is None:
            return self._error(400, "BadArgument", "Invalid JSON body.")
        mode = body.get("livenessOperationMode")
        ttl = body.get("authTokenTimeToLiveInSeconds", 600)
        if mode not in MODES:
            return self._error(400, "BadArgument", "livenessOperationMode must be Passive or PassiveActive.")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 60 <= ttl <= 86400:
            return self._error(400, "BadArgument", "authTokenTimeToLiveInSeconds must be 60-86400.")
        session_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(32)
        now = _now()
        session = {
            "sessionId": session_id,
            "authToken": token,
            "status": "NotStarted",
            "livenessOperationMode": mode,
            "deviceCorrelationId": body.get("deviceCorrelationId"),
            "createdDateTime": now.isoformat(),
            "expiresAt": now + timedelta(seconds=ttl),
            "modelVersion": "2024-11-15",
            "attempts": [],
        }
        with self.state.lock:
            self.state.sessions[session_id] = session
        self._send(
            200, {"sessionId": session_id, "authToken": token, "status": "NotStarted", "modelVersion": "2024-11-15"}
        )

    def _view(self, session: dict[str, Any]) -> dict[str, Any]:
        return {
            "sessionId": session["sessionId"],
            "status": session["status"],
            "livenessOperationMode": session["livenessOperationMode"],
            "createdDateTime": session["createdDateTime"],
            "modelVersion": session["modelVersion"],
            "results": {"attempts": list(session["attempts"])},
        }

    def _get(self, session_id: str) -> None:
        with self.state.lock:
            session = self.state.sessions.get(session_id)
            view = self._view(session) if session else None
        if view is None:
            return self._error(404, "SessionNotFound", "Session does not exist.")
        self._send(200, view)

    def _delete(self, session_id: str) -> None:
        with self.state.lock:
            found = self.state.sessions.pop(session_id, None)
        if found is None:
            return self._error(404, "SessionNotFound", "Session does not exist.")
        self._send(204)

    def _attempt(self, session_id: str) -> None:
        body = self._json()
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        with self.state.lock:
            session = self.state.sessions.get(session_id)
            if session is None or not secrets.compare_digest(token, session["authToken"]):
                return self._error(401, "Unauthorized", "Invalid session auth token.")
            if session["expiresAt"] <= _now():
                return self._error(401, "TokenExpired", "The session auth token has expired.")
            if body is None or body.get("livenessDecision") not in DECISIONS:
                return self._error(400, "BadArgument", "livenessDecision must be realface, spoofface or uncertain.")
            if len(session["attempts"]) >= MAX_ATTEMPTS:
                return self._error(429, "TooManyAttempts", f"At most {MAX_ATTEMPTS} attempts per session.")
            attempt = {
                "attemptId": len(session["attempts"]) + 1,
                "attemptStatus": "Succeeded",
                "result": {"livenessDecision": body["livenessDecision"], "digest": uuid.uuid4().hex},
            }
            session["attempts"].append(attempt)
            session["status"] = "Succeeded"
        self._send(200, attempt)

    # --- test control -------------------------------------------------------------------
    def _control(self, method: str) -> None:
        if method == "GET" and self.path == "/_emulator/health":
            return self._send(200, {"status": "ok", "sessions": len(self.state.sessions)})
        if method == "POST" and self.path == "/_emulator/faults":
            body = self._json() or {}
            with self.state.lock:
                self.state.fault_status = int(body.get("status", 500))
                self.state.fault_count = int(body.get("count", 1))
            return self._send(200, {"status": self.state.fault_status, "count": self.state.fault_count})
        return self._error(404, "NotFound", "Unknown control call.")


def make_server(host: str, port: int, key: str) -> ThreadingHTTPServer:
    """A Face emulator bound to host:port (port 0 picks a free one)."""
    handler = type("BoundFaceHandler", (FaceHandler,), {"state": FaceState(key)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7081)
    parser.add_argument("--key", default="local-face-key")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, args.key)
    serve(server, f"Face emulator listening on http://{args.host}:{server.server_port}")


if __name__ == "__main__":
    main()
