"""The feedback channel: anyone may report a false rejection, an accessibility or privacy problem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.adapters.feedback_store import FeedbackStore
from shared.adapters.rate_limit import RateLimiter
from shared.adapters.review_stats import ReviewStats
from shared.domain.clock import Clock
from shared.domain.keys import Keyring
from shared.domain.records import Feedback, FeedbackCategory
from shared.domain.secrets import address_ref, new_id
from shared.errors import DomainError


class RateLimited(DomainError):
    status, code = 429, "rate_limited"


@dataclass
class FeedbackService:
    store: FeedbackStore
    limiter: RateLimiter
    clock: Clock
    keys: Keyring
    stats: ReviewStats  # counts reports by category for the review overview

    def submit(
        self,
        *,
        category: FeedbackCategory,
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
        self.store.add(feedback)
        self.stats.record("feedback", category.value, now, feedback.feedback_id)
        return feedback

    def page(
        self, start: datetime, end: datetime, size: int, token: dict[str, str] | None
    ) -> tuple[list[Feedback], dict[str, str] | None]:
        """Reports received in [start, end), oldest first."""
        return self.store.page(start, end, size, token)

    def scrub_subject(self, customer_id: str, correlation_id: str) -> int:
        """Remove a GUID from reports that name it (erasure); the report itself stays. The reports
        are found through their references (one partition query), not by reading every report."""
        return self.store.scrub(customer_id, correlation_id)
