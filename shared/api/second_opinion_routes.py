"""Blind second opinions and calibration (docs/api.md, `/review/second-opinions`, `/review/calibration`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from shared.adapters.paging import whole_number
from shared.api.auth import Principal, Role
from shared.api.http import json_response, page_request, page_response, parse_body
from shared.api.models import (
    AgreementView,
    CalibrationView,
    DisagreementView,
    OpinionAnswer,
    OpinionItem,
    Page,
    SubjectDetailView,
)
from shared.api.openapi import NOT_FOUND, PAGING, Query
from shared.api.review_views import detail_view
from shared.api.router import Api
from shared.domain.calibration import Agreement, Calibration
from shared.errors import InvalidRequest

if TYPE_CHECKING:
    from shared.bootstrap import Services

api = Api()
bp = api.bp
OPINION = "v1/review/second-opinions/{opinionId}"


@api.route(
    "v1/review/second-opinions",
    "GET",
    "Decisions waiting for your blind second opinion",
    "review",
    query=PAGING,
    responses={200: Page[OpinionItem]},
    role=Role.REVIEWER,
    action="opinion.list",
)
def list_opinions(req: func.HttpRequest, s: Services, reviewer: Principal) -> func.HttpResponse:
    """Never one on your own decision; the first decision is not shown."""
    found, token = s.second_opinions.open_for(reviewer.decider(), *page_request(req))
    items = [
        OpinionItem(
            opinion_id=o.opinion_id,
            customer_id=o.opinion.customer_id,
            correlation_id=o.opinion.correlation_id,
            asked_at=o.opinion.asked_at,
        )
        for o in found
    ]
    return page_response(items, token)


@api.route(
    OPINION,
    "GET",
    "The subject of a second opinion, as it was when flagged (no decision shown)",
    "review",
    responses={200: SubjectDetailView},
    errors=[NOT_FOUND, {403: ("four_eyes",)}],
    role=Role.REVIEWER,
    action="opinion.read",
)
def read_opinion(req: func.HttpRequest, s: Services, reviewer: Principal) -> func.HttpResponse:
    detail = s.second_opinions.blind(req.route_params.get("opinionId", ""), reviewer.decider())
    return json_response(detail_view(detail, s.sessions.policy, s.clock()))


@api.route(
    OPINION,
    "POST",
    "Give a blind second opinion (it never changes the first decision)",
    "review",
    request=OpinionAnswer,
    responses={204: None},
    errors=[NOT_FOUND, {403: ("four_eyes",), 409: ("conflict",)}],
    role=Role.REVIEWER,
    action="opinion.answer",
)
def answer_opinion(req: func.HttpRequest, s: Services, reviewer: Principal) -> func.HttpResponse:
    body = parse_body(req, OpinionAnswer, s.settings.max_body_bytes)
    if body.guideline_id not in {g.id for g in s.review.guidelines}:
        raise InvalidRequest("guidelineId is not one of GET /review/guidelines.")
    s.second_opinions.answer(
        req.route_params.get("opinionId", ""), reviewer.decider(), body.decision, body.guideline_id, body.reason
    )
    return func.HttpResponse(status_code=204)


@api.route(
    "v1/review/calibration",
    "GET",
    "How well reviewers agree: agreement and Cohen's kappa per guideline and per reviewer",
    "review",
    query=(
        Query(
            "days",
            "UTC days back, today included: 1-366, default 90.",
            {"type": "integer", "minimum": 1, "maximum": 366},
        ),
    ),
    responses={200: CalibrationView},
    role=Role.REVIEWER,
    action="review.calibration",
)
def review_calibration(req: func.HttpRequest, s: Services, reviewer: Principal) -> func.HttpResponse:
    """Blind second opinions against the first decisions, with the sample sizes; an Administrator
    also gets the disagreements to look into."""
    found = s.second_opinions.calibration(whole_number(req.params.get("days"), "days", 90, 366))
    return json_response(calibration_view(found, Role.ADMINISTRATOR in reviewer.roles))


def _agreement(a: Agreement) -> AgreementView:
    return AgreementView(key=a.key, pairs=a.pairs, agreement=a.agreement, kappa=a.kappa)


def calibration_view(found: Calibration, administrator: bool) -> CalibrationView:
    disagreements = [
        DisagreementView(
            customer_id=o.customer_id,
            subject=o.correlation_id,
            first=o.first,
            first_by=o.first_by,
            first_guideline=o.first_guideline,
            second=o.second,  # type: ignore[arg-type]
            second_by=o.second_by or "",
            reason=o.reason,
            answered_at=o.answered_at,  # type: ignore[arg-type]
        )
        for o in found.disagreements
    ]
    return CalibrationView(
        since=found.since,
        overall=_agreement(found.overall),
        by_guideline=[_agreement(a) for a in found.by_guideline],
        by_reviewer=[_agreement(a) for a in found.by_reviewer],
        disagreements=disagreements if administrator else None,
    )
