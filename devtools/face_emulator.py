"""A wire-compatible stand-in for the Face liveness-session API, v1.2 GA and v1.3-preview.1 (README.md, Face emulator).

    python -m devtools.face_emulator --port 7081 --key <subscription key>

Each version on its own routes (`/face/v1.2/...`, `/face/v1.3-preview.1/...`), following the official
contract (`devtools.face_wire`): required fields, no undefined ones, `x-ms-error-code` on every error,
400 `BadArgument` for a body the service refuses, 401 for a bad key. The management routes take the
key (`Ocp-Apim-Subscription-Key`) or a bearer token only when it is a local Entra-style token signed
with that key (`devtools.local_entra`) — never a session's `authToken`.

Beyond the real API it plays the device SDK: `POST .../detectLiveness-sessions/{id}/attempts` with
`Authorization: Bearer <authToken>` and `{"livenessDecision": ...}` records an attempt. The body may
also carry `completeAfterSeconds` (the attempt reads `Running`, with no result, until then),
`error {code, message}` (a `Failed` attempt with no decision), `clientIp` (reported back in
`clientInformation` on v1.3; the caller's address otherwise), `faceId` (the face the device showed:
on v1.3 the same faceId already seen under 2 other `userCorrelationId`s within 48 hours gets
`isAbuseDetected: true` with those attempts in `otherFlaggedSessions`) and `abuseDetected: true`
(forces that verdict). v1.3 sessions refuse attempts beyond their `numberOfClientAttemptsAllowed`.

Test control: `POST /emulator/faults {"status": 429|500|503, "count": n, "retryAfter"?: s, "method"?: m}`
makes the next n Face calls (of HTTP method m only, when given) answer that status;
`DELETE /emulator/faults` clears it; `GET /emulator/sessions/{id}` shows the create body the emulator
received for a session (and whether Face still holds it);
`GET /emulator/held?deviceCorrelationId=<id>` lists the sessions Face still holds that were created
with that `deviceCorrelationId` (what an attacker could still use).
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
from urllib.parse import parse_qs, urlsplit

from devtools.face_wire import (
    V12_ATTEMPTS,
    V13,
    attempt_problem,
    attempt_view,
    create_problem,
    session_view,
    settings_problem,
)
from devtools.local_entra import verify_token
from devtools.serving import serve

FAULT_CODES = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}
MATCH_WINDOW = timedelta(hours=48)
MATCH_OTHER_GUIDS = 2
_ROUTE = re.compile(
    r"^/face/(?P<version>v1\.2|v1\.3-preview\.1)/"
    r"(?:(?P<settings>settings)|detectLiveness-sessions(?:/(?P<session>[A-Za-z0-9-]{1,64})(?P<attempts>/attempts)?)?)$"
)


class FaceState:
    """Sessions, the face-match memory, settings and injected faults, shared by the handler threads."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.received: dict[str, dict[str, Any]] = {}  # create bodies by session id (test control)
        self.faces: dict[str, list[dict[str, Any]]] = {}  # faceId -> attempts that showed it
        self.abuse_monitoring = True
        self.fault_status = 0
        self.fault_count = 0
        self.fault_retry_after: int | None = None
        self.fault_method: str | None = None

    def take_fault(self, method: str) -> tuple[int, int | None]:
        """The injected fault for this call (status, Retry-After), or (0, None)."""
        with self.lock:
            if self.fault_count > 0 and self.fault_method in (None, method):
                self.fault_count -= 1
                return self.fault_status, self.fault_retry_after
        return 0, None

    def match_face(self, session: dict[str, Any], attempt_id: int, face_id: str | None, now: datetime) -> list[dict]:
        """Earlier attempts that showed this face under other user GUIDs (the service's face matching).

        Returns them when they span at least 2 other GUIDs within 48 hours; remembers this attempt."""
        if not face_id:
            return []
        seen = [s for s in self.faces.get(face_id, []) if s["at"] > now - MATCH_WINDOW]
        user = session["userCorrelationId"]
        others = [s for s in seen if user is None or s["user"] != user]
        seen.append({"at": now, "user": user, "sessionId": session["sessionId"], "attemptId": attempt_id})
        self.faces[face_id] = seen
        if len({s["user"] for s in others}) < MATCH_OTHER_GUIDS:
            return []
        return [{"attemptId": s["attemptId"], "sessionId": s["sessionId"]} for s in others]


def _now() -> datetime:
    return datetime.now(UTC)


class FaceHandler(BaseHTTPRequestHandler):
    server_version = "FaceEmulator/1.3"
    state: FaceState

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing -----------------------------------------------------------------------
    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
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

    def _json(self) -> Any:
        """The JSON body ({} when empty), or the sentinel `...` when it is not JSON."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return ...

    def _authorised(self) -> bool:
        """The subscription key, or a local Entra-style bearer token for Cognitive Services."""
        key = self.headers.get("Ocp-Apim-Subscription-Key")
        if key is not None:
            return secrets.compare_digest(key.encode(), self.state.key.encode())
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and verify_token(token.strip(), self.state.key)

    def _route(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith(("/emulator/", "/_emulator/")):
            return self._control(method, path.replace("/_emulator/", "/emulator/", 1))
        match = _ROUTE.match(path)
        if match is None:
            return self._error(404, "NotFound", "Resource not found.")
        version, session_id = match["version"], match["session"]
        if method == "POST" and match["attempts"]:
            return self._attempt(session_id)
        if not self._authorised():
            return self._error(
                401,
                "401",
                "Access denied due to invalid subscription key or wrong API endpoint. "
                "Make sure to provide a valid key for an active subscription and use a correct regional API endpoint.",
            )
        fault, retry_after = self.state.take_fault(method)
        if fault:
            return self._error(fault, FAULT_CODES.get(fault, "InternalServerError"), "Injected fault.", retry_after)
        if match["settings"]:
            if version != V13:
                return self._error(404, "NotFound", "Resource not found.")
            return self._settings(method)
        if session_id is None and method == "POST":
            return self._create(version)
        if session_id is not None and not match["attempts"] and method in ("GET", "DELETE"):
            return self._get(session_id, version) if method == "GET" else self._delete(session_id)
        return self._error(405 if session_id is None else 404, "NotFound", "Resource not found.")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    # --- Face API -----------------------------------------------------------------------
    def _create(self, version: str) -> None:
        body = self._json()
        problem = create_problem(body, version) if body is not ... else "The request body is not valid JSON."
        if problem:
            return self._error(400, "BadArgument", problem)
        session_id, now = str(uuid.uuid4()), _now()
        v13 = version == V13
        session = {
            "sessionId": session_id,
            "authToken": secrets.token_urlsafe(32),
            "version": version,
            "expiresAt": now + timedelta(seconds=body.get("authTokenTimeToLiveInSeconds", 600)),
            "attemptsAllowed": body.get("numberOfClientAttemptsAllowed", 1) if v13 else V12_ATTEMPTS,
            "enableSessionImage": bool(body.get("enableSessionImage", False)),
            "userCorrelationId": body.get("userCorrelationId") if v13 else None,
            "expectedClientIpAddress": body.get("expectedClientIpAddress") if v13 else None,
            "attempts": [],
        }
        with self.state.lock:
            session["abuseMonitoring"] = v13 and self.state.abuse_monitoring
            self.state.sessions[session_id] = session
            self.state.received[session_id] = {"apiVersion": version, "received": body}
            view = session_view(session, now, version)
        self._send(200, view)

    def _get(self, session_id: str, version: str) -> None:
        with self.state.lock:
            session = self.state.sessions.get(session_id)
            view = session_view(session, _now(), version) if session else None
        if view is None:
            return self._error(404, "SessionNotFound", "Session does not exist.")
        self._send(200, view)

    def _delete(self, session_id: str) -> None:
        with self.state.lock:
            found = self.state.sessions.pop(session_id, None)
        if found is None:
            return self._error(404, "SessionNotFound", "Session does not exist.")
        self._send(204)

    def _settings(self, method: str) -> None:
        if method == "PATCH":
            body = self._json()
            problem = settings_problem(body) if body is not ... else "The request body is not valid JSON."
            if problem:
                return self._error(400, "BadArgument", problem)
            enabled = (body.get("livenessAbuseMonitoring") or {}).get("enabled")
            if enabled is not None:
                with self.state.lock:
                    self.state.abuse_monitoring = enabled
        elif method != "GET":
            return self._error(405, "NotFound", "Resource not found.")
        self._send(200, {"livenessAbuseMonitoring": {"enabled": self.state.abuse_monitoring}})

    def _attempt(self, session_id: str) -> None:
        body = self._json()
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        now = _now()
        with self.state.lock:
            session = self.state.sessions.get(session_id)
            if (
                session is None
                or scheme.lower() != "bearer"
                or not secrets.compare_digest(token.strip().encode(), session["authToken"].encode())
            ):
                return self._error(401, "Unauthorized", "Invalid session auth token.")
            if session["expiresAt"] <= now:
                return self._error(401, "TokenExpired", "The session auth token has expired.")
            problem = attempt_problem(body if body is not ... else None)
            if problem:
                return self._error(400, "BadArgument", problem)
            if len(session["attempts"]) >= session["attemptsAllowed"]:
                allowed = session["attemptsAllowed"]
                return self._error(429, "TooManyAttempts", f"At most {allowed} attempts for this session.")
            attempt_id = len(session["attempts"]) + 1
            others = self.state.match_face(session, attempt_id, body.get("faceId"), now)
            attempt = {
                "attemptId": attempt_id,
                "completesAt": now + timedelta(seconds=float(body.get("completeAfterSeconds") or 0)),
                "decision": body.get("livenessDecision"),
                "error": body.get("error"),
                "clientIp": body.get("clientIp") or self.client_address[0],
                "abuse": bool(others) or body.get("abuseDetected") is True,
                "others": others,
            }
            session["attempts"].append(attempt)
            view = attempt_view(session, attempt, now, session["version"])
        self._send(200, view)

    # --- test control -------------------------------------------------------------------
    def _control(self, method: str, path: str) -> None:
        if method == "GET" and path == "/emulator/health":
            return self._send(200, {"status": "ok", "sessions": len(self.state.sessions)})
        if method == "GET" and path.startswith("/emulator/sessions/"):
            session_id = path.removeprefix("/emulator/sessions/")
            with self.state.lock:
                received = self.state.received.get(session_id)
                held = session_id in self.state.sessions
            if received is None:
                return self._error(404, "SessionNotFound", "The emulator never created this session.")
            return self._send(200, {**received, "held": held})
        if method == "GET" and path.startswith("/emulator/held"):
            wanted = parse_qs(urlsplit(self.path).query).get("deviceCorrelationId", [""])[0]
            with self.state.lock:
                held = [
                    sid
                    for sid in self.state.sessions
                    if self.state.received.get(sid, {}).get("received", {}).get("deviceCorrelationId") == wanted
                ]
            return self._send(200, {"sessions": held})
        if path != "/emulator/faults" or method not in ("POST", "DELETE"):
            return self._error(404, "NotFound", "Unknown control call.")
        body = (self._json() or {}) if method == "POST" else {}
        body = body if isinstance(body, dict) else {"status": None}
        status, count, retry_after = body.get("status", 500), body.get("count", 1), body.get("retryAfter")
        only = body.get("method")
        if method == "POST" and (
            only not in (None, "GET", "POST", "DELETE", "PATCH")
            or status not in FAULT_CODES
            or not isinstance(count, int)
            or count < 0
            or (retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0))
        ):
            return self._error(400, "BadArgument", "status must be 429, 500 or 503; count and retryAfter >= 0.")
        with self.state.lock:
            self.state.fault_status = status if method == "POST" else 0
            self.state.fault_count = count if method == "POST" else 0
            self.state.fault_retry_after = retry_after if method == "POST" else None
            self.state.fault_method = only if method == "POST" else None
            answer = {"status": self.state.fault_status, "count": self.state.fault_count, "retryAfter": retry_after}
        return self._send(200, answer)


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
