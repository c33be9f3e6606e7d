"""The review index: subjects listed by review status, sharded, checked against the subject rows."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.shards import all_shards, merged_page, shard_of, shard_query
from shared.adapters.subject_rows import (
    if_unchanged,
    subject_partition,
)
from shared.adapters.tables import Tables, Versioned, etag_of, from_entity, to_entity
from shared.domain.records import ReviewIndexEntry

if TYPE_CHECKING:
    pass


class ReviewIndex:
    """Subjects listed by review status (`pending`, `blocked`, `retired`), so a listing costs what it lists.

    The subject row is the truth. An index row is written *before* the subject change it announces,
    and every listing checks each row against its subject and drops the ones that do not match — so
    an interrupted or lost write can leave a stale index row (cleaned on read), never a missing one.
    """

    def __init__(self, tables: Tables) -> None:
        self._table = tables.client("reviewindex")

    def put(self, status: str, entry: ReviewIndexEntry) -> None:
        row = subject_partition(entry.customer_id, entry.correlation_id)
        self._table.upsert_entity(to_entity(entry, _index_partition(status, row), row), mode=UpdateMode.REPLACE)

    def remove(
        self, status: str, customer_id: str, correlation_id: str, etag: str | None = None, partition: str | None = None
    ) -> None:
        """Drop a subject's row from a status (from `partition` when a listing read it elsewhere)."""
        row = subject_partition(customer_id, correlation_id)
        kwargs: dict[str, Any] = if_unchanged(etag) if etag else {}
        with contextlib.suppress(ResourceNotFoundError, ResourceModifiedError):
            self._table.delete_entity(partition or _index_partition(status, row), row, **kwargs)

    def page(
        self, status: str, size: int, token: dict[str, str] | None
    ) -> tuple[list[IndexRow], dict[str, str] | None]:
        """One page of a status's rows across its shards, in (customer, GUID) order."""

        partitions = [f"{status}-{shard}" for shard in all_shards()] + [status]  # + rows from before shards
        queries = [shard_query(self._table, "PartitionKey eq @pk", {"pk": p}) for p in partitions]
        rows, next_token = merged_page(queries, size, token)
        return [IndexRow(from_entity(ReviewIndexEntry, r), etag_of(r), r["PartitionKey"]) for r in rows], next_token


@dataclass(frozen=True)
class IndexRow(Versioned[ReviewIndexEntry]):
    """A review index row as listed: with the partition (shard) it was read from."""

    partition: str = ""


def _index_partition(status: str, row: str) -> str:
    return f"{status}-{shard_of(row)}"
