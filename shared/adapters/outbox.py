"""Webhook events waiting beside the change that caused them (docs/api.md, "Webhooks").

An event is written as an outbox row in the same transaction as its cause, queued right after the
commit, and its row dropped; what a crash leaves, the partition's retention check queues.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.tables import Tables
from shared.domain.webhook_events import WebhookEvent

EVENT_PREFIX = "webhook_"  # an event waiting, beside the change that caused it, to be queued


def event_row(event: WebhookEvent, partition: str | None = None) -> dict[str, Any]:
    """The outbox row of an event (in the customer's partition unless another is named)."""
    return {
        "PartitionKey": partition or event.customer_id,
        "RowKey": f"{EVENT_PREFIX}{event.event_id}",
        "event": event.model_dump_json(by_alias=True),
    }


def is_event_row(row: Any) -> bool:
    return str(row["RowKey"]).startswith(EVENT_PREFIX)


def event_of(row: Any) -> WebhookEvent:
    return WebhookEvent.model_validate_json(row["event"])


class Outbox:
    """The outbox rows of one table's partitions."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def drop(self, table: str, partition: str, event: WebhookEvent) -> None:
        """Drop an event's row once it is queued (gone already: nothing to do)."""
        with contextlib.suppress(ResourceNotFoundError):
            self._tables.client(table).delete_entity(partition, f"{EVENT_PREFIX}{event.event_id}")

    def left(self, table: str, partition: str) -> list[WebhookEvent]:
        """The events a crash left in a partition."""
        rows = self._tables.client(table).query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": partition, "lo": EVENT_PREFIX, "hi": "webhook`"},
        )
        return [event_of(r) for r in rows]


REGISTRATION_ROW = "webhook"  # the customer's endpoint, in its partition of `customers`


class WebhookRegistrations:
    """Each customer's webhook endpoint: URL, chosen events and the sealed signing secret."""

    def __init__(self, tables: Tables) -> None:
        self._table = tables.client("customers")

    def put(self, customer_id: str, url: str, events: tuple[str, ...], sealed_secret: str, at: Any) -> None:
        self._table.upsert_entity(
            {
                "PartitionKey": customer_id,
                "RowKey": REGISTRATION_ROW,
                "url": url,
                "events": json.dumps(list(events)),
                "sealed_secret": sealed_secret,
                "updated_at": at,
            },
            mode=UpdateMode.REPLACE,
        )

    def get(self, customer_id: str) -> tuple[str, tuple[str, ...], str] | None:
        """(url, events, sealed secret), or None when the customer has no endpoint."""
        try:
            row = self._table.get_entity(customer_id, REGISTRATION_ROW)
        except ResourceNotFoundError:
            return None
        return row["url"], tuple(json.loads(row["events"])), row["sealed_secret"]

    def delete(self, customer_id: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self._table.delete_entity(customer_id, REGISTRATION_ROW)
