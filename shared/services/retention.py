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

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.adapters.audit_log import AUDIT_ROW_PREFIX, AuditLog
from shared.adapters.batch_delete import BatchDeleter
from shared.adapters.expiry_index import BACKFILLED, HOUR, PROGRESS, Check, ExpiryIndex
from shared.adapters.face_ledger import OWED_ROW, OWNER_ROW
from shared.adapters.feedback_refs import feedback_ref
from shared.adapters.review_stats import ReviewStats
from shared.adapters.shards import all_shards
from shared.adapters.tables import Tables, from_entity
from shared.domain.clock import Clock
from shared.domain.records import AuditEntry
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
    tables: Tables
    expiry: ExpiryIndex
    subject_checks: SubjectRetention
    audit: AuditLog
    clock: Clock
    policy: RetentionPolicy
    page_size: int = 1000
    delete_owed: Callable[[str], bool] | None = None  # deletes at Face a session erasure could not
    sweep_determinations: Callable[[str, datetime], dict[str, int]] | None = None  # overdue, and long closed
    publish_events: Callable[[str], int] | None = None  # queues webhook events a crash left behind
    review_stats: ReviewStats | None = None  # folds settled days into summaries, drops expired days
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
        ]
        if self.review_stats is not None:
            steps.append(("reviewStats", lambda: self._review_stats(now, tally)))
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
        for check in self.expiry.due(now, self.page_size):
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
        if self.sweep_determinations is not None:
            for kind, n in self.sweep_determinations(partition, now).items():
                tally.add(kind, n)
        if self.publish_events is not None:
            tally.add("webhookEventsQueued", self.publish_events(partition))
        rows = list(
            self.tables.client("customers").query_entities(
                "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
                parameters={"pk": partition, "lo": AUDIT_ROW_PREFIX, "hi": "audit`"},
            )
        )
        tally.rows_read += len(rows)
        self.audit.relay("customers", partition, [from_entity(AuditEntry, r) for r in rows])

    def _check_ledger_entry(self, partition: str, now: datetime, tally: Tally) -> None:
        """A notification ledger entry goes once it has not changed for the ledger period."""
        table = self.tables.client("notifications")
        for row in table.query_entities("PartitionKey eq @pk", parameters={"pk": partition}):
            tally.rows_read += 1
            if row["updated_at"] < now - self.policy.ledger:
                tally.add("ledger", BatchDeleter(table, self.on_batch).delete([row]))
            else:
                self.expiry.schedule("notifications", partition, row["updated_at"] + self.policy.ledger, now)

    def _check_rate_limits(self, partition: str, now: datetime, tally: Tally) -> None:
        """Rate-limit rows go a day after their window ends (the per-IP row moves its window on)."""
        table = self.tables.client("ratelimits")
        cutoff = now - self.policy.rate_limits
        rows = list(table.query_entities("PartitionKey eq @pk", parameters={"pk": partition}))
        tally.rows_read += len(rows)
        tally.add("rateLimits", BatchDeleter(table, self.on_batch).delete(r for r in rows if r["window_end"] < cutoff))
        left = [r["window_end"] for r in rows if r["window_end"] >= cutoff]
        if left:
            self.expiry.schedule("ratelimits", partition, min(left) + self.policy.rate_limits, now)

    def _check_face_session(self, partition: str, now: datetime, tally: Tally) -> None:
        """Ask Face again to delete a session erasure could not (until Face confirms); drop an owner
        row past the attempts period (written before the expiry index existed)."""
        table = self.tables.client("facesessions")
        rows = list(table.query_entities("PartitionKey eq @pk", parameters={"pk": partition}))
        tally.rows_read += len(rows)
        for row in rows:
            if row["RowKey"] == OWED_ROW:
                if self.delete_owed is not None and self.delete_owed(partition):
                    tally.add("faceSessionsOwed", 1)
                else:
                    tally.add("faceDeletionsStillOwed", 1)  # the backlog an operator watches
                    self.expiry.schedule("facesessions", partition, now, now)  # the next hour
            elif row["RowKey"] == OWNER_ROW:
                if row["created_at"] < now - self.policy.attempts:
                    tally.add("faceSessionOwners", BatchDeleter(table, self.on_batch).delete([row]))
                else:
                    self.expiry.schedule("facesessions", partition, row["created_at"] + self.policy.attempts, now)

    # --- rows written before the expiry index ----------------------------------------------
    def _backfill(self, now: datetime, tally: Tally) -> None:
        """Once per deployment: file a check for every partition written before the expiry index
        existed (the only run that reads whole tables), then note it done."""
        progress = self.tables.client("expiry")
        with contextlib.suppress(ResourceNotFoundError):
            progress.get_entity(PROGRESS, BACKFILLED)
            return
        due = now - HOUR  # an hour already come: this run handles them
        sources = (
            ("subjects", "RowKey eq @row", {"row": "subject"}),
            ("subjects", "RowKey ge @lo and RowKey lt @hi", {"lo": "attempt_", "hi": "subject"}),
            ("customers", "RowKey ge @lo and RowKey lt @hi", {"lo": AUDIT_ROW_PREFIX, "hi": "audit`"}),
            ("notifications", "RowKey eq @row", {"row": "ledger"}),
            ("ratelimits", "RowKey ne @none", {"none": ""}),
            ("facesessions", "RowKey ne @none", {"none": ""}),
        )
        filed = 0
        for table, query, parameters in sources:
            rows = self.tables.client(table).query_entities(query, parameters=parameters, select=["PartitionKey"])
            for partition in {row["PartitionKey"] for row in rows}:
                self.expiry.schedule(table, partition, due)
                filed += 1
        refs = self.tables.client("feedbackrefs")
        for row in self.tables.client("feedback").query_entities("correlation_id ne @none", parameters={"none": ""}):
            refs.upsert_entity(feedback_ref(row["correlation_id"], row["PartitionKey"], row["RowKey"]))
        progress.upsert_entity({"PartitionKey": PROGRESS, "RowKey": BACKFILLED, "at": now, "filed": filed})
        tally.add("backfilled", filed)

    # --- day-partitioned tables ------------------------------------------------------------
    def _review_stats(self, now: datetime, tally: Tally) -> None:
        """Fold settled days' events into their summaries; drop days past their retention."""
        assert self.review_stats is not None
        tally.add("statsFolded", self.review_stats.compact(now.date()))
        tally.add("reviewStats", self.review_stats.delete_before((now - self.policy.review_stats).date()))

    def _delete_days(self, table: str, column: str, cutoff: datetime, tally: Tally) -> int:
        """Rows older than `cutoff` in `<shard>-<day>` partitions (and the unsharded `<day>` ones
        written before shards): whole past days by partition-key range, then the cut-off day."""
        client = self.tables.client(table)
        deleter = BatchDeleter(client, self.on_batch)
        day = cutoff.strftime("%Y-%m-%d")
        removed = 0
        for prefix in [f"{shard}-" for shard in all_shards()] + [""]:
            queries = (
                ("PartitionKey ge @lo and PartitionKey lt @hi", {"lo": prefix + "0", "hi": prefix + day}),
                (f"PartitionKey eq @pk and {column} lt @cutoff", {"pk": prefix + day, "cutoff": cutoff}),
            )
            for query, parameters in queries:
                for rows in self._pages(client, query, parameters):
                    tally.rows_read += len(rows)
                    removed += deleter.delete(rows)
                    if table == "feedback":
                        self._drop_feedback_refs(rows)
        return removed

    def _pages(self, client: Any, query: str, parameters: dict[str, Any]) -> Iterator[list[Any]]:
        pager = client.query_entities(query, parameters=parameters, results_per_page=self.page_size)
        for page in pager.by_page():  # follows continuation tokens, empty pages included
            yield list(page)

    def _drop_feedback_refs(self, rows: list[Any]) -> None:
        refs = self.tables.client("feedbackrefs")
        for row in rows:
            if row.get("correlation_id"):
                with contextlib.suppress(ResourceNotFoundError):
                    ref = feedback_ref(row["correlation_id"], row["PartitionKey"], row["RowKey"])
                    refs.delete_entity(ref["PartitionKey"], ref["RowKey"])
