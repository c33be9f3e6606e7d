"""The notification ledger table (partition = notification id, row `ledger`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from azure.core.exceptions import ResourceExistsError

from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.tables import Tables, Versioned, read_versioned, to_entity, write_if_unchanged
from shared.domain.records import LedgerEntry
from shared.unit_of_work import until_committed

ROW = "ledger"


class NotificationLedger:
    def __init__(self, tables: Tables, expiry: ExpiryIndex | None = None, kept: timedelta = timedelta(days=30)) -> None:
        self._table = tables.client("notifications")
        self._expiry = expiry
        self._kept = kept

    def get(self, notification_id: str) -> Versioned[LedgerEntry] | None:
        return read_versioned(self._table, LedgerEntry, notification_id, ROW)

    def create(self, entry: LedgerEntry) -> bool:
        """Insert a new entry (its retention check filed ahead); False when one exists already."""
        if self._expiry is not None:
            self._expiry.schedule("notifications", entry.notification_id, entry.updated_at + self._kept)
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

    def scrub_subject(self, customer_id: str, correlation_id: str, notification_ids: Iterable[str]) -> int:
        """Drop a GUID from its ledger entries, known by id (erasure); the entries stay so no email
        is sent twice."""
        scrubbed = 0
        for notification_id in dict.fromkeys(notification_ids):
            found = self.get(notification_id)
            if found is None or (found.record.customer_id, found.record.correlation_id) != (
                customer_id,
                correlation_id,
            ):
                continue
            self.change(notification_id, lambda e: e.model_copy(update={"correlation_id": None}))
            scrubbed += 1
        return scrubbed
