"""Spreading a hot partition over shards, and listing the shards as one.

A single partition serves about 2,000 entities per second at most. The audit log and feedback
(one partition per UTC day) and the review index (one per status, for every customer) would put
every writer on one partition, so each writes to one of `SHARDS` partitions picked by a hash of
the row's own id (`s<n>-<day>` / `<status>-s<n>`). A listing reads every shard — plus the
unsharded partition rows written before shards existed — with one query each, and merges them by
row key: a page costs one query per shard, and its continuation token is the last row key it
returned, so paging needs no server-side token per shard.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import islice
from typing import Any

from azure.data.tables import TableClient

SHARDS = 4
ShardQuery = Callable[[str | None, int], Iterable[dict[str, Any]]]


def shard_of(key: str) -> str:
    """The shard (`s0`…`s3`) a row with this id is written to; stable for the id."""
    return f"s{int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % SHARDS}"


def all_shards() -> list[str]:
    return [f"s{n}" for n in range(SHARDS)]


def merged_page(
    queries: Iterable[ShardQuery],
    size: int,
    token: dict[str, str] | None,
) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """One page, in row-key order, of the rows several shard queries return.

    Each query gets the row key to continue after (None for the first page) and how many rows
    to return at most, and returns rows in row-key order. The next token is the last row key
    returned, or None when every shard is exhausted."""
    after = (token or {}).get("after")
    results = [list(islice(query(after, size), size)) for query in queries]
    merged = list(islice(heapq.merge(*results, key=lambda row: row["RowKey"]), size))
    more = sum(len(rows) for rows in results) > size or any(len(rows) == size for rows in results)
    return merged, ({"after": merged[-1]["RowKey"]} if merged and more else None)


def shard_query(table: TableClient, query: str, parameters: dict[str, Any]) -> ShardQuery:
    """One shard's part of a listing: the query, continued after a row key when paging on."""

    def run(after: str | None, n: int) -> Iterable[dict[str, Any]]:
        text, values = (
            (query, parameters) if after is None else (f"{query} and RowKey gt @after", {**parameters, "after": after})
        )
        return table.query_entities(text, parameters=values, results_per_page=n)

    return run


def day_partition(at: datetime, row_id: str) -> str:
    """The partition of a time-ordered row (audit entry, feedback report): `<shard>-<UTC day>`."""
    return f"{shard_of(row_id)}-{at.strftime('%Y-%m-%d')}"


def time_range_page(
    table: TableClient,
    start: datetime,
    end: datetime,
    size: int,
    token: dict[str, str] | None,
    condition: str = "",
    parameters: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """Rows with start <= row key time < end, oldest first, across every day shard (row keys are
    `<ISO time>_<id>`); `condition` narrows further (with its own `parameters`)."""
    first, last = start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
    query = "PartitionKey ge @first and PartitionKey le @last and RowKey ge @lo and RowKey lt @hi" + condition
    window = {"lo": start.isoformat(), "hi": end.isoformat(), **(parameters or {})}
    prefixes = [f"{s}-" for s in all_shards()] + [""]  # "": the day partitions written before shards existed
    queries = [shard_query(table, query, {"first": p + first, "last": p + last, **window}) for p in prefixes]
    return merged_page(queries, size, token)
