"""The retention sweep (docs/retention.md): delete what is past its time, reading only what is due.

- Partitions with rows that fall due one by one (subjects, customers with audit rows waiting,
  notification ledger entries, rate-limit rows, Face sessions owed a deletion) are found through
  the expiry index (`shared.adapters.expiry_index`): each entry whose hour has come names one
  partition; the sweep handles it, files its next check and drops the entry. The index is the
  sweep's progress: a run cut off by `functionTimeout` leaves only the entries it had not finished.
- Time-ordered tables (audit log, feedback) are partitioned by day, so whole past days are read
  by partition-key range and the cut-off day by its partition.

No query names no `PartitionKey`. Every delete is ETag-guarded (or of an index entry, idempotent),
so two sweeps at once, or a second after one died half-way, end in the same state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.adapters.audit_log import AuditLog
from shared.adapters.expiry_index import HOUR, Check, ExpiryIndex
from shared.adapters.face_ledger import OWED_ROW, OWNER_ROW
from shared.adapters.retention_rows import RetentionRows
from shared.adapters.review_stats import ReviewStats
from shared.domain.clock import Clock
from shared.domain.retention_rules import RetentionPolicy
from shared.services.subject_retention import SubjectRetention, Tally, tombstone_of
from shared.settings import Settings

log = logging.getLogger(__name__)
KINDS = (  # reported by every run, 0 when nothing of the kind was due
    "sessions",
    "attempts",
    "idleSubjects",
    "tombstones",
    "gates",
    "compacted",
    "successorsCreated",
    "faceSessionsOwed",
    "faceSessionOwners",
    "feedback",
    "ledger",
    "rateLimits",
    "audit",
    "determinationsExpired",
    "determinations",
    "statsFolded",
    "reviewStats",
    "opinions",
    "checks",
    "failedChecks",
)

__all__ = ["RetentionPolicy", "RetentionSweep", "retention_from", "tombstone_of"]


def retention_from(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        session_grace=timedelta(seconds=settings.retention_session_grace_seconds),
        attempts=timedelta(seconds=settings.retention_attempt_seconds),
        idle_subject=timedelta(seconds=settings.retention_subject_idle_seconds),
        tombstone=timedelta(seconds=settings.retention_tombstone_seconds),
        audit=timedelta(seconds=settings.retention_audit_seconds),
        feedback=timedelta(seconds=settings.retention_feedback_seconds),
        ledger=timedelta(seconds=settings.retention_ledger_seconds),
        review_stats=timedelta(seconds=settings.retention_review_stats_seconds),
    )


@dataclass
class RetentionSweep:
    rows: RetentionRows
    expiry: ExpiryIndex
    subject_checks: SubjectRetention
    audit: AuditLog
    clock: Clock
    policy: RetentionPolicy
    delete_owed: Callable[[str], bool]  # deletes at Face a session erasure could not
    sweep_determinations: Callable[[str, datetime], dict[str, int]]  # overdue, and long closed
    publish_events: Callable[[str], int]  # queues webhook events a crash left behind
    review_stats: ReviewStats  # folds settled days into summaries, drops expired days
    on_batch: Callable[[int], None] | None = None  # observes progress (tests use it to stop a sweep half-way)
    last: Tally = field(default_factory=Tally)

    def run(self) -> dict[str, int]:
        """One sweep; returns rows removed per kind (also written to the audit log).

        Each step runs on its own, and so does each check: one that fails is logged and counted
        (`failedSteps`, `failedChecks`), its index entry stays for the next run, and the rest go on."""
        now = self.clock()
        tally = Tally()
        self.last = tally
        self.subject_checks.on_batch = self.on_batch
        failed: list[str] = []
        steps: list[tuple[str, Callable[[], None]]] = [
            ("backfill", lambda: self._backfill(now, tally)),
            ("checks", lambda: self._run_checks(now, tally)),
            ("audit", lambda: tally.add("audit", self._delete_days("audit", "at", now - self.policy.audit, tally))),
            (
                "feedback",
                lambda: tally.add(
                    "feedback", self._delete_days("feedback", "created_at", now - self.policy.feedback, tally)
                ),
            ),
            ("reviewStats", lambda: self._review_stats(now, tally)),
            (
                "opinions",
                lambda: tally.add(
                    "opinions", self._delete_days("opinions", "answered_at", now - self.policy.review_stats, tally)
                ),
            ),
        ]
        for name, step in steps:
            try:
                step()
            except Exception:
                log.exception("retention step %s failed; the sweep goes on", name)
                failed.append(name)
        counts = {kind: 0 for kind in KINDS} | tally.counts
        counts["failedSteps"] = len(failed)
        detail: dict[str, Any] = {**counts, **({"failed": ",".join(failed)} if failed else {})}
        self.audit.append(at=self.clock(), actor="system", action="retention.sweep", detail=detail)
        return counts

    # --- the expiry index ------------------------------------------------------------------
    def _run_checks(self, now: datetime, tally: Tally) -> None:
        handlers: dict[str, Callable[[str, datetime, Tally], None]] = {
            "subjects": self.subject_checks.check,
            "customers": self._check_customer,
            "notifications": self._check_ledger_entry,
            "ratelimits": self._check_rate_limits,
            "facesessions": self._check_face_session,
        }
        for check in self.expiry.due(now, self.rows.page_size):
            tally.rows_read += 1
            handler = handlers.get(check.table)
            try:
                if handler is not None:
                    handler(check.partition, now, tally)
            except Exception:
                log.exception("retention check of a %s partition failed; it stays for the next run", check.table)
                tally.add("failedChecks", 1)
                continue
            self._done(check, tally)

    def _done(self, check: Check, tally: Tally) -> None:
        self.expiry.done(check)
        tally.add("checks", 1)

    def _check_customer(self, partition: str, now: datetime, tally: Tally) -> None:
        """Expire the customer's determinations past respondBy (suspending it), and relay audit
        entries a customer change left waiting (its relay failed at the time)."""
        for kind, n in self.sweep_determinations(partition, now).items():
            tally.add(kind, n)
        tally.add("webhookEventsQueued", self.publish_events(partition))
        waiting = self.rows.audit_waiting(partition)
        tally.rows_read += len(waiting)
        self.audit.relay("customers", partition, waiting)

    def _check_ledger_entry(self, partition: str, now: datetime, tally: Tally) -> None:
        """A notification ledger entry goes once it has not changed for the ledger period."""
        for row in self.rows.partition("notifications", partition):
            tally.rows_read += 1
            if row["updated_at"] < now - self.policy.ledger:
                tally.add("ledger", self.rows.delete("notifications", [row], self.on_batch))
            else:
                self.expiry.schedule("notifications", partition, row["updated_at"] + self.policy.ledger, now)

    def _check_rate_limits(self, partition: str, now: datetime, tally: Tally) -> None:
        """Rate-limit rows go a day after their window ends (the per-IP row moves its window on)."""
        cutoff = now - self.policy.rate_limits
        rows = self.rows.partition("ratelimits", partition)
        tally.rows_read += len(rows)
        tally.add(
            "rateLimits", self.rows.delete("ratelimits", [r for r in rows if r["window_end"] < cutoff], self.on_batch)
        )
        left = [r["window_end"] for r in rows if r["window_end"] >= cutoff]
        if left:
            self.expiry.schedule("ratelimits", partition, min(left) + self.policy.rate_limits, now)

    def _check_face_session(self, partition: str, now: datetime, tally: Tally) -> None:
        """Ask Face again to delete a session erasure could not (until Face confirms); drop an owner
        row past the attempts period (written before the expiry index existed)."""
        rows = self.rows.partition("facesessions", partition)
        tally.rows_read += len(rows)
        for row in rows:
            if row["RowKey"] == OWED_ROW:
                if self.delete_owed(partition):
                    tally.add("faceSessionsOwed", 1)
                else:
                    tally.add("faceDeletionsStillOwed", 1)  # the backlog an operator watches
                    self.expiry.schedule("facesessions", partition, now, now)  # the next hour
            elif row["RowKey"] == OWNER_ROW:
                if row["created_at"] < now - self.policy.attempts:
                    tally.add("faceSessionOwners", self.rows.delete("facesessions", [row], self.on_batch))
                else:
                    self.expiry.schedule("facesessions", partition, row["created_at"] + self.policy.attempts, now)

    # --- rows written before the expiry index ----------------------------------------------
    def _backfill(self, now: datetime, tally: Tally) -> None:
        """Once per deployment: file a check for every partition written before the expiry index
        existed (the only run that reads whole tables), then note it done."""
        if self.rows.backfilled():
            return
        due = now - HOUR  # an hour already come: this run handles them
        filed = 0
        for table, partition in self.rows.written_before_the_index():
            self.expiry.schedule(table, partition, due)
            filed += 1
        self.rows.reference_feedback()
        self.rows.mark_backfilled(now, filed)
        tally.add("backfilled", filed)

    # --- day-partitioned tables ------------------------------------------------------------
    def _review_stats(self, now: datetime, tally: Tally) -> None:
        """Fold settled days' events into their summaries; drop days past their retention."""
        tally.add("statsFolded", self.review_stats.compact(now.date()))
        tally.add("reviewStats", self.review_stats.delete_before((now - self.policy.review_stats).date()))

    def _delete_days(self, table: str, column: str, cutoff: datetime, tally: Tally) -> int:
        """Rows older than `cutoff` in a day-partitioned table (see `RetentionRows.delete_days`)."""
        removed, read = self.rows.delete_days(table, column, cutoff, self.on_batch)
        tally.rows_read += read
        return removed
