"""Claims on pending flags (docs/api.md): one reviewer works on a case at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from shared.api.auth import Principal, Role
from shared.api.http import SECURITY_HEADERS, json_response, parse_body
from shared.api.models import ClaimRequest, ClaimView
from shared.api.openapi import CONTENDED, NOT_FOUND
from shared.api.router import Api
from shared.services.review import check_address

if TYPE_CHECKING:
    from shared.bootstrap import Services

api = Api()
bp = api.bp
CLAIM = "v1/review/subjects/{customerId}/{correlationId}/claim"
CLAIM_CONFLICTS = {409: ("claimed", "conflict")}


def _address(req: func.HttpRequest) -> tuple[str, str]:
    return req.route_params.get("customerId", ""), req.route_params.get("correlationId", "").lower()


@api.route(
    CLAIM,
    "POST",
    "Claim a pending flag (REVIEW_CLAIM_SECONDS), or take a claim over as an Administrator",
    "review",
    request=ClaimRequest,
    responses={200: ClaimView},
    errors=[NOT_FOUND, CLAIM_CONFLICTS, CONTENDED],
    role=Role.REVIEWER,
    action="subject.claim",
)
def claim_flag(req: func.HttpRequest, s: Services, reviewer: Principal) -> func.HttpResponse:
    """Another reviewer's live claim is a 409 `claimed` (an Administrator may send `takeOver`);
    claiming one's own claim again extends it. Only a pending flag can be claimed (409)."""
    body = (
        parse_body(req, ClaimRequest, s.settings.max_body_bytes) if (req.get_body() or b"").strip() else ClaimRequest()
    )
    customer_id, correlation_id = _address(req)
    check_address(customer_id, correlation_id)
    claim = s.claims.claim(customer_id, correlation_id, reviewer.decider(), body.take_over)
    return json_response(ClaimView(claimed_by=claim.by, claimed_until=claim.until))


@api.route(
    CLAIM,
    "DELETE",
    "Give up a claim (its holder, or an Administrator)",
    "review",
    responses={204: None},
    errors=[NOT_FOUND, CLAIM_CONFLICTS, CONTENDED],
    role=Role.REVIEWER,
    action="subject.claim_release",
)
def release_claim(req: func.HttpRequest, s: Services, reviewer: Principal) -> func.HttpResponse:
    customer_id, correlation_id = _address(req)
    check_address(customer_id, correlation_id)
    s.claims.release(customer_id, correlation_id, reviewer.decider())
    return func.HttpResponse(status_code=204, headers=SECURITY_HEADERS)
