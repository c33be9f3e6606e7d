"""Domain errors. Each carries the HTTP status and snake_case code of docs/api.md."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the client should see, in the error envelope."""

    status: int = 400
    code: str = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        retry_after: int | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.retry_after = retry_after
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class InvalidRequest(DomainError):
    status, code = 400, "invalid_request"


class PayloadTooLarge(DomainError):
    status, code = 413, "payload_too_large"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class MethodNotAllowed(DomainError):
    """A route that exists, asked with a method it does not take; `allow` lists the ones it does."""

    status, code = 405, "method_not_allowed"

    def __init__(self, message: str, allow: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allow = allow


class Conflict(DomainError):
    status, code = 409, "conflict"


class CustomerSuspended(DomainError):
    status, code = 403, "customer_suspended"


class CustomerTerminated(DomainError):
    status, code = 403, "customer_terminated"


class ConsentRequired(DomainError):
    status, code = 403, "consent_required"


class CorrelationIdBlocked(DomainError):
    status, code = 403, "correlation_id_blocked"


class RetryLimited(DomainError):
    status, code = 429, "retry_limited"


class TokenInvalid(DomainError):
    status, code = 401, "token_invalid"


class TokenRevoked(DomainError):
    """The session was revoked: its subject stopped being active, or its customer was suspended or terminated."""

    status, code = 401, "token_revoked"


class TokenExpired(DomainError):
    status, code = 401, "token_expired"


class TokenExhausted(DomainError):
    status, code = 429, "token_exhausted"


class Contended(DomainError):
    """Too many writers raced for one subject; safe to retry."""

    status, code = 429, "too_many_concurrent_requests"


class UpstreamUnavailable(DomainError):
    status, code = 503, "upstream_unavailable"


class StorageUnavailable(DomainError):
    """Table or queue storage is throttled, hung or down; nothing was half-written, retry shortly."""

    status, code = 503, "storage_unavailable"


class UnsupportedMediaType(DomainError):
    status, code = 415, "unsupported_media_type"


class FaceVersionUnsupported(DomainError):
    status, code = 409, "face_version_unsupported"


class Claimed(DomainError):
    """Another reviewer holds a claim on this flag (docs/api.md, claims)."""

    status, code = 409, "claimed"
