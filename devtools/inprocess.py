"""Call the function app's HTTP functions in-process, routed by its own metadata (tests, benchmarks)."""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass
from typing import Any

from requests.structures import CaseInsensitiveDict

from devtools.localhost.routing import MethodNotAllowed, RouteNotFound, Router, invoke


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None

    @property
    def error_code(self) -> str | None:
        payload = self.json
        return payload["error"]["code"] if isinstance(payload, dict) and "error" in payload else None


class ApiClient:
    """Calls the function app's HTTP functions in-process, as the host would route them."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Response:
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        if json is not None:
            body = jsonlib.dumps(json).encode()
            headers.setdefault("content-type", "application/json")  # as requests' json= does
        try:
            function, route_params = self.router.match(method, path)
        except RouteNotFound:
            return Response(404, {}, b"")
        except MethodNotAllowed:
            return Response(405, {}, b"")
        response = invoke(
            function,
            method=method,
            url=f"http://127.0.0.1{path}",
            headers=headers,
            body=body or b"",
            params=query or {},
            route_params=route_params,
        )
        headers = CaseInsensitiveDict(dict(response.headers))
        if response.mimetype:
            headers.setdefault("Content-Type", response.mimetype)
        return Response(response.status_code, headers, response.get_body())

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)

    def patch(self, path: str, **kw: Any) -> Response:
        return self.request("PATCH", path, **kw)
