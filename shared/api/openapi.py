"""The OpenAPI 3.1 document, generated from the same pydantic models the handlers validate with.

Each HTTP handler is registered with its documentation (`shared.api.router`): paths and methods
come from the same call that registers the function, so the document and the app cannot drift
apart (a test checks both ways against the app's own function metadata).
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared import __version__
from shared.api.http import STATE_CHANGING

if TYPE_CHECKING:
    from shared.api.router import Route

F = TypeVar("F", bound=Callable[..., Any])

BAD_BODY = {400: ("invalid_request",), 413: ("payload_too_large",)}
API_KEY = {401: ("unauthorized",), 403: ("customer_terminated",)}
STAFF = {401: ("unauthorized",), 403: ("forbidden",)}
CONTENDED = {429: ("too_many_concurrent_requests",)}
UPSTREAM = {502: ("upstream_unavailable",), 503: ("upstream_unavailable",)}
SCHEMES = {
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "A customer's api key."},
    "sessionToken": {"type": "http", "scheme": "bearer", "description": "The session token of one liveness session."},
    "adminKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-admin-key",
        "description": "ADMIN_API_KEY; acts as Administrator (automation and local runs).",
    },
    "appServiceAuthentication": {
        "type": "apiKey",
        "in": "header",
        "name": "X-MS-CLIENT-PRINCIPAL",
        "description": "Set by App Service Authentication (trusted only when EASY_AUTH_ENABLED=true); "
        "app role Reviewer or Administrator.",
    },
}


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    security: tuple[str, ...] = ()
    request: type[BaseModel] | None = None
    responses: dict[int, type[BaseModel] | str | None] = field(default_factory=dict)
    errors: dict[int, tuple[str, ...]] = field(default_factory=dict)
    query: tuple[Query, ...] = ()
    optional_security: bool = False
    description: str = ""


REGISTRY: dict[str, Operation] = {}
TAGS = [
    {"name": "client", "description": "Client apps: consent, liveness sessions, results, erasure, feedback, health."},
    {"name": "review", "description": "Reviewers: flags, subject detail, decisions, audit log, feedback."},
    {"name": "manage", "description": "Administrators: customers, keys, repair, Face settings."},
]
STAFF_SCHEMES = ("appServiceAuthentication", "adminKey")
NOT_FOUND = {404: ("not_found",)}
BAD_QUERY = {400: ("invalid_request",)}
PAGING = (
    Query("pageSize", "Items per page, 1-200.", {"type": "integer", "minimum": 1, "maximum": 200}),
    Query("continuationToken", "Opaque token from the previous page."),
)


STAFF_TAGS = ("review", "manage")


def documented(summary: str, tag: str, **details: Any) -> Callable[[F], F]:
    """Record how an HTTP handler appears in the OpenAPI document.

    What follows from the rest is added, not repeated at each route: review and manage routes are
    staff routes (App Service Authentication or the admin key; 401/403); a route taking an api key
    can answer 401; a body can be malformed or too large, a query malformed (400)."""
    if tag in STAFF_TAGS:
        details.setdefault("security", STAFF_SCHEMES)
    security = details.get("security", ())
    implied = [
        STAFF if security == STAFF_SCHEMES else {},
        API_KEY if "apiKey" in security else {},
        BAD_BODY if details.get("request") else {},
        BAD_QUERY if details.get("query") else {},
    ]

    def record(handler: F) -> F:
        errors: dict[int, tuple[str, ...]] = {}
        for group in (*implied, *details.pop("errors", ())):
            for status, codes in group.items():
                errors[status] = tuple(dict.fromkeys(errors.get(status, ()) + codes))
        text = inspect.getdoc(handler) or summary
        REGISTRY[handler.__name__] = Operation(summary=summary, tag=tag, errors=errors, description=text, **details)
        return handler

    return record


STORAGE = {503: ("storage_unavailable",)}
INTERNAL = {500: ("internal_error",)}
PATH_SCHEMAS: dict[str, dict[str, Any]] = {  # as strictly as the routes check them
    "correlationId": {  # a GUID; on review routes also the `erased-<pseudonym>` of a gate record
        "type": "string",
        "anyOf": [{"format": "uuid"}, {"pattern": "^erased-(?:[0-9a-f]{8}\\.)?[0-9a-f]{32}$"}],
    },
    "sessionId": {"type": "string", "format": "uuid"},
    "customerId": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
    "name": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,100}$"},  # a static file (anything else: 404)
    "determinationId": {"type": "string", "pattern": "^[0-9a-f]{32}\\.[A-Za-z0-9_-]{1,64}$"},
    "opinionId": {"type": "string", "pattern": "^[0-9a-f]{32}\\.[0-9a-f-]{36}\\.[0-9a-f]{32}$"},
    "reviewId": {"type": "string", "pattern": "^[0-9a-f]{32}\\.[0-9a-zA-Z.-]{36,48}\\.[0-9a-f]{32}$"},
}
MEDIA_TYPE = {415: ("unsupported_media_type",)}
ROUTE_NOT_FOUND = "not_found"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": 'The error envelope of every refusal: {"error": {"code", "message", "details"?}}.',
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "snake_case; the codes each response can carry are listed in its description",
                },
                "message": {"type": "string", "description": "A sentence for people."},
                "invocationId": {
                    "type": "string",
                    "description": "On a 500 only: the invocation to quote; its log line and trace carry the same id.",
                },
                "details": {
                    "type": "array",
                    "items": {"type": "object"},
                    "description": "Per-field problems, when any.",
                },
            },
        }
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _error_schema(paths: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The one Error component, its `code` an enum of every code any operation documents."""
    codes = sorted({c for ops in paths.values() for op in ops.values() for c in op.pop("x-error-codes", ())})
    schema = copy.deepcopy(ERROR_SCHEMA)
    schema["properties"]["error"]["properties"]["code"]["enum"] = codes
    return schema


def build(routes: list[Route], prefix: str = "/api") -> dict[str, Any]:
    """The whole document for the app's HTTP routes (`shared.api.router.ROUTES`)."""
    models: set[type[BaseModel]] = set()
    routes = [r for r in routes if r.name in REGISTRY]  # the fallback for unknown routes is no operation
    for route in routes:
        op = REGISTRY[route.name]
        if op.request:
            models.add(op.request)
        models |= {m for m in op.responses.values() if isinstance(m, type)}
        models |= {get_args(m)[0] for m in op.responses.values() if get_origin(m) is list}  # a bare array
    ordered = sorted(models, key=lambda m: m.__name__)
    keys = [(m, "validation") for m in ordered] + [(m, "serialization") for m in ordered]
    refs, definitions = models_json_schema(keys, ref_template="#/components/schemas/{model}", by_alias=True)
    paths: dict[str, dict[str, Any]] = {}
    for route in sorted(routes, key=lambda r: r.route):
        op = REGISTRY[route.name]
        path = f"{prefix}/{route.route}"
        for method in route.methods:
            paths.setdefault(path, {})[method.lower()] = _operation(route, op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Liveness Guard",
            "version": __version__,
            "description": "App server for Azure AI Face liveness detection with abuse monitoring. "
            'Every error uses the envelope {"error": {"code", "message", "details"?}}. '
            "Human-readable reference: /api/v1/docs; the contract in words: docs/ in the repository.",
            "contact": {"name": "The operator of this deployment (how to reach them: GET /api/v1/privacy)"},
        },
        "servers": [{"url": "/"}],
        "tags": TAGS,
        "paths": paths,
        "components": {
            "schemas": {**definitions.get("$defs", {}), "Error": _error_schema(paths)},
            "securitySchemes": SCHEMES,
        },
    }


def _response(body: type[BaseModel] | str | None, refs: dict[Any, Any]) -> dict[str, Any]:
    """One success response: none, a document of the given media types, or a model (or a list of one)."""
    if body is None:
        return {"description": "No content."}
    if isinstance(body, str):
        content = {
            media: {"schema": {"type": "object"} if media == "application/json" else {"type": "string"}}
            for media in body.split("|")
            if media
        }
        return {"description": "A document." if content else "See description.", "content": content}
    item = get_args(body)[0] if get_origin(body) is list else None
    schema = {"type": "array", "items": refs[(item, "serialization")]} if item else refs[(body, "serialization")]
    return {"description": (item or body).__doc__ or "OK", "content": {"application/json": {"schema": schema}}}


def _operation(route: Route, op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_SCHEMAS.get(name, {"type": "string"})}
        for name in re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)", route.route)
    ]
    parameters += [
        {"name": q.name, "in": "query", "required": False, "description": q.description, "schema": q.schema}
        for q in op.query
    ]
    document: dict[str, Any] = {
        "operationId": route.name,
        "summary": op.summary,
        "description": op.description,
        "tags": [op.tag],
    }
    if parameters:
        document["parameters"] = parameters
    if op.security:
        document["security"] = [{scheme: []} for scheme in op.security] + ([{}] if op.optional_security else [])
    else:
        document["security"] = []
    if op.request is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.request, "validation")]}},
        }
    responses = {str(status): _response(body, refs) for status, body in op.responses.items()}
    errors = dict(op.errors)
    errors.update({s: errors.get(s, ()) + c for s, c in STORAGE.items()})  # any call, when storage is down
    errors.update(INTERNAL)  # any call: a fault on our side, with the invocation id to quote
    if op.request is not None or any(m in STATE_CHANGING for m in route.methods):
        errors.update(MEDIA_TYPE)
    if any(p["in"] == "path" for p in parameters) and 404 not in errors:
        # a path parameter holding an encoded "/" matches no route: the host answers 404 itself
        errors[404] = (ROUTE_NOT_FOUND,)
    for status, codes in sorted(errors.items()):
        note = " (with `invocationId`: quote it to the operator)" if status == 500 else ""
        document.setdefault("x-error-codes", []).extend(codes)
        responses[str(status)] = {
            "description": "Refused: " + ", ".join(dict.fromkeys(codes)) + note,
            "content": {"application/json": {"schema": ERROR_REF}},
        }
    document["responses"] = responses
    return document
