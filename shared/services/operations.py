"""What an operator watches after each retention sweep: its outcome and row counts, the review
backlog against its SLA, and the poison queues (docs/operations.md; the Bicep alerts on these)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared import telemetry
from shared.adapters.notification_queue import QueuePair
from shared.domain.clock import Clock
from shared.services.review_queries import ReviewQueries

log = logging.getLogger(__name__)


@dataclass
class Operations:
    review: ReviewQueries
    queues: dict[str, QueuePair]  # the queue's role (`notifications`, `webhooks`) → the queue
    clock: Clock
    sla: timedelta

    def sweep_finished(self, counts: dict[str, int], past_due: bool = False) -> None:
        """Count a sweep's rows by kind and its outcome, then report the backlog and poison queues."""
        for kind, rows in counts.items():
            if kind not in ("failedSteps", "failedChecks"):
                telemetry.count("sweep.rows", rows, kind=kind.lower())
        failed = counts.get("failedSteps", 0) > 0
        telemetry.count("sweep.runs", outcome="failed" if failed else "ok")
        level = logging.ERROR if failed else logging.INFO
        telemetry.event(log, "retention.sweep", level, past_due=past_due, **counts)
        for report in (self.report_backlog, self.report_poison):
            try:  # the sweep is done: a report that cannot read storage must not fail its invocation
                report()
            except Exception:
                log.warning("operations report %s failed; the next sweep reports again", report.__name__)

    def sweep_failed(self, error: BaseException) -> None:
        telemetry.count("sweep.runs", outcome="failed")
        telemetry.event(log, "retention.sweep_failed", logging.ERROR, error=type(error).__name__)

    def report_backlog(self, pending_since: list[datetime] | None = None) -> None:
        """The pending-review gauges (count and oldest age); a warning when one waits past the SLA."""
        since = self.review.pending_since() if pending_since is None else pending_since
        now = self.clock()
        oldest = max((int((now - s).total_seconds()) for s in since), default=0)
        telemetry.gauge("reviews.pending", len(since))
        telemetry.gauge("reviews.oldest_pending", oldest)
        if oldest > self.sla.total_seconds():
            overdue = sum((now - s) > self.sla for s in since)
            telemetry.event(log, "review.overdue", logging.WARNING, overdue=overdue, oldest_seconds=oldest)

    def report_poison(self) -> None:
        """The depth of each poison queue; an error line while one holds messages."""
        for role, queue in self.queues.items():
            depth = queue.poison_depth()
            telemetry.gauge("queue.poison", depth, queue=role)
            if depth:
                telemetry.event(log, "queue.poisoned", logging.ERROR, queue=role, messages=depth)
