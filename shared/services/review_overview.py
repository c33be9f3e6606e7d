"""`GET /review/overview`: the daily statistics of a window plus the reviews pending now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.adapters.review_stats import ReviewStats
from shared.domain.clock import Clock
from shared.domain.review_overview import Overview, overview, window
from shared.services.review_queries import ReviewQueries


@dataclass
class ReviewOverviewService:
    stats: ReviewStats
    review: ReviewQueries
    clock: Clock
    sla: timedelta

    def overview(self, days: int) -> Overview:
        """The last `days` UTC days (today included; the route keeps it within 1..MAX_DAYS): one range
        query for the counts, and the pending listing (its cost follows the number pending) for the backlog."""
        now = self.clock()
        span = window(now.date(), days)
        tallies = self.stats.tallies(span[0], span[-1])
        return overview(span, tallies, self.review.pending_since(), now, self.sla)
