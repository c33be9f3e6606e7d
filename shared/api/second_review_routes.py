"""The four-eyes queue (docs/api.md, `/review/second-reviews`): severe confirmations waiting for a
second, different person."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from shared.api.auth import Principal, Role
from shared.api.http import page_request, page_response, parse_body
from shared.api.models import Page, SecondReviewAnswer, SecondReviewView
from shared.api.openapi import CONTENDED, NOT_FOUND, PAGING
from shared.api.review_routes import decision_response
from shared.api.review_views import second_review_view
from shared.api.router import Api

if TYPE_CHECKING:
    from shared.bootstrap import Services

api = Api()
bp = api.bp


@api.route(
    "v1/review/second-reviews",
    "GET",
    "Severe confirmations waiting for a second person",
    "review",
    query=PAGING,
    responses={200: Page[SecondReviewView]},
    role=Role.REVIEWER,
    action="second_review.list",
)
def list_second_reviews(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    """Each with who asked and why; one the second person disagreed with names them and waits for an
    Administrator."""
    pending, token = s.second_reviews.pending(*page_request(req))
    return page_response([second_review_view(p) for p in pending], token)


@api.route(
    "v1/review/second-reviews/{reviewId}",
    "POST",
    "Agree or disagree with a severe confirmation (a second, different person)",
    "review",
    request=SecondReviewAnswer,
    responses={200: "application/json"},
    errors=[NOT_FOUND, {403: ("four_eyes",), 409: ("conflict", "claimed")}, CONTENDED],
    role=Role.REVIEWER,
    action="second_review.answer",
)
def answer_second_review(req: func.HttpRequest, s: Services, reviewer: Principal) -> func.HttpResponse:
    """`{"agree": true}` applies the confirmation (the customer is suspended; both people are named in
    its audit entry); `false` leaves the subject flagged for an Administrator. The person who asked
    cannot answer: 403 `four_eyes`."""
    body = parse_body(req, SecondReviewAnswer, s.settings.max_body_bytes)
    decided = s.second_reviews.answer(req.route_params.get("reviewId", ""), reviewer.decider(), body.agree, body.reason)
    return decision_response(decided)
