"""The notification ledger table (partition = notification id, row `ledger`)."""

from __future__ import annotations

from collections.abc import Callable

from azure.core.exceptions import ResourceExistsError

from shared.adapters.tables import Tables, Versioned, read_versioned, to_entity, write_if_unchanged
from shared.domain.records import LedgerEntry
from shared.unit_of_work import until_committed

ROW = "ledger"


class NotificationLedger:
    def __init__(self, tables: Tables) -> None:
        self._table = tables.client("notifications")

    def get(self, notification_id: str) -> Versioned[LedgerEntry] | None:
        return read_versioned(self._table, LedgerEntry, notification_id, ROW)

    def create(self, entry: LedgerEntry) -> bool:
        """Insert a new entry; False when one exists already."""
        try:
            self._table.create_entity(to_entity(entry, entry.notification_id, ROW))
        except ResourceExistsError:
            return False
        return True

    def change(self, notification_id: str, update: Callable[[LedgerEntry], LedgerEntry]) -> LedgerEntry:
        """Read-modify-write one entry under its ETag, retrying lost races."""

        def attempt() -> LedgerEntry:
            current = self.get(notification_id)
            if current is None:
                raise KeyError(notification_id)
            changed = update(current.record)
            write_if_unchanged(self._table, to_entity(changed, notification_id, ROW), current.etag)
            return changed

        return until_committed(attempt, "The notification ledger entry")

    def scrub_subject(self, customer_id: str, correlation_id: str) -> int:
        """Drop a GUID from the ledger (erasure); the entries stay so no email is sent twice."""
        rows = self._table.query_entities(
            "correlation_id eq @guid and customer_id eq @customer",
            parameters={"guid": correlation_id, "customer": customer_id},
        )
        scrubbed = 0
        for row in rows:
            self.change(row["PartitionKey"], lambda e: e.model_copy(update={"correlation_id": None}))
            scrubbed += 1
        return scrubbed
