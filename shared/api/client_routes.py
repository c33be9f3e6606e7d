"""Client API (docs/api.md): consents, sessions, results, health. Adapters only: parse, call, render."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func
from azure.core.exceptions import AzureError

from shared import __version__, telemetry
from shared.adapters.tables import is_storage_outage
from shared.api.http import STORAGE_DOWN, bearer_token, json_response, parse_body
from shared.api.models import (
    ConsentRequest,
    ConsentResponse,
    HealthResponse,
    ResultResponse,
    SessionRequest,
    SessionResponse,
)
from shared.api.openapi import BAD_QUERY, CONTENDED, UPSTREAM
from shared.api.router import Api, Needs
from shared.bootstrap import services
from shared.errors import InvalidRequest

SESSION_REFUSALS = {
    403: ("customer_suspended", "customer_terminated", "consent_required", "correlation_id_blocked"),
    429: ("retry_limited", "too_many_concurrent_requests"),
}
TOKEN_REFUSALS = {
    401: ("token_invalid", "token_expired", "token_revoked"),
    403: ("customer_suspended", "customer_terminated", "correlation_id_blocked"),
    429: ("token_exhausted", "too_many_concurrent_requests"),
}

if TYPE_CHECKING:
    from shared.bootstrap import Services

log = logging.getLogger(__name__)
api = Api()
bp = api.bp


@api.route(
    "v1/consents",
    "POST",
    "Record a subject's consent",
    "client",
    security=("apiKey",),
    request=ConsentRequest,
    responses={201: ConsentResponse},
    errors=[CONTENDED],
)
def create_consent(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    customer = s.customers.authenticate(req.headers.get("x-api-key"))
    body = parse_body(req, ConsentRequest, s.settings.max_body_bytes)
    subject = s.consent.grant_consent(customer, body.correlation_id, body.policy_version, body.purpose)
    return json_response(
        ConsentResponse(
            correlation_id=subject.correlation_id,
            policy_version=subject.consent_policy_version,
            granted_at=subject.consent_granted_at,
        ),
        201,
    )


@api.route(
    "v1/sessions",
    "POST",
    "Create a liveness session (or replay one by clientRequestId)",
    "client",
    security=("apiKey",),
    request=SessionRequest,
    responses={201: SessionResponse, 200: SessionResponse},
    errors=[SESSION_REFUSALS, UPSTREAM],
)
def create_session(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    customer = s.customers.authenticate(req.headers.get("x-api-key"))
    body = parse_body(req, SessionRequest, s.settings.max_body_bytes)
    issued = s.sessions.create_session(
        customer, body.correlation_id, body.liveness_operation_mode, body.client_request_id, body.end_user_ip
    )
    response = SessionResponse(
        session_id=issued.session.session_id,
        face_auth_token=issued.face_auth_token,
        session_token=issued.session_token,
        expires_at=issued.session.expires_at,
        calls_allowed=issued.session.calls_allowed - issued.session.calls_used,
    )
    return json_response(response, 200 if issued.replayed else 201)


@api.route(
    "v1/sessions/{sessionId}/result",
    "GET",
    "Fetch a session's liveness result (spends one call)",
    "client",
    security=("sessionToken",),
    responses={200: ResultResponse},
    errors=[TOKEN_REFUSALS, UPSTREAM, BAD_QUERY],
)
def get_session_result(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    result = s.sessions.get_result(req.route_params.get("sessionId", ""), bearer_token(req), _digest(req))
    return json_response(
        ResultResponse(
            session_id=result.session_id,
            status=result.status,
            liveness_decision=result.liveness_decision,
            attempts=result.attempts,
            subject_status=result.subject_status,
        )
    )


@api.route(
    "v1/health",
    "GET",
    "Health of the service and its storage",
    "client",
    responses={200: HealthResponse, 503: HealthResponse},
    needs=Needs.NOTHING,  # builds the services itself: storage down answers here with its own body
)
def health(req: func.HttpRequest) -> func.HttpResponse:
    try:
        s = services()  # a cold start may create the tables: storage down answers here too
        missing = s.tables.missing()
    except AzureError as exc:
        if not is_storage_outage(exc):
            raise
        return json_response(
            HealthResponse(status="unavailable", storage="unreachable", version=__version__),
            503,
            {"Retry-After": str(STORAGE_DOWN.retry_after)},
        )
    if missing:
        telemetry.event(log, "health.tables_missing", logging.ERROR, missing=",".join(missing))
        return json_response(
            HealthResponse(status="unavailable", storage="incomplete", version=__version__),
            503,
            {"Retry-After": str(STORAGE_DOWN.retry_after)},
        )
    return json_response(
        HealthResponse(
            status="ok",
            storage="ok",
            version=__version__,
            face_api_version=s.face_settings.api_version,
            face_abuse_monitoring=s.face_settings.monitoring_for_health(),
        )
    )


def _digest(req: func.HttpRequest) -> str | None:
    """The `x-liveness-digest` header: what the device SDK returned for its attempt (400 when malformed)."""
    raw = req.headers.get("x-liveness-digest")
    if raw is None:
        return None
    value = raw.strip()
    if not 1 <= len(value) <= 256 or not all(33 <= ord(ch) < 127 for ch in value):
        raise InvalidRequest(
            "x-liveness-digest must be the digest the device SDK returned (1-256 printable characters)."
        )
    return value
