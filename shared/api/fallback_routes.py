"""The answer to a request no route takes (docs/api.md, "Errors"): 404 `not_found`, or 405
`method_not_allowed` with `Allow` for a path that exists, both in the error envelope.

A catch-all route, registered after every other (`function_app` registers its blueprint last): the
Functions host, like the local one, tries literal and parameter routes before a catch-all, so this
answers only what nothing else does. The routes it knows are those `api.route` recorded.
"""

from __future__ import annotations

import functools
import re

import azure.functions as func

from shared.api.http import error_response
from shared.api.router import ROUTES, Api
from shared.errors import MethodNotAllowed, NotFound

api = Api()
bp = api.bp
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@functools.cache
def _routes() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    """Every other HTTP route of the app, as a pattern and the methods it takes."""
    return tuple((_pattern(r.route), r.methods) for r in ROUTES.values() if r.name != "no_such_route")


def _pattern(route: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", route.strip("/"))
    regex = "".join(("[^/]+" if not p.startswith("{*") else ".*") if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$", re.IGNORECASE)


def allowed_methods(path: str) -> tuple[str, ...]:
    """The methods the routes matching `path` take (none: no route has that path)."""
    found: dict[str, None] = {}
    for pattern, methods in _routes():
        if pattern.match(path.strip("/")):
            found.update(dict.fromkeys(methods))
    return tuple(sorted(found))


def no_such_route(req: func.HttpRequest) -> func.HttpResponse:
    """No body is read (not even its media type): whatever was sent, the route is what is wrong."""
    allowed = allowed_methods(req.route_params.get("path") or "")
    if allowed:
        return error_response(MethodNotAllowed(f"This route takes {', '.join(allowed)}.", allowed))
    return error_response(NotFound("No such route; the routes are listed at GET /api/v1/openapi.json."))


api.plain("{*path}", METHODS, "no_such_route", no_such_route, __name__, no_such_route.__doc__)
