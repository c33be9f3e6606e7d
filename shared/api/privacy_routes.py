"""Responsible-use routes (docs/api.md and docs/retention.md): erasure, the privacy notice, the feedback channel."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import azure.functions as func
from pydantic import TypeAdapter, ValidationError

from shared.api.access_models import SubjectAccessView, access_view
from shared.api.auth import Principal, Role
from shared.api.http import (
    SECURITY_HEADERS,
    client_network,
    json_response,
    page_request,
    page_response,
    parse_body,
    time_range,
)
from shared.api.models import CorrelationId, FeedbackAccepted, FeedbackRequest, FeedbackView, Page
from shared.api.openapi import BAD_QUERY, CONTENDED, NOT_FOUND, PAGING, STAFF, STAFF_SCHEMES, Query
from shared.api.router import Api
from shared.domain.gate import longest_window
from shared.domain.privacy import notice, render_html
from shared.domain.records import FeedbackCategory
from shared.errors import InvalidRequest

if TYPE_CHECKING:
    from shared.bootstrap import Services

api = Api()
bp = api.bp
FEEDBACK_MAX_BYTES = 8192
_GUID = TypeAdapter(CorrelationId)


@api.route(
    "v1/subjects/{correlationId}",
    "DELETE",
    "Withdraw consent and erase a subject",
    "client",
    security=("apiKey",),
    responses={204: None},
    errors=[BAD_QUERY, CONTENDED],
)
def erase_subject(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    customer = s.customers.authenticate(req.headers.get("x-api-key"))
    s.erasure.erase(customer, _correlation_id(req))
    return func.HttpResponse(status_code=204, headers=SECURITY_HEADERS)


@api.route(
    "v1/subjects/{correlationId}",
    "GET",
    "Everything held about one of your subjects (subject access)",
    "client",
    security=("apiKey",),
    responses={200: SubjectAccessView},
    errors=[BAD_QUERY, NOT_FOUND],
)
def read_subject(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    """What Liveness Guard holds about the caller's own subject — consent, the sessions and attempt
    decisions still retained, counters, reviewers' decisions, linked GUIDs, the gate state — so the
    customer can answer its end user's access request. Another customer's GUID is a 404."""
    customer = s.customers.authenticate(req.headers.get("x-api-key"))
    held = s.subject_access.held(customer.customer_id, _correlation_id(req))
    return json_response(access_view(held))


@api.route(
    "v1/privacy",
    "GET",
    "The privacy notice (JSON, or HTML for Accept: text/html)",
    "client",
    responses={200: "application/json|text/html"},
)
def privacy_notice(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    ttl = timedelta(seconds=s.settings.session_ttl_seconds)
    data = notice(s.retention.policy, s.settings.session_call_budget, ttl, longest_window(s.sessions.policy))
    if "text/html" in (req.headers.get("accept") or ""):
        return func.HttpResponse(render_html(data), mimetype="text/html", charset="utf-8", headers=SECURITY_HEADERS)
    return json_response(data)


@api.route(
    "v1/feedback",
    "POST",
    "Send feedback (no account needed)",
    "client",
    security=("apiKey",),
    optional_security=True,
    request=FeedbackRequest,
    responses={202: FeedbackAccepted},
    errors=[{429: ("rate_limited",)}],
)
def submit_feedback(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    customer_id = None
    if req.headers.get("x-api-key") is not None:
        customer_id = s.customers.authenticate(req.headers.get("x-api-key")).customer_id
    body = parse_body(req, FeedbackRequest, min(FEEDBACK_MAX_BYTES, s.settings.max_body_bytes))
    feedback = s.feedback.submit(
        category=body.category,
        message=body.message,
        correlation_id=body.correlation_id,
        contact=body.contact,
        customer_id=customer_id,
        client_address=client_network(req),  # an IPv6 caller counts by its /64
    )
    appealed = False  # only with the customer's api key is a named GUID the caller's to appeal for
    if customer_id and body.correlation_id and body.category is FeedbackCategory.FALSE_REJECTION:
        appealed = s.appeals.open(customer_id, body.correlation_id, feedback.feedback_id)
    return json_response(FeedbackAccepted(feedback_id=feedback.feedback_id, appeal_opened=appealed), 202)


@api.route(
    "v1/review/feedback",
    "GET",
    "Read feedback",
    "review",
    security=STAFF_SCHEMES,
    query=(
        Query("from", "ISO 8601 date-time with zone"),
        Query("to", "ISO 8601 date-time with zone (exclusive)"),
        *PAGING,
    ),
    responses={200: Page[FeedbackView]},
    errors=[STAFF, BAD_QUERY],
    role=Role.REVIEWER,
    action="feedback.read",
)
def list_feedback(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    start, end = time_range(req, s.clock(), timedelta(days=30))
    items, token = s.feedback.page(start, end, *page_request(req))
    views = [FeedbackView(**f.model_dump(exclude={"json_fields"})) for f in items]
    return page_response(views, token)


def _correlation_id(req: func.HttpRequest) -> str:
    try:
        return _GUID.validate_python(req.route_params.get("correlationId", ""))
    except ValidationError:
        raise InvalidRequest("correlationId must be a UUID.") from None
