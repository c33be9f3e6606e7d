"""The review console (docs/api.md, `GET /review`): a page and its static assets, served by the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from shared.api.auth import Role
from shared.api.http import error_response
from shared.api.openapi import NOT_FOUND
from shared.api.router import Api, Needs
from shared.api.static_files import StaticFiles, page_headers
from shared.errors import Forbidden

if TYPE_CHECKING:
    from shared.bootstrap import Services

api = Api()
bp = api.bp
ASSETS = StaticFiles(
    "shared.console",
    {
        "console.js": "text/javascript",
        "console.css": "text/css",
        "uPlot.iife.min.js": "text/javascript",
        "uPlot.min.css": "text/css",
    },
    vendor_prefix="uPlot",
)
PAGE_HEADERS = page_headers()


@api.route(
    "v1/review",
    "GET",
    "The review console page",
    "review",
    security=(),  # the page itself carries no data; its calls authenticate
    responses={200: "text/html", 302: "", 403: ""},
    errors=[{403: ("forbidden",)}],
)
def review_console(req: func.HttpRequest, s: Services) -> func.HttpResponse:
    """The console page. With App Service Authentication the reviewer must be signed in with a role;
    locally the page holds no data and asks for the administrator key, which every data call needs."""
    if s.settings.easy_auth_enabled:
        if s.staff.principal(req) is None:
            target = "/.auth/login/aad?post_login_redirect_uri=/api/v1/review"
            return func.HttpResponse(status_code=302, headers={"Location": target, "Cache-Control": "no-store"})
        try:
            s.staff.require(req, Role.REVIEWER, "console.open")
        except Forbidden as refused:
            return error_response(refused)
    page = ASSETS.read("index.html").decode()
    page = page.replace("{{AUTH_MODE}}", "easy" if s.settings.easy_auth_enabled else "key").replace(
        "{{API_BASE}}", "/api/v1"
    )
    return func.HttpResponse(page, mimetype="text/html", charset="utf-8", headers=PAGE_HEADERS)


@api.route(
    "v1/review/assets/{name}",
    "GET",
    "A static file of the review console",
    "review",
    security=(),
    responses={200: "text/javascript|text/css"},
    errors=[NOT_FOUND],
    needs=Needs.NOTHING,
)
def review_console_asset(req: func.HttpRequest) -> func.HttpResponse:
    """Static files of the console (no data in them); anything not on the list is 404."""
    return ASSETS.response(req.route_params.get("name", ""))
