"""The feedback channel: anyone may report a false rejection, an accessibility or privacy problem."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.feedback_refs import feedback_ref
from shared.adapters.rate_limit import RateLimiter
from shared.adapters.review_stats import ReviewStats
from shared.adapters.shards import day_partition, time_range_page
from shared.adapters.tables import Tables, etag_of, from_entity, to_entity, utc
from shared.domain.clock import Clock
from shared.domain.keys import Keyring
from shared.domain.records import Feedback
from shared.domain.secrets import address_ref, new_id
from shared.errors import DomainError


class RateLimited(DomainError):
    status, code = 429, "rate_limited"


@dataclass
class FeedbackService:
    tables: Tables
    limiter: RateLimiter
    clock: Clock
    keys: Keyring
    stats: ReviewStats | None = None  # counts reports by category for the review overview

    def submit(
        self,
        *,
        category: str,
        message: str,
        correlation_id: str | None,
        contact: str | None,
        customer_id: str | None,
        client_address: str,
    ) -> Feedback:
        """Store one report; 429 when this client address sent too many lately."""
        now = self.clock()
        wait = self.limiter.hit(f"feedback_{address_ref(self.keys, client_address)}", now)
        if wait is not None:
            raise RateLimited("Too much feedback from this address; please wait a little.", retry_after=wait)
        feedback = Feedback(
            feedback_id=new_id(),
            category=category,
            message=message,
            correlation_id=correlation_id,
            customer_id=customer_id,
            contact=contact,
            created_at=now,
        )
        partition, row = day_partition(now, feedback.feedback_id), f"{now.isoformat()}_{feedback.feedback_id}"
        if correlation_id:  # written ahead: erasure finds the report through it
            self.tables.client("feedbackrefs").upsert_entity(feedback_ref(correlation_id, partition, row))
        self.tables.client("feedback").create_entity(to_entity(feedback, partition, row))
        if self.stats is not None:
            self.stats.record("feedback", category, now, feedback.feedback_id)
        return feedback

    def page(
        self, start: datetime, end: datetime, size: int, token: dict[str, str] | None
    ) -> tuple[list[Feedback], dict[str, str] | None]:
        """Reports received in [start, end), oldest first."""
        rows, next_token = time_range_page(self.tables.client("feedback"), utc(start), utc(end), size, token)
        return [from_entity(Feedback, row) for row in rows], next_token

    def scrub_subject(self, customer_id: str, correlation_id: str) -> int:
        """Remove a GUID from reports that name it (erasure); the report itself stays. The reports
        are found through their references (one partition query), not by reading every report."""
        table, refs = self.tables.client("feedback"), self.tables.client("feedbackrefs")
        changed = 0
        for ref in list(refs.query_entities("PartitionKey eq @guid", parameters={"guid": correlation_id})):
            partition, _, row_key = ref["RowKey"].partition("|")
            try:
                row = table.get_entity(partition, row_key)
            except ResourceNotFoundError:
                row = None
            if row is not None and row.get("customer_id") not in (None, customer_id):
                continue  # another customer's GUID that happens to be the same: not ours to erase
            if row is not None and row.get("correlation_id") == correlation_id:
                del row["correlation_id"]
                with contextlib.suppress(ResourceModifiedError, ResourceNotFoundError):
                    table.update_entity(
                        row, mode=UpdateMode.REPLACE, etag=etag_of(row), match_condition=MatchConditions.IfNotModified
                    )
                    changed += 1
            with contextlib.suppress(ResourceNotFoundError):
                refs.delete_entity(ref["PartitionKey"], ref["RowKey"])
        return changed
