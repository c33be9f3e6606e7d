"""Daily review statistics (table `reviewstats`): what `GET /review/overview` reads, so its cost
follows the days asked for, not every subject ever seen.

- Partition = the UTC day (`yyyy-mm-dd`). Each flag, decision and feedback report adds one event
  row `e|<hash>` there: a blind upsert (one round trip, no read, no contention), its key a hash of
  what caused it, so writing the same event twice counts it once. No GUID, IP or text is stored:
  only the kind (`confirm`) and a label (the flag's rule, the feedback category).
- The sweep folds a day's event rows into its `summary` row once the day is closed (two days
  old, when no queue redelivery can still write into it): the summary's new counts and the
  deletion of the rows they absorbed are one entity-group transaction, guarded by the summary's
  ETag, so a count is never lost or taken twice, even with two sweeps at once.
- A reader adds each day's summary and its remaining event rows: one range query for the window.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import AzureError
from azure.data.tables import UpdateMode

from shared.adapters.batch_delete import BatchDeleter
from shared.adapters.tables import StaleWrite, Tables, etag_of, submit
from shared.domain.review_overview import Tally, stat_key

log = logging.getLogger(__name__)
SUMMARY = "summary"
EVENT_PREFIX = "e|"
SETTLED = timedelta(days=2)  # a day this old takes no more events: it can be folded into its summary


class ReviewStats:
    """Counts flags, decisions and feedback per UTC day."""

    def __init__(self, tables: Tables) -> None:
        self._table = tables.client("reviewstats")

    def record(self, kind: str, label: str, at: datetime, cause: str) -> bool:
        """Count one event of `kind` (`flag`, `confirm`, …) on `at`'s day, once per `cause`. Best
        effort after the change it counts has committed: a failure is logged and returns False."""
        row = EVENT_PREFIX + hashlib.sha256(f"{kind}|{cause}".encode()).hexdigest()[:40]
        entity = {"PartitionKey": at.strftime("%Y-%m-%d"), "RowKey": row, "kind": kind, "label": label}
        try:
            self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except AzureError:
            log.warning("review statistics: a %s event could not be counted", kind, extra={"event": "stats.lost"})
            return False
        return True

    def tallies(self, first: date, last: date) -> dict[date, Tally]:
        """Each day's counts in [first, last]: its summary plus the events not yet folded in."""
        rows = self._table.query_entities(
            "PartitionKey ge @lo and PartitionKey le @hi",
            parameters={"lo": first.isoformat(), "hi": last.isoformat()},
            select=["PartitionKey", "RowKey", "kind", "label", "counts"],
        )
        tallies: dict[date, Tally] = {}
        for row in rows:
            tally = tallies.setdefault(date.fromisoformat(row["PartitionKey"]), Counter())
            _add(tally, row)
        return tallies

    def compact(self, today: date, look_back: int = 7) -> int:
        """Fold the settled days of the last `look_back` into their summaries; returns rows folded."""
        folded = 0
        for n in range(look_back):
            day = today - SETTLED - timedelta(days=n)
            folded += self._compact_day(day.isoformat())
        return folded

    def _compact_day(self, partition: str) -> int:
        folded = 0
        while True:
            rows = list(self._table.query_entities("PartitionKey eq @pk", parameters={"pk": partition}))
            summary = next((r for r in rows if r["RowKey"] == SUMMARY), None)
            events = [r for r in rows if r["RowKey"].startswith(EVENT_PREFIX)][:99]
            if not events:
                return folded
            counts: Tally = Counter()
            for row in [summary, *events] if summary else events:
                _add(counts, row)
            entity = {"PartitionKey": partition, "RowKey": SUMMARY, "counts": json.dumps(dict(sorted(counts.items())))}
            head: tuple[Any, ...] = ("create", entity)
            if summary:
                head = ("update", entity, {"mode": UpdateMode.REPLACE, **_unchanged(summary)})
            try:
                submit(self._table, [head, *(("delete", e, _unchanged(e)) for e in events)])
            except StaleWrite:
                continue  # another sweep folded some of them first: read again
            folded += len(events)

    def delete_before(self, day: date) -> int:
        """Drop whole days before `day` (retention); returns rows deleted."""
        rows = self._table.query_entities("PartitionKey lt @day", parameters={"day": day.isoformat()})
        return BatchDeleter(self._table).delete(rows)


def _add(tally: Tally, row: dict[str, Any]) -> None:
    if row["RowKey"] == SUMMARY:
        tally.update(json.loads(row.get("counts") or "{}"))
    elif row["RowKey"].startswith(EVENT_PREFIX):
        tally[stat_key(row.get("kind", ""), row.get("label", ""))] += 1


def _unchanged(row: dict[str, Any]) -> dict[str, Any]:
    return {"etag": etag_of(row), "match_condition": MatchConditions.IfNotModified}
