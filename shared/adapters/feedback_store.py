"""Feedback reports (table `feedback`, partition = shard and UTC day) and their references by the
GUID they name (table `feedbackrefs`, partition = GUID), so erasure finds a GUID's reports with one
partition query instead of reading every report."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.shards import day_partition, time_range_page
from shared.adapters.tables import Tables, etag_of, from_entity, to_entity, utc
from shared.domain.records import Feedback


def feedback_ref(correlation_id: str, partition: str, row: str) -> dict[str, Any]:
    """The reference row pointing at one feedback report."""
    return {"PartitionKey": correlation_id, "RowKey": f"{partition}|{row}"}


class FeedbackStore:
    """Reports and their GUID references."""

    def __init__(self, tables: Tables) -> None:
        self._reports = tables.client("feedback")
        self._refs = tables.client("feedbackrefs")

    def add(self, feedback: Feedback) -> None:
        """Store one report (its GUID reference written ahead: erasure finds the report through it)."""
        at = feedback.created_at
        partition, row = day_partition(at, feedback.feedback_id), f"{at.isoformat()}_{feedback.feedback_id}"
        if feedback.correlation_id:
            self._refs.upsert_entity(feedback_ref(feedback.correlation_id, partition, row))
        self._reports.create_entity(to_entity(feedback, partition, row))

    def page(
        self, start: datetime, end: datetime, size: int, token: dict[str, str] | None
    ) -> tuple[list[Feedback], dict[str, str] | None]:
        """Reports received in [start, end), oldest first."""
        rows, next_token = time_range_page(self._reports, utc(start), utc(end), size, token)
        return [from_entity(Feedback, row) for row in rows], next_token

    def scrub(self, customer_id: str, correlation_id: str) -> int:
        """Remove a GUID from the reports that name it (the report itself stays); returns how many."""
        changed = 0
        for ref in list(self._refs.query_entities("PartitionKey eq @guid", parameters={"guid": correlation_id})):
            partition, _, row_key = ref["RowKey"].partition("|")
            try:
                row = self._reports.get_entity(partition, row_key)
            except ResourceNotFoundError:
                row = None
            if row is not None and row.get("customer_id") not in (None, customer_id):
                continue  # another customer's GUID that happens to be the same: not ours to erase
            if row is not None and row.get("correlation_id") == correlation_id:
                del row["correlation_id"]
                with contextlib.suppress(ResourceModifiedError, ResourceNotFoundError):
                    self._reports.update_entity(
                        row, mode=UpdateMode.REPLACE, etag=etag_of(row), match_condition=MatchConditions.IfNotModified
                    )
                    changed += 1
            with contextlib.suppress(ResourceNotFoundError):
                self._refs.delete_entity(ref["PartitionKey"], ref["RowKey"])
        return changed
