"""The OpenAPI document of every HTTP route (SPEC section 4, `GET /openapi.json`)."""

from __future__ import annotations

import functools
import sys

import azure.functions as func

from shared.api.http import endpoint, json_response
from shared.api.openapi import build, documented

bp = func.Blueprint()


@functools.cache
def _document() -> dict:
    app = sys.modules["function_app"].app  # the app that registered this blueprint
    return build(app)


@bp.route(route="v1/openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@documented("This OpenAPI 3.1 document", "client", responses={200: "application/json"})
@endpoint
def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(_document())
