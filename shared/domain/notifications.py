"""Notification messages on the `abuse-notifications` queue (schema version 1).

The id is derived from what caused the notification, so the same determination always yields the
same id: retries, replays and repairs can never produce a second email for it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shared.domain.determinations import Severity

SCHEMA_VERSION = 1
_NAMESPACE = uuid.UUID("6f1c1f0e-3b1a-4c55-9d7e-2f4a8a0b9c11")


class NotificationKind(StrEnum):
    ABUSE_CONFIRMED = "abuse_confirmed"
    CUSTOMER_SUSPENDED = "customer_suspended"


class Notification(BaseModel):
    """A message asking the notification function to email a customer."""

    model_config = ConfigDict(
        defer_build=True, alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )

    schema_version: Literal[1] = SCHEMA_VERSION
    notification_id: str
    kind: NotificationKind
    customer_id: str
    correlation_id: str | None = None
    determined_at: AwareDatetime
    reason: str | None = None
    confirmations_in_window: int | None = None
    severity: Severity | None = None  # of an abuse confirmation (standard when absent)
    respond_by: AwareDatetime | None = None  # when the customer must have responded (standard confirmations)
    guideline_id: str | None = None  # the reviewer guideline the confirmation followed


def notification_id(kind: NotificationKind, customer_id: str, subject: str, moment: datetime) -> str:
    """A deterministic id for one notification cause."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind.value}|{customer_id}|{subject}|{moment.isoformat()}"))


def abuse_confirmed(
    customer_id: str,
    correlation_id: str,
    flagged_at: datetime,
    at: datetime,
    reason: str,
    severity: Severity = Severity.STANDARD,
    respond_by: datetime | None = None,
    guideline_id: str | None = None,
) -> Notification:
    return Notification(
        notification_id=notification_id(NotificationKind.ABUSE_CONFIRMED, customer_id, correlation_id, flagged_at),
        kind=NotificationKind.ABUSE_CONFIRMED,
        customer_id=customer_id,
        correlation_id=correlation_id,
        determined_at=at,
        reason=reason,
        severity=severity,
        respond_by=respond_by if severity is Severity.STANDARD else None,
        guideline_id=guideline_id,
    )


def customer_suspended(customer_id: str, at: datetime, confirmations: int) -> Notification:
    return Notification(
        notification_id=notification_id(NotificationKind.CUSTOMER_SUSPENDED, customer_id, "-", at),
        kind=NotificationKind.CUSTOMER_SUSPENDED,
        customer_id=customer_id,
        determined_at=at,
        confirmations_in_window=confirmations,
    )
