"""The OpenAPI document of every HTTP route (docs/api.md, `GET /openapi.json`), and the same
document rendered for people at `GET /docs` with a vendored Swagger UI (`make vendor` refreshes it
from the pinned `swagger-ui-dist` npm package)."""

from __future__ import annotations

import functools
import sys

import azure.functions as func

from shared.api.http import endpoint, json_response
from shared.api.openapi import NOT_FOUND, build, documented
from shared.api.static_files import StaticFiles, page_headers
from shared.lazy_functions import load_all

bp = func.Blueprint()


@functools.cache
def _document() -> dict:
    app = sys.modules["function_app"].app  # the app that registered this blueprint
    load_all()  # the real route modules describe themselves when imported; a stub imports on first call
    return build(app)


@bp.route(route="v1/openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@documented("This OpenAPI 3.1 document", "client", responses={200: "application/json"})
@endpoint
def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(_document())


DOCS = StaticFiles(
    "shared.api_docs",
    {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "docs.js": "text/javascript"},
    vendor_prefix="swagger-ui",
)
# Swagger UI sets inline styles on its elements; scripts still come from this app only.
DOCS_HEADERS = page_headers(style_src="'self' 'unsafe-inline'", form_action="'none'")


@bp.route(route="v1/docs", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@documented(
    "This API's reference, for people (Swagger UI over the OpenAPI document)", "client", responses={200: "text/html"}
)
def api_reference(req: func.HttpRequest) -> func.HttpResponse:
    """The OpenAPI document rendered as a browsable page."""
    return func.HttpResponse(DOCS.read("index.html"), mimetype="text/html", charset="utf-8", headers=DOCS_HEADERS)


@bp.route(route="v1/docs/assets/{name}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@documented(
    "A static file of the API reference page", "client", responses={200: "text/javascript|text/css"}, errors=[NOT_FOUND]
)
def api_reference_asset(req: func.HttpRequest) -> func.HttpResponse:
    """Static files of the reference page; anything not on the list is 404."""
    return DOCS.response(req.route_params.get("name", ""))
