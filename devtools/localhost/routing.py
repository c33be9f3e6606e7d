"""HTTP routing from the app's own function metadata: no second route table to keep in sync."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import azure.functions as func

from devtools.localhost.context import with_context

_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "guid": r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}",
    "alpha": r"[A-Za-z]+",
    "bool": r"(?i:true|false)",
}
ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
_PARAM = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?(\?)?\}")


class RouteNotFound(Exception):
    pass


class MethodNotAllowed(Exception):
    def __init__(self, allowed: set[str]) -> None:
        super().__init__(", ".join(sorted(allowed)))
        self.allowed = allowed


@dataclass(frozen=True)
class HttpFunction:
    """One HTTP-triggered function as registered on the FunctionApp."""

    name: str
    route: str
    methods: frozenset[str]
    auth_level: str
    handler: Callable[..., Any]
    pattern: re.Pattern[str]
    trigger_arg: str


def compile_route(template: str) -> re.Pattern[str]:
    """A regex for an ASP.NET-style route template: {name}, {name:int}, {name?}, {*rest}."""
    out, pos = [], 0
    template = template.strip("/")
    for match in _PARAM.finditer(template):
        out.append(re.escape(template[pos : match.start()]))
        catch_all, name, constraint, optional = match.groups()
        body = ".*" if catch_all else _CONSTRAINTS.get((constraint or "").lower(), r"[^/]+")
        group = f"(?P<{name}>{body})"
        if optional or catch_all:
            # an optional last segment may be absent together with its slash
            if out and out[-1].endswith("/"):
                out[-1] = out[-1][:-1]
                group = f"(?:/{group})?"
            else:
                group += "?"
        out.append(group)
        pos = match.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE)


def http_function(fn: Any) -> HttpFunction:
    """An indexed HTTP-triggered function (`azure.functions` Function) as the router sees it."""
    spec = fn.get_trigger().get_dict_repr()
    route = spec.get("route") or fn.get_function_name()
    methods = frozenset(str(m).upper() for m in (spec.get("methods") or ALL_METHODS))
    return HttpFunction(
        name=fn.get_function_name(),
        route=route,
        methods=methods,
        auth_level=str(spec.get("authLevel") or "FUNCTION").upper(),
        handler=with_context(fn.get_user_function(), fn.get_function_name()),
        pattern=compile_route(route),
        trigger_arg=spec.get("name") or "req",
    )


def http_functions(app: func.FunctionApp) -> list[HttpFunction]:
    """Every HTTP-triggered function of an app (calls `get_functions`, which works once per app)."""
    return [http_function(fn) for fn in app.get_functions() if fn.get_trigger().get_binding_name() == "httpTrigger"]


class Router:
    """Matches `/<prefix>/<route>` paths to HTTP functions."""

    def __init__(self, functions: list[HttpFunction], prefix: str = "api") -> None:
        self.functions = functions
        self.prefix = prefix.strip("/")

    def match(self, method: str, path: str) -> tuple[HttpFunction, dict[str, str]]:
        path = path.strip("/")  # the path only: a decoded "?" inside a segment is data, not a query
        if self.prefix:
            if path != self.prefix and not path.startswith(self.prefix + "/"):
                raise RouteNotFound(path)
            path = path[len(self.prefix) :].strip("/")
        allowed: set[str] = set()
        for function in self.functions:
            found = function.pattern.match(path)
            if not found:
                continue
            if method.upper() in function.methods:
                return function, {k: v for k, v in found.groupdict().items() if v is not None}
            allowed |= function.methods
        if allowed:
            raise MethodNotAllowed(allowed)
        raise RouteNotFound(path)


def invoke(
    function: HttpFunction,
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    params: dict[str, str],
    route_params: dict[str, str],
) -> func.HttpResponse:
    """Call the user function with an `azure.functions.HttpRequest` built as the host does."""
    request = func.HttpRequest(
        method=method.upper(),
        url=url if not params or "?" in url else f"{url}?{urlencode(params)}",
        headers=headers,
        params=params,
        route_params=route_params,
        body=body,
    )
    return function.handler(**{function.trigger_arg: request})
