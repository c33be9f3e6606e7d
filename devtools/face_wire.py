"""The Face liveness-session wire contract the emulator speaks (v1.2 GA and v1.3-preview.1).

Checked against Azure/azure-rest-api-specs `specification/ai/data-plane/Face/` (stable/v1.2 and
preview/v1.3-preview.1 `Face.json`): which create bodies the service refuses with 400 `BadArgument`,
and which fields a session and its attempts carry — every required one, none the version does not
define. Pure functions over plain dicts; the HTTP handling is in `devtools.face_emulator`.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime
from typing import Any

V12 = "v1.2"
V13 = "v1.3-preview.1"
VERSIONS = (V12, V13)
MODES = ("Passive", "PassiveActive")
MODEL_VERSION = "2024-11-15"
DECISIONS = ("realface", "spoofface", "uncertain")
V12_ATTEMPTS = 3  # v1.2 has no per-session setting; the emulator allows this many (README.md, Face emulator)
FACE_RECTANGLE = {"top": 669, "left": 203, "width": 646, "height": 724}


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_network(value: Any) -> bool:
    if not isinstance(value, str) or not value or len(value) > 64:
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def create_problem(body: Any, version: str) -> str | None:
    """Why the service would refuse this create body (400 BadArgument), or None."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    if body.get("livenessOperationMode") not in MODES:
        return "livenessOperationMode must be Passive or PassiveActive."
    for flag in ("deviceCorrelationIdSetInClient", "enableSessionImage", "userCorrelationIdSetInClient"):
        if flag in body and not _is_bool(body[flag]):
            return f"{flag} must be a boolean."
    device, in_client = body.get("deviceCorrelationId"), body.get("deviceCorrelationIdSetInClient", False)
    if in_client and device is not None:
        return "deviceCorrelationId must be null when deviceCorrelationIdSetInClient is true."
    if not in_client and (not isinstance(device, str) or not device):
        return "deviceCorrelationId is required unless deviceCorrelationIdSetInClient is true."
    if "livenessModelVersion" in body and body["livenessModelVersion"] != MODEL_VERSION:
        return f"livenessModelVersion must be {MODEL_VERSION}."
    ttl = body.get("authTokenTimeToLiveInSeconds", 600)
    if not _is_int(ttl) or not 60 <= ttl <= 86400:
        return "authTokenTimeToLiveInSeconds must be an integer from 60 to 86400."
    if version == V13:
        return _v13_create_problem(body)
    return None


def _v13_create_problem(body: dict[str, Any]) -> str | None:
    attempts = body.get("numberOfClientAttemptsAllowed", 1)
    if not _is_int(attempts) or not 1 <= attempts <= 3:
        return "numberOfClientAttemptsAllowed must be an integer from 1 to 3."
    user, in_client = body.get("userCorrelationId"), body.get("userCorrelationIdSetInClient", False)
    if user is not None and (not isinstance(user, str) or not user or len(user) > 128):
        return "userCorrelationId must be a non-empty string."
    if in_client and user is not None:
        return "userCorrelationId must be null when userCorrelationIdSetInClient is true."
    if "expectedClientIpAddress" in body and not _is_network(body["expectedClientIpAddress"]):
        return "expectedClientIpAddress must be an IP address or CIDR block."
    return None


def settings_problem(body: Any) -> str | None:
    """Why a PATCH /settings body would be refused, or None."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    monitoring = body.get("livenessAbuseMonitoring")
    if monitoring is None:
        return None
    if not isinstance(monitoring, dict) or ("enabled" in monitoring and not _is_bool(monitoring["enabled"])):
        return "livenessAbuseMonitoring.enabled must be a boolean."
    return None


def digest(session_id: str, attempt_id: int, decision: str | None) -> str:
    """The server-calculated digest of an attempt: derived from what it is, so it is stable."""
    return hashlib.sha256(f"{session_id}:{attempt_id}:{decision}".encode()).hexdigest().upper()


def attempt_view(session: dict[str, Any], attempt: dict[str, Any], now: datetime, version: str) -> dict[str, Any]:
    """One attempt as the contract of `version` shows it: Running with no result until it completes."""
    view: dict[str, Any] = {"attemptId": attempt["attemptId"], "attemptStatus": "Running"}
    targets = {"color": {"faceRectangle": dict(FACE_RECTANGLE)}}
    done = attempt["completesAt"] <= now
    if done and attempt["error"] is not None:
        view["attemptStatus"] = "Failed"
        error = attempt["error"]
        view["error"] = {"code": error["code"], "message": str(error.get("message", "")), "targets": targets}
    elif done:
        view["attemptStatus"] = "Succeeded"
        result = {
            "livenessDecision": attempt["decision"],
            "targets": targets,
            "digest": digest(session["sessionId"], attempt["attemptId"], attempt["decision"]),
        }
        if session["enableSessionImage"]:
            result["sessionImageId"] = f"img-{session['sessionId']}-{attempt['attemptId']}"
        view["result"] = result
    if version == V13:
        view["clientInformation"] = [{"ip": attempt["clientIp"]}]
        if done and session["abuseMonitoring"]:
            view["abuseMonitoringResult"] = {
                "isAbuseDetected": attempt["abuse"],
                "otherFlaggedSessions": [dict(o) for o in attempt["others"]],
            }
    return view


def session_view(session: dict[str, Any], now: datetime, version: str) -> dict[str, Any]:
    """A LivenessSession of `version`: newest attempt first, as Microsoft's examples list them."""
    attempts = [attempt_view(session, a, now, version) for a in reversed(session["attempts"])]
    view: dict[str, Any] = {
        "sessionId": session["sessionId"],
        "authToken": session["authToken"],
        "status": attempts[0]["attemptStatus"] if attempts else "NotStarted",
        "modelVersion": MODEL_VERSION,
    }
    if version == V13:
        view["isAbuseMonitoringEnabled"] = session["abuseMonitoring"]
        if session["expectedClientIpAddress"] is not None:
            view["expectedClientIpAddress"] = session["expectedClientIpAddress"]
    view["results"] = {"attempts": attempts}
    return view


def attempt_problem(body: Any) -> str | None:
    """Why a device attempt body (the emulator's stand-in for the SDK) would be refused, or None."""
    if not isinstance(body, dict):
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
    for name in ("clientIp", "faceId"):
        if body.get(name) is not None and (not isinstance(body[name], str) or not 0 < len(body[name]) <= 128):
            return f"{name} must be a non-empty string."
    if "abuseDetected" in body and not _is_bool(body["abuseDetected"]):
        return "abuseDetected must be a boolean."
    return None
