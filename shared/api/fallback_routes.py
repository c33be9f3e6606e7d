"""The answer to a request no route takes (docs/api.md, "Errors"): 404 `not_found`, or 405
`method_not_allowed` with `Allow` for a path that exists, both in the error envelope.

A catch-all route, registered after every other (`shared.lazy_functions.MODULES` lists it last): the
Functions host, like the local one, tries literal and parameter routes before a catch-all, so this
answers only what nothing else does. The routes it knows are the manifest's (`shared/functions.json`).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import azure.functions as func

from shared.api.http import error_response
from shared.errors import MethodNotAllowed, NotFound

bp = func.Blueprint()
MANIFEST = Path(__file__).resolve().parent.parent / "functions.json"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@functools.cache
def _routes() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    """Every other HTTP route of the app, as a pattern and the methods it takes."""
    entries = json.loads(MANIFEST.read_text())
    return tuple(
        (_pattern(e["route"]), tuple(e["methods"]))
        for e in entries
        if e["kind"] == "http" and e["name"] != "no_such_route"
    )


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


@bp.route(route="{*path}", methods=list(METHODS), auth_level=func.AuthLevel.ANONYMOUS)
def no_such_route(req: func.HttpRequest) -> func.HttpResponse:
    """No body is read (not even its media type): whatever was sent, the route is what is wrong."""
    allowed = allowed_methods(req.route_params.get("path") or "")
    if allowed:
        return error_response(MethodNotAllowed(f"This route takes {', '.join(allowed)}.", allowed))
    return error_response(NotFound("No such route; the routes are listed at GET /api/v1/openapi.json."))
