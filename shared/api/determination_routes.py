"""Determinations (docs/api.md and 5a): the customer lists and answers its own; reviewers
list them across customers and resolve the responses. Adapters only: parse, call, render."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from shared.api.auth import Principal, Role
from shared.api.determination_models import (
    STATUSES,
    DeterminationAccepted,
    DeterminationResponseRequest,
    DeterminationView,
    ResolutionRequest,
    ReviewDeterminationView,
    determination_view,
)
from shared.api.http import json_response, page_request, page_response, parse_body
from shared.api.models import Page
from shared.api.openapi import BAD_QUERY, CONTENDED, NOT_FOUND, PAGING, Query
from shared.api.router import Api
from shared.domain.determinations import ResolutionOutcome, customer_of
from shared.errors import InvalidRequest, NotFound

if TYPE_CHECKING:
    from shared.bootstrap import Services

api = Api()
bp = api.bp
CONFLICT = {409: ("conflict",)}
STATUS = Query("status", "Only determinations in this status.", {"type": "string", "enum": list(STATUSES)})
CUSTOMER = Query("customerId", "Every determination of this customer (reviewers).", {"type": "string"})


def _status(req: func.HttpRequest, default: str | None = None) -> str | None:
    status = req.params.get("status") or default
    if status is not None and status not in STATUSES:
        raise InvalidRequest("status must be one of: " + ", ".join(STATUSES) + ".")
    return status


@api.route(
    "v1/determinations",
    "GET",
    "Your confirmed-abuse determinations",
    "client",
    security=("apiKey",),
    query=(STATUS, *PAGING),
    responses={200: Page[DeterminationView]},
    errors=[BAD_QUERY],
)
def list_determinations(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    """The caller's determinations (docs/abuse-policy.md), with what it must do and by when."""
    customer = s.customers.authenticate(req.headers.get("x-api-key"))
    status = _status(req)
    items, token = s.determinations.own(customer.customer_id, status, *page_request(req))
    return page_response([determination_view(s.determinations.shown(d)) for d in items], token)


@api.route(
    "v1/determinations/{determinationId}/response",
    "POST",
    "Explain or remediate a determination",
    "client",
    security=("apiKey",),
    request=DeterminationResponseRequest,
    responses={202: DeterminationAccepted},
    errors=[NOT_FOUND, CONFLICT, CONTENDED],
)
def respond_to_determination(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    """Send the explanation and the remediation; a reviewer accepts or rejects it. 409 when a
    response is already waiting for review or the determination is closed."""
    customer = s.customers.authenticate(req.headers.get("x-api-key"))
    body = parse_body(req, DeterminationResponseRequest, s.settings.max_body_bytes)
    determination_id = req.route_params.get("determinationId", "")
    if customer_of(determination_id) != customer.customer_id:
        raise NotFound("No such determination.")  # another customer's, or malformed: the same answer
    done = s.determinations.respond(customer, determination_id, body.explanation, body.remediation)
    return json_response(DeterminationAccepted(determination_id=done.determination_id, status=done.status), 202)


@api.route(
    "v1/review/determinations",
    "GET",
    "Determinations across customers, with their responses",
    "review",
    query=(STATUS, CUSTOMER, *PAGING),
    responses={200: Page[ReviewDeterminationView]},
    errors=[BAD_QUERY],
    role=Role.REVIEWER,
    action="determination.list",
)
def review_determinations(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    """Determinations in one status (default `response_received`: those waiting for a reviewer), or
    with `customerId` every determination of that customer (optionally of one status)."""
    customer_id = req.params.get("customerId")
    if customer_id is not None:
        if not customer_of(f"{customer_id}.x"):
            raise InvalidRequest("customerId must be a customer id (32 hex characters).")
        items, token = s.determinations.own(customer_id, _status(req), *page_request(req))
        return page_response([determination_view(s.determinations.shown(d), with_customer=True) for d in items], token)
    status = _status(req, "response_received") or "response_received"
    items, token = s.determinations.listed(status, *page_request(req))
    return page_response([determination_view(s.determinations.shown(d), with_customer=True) for d in items], token)


@api.route(
    "v1/review/determinations/{determinationId}/resolution",
    "POST",
    "Accept or reject a customer's response",
    "review",
    request=ResolutionRequest,
    responses={200: ReviewDeterminationView},
    errors=[NOT_FOUND, CONFLICT, CONTENDED],
    role=Role.REVIEWER,
    action="determination.resolve",
)
def resolve_determination(req: func.HttpRequest, s: Services, reviewer: Principal) -> func.HttpResponse:
    """accepted → `remediated`; rejected → `response_rejected` (the customer may respond again until
    respondBy; after it, `expired`, which suspends the customer). Audited."""
    body = parse_body(req, ResolutionRequest, s.settings.max_body_bytes)
    determination_id = req.route_params.get("determinationId", "")
    customer_id = customer_of(determination_id)
    if not customer_id:
        raise NotFound("No such determination.")
    done = s.determinations.resolve(
        customer_id, determination_id, body.outcome is ResolutionOutcome.ACCEPTED, body.reason, reviewer.decider()
    )
    return json_response(determination_view(s.determinations.shown(done), with_customer=True))
