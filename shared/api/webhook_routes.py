"""The customer's webhook registration (docs/api.md and docs/api.md, Webhooks). Adapters only: parse, call, render."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import azure.functions as func
from pydantic import StringConstraints, WithJsonSchema

from shared.api.http import SECURITY_HEADERS, json_response, parse_body
from shared.api.models import ApiModel
from shared.api.openapi import NOT_FOUND
from shared.api.router import Api
from shared.domain.webhook_events import EVENT_TYPES
from shared.errors import NotFound

if TYPE_CHECKING:
    from shared.bootstrap import Services

api = Api()
bp = api.bp
EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]  # one list of event types, in the domain


class WebhookRequest(ApiModel):
    url: Annotated[
        str,
        StringConstraints(min_length=8, max_length=2048),
        WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://", "minLength": 8, "maxLength": 2048}),
    ]
    events: list[EventType] | None = None


class WebhookView(ApiModel):
    url: str
    events: list[str]


class WebhookCreated(WebhookView):
    secret: str  # shown only here: verify each delivery with it (Standard Webhooks)


@api.route(
    "v1/webhook",
    "PUT",
    "Register your webhook (rotates its secret)",
    "client",
    security=("apiKey",),
    request=WebhookRequest,
    responses={200: WebhookCreated},
)
def put_webhook(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    """Register the https endpoint that receives your events, signed per Standard Webhooks; the
    secret is shown only in this answer, and a second PUT rotates it. URLs that resolve to private,
    loopback, link-local or metadata addresses are refused (400)."""
    customer = s.customers.authenticate(req.headers.get("x-api-key"))
    body = parse_body(req, WebhookRequest, s.settings.max_body_bytes)
    done = s.webhooks.register(customer.customer_id, body.url, list(body.events) if body.events else None)
    return json_response(WebhookCreated(url=done.url, events=list(done.events), secret=done.secret))


@api.route(
    "v1/webhook",
    "GET",
    "Your webhook (without its secret)",
    "client",
    security=("apiKey",),
    responses={200: WebhookView},
    errors=[NOT_FOUND],
)
def get_webhook(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    customer = s.customers.authenticate(req.headers.get("x-api-key"))
    found = s.webhooks.registration(customer.customer_id)
    if found is None:
        raise NotFound("No webhook is registered.")
    return json_response(WebhookView(url=found.url, events=list(found.events)))


@api.route(
    "v1/webhook",
    "DELETE",
    "Remove your webhook",
    "client",
    security=("apiKey",),
    responses={204: None},
)
def delete_webhook(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    customer = s.customers.authenticate(req.headers.get("x-api-key"))
    s.webhooks.remove(customer.customer_id)
    return func.HttpResponse(status_code=204, headers=SECURITY_HEADERS)
