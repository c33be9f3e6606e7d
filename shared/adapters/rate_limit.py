"""Fixed-window rate limiting in Table Storage (one row per key and window, ETag-guarded counter)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.tables import StaleWrite, Tables
from shared.unit_of_work import until_committed


class RateLimiter:
    def __init__(self, tables: Tables, limit: int, window: timedelta) -> None:
        self._table = tables.client("ratelimits")
        self._limit = limit
        self._window = window

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
                try:
                    self._table.create_entity({"PartitionKey": key, "RowKey": row, "count": 1, "window_end": end})
                    return None
                except ResourceExistsError as exc:
                    raise StaleWrite(str(exc)) from exc
            if entity["count"] >= self._limit:
                return max(1, math.ceil((end - now).total_seconds()))
            entity["count"] += 1
            try:
                self._table.update_entity(
                    entity,
                    mode=UpdateMode.MERGE,
                    etag=entity.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
            except ResourceModifiedError as exc:
                raise StaleWrite(str(exc)) from exc
            return None

        return until_committed(attempt, "The rate limit")
