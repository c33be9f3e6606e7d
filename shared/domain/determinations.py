"""Determinations (docs/abuse-policy.md): the customer's chance to explain or remediate, as pure rules.

awaiting_response ─respond→ response_received ─accept→ remediated
        │                         └─reject→ response_rejected ─respond (before respondBy)→ …
        └─ respondBy passes without an accepted response → expired (the customer is suspended)
A severe determination starts `closed`: the customer was suspended at once.

A response waiting for a reviewer does not expire: the customer answered in time, and a slow
review must not suspend it. A rejection that comes after `respondBy` expires it at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime

from shared.domain.records import Record
from shared.domain.values import Value
from shared.errors import Conflict


class Severity(StrEnum):
    STANDARD = "standard"
    SEVERE = "severe"


class DeterminationStatus(StrEnum):
    AWAITING_RESPONSE = "awaiting_response"
    RESPONSE_RECEIVED = "response_received"
    REMEDIATED = "remediated"
    RESPONSE_REJECTED = "response_rejected"
    EXPIRED = "expired"
    CLOSED = "closed"


MAX_RESOLUTIONS = 10  # kept on the row (each reason up to 1,000 characters; a property holds 32,768)
OPEN = (DeterminationStatus.AWAITING_RESPONSE, DeterminationStatus.RESPONSE_REJECTED)  # the customer may respond


class CustomerResponse(Record):
    explanation: str
    remediation: str
    at: AwareDatetime


class ResolutionOutcome(StrEnum):
    ACCEPTED = "accepted"  # remediated
    REJECTED = "rejected"  # the customer may answer again until respondBy


class Resolution(Value):
    outcome: ResolutionOutcome
    reason: str
    by: str
    at: AwareDatetime
    by_id: str | None = None  # the reviewer's object id (`administrator key` for the key)


class Determination(Record):
    """One confirmed abuse determination against a customer (its id is the confirmation email's)."""

    json_fields: ClassVar[frozenset[str]] = frozenset({"responses", "resolutions"})

    determination_id: str
    customer_id: str
    correlation_id: str
    determined_at: AwareDatetime
    reason: str
    severity: Severity = Severity.STANDARD
    guideline_id: str | None = None
    status: DeterminationStatus
    respond_by: AwareDatetime | None = None
    responses: tuple[CustomerResponse, ...] = ()  # the latest only: earlier ones are rows of their own
    earlier_responses: int = 0  # how many responses came before the latest (`answer_<id>_<n>` rows)
    resolutions: tuple[Resolution, ...] = ()
    closed_at: AwareDatetime | None = None


def new_determination(
    determination_id: str,
    customer_id: str,
    correlation_id: str,
    determined_at: datetime,
    reason: str,
    severity: Severity,
    respond_within: timedelta,
    guideline_id: str | None = None,
) -> Determination:
    severe = severity is Severity.SEVERE
    return Determination(
        determination_id=determination_id,
        customer_id=customer_id,
        correlation_id=correlation_id,
        determined_at=determined_at,
        reason=reason,
        severity=severity,
        guideline_id=guideline_id,
        status=DeterminationStatus.CLOSED if severe else DeterminationStatus.AWAITING_RESPONSE,
        respond_by=None if severe else determined_at + respond_within,
        closed_at=determined_at if severe else None,
    )


def respond(d: Determination, explanation: str, remediation: str, now: datetime) -> Determination:
    """The customer's explanation and remediation; 409 when one is pending review or it is closed."""
    if d.status not in OPEN or d.respond_by is None or now >= d.respond_by:
        raise Conflict(f"This determination is {d.status.value}; it takes no response now.")
    response = CustomerResponse(explanation=explanation, remediation=remediation, at=now)
    earlier = d.earlier_responses + len(d.responses)  # the one it replaces on the row is archived as a row
    return d.model_copy(
        update={"status": DeterminationStatus.RESPONSE_RECEIVED, "responses": (response,), "earlier_responses": earlier}
    )


def archived(before: Determination, after: Determination) -> list[tuple[int, CustomerResponse]]:
    """The responses a change moves off the determination's row (numbered from 0, oldest first), so the
    row holds one response at most, however many the customer sends (a table property holds 64 KiB)."""
    moved = after.earlier_responses - before.earlier_responses
    return list(enumerate(before.responses[-moved:], start=before.earlier_responses)) if moved > 0 else []


def resolve(
    d: Determination, accepted: bool, reason: str, by: str, now: datetime, by_id: str | None = None
) -> Determination:
    """A reviewer's verdict on the response received: remediated, or rejected (expired when too late)."""
    if d.status is not DeterminationStatus.RESPONSE_RECEIVED:
        raise Conflict(f"This determination is {d.status.value}; only a received response can be resolved.")
    outcome = ResolutionOutcome.ACCEPTED if accepted else ResolutionOutcome.REJECTED
    resolution = Resolution(outcome=outcome, reason=reason, by=by, at=now, by_id=by_id)
    if accepted:
        status, closed = DeterminationStatus.REMEDIATED, now
    elif d.respond_by is not None and now >= d.respond_by:
        status, closed = DeterminationStatus.EXPIRED, now
    else:
        status, closed = DeterminationStatus.RESPONSE_REJECTED, None
    kept = (*d.resolutions, resolution)[-MAX_RESOLUTIONS:]  # bounded: every one is in the audit log too
    return d.model_copy(update={"status": status, "resolutions": kept, "closed_at": closed})


def is_overdue(d: Determination, now: datetime) -> bool:
    """Past `respondBy` with no response waiting for a reviewer and none accepted."""
    return d.status in OPEN and d.respond_by is not None and now >= d.respond_by


def expire(d: Determination, now: datetime) -> Determination:
    return d.model_copy(update={"status": DeterminationStatus.EXPIRED, "closed_at": now})


def suspends(before: Determination, after: Determination) -> bool:
    """Whether this change is the one that suspends the customer (an expiry)."""
    return after.status is DeterminationStatus.EXPIRED and before.status is not DeterminationStatus.EXPIRED


def determination_id(customer_id: str, notification_id: str) -> str:
    """A determination's id: its customer's id and the confirmation email's (so it names its partition)."""
    return f"{customer_id}.{notification_id}"


def customer_of(determination_id: str) -> str:
    """The customer a determination id belongs to ("" when it is malformed)."""
    customer_id, dot, rest = determination_id.partition(".")
    valid = dot and len(customer_id) == 32 and all(c in "0123456789abcdef" for c in customer_id) and 0 < len(rest) <= 64
    return customer_id if valid else ""
