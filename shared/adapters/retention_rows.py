"""The rows the retention sweep reads and deletes (docs/retention.md), so the sweep itself decides
only what is due: one partition's rows, ETag-guarded batch deletes, the day-partitioned tables by
partition-key range, and the once-per-deployment backfill of the expiry index."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.adapters.audit_log import AUDIT_ROW_PREFIX
from shared.adapters.batch_delete import BatchDeleter
from shared.adapters.expiry_index import BACKFILLED, PROGRESS
from shared.adapters.feedback_store import feedback_ref
from shared.adapters.shards import all_shards
from shared.adapters.tables import Tables, from_entity
from shared.domain.records import AuditEntry

Row = dict[str, Any]
OnBatch = Callable[[int], None] | None
BACKFILL_SOURCES = (  # every partition written before the expiry index existed
    ("subjects", "RowKey eq @row", {"row": "subject"}),
    ("subjects", "RowKey ge @lo and RowKey lt @hi", {"lo": "attempt_", "hi": "subject"}),
    ("customers", "RowKey ge @lo and RowKey lt @hi", {"lo": AUDIT_ROW_PREFIX, "hi": "audit`"}),
    ("notifications", "RowKey eq @row", {"row": "ledger"}),
    ("ratelimits", "RowKey ne @none", {"none": ""}),
    ("facesessions", "RowKey ne @none", {"none": ""}),
)


class RetentionRows:
    """Reads and ETag-guarded deletes for the sweep (`page_size` rows per page)."""

    def __init__(self, tables: Tables, page_size: int = 1000) -> None:
        self._tables = tables
        self.page_size = page_size

    def partition(self, table: str, partition: str) -> list[Row]:
        """Every row of one partition."""
        return list(self._tables.client(table).query_entities("PartitionKey eq @pk", parameters={"pk": partition}))

    def delete(self, table: str, rows: Iterable[Row], on_batch: OnBatch = None) -> int:
        """Delete rows as read (a row changed meanwhile stays); returns how many went."""
        return BatchDeleter(self._tables.client(table), on_batch).delete(rows)

    def audit_waiting(self, partition: str) -> list[AuditEntry]:
        """Audit entries a customer change left in its partition (their relay failed at the time)."""
        rows = self._tables.client("customers").query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": partition, "lo": AUDIT_ROW_PREFIX, "hi": "audit`"},
        )
        return [from_entity(AuditEntry, r) for r in rows]

    # --- the backfill ----------------------------------------------------------------------
    def backfilled(self) -> bool:
        with contextlib.suppress(ResourceNotFoundError):
            self._tables.client("expiry").get_entity(PROGRESS, BACKFILLED)
            return True
        return False

    def written_before_the_index(self) -> Iterator[tuple[str, str]]:
        """(table, partition) of every partition the expiry index may not know (reads whole tables)."""
        for table, query, parameters in BACKFILL_SOURCES:
            rows = self._tables.client(table).query_entities(query, parameters=parameters, select=["PartitionKey"])
            for partition in {row["PartitionKey"] for row in rows}:
                yield table, partition

    def reference_feedback(self) -> None:
        """A GUID reference for every report that names one (reports written before references)."""
        refs = self._tables.client("feedbackrefs")
        for row in self._tables.client("feedback").query_entities("correlation_id ne @none", parameters={"none": ""}):
            refs.upsert_entity(feedback_ref(row["correlation_id"], row["PartitionKey"], row["RowKey"]))

    def mark_backfilled(self, now: datetime, filed: int) -> None:
        self._tables.client("expiry").upsert_entity(
            {"PartitionKey": PROGRESS, "RowKey": BACKFILLED, "at": now, "filed": filed}
        )

    # --- day-partitioned tables ------------------------------------------------------------
    def delete_days(self, table: str, column: str, cutoff: datetime, on_batch: OnBatch = None) -> tuple[int, int]:
        """Rows older than `cutoff` in `<shard>-<day>` partitions (and the unsharded `<day>` ones
        written before shards): whole past days by partition-key range, then the cut-off day.
        Returns (removed, read); a deleted feedback report's GUID reference goes with it."""
        client = self._tables.client(table)
        deleter = BatchDeleter(client, on_batch)
        day = cutoff.strftime("%Y-%m-%d")
        removed = read = 0
        for prefix in [f"{shard}-" for shard in all_shards()] + [""]:
            queries = (
                ("PartitionKey ge @lo and PartitionKey lt @hi", {"lo": prefix + "0", "hi": prefix + day}),
                (f"PartitionKey eq @pk and {column} lt @cutoff", {"pk": prefix + day, "cutoff": cutoff}),
            )
            for query, parameters in queries:
                for rows in self._pages(client, query, parameters):
                    read += len(rows)
                    removed += deleter.delete(rows)
                    if table == "feedback":
                        self._drop_feedback_refs(rows)
        return removed, read

    def _pages(self, client: Any, query: str, parameters: dict[str, Any]) -> Iterator[list[Row]]:
        pager = client.query_entities(query, parameters=parameters, results_per_page=self.page_size)
        for page in pager.by_page():  # follows continuation tokens, empty pages included
            yield list(page)

    def _drop_feedback_refs(self, rows: list[Row]) -> None:
        refs = self._tables.client("feedbackrefs")
        for row in rows:
            if row.get("correlation_id"):
                with contextlib.suppress(ResourceNotFoundError):
                    ref = feedback_ref(row["correlation_id"], row["PartitionKey"], row["RowKey"])
                    refs.delete_entity(ref["PartitionKey"], ref["RowKey"])
