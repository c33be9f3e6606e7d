"""Fixed-window rate limiting in Table Storage (one row per key and window, ETag-guarded counter)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.tables import Tables, write_if_unchanged
from shared.unit_of_work import until_committed


class RateLimiter:
    def __init__(
        self,
        tables: Tables,
        limit: int,
        window: timedelta,
        expiry: ExpiryIndex | None = None,
        kept: timedelta = timedelta(days=1),
    ) -> None:
        self._table = tables.client("ratelimits")
        self._limit = limit
        self._window = window
        self._expiry = expiry
        self._kept = kept

    def hit(self, key: str, now: datetime) -> int | None:
        """Count one request for `key`; None when allowed, else seconds until the window ends."""
        seconds = self._window.total_seconds()
        start = datetime.fromtimestamp(math.floor(now.timestamp() / seconds) * seconds, UTC)
        end = start + self._window
        row = start.strftime("%Y%m%dT%H%M%S")

        def attempt() -> int | None:
            try:
                entity = self._table.get_entity(key, row)
            except ResourceNotFoundError:
                if self._expiry is not None:  # a new window: its retention check, filed ahead
                    self._expiry.schedule("ratelimits", key, end + self._kept)
                write_if_unchanged(
                    self._table, {"PartitionKey": key, "RowKey": row, "count": 1, "window_end": end}, None
                )
                return None
            if entity["count"] >= self._limit:
                return max(1, math.ceil((end - now).total_seconds()))
            entity["count"] += 1
            write_if_unchanged(self._table, entity, entity.metadata["etag"], UpdateMode.MERGE)
            return None

        return until_committed(attempt, "The rate limit")
