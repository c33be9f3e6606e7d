"""HTTP translation: parse bodies into models, render results and the docs/api.md error envelope."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from shared.adapters.paging import decode_token, encode_token, page_size
from shared.adapters.tables import is_storage_outage
from shared.api.models import Page
from shared.domain.ip_policy import normalise_ip
from shared.errors import (
    DomainError,
    InvalidRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    StorageUnavailable,
    UnsupportedMediaType,
)
from shared.telemetry import invocation_id

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[func.HttpRequest], func.HttpResponse]

STORAGE_DOWN = StorageUnavailable("Storage is busy or unavailable; retry shortly.", retry_after=5)
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    """A JSON response; pydantic models are written by alias (camelCase)."""
    text = body.model_dump_json(by_alias=True) if isinstance(body, BaseModel) else json.dumps(body, default=str)
    return func.HttpResponse(
        text, status_code=status, mimetype="application/json", headers={**SECURITY_HEADERS, **(headers or {})}
    )


def page_request(req: func.HttpRequest, default_size: int = 50) -> tuple[int, dict[str, str] | None]:
    """The `pageSize` and `continuationToken` query parameters of a listing (400 when malformed)."""
    return page_size(req.params.get("pageSize"), default_size), decode_token(req.params.get("continuationToken"))


def page_response(items: list[BaseModel], token: dict[str, str] | None) -> func.HttpResponse:
    """One page of a listing with its opaque continuation token."""
    return json_response(Page(items=items, continuation_token=encode_token(token)))


def error_response(error: DomainError) -> func.HttpResponse:
    """The error envelope: {"error": {"code", "message", "details"?}}."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.allow)
    return json_response({"error": body}, error.status, headers or None)


STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def require_json(req: func.HttpRequest) -> None:
    """A state-changing call sends `application/json` (or nothing at all); anything else is 415.

    A browser sends a cross-site form as `text/plain` or form-encoded without asking first: refusing
    those here means no such request reaches a route, whatever credentials ride along."""
    if req.method.upper() not in STATE_CHANGING:
        return
    declared = req.headers.get("content-type")
    if declared is None and not (req.get_body() or b"").strip():
        return
    media_type = (declared or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")


def parse_body(req: func.HttpRequest, model: type[M], max_bytes: int) -> M:
    """Validate a JSON body against a model; 413 when too large, 400 naming each bad field."""
    raw = req.get_body() or b""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The body is larger than {max_bytes} bytes.")
    if not raw.strip():
        raise InvalidRequest("A JSON body is required.")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        fields = ", ".join(sorted({d["field"] for d in details}))
        raise InvalidRequest(f"The body is not valid ({fields}).", details=details) from None


def endpoint(handler: Handler, name: str | None = None) -> Handler:
    """Wrap a handler: domain errors become their envelope, anything unexpected a logged 500."""
    function = name or handler.__name__

    def wrapped(req: func.HttpRequest) -> func.HttpResponse:
        try:
            require_json(req)
            return handler(req)
        except DomainError as error:
            return error_response(error)
        except Exception as exc:
            if is_storage_outage(exc):
                log.warning("storage unavailable in %s: %s", function, type(exc).__name__)
                return error_response(STORAGE_DOWN)
            return internal_error(function)

    wrapped.__name__ = function
    return wrapped


def internal_error(function: str) -> func.HttpResponse:
    """A 500 that names the invocation: the same id is in the logged error, its trace, and the host's
    own record of the invocation, so the operator finds all three from what the caller quotes."""
    found = invocation_id() or str(uuid.uuid4())
    log.exception(
        "unhandled error in %s (invocation %s)",
        function,
        found,
        extra={"event": "http.internal_error", "function": function, "invocation_id": found},
    )
    message = f"Something went wrong on our side. Quote invocation {found} when you contact support."
    body = {"code": "internal_error", "message": message, "invocationId": found}
    return json_response({"error": body}, 500)


def bearer_token(req: func.HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    scheme, _, token = (req.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def moment(raw: str | None, name: str) -> datetime | None:
    """An ISO 8601 date-time query parameter with a zone (None when absent); 400 otherwise."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"{name} must be an ISO 8601 date-time with a time zone.") from None
    if value.tzinfo is None:
        raise InvalidRequest(f"{name} must carry a time zone (e.g. 2026-11-22T00:00:00Z).")
    return value


def time_range(req: func.HttpRequest, now: datetime, default: timedelta) -> tuple[datetime, datetime]:
    """The `from`/`to` query window (to exclusive); by default the last `default` up to now."""
    start = moment(req.params.get("from"), "from") or now - default
    end = moment(req.params.get("to"), "to") or now + timedelta(seconds=1)
    if end <= start:
        raise InvalidRequest("to must be later than from.")
    return start, end


def client_network(req: func.HttpRequest) -> str:
    """The caller's address as the platform front end reports it (the last X-Forwarded-For hop, port
    dropped), counted as rate limits count it: an IPv4 address, or an IPv6 one's /64; `unknown`."""
    forwarded = (req.headers.get("x-forwarded-for") or "").split(",")[-1].strip()
    if forwarded.startswith("["):  # [v6]:port
        forwarded = forwarded[1:].split("]", 1)[0]
    elif forwarded.count(":") == 1:  # v4:port
        forwarded = forwarded.rsplit(":", 1)[0]
    try:
        return normalise_ip(forwarded) if forwarded else "unknown"
    except ValueError:
        return "unknown"
