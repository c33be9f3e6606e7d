"""The notification ledger table (partition = notification id, row `ledger`)."""

from __future__ import annotations

from collections.abc import Callable

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.stores import Versioned
from shared.adapters.tables import StaleWrite, Tables, etag_of, from_entity, to_entity
from shared.domain.records import LedgerEntry
from shared.unit_of_work import until_committed

ROW = "ledger"


class NotificationLedger:
    def __init__(self, tables: Tables) -> None:
        self._table = tables.client("notifications")

    def get(self, notification_id: str) -> Versioned[LedgerEntry] | None:
        try:
            entity = self._table.get_entity(notification_id, ROW)
        except ResourceNotFoundError:
            return None
        return Versioned(from_entity(LedgerEntry, entity), etag_of(entity))

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
            try:
                self._table.update_entity(
                    to_entity(changed, notification_id, ROW),
                    mode=UpdateMode.REPLACE,
                    etag=current.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            except ResourceModifiedError as exc:
                raise StaleWrite(str(exc)) from exc
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
