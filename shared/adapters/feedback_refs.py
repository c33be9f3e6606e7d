"""Feedback reports by the GUID they name (table `feedbackrefs`, partition = GUID), so erasure finds
a GUID's reports with one partition query instead of reading every report."""

from __future__ import annotations

from typing import Any


def feedback_ref(correlation_id: str, partition: str, row: str) -> dict[str, Any]:
    """The reference row pointing at one feedback report."""
    return {"PartitionKey": correlation_id, "RowKey": f"{partition}|{row}"}
