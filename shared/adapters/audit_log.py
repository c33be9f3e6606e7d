"""The append-only audit log: who did what, when (UTC) and why. Nothing secret goes in.

Rows are partitioned by UTC day (`yyyy-mm-dd`) with row keys `<iso time>_<random>`, so a time range
is a parameterised range query and entries are only ever inserted, never updated.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from shared.adapters.paging import read_page
from shared.adapters.tables import Tables, decode_value, utc
from shared.domain.secrets import new_id

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
MAX_FIELD = 500


def clean(text: str | None) -> str | None:
    """Neutralise log injection: control characters become spaces, length is capped."""
    if text is None:
        return None
    return _CONTROL.sub(" ", text)[:MAX_FIELD]


class AuditLog:
    """Appends audit entries."""

    def __init__(self, tables: Tables) -> None:
        self._table = tables.client("audit")

    def append(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        target: str | None = None,
        reason: str | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> None:
        when = utc(at)
        entity: dict[str, Any] = {
            "PartitionKey": when.strftime("%Y-%m-%d"),
            "RowKey": f"{when.isoformat()}_{new_id()}",
            "at": when,
            "actor": clean(actor),
            "action": clean(action),
            "outcome": clean(outcome),
        }
        for key, value in (("target", target), ("reason", reason)):
            if value is not None:
                entity[key] = clean(value)
        for key, value in (detail or {}).items():
            entity[key] = value if isinstance(value, int | bool) else clean(str(value))
        self._table.create_entity(entity)

    def page(
        self, start: datetime, end: datetime, size: int, token: dict[str, str] | None, target: str | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Entries with start <= at < end (UTC), oldest first, optionally for one target, a page at a time."""
        start, end = utc(start), utc(end)
        query = "PartitionKey ge @first and PartitionKey le @last and RowKey ge @lo and RowKey lt @hi"
        parameters = {
            "first": start.strftime("%Y-%m-%d"),
            "last": end.strftime("%Y-%m-%d"),
            "lo": start.isoformat(),
            "hi": end.isoformat(),
        }
        if target is not None:
            query += " and target eq @target"
            parameters["target"] = target
        rows, next_token = read_page(
            lambda n: self._table.query_entities(query, parameters=parameters, results_per_page=n),
            size,
            token,
        )
        entries = [{k: decode_value(v) for k, v in row.items() if k not in ("PartitionKey", "RowKey")} for row in rows]
        return entries, next_token
