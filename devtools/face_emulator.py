"""A wire-compatible stand-in for the Face liveness-session API (REST v1.2 GA), SPEC section 6.

    python -m devtools.face_emulator --port 7081 --key <subscription key>

Beyond the real API it plays the device SDK: `POST .../detectLiveness-sessions/{id}/attempts`
with `Authorization: Bearer <authToken>` and `{"livenessDecision": ...}` records an attempt. The
attempt body may also carry `completeAfterSeconds` (the attempt reads `Running`, with no result,
until then), `error {code, message}` (a `Failed` attempt with no decision) and `clientIp`
(reported back in `clientInformation`).
`POST /emulator/faults {"status": 429|500|503, "count": n, "retryAfter"?: s}` makes the next n
Face calls answer that status (with `Retry-After` when given); `DELETE /emulator/faults` clears it.
State lives in memory; the process is for development and tests only.
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
FAULT_CODES = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}
_SESSION_PATH = re.compile(rf"^{ROOT}/([A-Za-z0-9-]+)(/attempts)?$")


class FaceState:
    """Sessions and injected faults, shared by the handler threads."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.fault_status = 0
        self.fault_count = 0
        self.fault_retry_after: int | None = None

    def take_fault(self) -> tuple[int, int | None]:
        """The injected fault for this call (status, Retry-After), or (0, None)."""
        with self.lock:
            if self.fault_count > 0:
                self.fault_count -= 1
                return self.fault_status, self.fault_retry_after
        return 0, None


def _now() -> datetime:
    return datetime.now(UTC)


class FaceHandler(BaseHTTPRequestHandler):
    server_version = "FaceEmulator/1.2"
    state: FaceState

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing -----------------------------------------------------------------------
    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("apim-request-id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        headers = {"x-ms-error-code": code}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        self._send(status, {"error": {"code": code, "message": message}}, headers)

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
        if self.path.startswith(("/emulator/", "/_emulator/")):
            return self._control(method, self.path.replace("/_emulator/", "/emulator/", 1))
        if not self.path.startswith(ROOT):
            return self._error(404, "NotFound", "Resource not found.")
        match = _SESSION_PATH.match(self.path)
        if method == "POST" and match and match.group(2):
            return self._attempt(match.group(1))
        if not self._key_ok():
            return self._error(401, "401", "Access denied due to invalid subscription key.")
        fault, retry_after = self.state.take_fault()
        if fault:
            code = FAULT_CODES.get(fault, "InternalServerError")
            return self._error(fault, code, "Injected fault.", retry_after)
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
        now = _now()
        attempts = [_attempt_view(a, now) for a in session["attempts"]]
        return {
            "sessionId": session["sessionId"],
            "status": _session_status(attempts),
            "livenessOperationMode": session["livenessOperationMode"],
            "createdDateTime": session["createdDateTime"],
            "modelVersion": session["modelVersion"],
            "results": {"attempts": attempts},
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
            problem = _attempt_problem(body)
            if problem:
                return self._error(400, "BadArgument", problem)
            if len(session["attempts"]) >= MAX_ATTEMPTS:
                return self._error(429, "TooManyAttempts", f"At most {MAX_ATTEMPTS} attempts per session.")
            assert body is not None
            attempt = {
                "attemptId": len(session["attempts"]) + 1,
                "completesAt": _now() + timedelta(seconds=float(body.get("completeAfterSeconds") or 0)),
                "decision": body.get("livenessDecision"),
                "error": body.get("error"),
                "clientIp": body.get("clientIp"),
                "digest": uuid.uuid4().hex,
            }
            session["attempts"].append(attempt)
            view = _attempt_view(attempt, _now())
        self._send(200, view)

    # --- test control -------------------------------------------------------------------
    def _control(self, method: str, path: str) -> None:
        if method == "GET" and path == "/emulator/health":
            return self._send(200, {"status": "ok", "sessions": len(self.state.sessions)})
        if path != "/emulator/faults" or method not in ("POST", "DELETE"):
            return self._error(404, "NotFound", "Unknown control call.")
        body = (self._json() or {}) if method == "POST" else {}
        status, count, retry_after = body.get("status", 500), body.get("count", 1), body.get("retryAfter")
        if method == "POST" and (
            status not in FAULT_CODES
            or not isinstance(count, int)
            or count < 0
            or (retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0))
        ):
            return self._error(400, "BadArgument", "status must be 429, 500 or 503; count and retryAfter >= 0.")
        with self.state.lock:
            self.state.fault_status = status if method == "POST" else 0
            self.state.fault_count = count if method == "POST" else 0
            self.state.fault_retry_after = retry_after if method == "POST" else None
            answer = {"status": self.state.fault_status, "count": self.state.fault_count, "retryAfter": retry_after}
        return self._send(200, answer)


def _attempt_problem(body: dict[str, Any] | None) -> str | None:
    """Why an attempt body would be refused, or None."""
    if body is None:
        return "The body must be a JSON object."
    error = body.get("error")
    if error is not None:
        if not isinstance(error, dict) or not isinstance(error.get("code"), str):
            return "error must be an object with a code and a message."
        if body.get("livenessDecision") is not None:
            return "An attempt has either a livenessDecision or an error."
    elif body.get("livenessDecision") not in DECISIONS:
        return "livenessDecision must be realface, spoofface or uncertain."
    delay = body.get("completeAfterSeconds", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 3600:
        return "completeAfterSeconds must be a number of seconds from 0 to 3600."
    if body.get("clientIp") is not None and not isinstance(body["clientIp"], str):
        return "clientIp must be a string."
    return None


def _attempt_view(attempt: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An attempt as the GA contract shows it: Running with no result until it completes."""
    view: dict[str, Any] = {"attemptId": attempt["attemptId"], "attemptStatus": "Running"}
    if attempt["completesAt"] <= now:
        if attempt["error"] is not None:
            view["attemptStatus"] = "Failed"
            view["error"] = {"code": attempt["error"]["code"], "message": str(attempt["error"].get("message", ""))}
        else:
            view["attemptStatus"] = "Succeeded"
            view["result"] = {"livenessDecision": attempt["decision"], "digest": attempt["digest"]}
    if attempt["clientIp"]:
        view["clientInformation"] = [{"ip": attempt["clientIp"]}]
    return view


def _session_status(attempts: list[dict[str, Any]]) -> str:
    """The session's status: that of its latest attempt, NotStarted before any."""
    return attempts[-1]["attemptStatus"] if attempts else "NotStarted"


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
