"""Delete rows in entity-group transactions of at most 100 per partition, safely under overlap.

Each delete carries the ETag the row was read with, so a row changed since (say, a subject that
became active again) is left alone. If a batch fails because another sweep got there first, its
rows are retried one by one, skipping the ones that are gone or changed.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError

from shared.adapters.tables import MAX_BATCH, etag_of


class BatchDeleter:
    def __init__(self, table: TableClient, on_batch: Callable[[int], None] | None = None) -> None:
        self._table = table
        self._on_batch = on_batch

    def delete(self, rows: Iterable[Any]) -> int:
        """Delete the given rows (as read, with their ETags); returns how many this call removed."""
        by_partition: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_partition[row["PartitionKey"]].append(row)
        removed = 0
        for partition_rows in by_partition.values():
            for start in range(0, len(partition_rows), MAX_BATCH):
                removed += self._batch(partition_rows[start : start + MAX_BATCH])
        return removed

    def _batch(self, rows: list[Any]) -> int:
        operations = [
            (
                "delete",
                {"PartitionKey": r["PartitionKey"], "RowKey": r["RowKey"]},
                {"etag": etag_of(r), "match_condition": MatchConditions.IfNotModified},
            )
            for r in rows
        ]
        try:
            self._table.submit_transaction(operations)
            removed = len(rows)
        except (TableTransactionError, ResourceNotFoundError, ResourceModifiedError, HttpResponseError):
            removed = sum(self._one(r) for r in rows)
        if self._on_batch is not None:
            self._on_batch(removed)
        return removed

    def _one(self, row: Any) -> int:
        with contextlib.suppress(ResourceNotFoundError, ResourceModifiedError):
            self._table.delete_entity(
                row["PartitionKey"], row["RowKey"], etag=etag_of(row), match_condition=MatchConditions.IfNotModified
            )
            return 1
        return 0
