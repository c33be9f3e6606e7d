"""Face REST liveness-session client on the azure-core pipeline: v1.2 GA or v1.3-preview.1.

The Python SDK `azure-ai-vision-face` (1.0.0b2) targets the older preview routes, so this speaks
the wire format directly: `POST/GET/DELETE {endpoint}/face/{version}/detectLiveness-sessions[/{id}]`,
and on v1.3 `GET/PATCH {endpoint}/face/v1.3-preview.1/settings`. Responses are checked for every
field the contract requires (a missing one is a 502, logged); v1.3's abuse verdict is read
defensively (`_abuse_verdict`), and attempts are put oldest first whatever order Face lists them in.
Key auth (`Ocp-Apim-Subscription-Key`) or Entra ID (managed identity) auth; per-call timeouts;
retry with exponential backoff on 408/429/5xx (POST is not retried on 5xx: it may have created a
session), honouring `Retry-After` up to `max_wait_seconds`; a longer wait is handed to the client
as 503 with that `Retry-After`, so no request hangs on a throttled Face. Every transport or service
failure surfaces as `UpstreamUnavailable`; a session Face no longer holds as `FaceSessionGone`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from azure.core import PipelineClient
from azure.core.credentials import AzureKeyCredential, TokenCredential
from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import (
    AzureKeyCredentialPolicy,
    BearerTokenCredentialPolicy,
    DistributedTracingPolicy,
    HeadersPolicy,
    RetryPolicy,
)
from azure.core.rest import HttpRequest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.adapters.http_transport import http_transport
from shared.errors import UpstreamUnavailable

log = logging.getLogger(__name__)

V12 = "v1.2"
V13 = "v1.3-preview.1"
API_VERSIONS = (V12, V13)
SESSIONS = "detectLiveness-sessions"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"


class FaceSessionGone(Exception):
    """Face answered 404 SessionNotFound: the session was deleted (by us, or after Face's 48 hours)."""


class _FaceRetryPolicy(RetryPolicy):
    """Retries what may succeed soon, but never sleeps longer than `max_wait` on a `Retry-After`."""

    def __init__(self, max_wait: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_wait = max_wait

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        status = response.http_response.status_code
        if status not in self._retry_on_status_codes or not settings["total"]:
            return False
        if not self._is_method_retryable(settings, response.http_request, response=response.http_response):
            return False
        wait = self.get_retry_after(response)
        return wait is None or wait <= self._max_wait


class _Wire(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", populate_by_name=True)


class FaceRectangle(_Wire):
    top: int
    left: int
    width: int
    height: int


class ColorTarget(_Wire):
    face_rectangle: FaceRectangle = Field(alias="faceRectangle")


class DecisionTargets(_Wire):
    color: ColorTarget


class FaceAttemptResult(_Wire):
    liveness_decision: str | None = Field(None, alias="livenessDecision")
    targets: DecisionTargets
    digest: str
    session_image_id: str | None = Field(None, alias="sessionImageId")


class FaceAttemptError(_Wire):
    code: str
    message: str
    targets: DecisionTargets


class FaceClientInformation(_Wire):
    ip: str


class FlaggedSession(_Wire):
    """Another session the service flagged because of what it saw in this attempt (v1.3)."""

    attempt_id: int = Field(alias="attemptId")
    session_id: str = Field(alias="sessionId", min_length=1, max_length=128)


class AbuseVerdict(_Wire):
    """`abuseMonitoringResult` of a v1.3 attempt, read defensively (see `_abuse_verdict`)."""

    detected: bool = False
    flagged_sessions: tuple[FlaggedSession, ...] = ()


FINAL_ATTEMPT_STATUSES = frozenset({"succeeded", "failed"})


class FaceAttempt(_Wire):
    attempt_id: int = Field(alias="attemptId")
    attempt_status: str = Field(alias="attemptStatus")
    result: FaceAttemptResult | None = None
    error: FaceAttemptError | None = None
    client_information: list[FaceClientInformation] = Field([], alias="clientInformation")
    abuse: AbuseVerdict = Field(AbuseVerdict(), alias="abuseMonitoringResult")

    @field_validator("abuse", mode="before")
    @classmethod
    def _read_abuse(cls, raw: Any) -> AbuseVerdict:
        return _abuse_verdict(raw)

    @property
    def final(self) -> bool:
        """Succeeded or Failed: the attempt will not change any more (Running/NotStarted may)."""
        return self.attempt_status.lower() in FINAL_ATTEMPT_STATUSES


class FaceResults(_Wire):
    attempts: list[FaceAttempt]

    @field_validator("attempts")
    @classmethod
    def _oldest_first(cls, attempts: list[FaceAttempt]) -> list[FaceAttempt]:
        return sorted(attempts, key=lambda a: a.attempt_id)  # Microsoft's examples list the newest first


class FaceSessionResult(_Wire):
    """A LivenessSession (what create and get answer): every field the contract requires."""

    session_id: str = Field(alias="sessionId", min_length=1, max_length=128)
    auth_token: str = Field(alias="authToken", min_length=1)
    status: str
    model_version: str | None = Field(None, alias="modelVersion")
    abuse_monitoring_enabled: bool | None = Field(None, alias="isAbuseMonitoringEnabled")
    expected_client_ip: str | None = Field(None, alias="expectedClientIpAddress")
    results: FaceResults

    @field_validator("abuse_monitoring_enabled", mode="before")
    @classmethod
    def _read_enabled(cls, raw: Any) -> bool | None:
        return _flag(raw)


CreatedFaceSession = FaceSessionResult


class FaceSettings(_Wire):
    """The resource's liveness settings (v1.3 `GET/PATCH /settings`)."""

    abuse_monitoring_enabled: bool

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, raw: Any) -> Any:
        """The schema's `{"livenessAbuseMonitoring": {"enabled"}}`, or the flat `{"name", "enabled"}`
        Microsoft's PatchSettings example answers with (the two disagree; both are read)."""
        monitoring = raw.get("livenessAbuseMonitoring", raw) if isinstance(raw, dict) else None
        if not isinstance(monitoring, dict) or _flag(monitoring.get("enabled")) is None:
            raise ValueError("livenessAbuseMonitoring.enabled is required")
        return {"abuse_monitoring_enabled": _flag(monitoring["enabled"])}


def _flag(raw: Any) -> bool | None:
    """A boolean the published schema types as `object`: true/false, or the strings; else unknown."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    return None


def _abuse_verdict(raw: Any) -> AbuseVerdict:
    """Read `abuseMonitoringResult` without trusting its shape.

    The schema types `isAbuseDetected` as `object`; examples and SDKs use booleans. A boolean (or
    "true"/"false") is taken as given; anything else (`{}`, null, missing) is decided by the evidence:
    detected when `otherFlaggedSessions` names another session. Unreadable entries are skipped."""
    if not isinstance(raw, dict):
        return AbuseVerdict()
    flagged: list[FlaggedSession] = []
    items = raw.get("otherFlaggedSessions")
    for item in items if isinstance(items, list) else []:
        try:
            flagged.append(FlaggedSession.model_validate(item))
        except ValidationError:
            log.warning("Face sent an otherFlaggedSessions entry we could not read")
    said = _flag(raw.get("isAbuseDetected"))
    return AbuseVerdict(detected=bool(flagged) if said is None else said, flagged_sessions=tuple(flagged))


class FaceFeatureUnavailable(Exception):
    """The Face API version in use has no such operation (settings need v1.3-preview.1)."""


@dataclass(frozen=True)
class NewFaceSession:
    """What to ask Face for when creating a session (the v1.3-only fields are ignored on v1.2)."""

    mode: str
    device_correlation_id: str
    ttl_seconds: int
    user_correlation_id: str | None = None
    client_attempts: int = 1
    expected_client_ip: str | None = None


class FaceClient(Protocol):
    """What the services need from Face; which API version is spoken stays inside the adapter."""

    api_version: str
    reports_other_sessions: bool  # abuse verdicts name other sessions (v1.3): worth remembering whose each is

    def create_session(self, spec: NewFaceSession) -> CreatedFaceSession: ...

    def get_session(self, session_id: str) -> FaceSessionResult: ...

    def delete_session(self, session_id: str) -> None: ...

    def get_settings(self) -> FaceSettings: ...

    def set_abuse_monitoring(self, enabled: bool) -> FaceSettings: ...


class FaceRestClient:
    """FaceClient over HTTP with the azure-core pipeline, speaking `api_version` (v1.2 or v1.3-preview.1)."""

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        credential: TokenCredential | None = None,
        api_version: str = V12,
        timeout_seconds: float = 10.0,
        max_retries: int = 2,
        max_wait_seconds: float = 2.0,
    ) -> None:
        if api_version not in API_VERSIONS:
            raise ValueError(f"Face API version must be one of {API_VERSIONS}")
        if api_key:
            auth = AzureKeyCredentialPolicy(AzureKeyCredential(api_key), "Ocp-Apim-Subscription-Key")
        elif credential is not None:
            auth = BearerTokenCredentialPolicy(credential, COGNITIVE_SERVICES_SCOPE)
        else:
            raise ValueError("Face needs an api key or a token credential")
        retry = _FaceRetryPolicy(
            max_wait_seconds,
            retry_total=max_retries,
            retry_backoff_factor=0.2,
            retry_backoff_max=4,
            timeout=timeout_seconds * (max_retries + 1),
        )
        self.api_version = api_version
        self.reports_other_sessions = api_version == V13
        self._timeout = timeout_seconds
        self._base = endpoint.rstrip("/")
        self._root = f"face/{api_version}"
        # Bearer tokens go over TLS only, except to a local emulator on this machine.
        local = urlsplit(self._base).scheme == "http" and urlsplit(self._base).hostname in LOCAL_HOSTS
        self._local_bearer = local and not api_key
        self._client = PipelineClient(
            base_url=self._base,
            # DistributedTracingPolicy: each call is a dependency span (azure-core's OpenTelemetry tracing)
            policies=[HeadersPolicy({"Accept": "application/json"}), retry, auth, DistributedTracingPolicy()],
            transport=http_transport(timeout_seconds, timeout_seconds),
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = HttpRequest(method, f"{self._base}/{self._root}/{path}", json=body)
        options: dict[str, Any] = {"enforce_https": False} if self._local_bearer else {}
        try:
            response = self._client.send_request(
                request, connection_timeout=self._timeout, read_timeout=self._timeout, **options
            )
        except AzureError as exc:
            log.warning(
                "Face %s %s failed: %s",
                method,
                path.split("/")[0],
                type(exc).__name__,
                extra={"event": "face.unavailable", "error": type(exc).__name__},
            )
            raise UpstreamUnavailable("The liveness service did not answer; try again shortly.") from exc
        if response.status_code >= 300:
            code = _error_code(response)
            request_id = response.headers.get("apim-request-id", "-")
            gone = response.status_code == 404 and code == "SessionNotFound"
            log.log(  # a session Face no longer holds is expected (the app deletes finished ones): not a warning
                logging.INFO if gone else logging.WARNING,
                "Face %s answered %s (%s) apim-request-id=%s",
                method,
                response.status_code,
                code,
                request_id,
                extra={
                    "event": "face.refused",
                    "status": response.status_code,
                    "code": code,
                    "apim_request_id": request_id,
                },
            )
            if gone:
                raise FaceSessionGone(code)
            transient = response.status_code in (408, 429) or (
                response.status_code >= 500 and response.status_code != 501
            )
            raise UpstreamUnavailable(
                f"The liveness service refused the request ({response.status_code} {code}).",
                status=503 if transient else 502,
                retry_after=_retry_after(response) if transient else None,
            )
        return response.json() if response.content else None

    def create_session(self, spec: NewFaceSession) -> CreatedFaceSession:
        """Create a session; on v1.3 also the user GUID, the attempts allowed and the expected client IP."""
        body: dict[str, Any] = {
            "livenessOperationMode": spec.mode,
            "deviceCorrelationId": spec.device_correlation_id,
            "authTokenTimeToLiveInSeconds": spec.ttl_seconds,
        }
        if self.api_version == V13:
            body["numberOfClientAttemptsAllowed"] = spec.client_attempts
            if spec.user_correlation_id:
                body["userCorrelationId"] = spec.user_correlation_id
            if spec.expected_client_ip:
                body["expectedClientIpAddress"] = spec.expected_client_ip
        return _parse(FaceSessionResult, self._call("POST", SESSIONS, body))

    def get_session(self, session_id: str) -> FaceSessionResult:
        return _parse(FaceSessionResult, self._call("GET", f"{SESSIONS}/{session_id}"))

    def delete_session(self, session_id: str) -> None:
        """Delete the session and what Face holds of it; FaceSessionGone when it was already gone."""
        self._call("DELETE", f"{SESSIONS}/{session_id}")

    def get_settings(self) -> FaceSettings:
        self._need_settings()
        return _parse(FaceSettings, self._call("GET", "settings"))

    def set_abuse_monitoring(self, enabled: bool) -> FaceSettings:
        self._need_settings()
        return _parse(FaceSettings, self._call("PATCH", "settings", {"livenessAbuseMonitoring": {"enabled": enabled}}))

    def _need_settings(self) -> None:
        if self.api_version != V13:
            raise FaceFeatureUnavailable(f"Face settings need API version {V13}; this app speaks {self.api_version}.")


def _parse(model: type[_Wire], payload: Any) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise UpstreamUnavailable("The liveness service sent an answer we could not read.", status=502) from exc


def _retry_after(response: Any) -> int:
    """Face's Retry-After in whole seconds (1 when absent or unreadable)."""
    try:
        return max(1, math.ceil(float(response.headers.get("Retry-After") or 1)))
    except ValueError:
        return 1


def _error_code(response: Any) -> str:
    try:
        return str(response.json()["error"]["code"])[:64]
    except Exception:
        return "unknown"
