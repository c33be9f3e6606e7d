"""Webhook events (docs/api.md, Webhooks): what a customer's endpoint receives, signed per Standard Webhooks.

An event's id is derived from its cause, so the same change always yields the same `webhook-id`
(retries, replays and repairs included) and a receiver can drop what it has seen. Payloads carry
ids, the GUID and statuses only: no tokens, keys, IPs or attempt details.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shared.domain.determinations import Determination
from shared.domain.records import Customer, CustomerStatus

EVENT_TYPES = (
    "subject.flagged",
    "subject.blocked",
    "subject.retired",
    "determination.created",
    "determination.resolved",
    "customer.warned",
    "customer.suspended",
    "customer.reinstated",
    "customer.terminated",
)
_NAMESPACE = uuid.UUID("0c4f2a6e-5d7b-4b8e-9a53-3e1f6d2c8b70")


class WebhookEvent(BaseModel):
    """One event for one customer, as queued for delivery (with its delivery bookkeeping)."""

    model_config = ConfigDict(
        defer_build=True, alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )

    event_id: str
    type: str
    customer_id: str
    timestamp: AwareDatetime
    data: dict[str, Any]
    first_attempt_at: AwareDatetime | None = None
    attempt: int = 0


def webhook_event(kind: str, customer_id: str, cause: str, at: datetime, data: dict[str, Any]) -> WebhookEvent:
    """The event for one cause (`cause` names what happened, e.g. a determination id and status)."""
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {kind}")
    event_id = "evt_" + uuid.uuid5(_NAMESPACE, f"{kind}|{customer_id}|{cause}").hex
    return WebhookEvent(event_id=event_id, type=kind, customer_id=customer_id, timestamp=at, data=data)


def payload(event: WebhookEvent) -> str:
    """The body the endpoint receives: `{"type", "timestamp", "data"}` (compact JSON)."""
    body = {"type": event.type, "timestamp": event.timestamp.isoformat(), "data": event.data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str)


def determination_created(d: Determination) -> WebhookEvent:
    return webhook_event(
        "determination.created",
        d.customer_id,
        d.determination_id,
        d.determined_at,
        {
            "determinationId": d.determination_id,
            "correlationId": d.correlation_id,
            "severity": d.severity.value,
            "status": d.status.value,
            "respondBy": d.respond_by.isoformat() if d.respond_by else None,
            "reason": d.reason,
            "respondWith": f"POST /api/v1/determinations/{d.determination_id}/response",
        },
    )


def customer_event(customer: Customer, now: datetime) -> WebhookEvent:
    """`customer.<status>` for a customer that just changed status (one id per change)."""
    moment = customer.suspended_at if customer.status is CustomerStatus.SUSPENDED and customer.suspended_at else now
    return webhook_event(
        f"customer.{'reinstated' if customer.status is CustomerStatus.ACTIVE else customer.status.value}",
        customer.customer_id,
        moment.isoformat(),
        moment,
        {"customerId": customer.customer_id, "status": customer.status.value},
    )


def determination_resolved(d: Determination, now: datetime) -> WebhookEvent:
    """`determination.resolved`: a reviewer's verdict on the response, or the expiry (one per change)."""
    return webhook_event(
        "determination.resolved",
        d.customer_id,
        f"{d.determination_id}|{d.status.value}|{len(d.resolutions)}",
        now,
        {
            "determinationId": d.determination_id,
            "correlationId": d.correlation_id,
            "status": d.status.value,
            "outcome": d.resolutions[-1].outcome if d.resolutions and d.status.value != "expired" else None,
            "respondBy": d.respond_by.isoformat() if d.respond_by else None,
        },
    )


def subject_blocked(d: Determination) -> WebhookEvent:
    """`subject.blocked`: a reviewer confirmed abuse for the GUID (sent with its determination)."""
    data = {"correlationId": d.correlation_id, "determinationId": d.determination_id, "reason": d.reason}
    return webhook_event("subject.blocked", d.customer_id, f"{d.correlation_id}|blocked", d.determined_at, data)
