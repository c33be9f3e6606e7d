"""Face REST API v1.2 GA liveness-session client on the azure-core pipeline.

The Python SDK `azure-ai-vision-face` (1.0.0b2) targets the older preview routes, so this speaks
the GA wire format directly: `POST/GET/DELETE {endpoint}/face/v1.2/detectLiveness-sessions[/{id}]`.
Key auth (`Ocp-Apim-Subscription-Key`) or Entra ID (managed identity) auth; per-call timeouts;
retry with exponential backoff on 408/429/5xx (POST is not retried on 5xx: it may have created a
session), honouring `Retry-After` up to `max_wait_seconds`; a longer wait is handed to the client
as 503 with that `Retry-After`, so no request hangs on a throttled Face. Every transport or service
failure surfaces as `UpstreamUnavailable`; a session Face no longer holds as `FaceSessionGone`.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Protocol

from azure.core import PipelineClient
from azure.core.credentials import AzureKeyCredential, TokenCredential
from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import (
    AzureKeyCredentialPolicy,
    BearerTokenCredentialPolicy,
    HeadersPolicy,
    RetryPolicy,
)
from azure.core.rest import HttpRequest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import UpstreamUnavailable

log = logging.getLogger(__name__)

API_ROOT = "face/v1.2/detectLiveness-sessions"
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
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class CreatedFaceSession(_Wire):
    session_id: str = Field(alias="sessionId", min_length=1, max_length=128)
    auth_token: str = Field(alias="authToken", min_length=1)


class FaceAttemptResult(_Wire):
    liveness_decision: str | None = Field(None, alias="livenessDecision")


class FaceAttemptError(_Wire):
    code: str = ""


class FaceClientInformation(_Wire):
    ip: str | None = None


FINAL_ATTEMPT_STATUSES = frozenset({"succeeded", "failed"})


class FaceAttempt(_Wire):
    attempt_id: int = Field(alias="attemptId")
    attempt_status: str | None = Field(None, alias="attemptStatus")
    result: FaceAttemptResult | None = None
    error: FaceAttemptError | None = None
    client_information: list[FaceClientInformation] = Field([], alias="clientInformation")

    @property
    def final(self) -> bool:
        """Succeeded or Failed: the attempt will not change any more (Running/NotStarted may)."""
        return (self.attempt_status or "").lower() in FINAL_ATTEMPT_STATUSES


class FaceResults(_Wire):
    attempts: list[FaceAttempt] = []


class FaceSessionResult(_Wire):
    session_id: str = Field(alias="sessionId")
    status: str
    results: FaceResults = FaceResults()


class FaceClient(Protocol):
    """What the session service needs from Face."""

    def create_session(self, *, mode: str, device_correlation_id: str, ttl_seconds: int) -> CreatedFaceSession: ...

    def get_session(self, session_id: str) -> FaceSessionResult: ...

    def delete_session(self, session_id: str) -> None: ...


class FaceRestClient:
    """FaceClient over HTTP with the azure-core pipeline."""

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        credential: TokenCredential | None = None,
        timeout_seconds: float = 10.0,
        max_retries: int = 2,
        max_wait_seconds: float = 2.0,
    ) -> None:
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
        self._timeout = timeout_seconds
        self._base = endpoint.rstrip("/")
        self._client = PipelineClient(
            base_url=self._base,
            policies=[HeadersPolicy({"Accept": "application/json"}), retry, auth],
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = HttpRequest(method, f"{self._base}/{path}", json=body)
        try:
            response = self._client.send_request(request, connection_timeout=self._timeout, read_timeout=self._timeout)
        except AzureError as exc:
            log.warning("Face %s %s failed: %s", method, path.split("/")[-1], type(exc).__name__)
            raise UpstreamUnavailable("The liveness service did not answer; try again shortly.") from exc
        if response.status_code >= 300:
            code = _error_code(response)
            log.warning(
                "Face %s answered %s (%s) apim-request-id=%s",
                method,
                response.status_code,
                code,
                response.headers.get("apim-request-id", "-"),
            )
            if response.status_code == 404 and code == "SessionNotFound":
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

    def create_session(self, *, mode: str, device_correlation_id: str, ttl_seconds: int) -> CreatedFaceSession:
        body = {
            "livenessOperationMode": mode,
            "deviceCorrelationId": device_correlation_id,
            "authTokenTimeToLiveInSeconds": ttl_seconds,
        }
        return _parse(CreatedFaceSession, self._call("POST", API_ROOT, body))

    def get_session(self, session_id: str) -> FaceSessionResult:
        return _parse(FaceSessionResult, self._call("GET", f"{API_ROOT}/{session_id}"))

    def delete_session(self, session_id: str) -> None:
        self._call("DELETE", f"{API_ROOT}/{session_id}")


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
