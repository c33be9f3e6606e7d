"""The OpenAPI document of every HTTP route (docs/api.md, `GET /openapi.json`), and the same
document rendered for people at `GET /docs` with a vendored Swagger UI (`make vendor` refreshes it
from the pinned `swagger-ui-dist` npm package)."""

from __future__ import annotations

import functools

import azure.functions as func

from shared.api.http import json_response
from shared.api.openapi import NOT_FOUND, build
from shared.api.router import ROUTES, Api, Needs
from shared.api.static_files import StaticFiles, page_headers
from shared.blueprints import blueprints

api = Api()
bp = api.bp


@functools.cache
def _document() -> dict:
    blueprints()  # every route module imported: each registered its routes with their documentation
    return build(list(ROUTES.values()))


@api.route(
    "v1/openapi.json",
    "GET",
    "This OpenAPI 3.1 document",
    "client",
    responses={200: "application/json"},
    needs=Needs.NOTHING,
)
def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(_document())


DOCS = StaticFiles(
    "shared.api_docs",
    {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "docs.js": "text/javascript"},
    vendor_prefix="swagger-ui",
)
# Swagger UI sets inline styles on its elements; scripts still come from this app only.
DOCS_HEADERS = page_headers(style_src="'self' 'unsafe-inline'", form_action="'none'")


@api.route(
    "v1/docs",
    "GET",
    "This API's reference, for people (Swagger UI over the OpenAPI document)",
    "client",
    responses={200: "text/html"},
    needs=Needs.NOTHING,
)
def api_reference(req: func.HttpRequest) -> func.HttpResponse:
    """The OpenAPI document rendered as a browsable page."""
    return func.HttpResponse(DOCS.read("index.html"), mimetype="text/html", charset="utf-8", headers=DOCS_HEADERS)


@api.route(
    "v1/docs/assets/{name}",
    "GET",
    "A static file of the API reference page",
    "client",
    responses={200: "text/javascript|text/css"},
    errors=[NOT_FOUND],
    needs=Needs.NOTHING,
)
def api_reference_asset(req: func.HttpRequest) -> func.HttpResponse:
    """Static files of the reference page; anything not on the list is 404."""
    return DOCS.response(req.route_params.get("name", ""))
