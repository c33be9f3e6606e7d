"""One decorator per HTTP route: its path, method, role and documentation together (docs/api.md).

`api.route(...)` registers a plain v2 function on the module's blueprint. The registered function
takes what the Python worker binds (`req` and the host's `context`), runs inside the invocation's
span, maps domain errors to the error envelope (`endpoint`), builds the services once and, for a
staff route, checks the caller's role before the handler sees the request:

    @api.route("v1/review/flags", "GET", "List subjects by review status", "review", role=Role.REVIEWER,
               action="review.list", responses={200: Page[FlagItem]})
    def list_flags(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse: ...

Every route is also recorded in `ROUTES`, which the OpenAPI document and the catch-all read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import azure.functions as func

from shared.api.auth import Role
from shared.api.http import endpoint
from shared.api.openapi import documented
from shared.telemetry import context_id, http_outcome, invocation


@dataclass(frozen=True)
class Route:
    """An HTTP function as the host routes it."""

    name: str
    route: str
    methods: tuple[str, ...]


ROUTES: dict[str, Route] = {}  # every HTTP function, by name, in registration order


class Needs(Enum):
    """What a handler is called with besides the request."""

    NOTHING = "nothing"  # handler(req): static files, the catch-all, health (it builds services itself)
    SERVICES = "services"  # handler(req, s)
    STAFF = "staff"  # handler(req, s, principal): after the role check


def _caller(handler: Callable[..., func.HttpResponse], needs: Needs, role: Role | None, action: str) -> Any:
    if needs is Needs.NOTHING:
        return handler

    def call(req: func.HttpRequest) -> func.HttpResponse:
        from shared.bootstrap import services  # imported on the first request, not while indexing

        s = services()
        if role is None:
            return handler(req, s)
        return handler(req, s, s.staff.require(req, role, action))

    return call


def as_function(name: str, route: str, run: Callable[[func.HttpRequest], func.HttpResponse]) -> Any:
    """The function the worker loads: `(req, context)`, the call inside the invocation's span."""

    def function(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        with invocation(name, "http", context_id(context), route, req.method) as span:
            response = run(req)
            http_outcome(span, response.status_code)
            return response

    function.__annotations__ = {"req": func.HttpRequest, "context": func.Context, "return": func.HttpResponse}
    function.__name__ = function.__qualname__ = name
    return function


class Api:
    """The HTTP routes of one module, registered on its blueprint (`bp`)."""

    def __init__(self) -> None:
        self.bp = func.Blueprint()

    def route(
        self,
        route: str,
        method: str,
        summary: str,
        tag: str,
        *,
        role: Role | None = None,
        action: str = "",
        needs: Needs | None = None,
        **doc: Any,
    ) -> Callable[[Callable[..., func.HttpResponse]], Callable[..., func.HttpResponse]]:
        """Register a documented route; `role` makes it a staff route whose check is audited as `action`."""
        if role is not None and not action:
            raise ValueError(f"{route}: a staff route names the action its check audits")
        needed = needs or (Needs.STAFF if role is not None else Needs.SERVICES)

        def register(handler: Callable[..., func.HttpResponse]) -> Callable[..., func.HttpResponse]:
            documented(summary, tag, **doc)(handler)
            run = endpoint(_caller(handler, needed, role, action), handler.__name__)
            self.plain(route, (method,), handler.__name__, run, handler.__module__, handler.__doc__)
            return handler

        return register

    def plain(
        self,
        route: str,
        methods: tuple[str, ...],
        name: str,
        run: Callable[[func.HttpRequest], func.HttpResponse],
        module: str,
        doc: str | None = None,
    ) -> None:
        """Register an undocumented function that answers by itself (the catch-all)."""
        function = as_function(name, route, run)
        function.__module__, function.__doc__ = module, doc
        ROUTES[name] = Route(name, route, methods)
        self.bp.route(route=route, methods=list(methods), auth_level=func.AuthLevel.ANONYMOUS)(function)
