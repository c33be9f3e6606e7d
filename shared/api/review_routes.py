"""Review API (docs/api.md): flags, subject detail, decisions, resets and the audit log, for Reviewers."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import azure.functions as func

from shared.adapters.paging import whole_number
from shared.api.auth import Principal, Role
from shared.api.http import json_response, page_request, page_response, parse_body, time_range
from shared.api.models import (
    AuditEntry,
    DecisionRequest,
    DecisionResponse,
    FlagItem,
    GuidelineView,
    Page,
    ResetRequest,
    SecondReviewView,
    SubjectDetailView,
)
from shared.api.openapi import (
    BAD_QUERY,
    CONTENDED,
    NOT_FOUND,
    PAGING,
    STAFF,
    STAFF_SCHEMES,
    Query,
)
from shared.api.review_views import detail_view, flag_item, second_review_view
from shared.api.router import Api
from shared.domain.determinations import Severity
from shared.domain.policy import SubjectStatus
from shared.domain.records import Subject
from shared.domain.review_overview import MAX_DAYS, Overview
from shared.errors import InvalidRequest
from shared.services.review import STATUS_OF_INDEX

CONFLICT = {409: ("conflict",)}

if TYPE_CHECKING:
    from shared.bootstrap import Services

api = Api()
bp = api.bp
SUBJECT = "v1/review/subjects/{customerId}/{correlationId}"


def _address(req: func.HttpRequest) -> tuple[str, str]:
    return req.route_params.get("customerId", ""), req.route_params.get("correlationId", "").lower()


@api.route(
    "v1/review/flags",
    "GET",
    "List subjects by review status",
    "review",
    query=(
        Query("status", "pending, blocked or retired", {"type": "string", "enum": ["pending", "blocked", "retired"]}),
        *PAGING,
    ),
    responses={200: Page[FlagItem]},
    role=Role.REVIEWER,
    action="review.list",
)
def list_flags(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    status = req.params.get("status") or "pending"
    if status not in STATUS_OF_INDEX:
        raise InvalidRequest("status must be pending, blocked or retired.")
    subjects, token = s.review_queries.list_flags(status, *page_request(req))
    policy, now = s.sessions.policy, s.clock()
    return page_response([flag_item(x, policy, now) for x in subjects], token)


@api.route(
    SUBJECT,
    "GET",
    "A subject with its retained timeline",
    "review",
    responses={200: SubjectDetailView},
    errors=[NOT_FOUND],
    role=Role.REVIEWER,
    action="review.read",
)
def get_subject(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    customer_id, correlation_id = _address(req)
    detail = s.review_queries.detail(customer_id, correlation_id)
    customer = s.customers.store.get_recent(customer_id)
    status = customer.status if customer else None
    return json_response(detail_view(detail, s.sessions.policy, s.clock(), status))


@api.route(
    SUBJECT + "/decision",
    "POST",
    "Confirm or override a pending flag",
    "review",
    request=DecisionRequest,
    responses={200: DecisionResponse, 202: SecondReviewView},
    errors=[NOT_FOUND, {409: ("conflict", "claimed"), 403: ("forbidden",)}, CONTENDED],
    role=Role.REVIEWER,
    action="subject.decide",
)
def decide_subject(req: func.HttpRequest, s: Services, reviewer: Principal) -> func.HttpResponse:
    """With four eyes (REVIEW_FOUR_EYES), a severe confirmation answers 202: it waits for a second,
    different person in /review/second-reviews, the subject stays flagged, the customer unchanged."""
    body = parse_body(req, DecisionRequest, s.settings.max_body_bytes)
    severity = body.severity or Severity.STANDARD
    decided, pending = s.second_reviews.decide(
        *_address(req), body.decision, body.reason, reviewer.decider(), severity, body.guideline_id
    )
    if pending is not None:
        return json_response(second_review_view(pending), 202)
    return decision_response(decided)


@api.route(
    "v1/review/guidelines",
    "GET",
    "The guidelines reviewers decide by",
    "review",
    responses={200: list[GuidelineView]},
    role=Role.REVIEWER,
    action="review.guidelines",
)
def list_guidelines(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    """The predefined guidelines (shipped defaults, or `REVIEW_GUIDELINES_JSON`): each a short rule
    with the evidence that supports confirm or override. Every decision names one."""
    views = [GuidelineView(id=g.id, title=g.title, text=g.text) for g in s.review.guidelines]
    return json_response([v.model_dump(by_alias=True) for v in views])


@api.route(
    "v1/review/overview",
    "GET",
    "How the policy and the human review are doing",
    "review",
    query=(
        Query(
            "days",
            "UTC days to cover, today included: 1-366, default 30.",
            {"type": "integer", "minimum": 1, "maximum": 366},
        ),
    ),
    responses={200: Overview},
    errors=[BAD_QUERY],
    role=Role.REVIEWER,
    action="review.overview",
)
def review_overview(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    """Pending reviews against the SLA, flags per day by rule, decisions, the override rate per rule
    (the rule's false-positive rate) and feedback by category, from daily counts kept as they happen."""
    found = s.overview.overview(whole_number(req.params.get("days"), "days", 30, MAX_DAYS))
    return json_response(found)


@api.route(
    SUBJECT + "/reset",
    "POST",
    "Retire a GUID and issue a new one",
    "review",
    request=ResetRequest,
    responses={200: DecisionResponse},
    errors=[NOT_FOUND, CONFLICT, CONTENDED],
    role=Role.REVIEWER,
    action="subject.reset",
)
def reset_subject(req: func.HttpRequest, s: Services, reviewer: Principal) -> func.HttpResponse:
    body = parse_body(req, ResetRequest, s.settings.max_body_bytes)
    return decision_response(s.review.reset(*_address(req), body.reason, reviewer.decider()))


@api.route(
    "v1/review/audit",
    "GET",
    "Read the audit log",
    "review",
    security=STAFF_SCHEMES,
    query=(
        Query("from", "ISO 8601 date-time with zone"),
        Query("to", "ISO 8601 date-time with zone (exclusive)"),
        Query("customerId", "with correlationId: one subject's entries"),
        Query("correlationId", "with customerId: one subject's entries"),
        *PAGING,
    ),
    responses={200: Page[AuditEntry]},
    errors=[STAFF, BAD_QUERY],
    role=Role.REVIEWER,
    action="audit.read",
)
def read_audit(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    start, end = time_range(req, s.clock(), timedelta(days=1))
    customer_id, correlation_id = req.params.get("customerId"), req.params.get("correlationId")
    targets = s.review.refs(customer_id, correlation_id.lower()) if customer_id and correlation_id else None
    entries, token = s.audit.page(
        start,
        end,
        *page_request(req, 100),
        targets,
    )
    return page_response([AuditEntry(**e) for e in entries], token)


def decision_response(subject: Subject) -> func.HttpResponse:
    """The outcome of a decision or reset: the new status and, when retired, the new GUID."""
    retired = subject.state.status is SubjectStatus.RETIRED
    return json_response(
        DecisionResponse(
            customer_id=subject.customer_id,
            correlation_id=subject.correlation_id,
            status=subject.state.status,
            new_correlation_id=subject.replaced_by if retired else None,
        )
    )
