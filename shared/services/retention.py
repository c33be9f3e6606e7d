"""The retention sweep (SPEC section 8): delete what is past its time, on the live settings.

Each kind of row is found by a parameterised filter on its own date column (never `Timestamp`),
page by page through continuation tokens (an empty page with a token is not the end), and deleted
in entity-group batches of at most 100 per partition, ETag-guarded. Running two sweeps at once, or
a second after one died half-way, ends in the same state: every step only removes what is expired.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.adapters.audit_log import AuditLog
from shared.adapters.batch_delete import BatchDeleter
from shared.adapters.face_ledger import OWNER_ROW, FaceSessionLedger
from shared.adapters.stores import SUBJECT_ROW, ReviewIndex, SubjectChange, SubjectStore, Versioned
from shared.adapters.tables import StaleWrite, Tables, decode_value, etag_of, from_entity
from shared.domain.clock import Clock
from shared.domain.policy import SubjectState, SubjectStatus
from shared.domain.records import Subject
from shared.services.review import INDEX_OF_STATUS, ReviewService
from shared.settings import Settings

log = logging.getLogger(__name__)
DECIDED = (SubjectStatus.BLOCKED.value, SubjectStatus.RETIRED.value)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of data is kept (all from settings; published by GET /privacy)."""

    session_grace: timedelta = timedelta(hours=1)
    attempts: timedelta = timedelta(hours=72)
    idle_subject: timedelta = timedelta(days=30)
    tombstone: timedelta = timedelta(days=180)
    audit: timedelta = timedelta(days=365)
    feedback: timedelta = timedelta(days=180)
    ledger: timedelta = timedelta(days=30)
    rate_limits: timedelta = timedelta(days=1)


def retention_from(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        session_grace=timedelta(seconds=settings.retention_session_grace_seconds),
        attempts=timedelta(seconds=settings.retention_attempt_seconds),
        idle_subject=timedelta(seconds=settings.retention_subject_idle_seconds),
        tombstone=timedelta(seconds=settings.retention_tombstone_seconds),
        audit=timedelta(seconds=settings.retention_audit_seconds),
        feedback=timedelta(seconds=settings.retention_feedback_seconds),
        ledger=timedelta(seconds=settings.retention_ledger_seconds),
    )


def tombstone_of(subject: Subject) -> Subject:
    """What a blocked or retired subject keeps: GUID, status, dates, decisions — no attempt history."""
    kept = SubjectState(status=subject.state.status, flagged_at=subject.state.flagged_at)
    return subject.model_copy(update={"state": kept, "consent_purpose": None})


@dataclass
class RetentionSweep:
    tables: Tables
    subjects: SubjectStore
    index: ReviewIndex
    review: ReviewService
    audit: AuditLog
    clock: Clock
    policy: RetentionPolicy
    page_size: int = 1000
    settle: Callable[[str, str, str], bool] | None = None  # counts a session's last attempts before it goes
    face_ledger: FaceSessionLedger | None = None
    delete_owed: Callable[[str], bool] | None = None  # deletes at Face a session erasure could not
    on_batch: Callable[[int], None] | None = None  # observes progress (tests use it to stop a sweep half-way)

    def run(self) -> dict[str, int]:
        """One full sweep; returns rows removed per kind (also written to the audit log).

        Each step runs on its own: one that fails is logged and counted (`failedSteps`, and by
        name in the audit entry's `failed`), and the others still run."""
        now, policy = self.clock(), self.policy
        steps: list[tuple[str, Callable[[], int | dict[str, int]]]] = [
            # queue any notification left in an outbox (and relay audit entries) before their subject can go
            ("repair", self.review.repair),
            ("sessions", lambda: self._delete_sessions(now - policy.session_grace)),
            ("attempts", lambda: self._delete_attempts(now - policy.attempts)),
            (
                "idleSubjects",
                lambda: self._delete_where(
                    "subjects",
                    "RowKey eq @row and status eq @active and last_activity_at lt @cutoff",
                    {"row": SUBJECT_ROW, "active": SubjectStatus.ACTIVE.value, "cutoff": now - policy.idle_subject},
                ),
            ),
            ("tombstones", lambda: self._delete_tombstones(now - policy.tombstone)),
            (
                "gates",
                lambda: self._delete_where(
                    "subjects", "RowKey eq @row and gate_until lt @now", {"row": SUBJECT_ROW, "now": now}
                ),
            ),
            ("compacted", lambda: self._compact_tombstones(now - policy.attempts)),
            ("faceSessionsOwed", self._delete_owed_at_face),
            (
                "faceSessionOwners",
                lambda: self._delete_where(
                    "facesessions",
                    "RowKey eq @row and created_at lt @cutoff",
                    {"row": OWNER_ROW, "cutoff": now - policy.attempts},
                ),
            ),
            (
                "feedback",
                lambda: self._delete_where("feedback", "created_at lt @cutoff", {"cutoff": now - policy.feedback}),
            ),
            (
                "ledger",
                lambda: self._delete_where("notifications", "updated_at lt @cutoff", {"cutoff": now - policy.ledger}),
            ),
            (
                "rateLimits",
                lambda: self._delete_where("ratelimits", "window_end lt @cutoff", {"cutoff": now - policy.rate_limits}),
            ),
            ("audit", lambda: self._delete_where("audit", "at lt @cutoff", {"cutoff": now - policy.audit})),
        ]
        counts: dict[str, int] = {}
        failed: list[str] = []
        for name, step in steps:
            try:
                done = step()
            except Exception:
                log.exception("retention step %s failed; the sweep goes on", name)
                failed.append(name)
                continue
            counts.update(done if isinstance(done, dict) else {name: done})
        counts["failedSteps"] = len(failed)
        detail: dict[str, Any] = {**counts, **({"failed": ",".join(failed)} if failed else {})}
        self.audit.append(at=self.clock(), actor="system", action="retention.sweep", detail=detail)
        return counts

    # --- plumbing -------------------------------------------------------------------------
    def _pages(self, table: str, query: str, parameters: dict[str, Any]) -> Iterator[list[Any]]:
        pager = self.tables.client(table).query_entities(query, parameters=parameters, results_per_page=self.page_size)
        for page in pager.by_page():  # follows continuation tokens, empty pages included
            yield list(page)

    def _delete_where(
        self, table: str, query: str, parameters: dict[str, Any], keep: Callable[[Any], bool] | None = None
    ) -> int:
        deleter = BatchDeleter(self.tables.client(table), self.on_batch)
        removed = 0
        for rows in self._pages(table, query, parameters):
            removed += deleter.delete(r for r in rows if keep is None or not keep(r))
        return removed

    # --- kinds with a rule beyond their age ----------------------------------------------
    def _delete_sessions(self, cutoff: datetime) -> int:
        """Sessions past expiry + grace, each settled first: its last final attempts are counted
        (SPEC section 5) before its row goes. One Face cannot read now stays for the next sweep."""
        table = self.tables.client("subjects")
        deleter = BatchDeleter(table, self.on_batch)
        removed = 0
        for rows in self._pages(
            "subjects",
            "RowKey ge @lo and RowKey lt @hi and expires_at lt @cutoff",
            {"lo": "session_", "hi": "session`", "cutoff": cutoff},
        ):
            ready = []
            for row in rows:
                if row.get("face_deleted") or self.settle is None:
                    ready.append(row)
                    continue
                customer_id, correlation_id = row["PartitionKey"].split("_", 1)
                if self.settle(customer_id, correlation_id, row["RowKey"].removeprefix("session_")):
                    with contextlib.suppress(ResourceNotFoundError):  # re-read: settling changed its ETag
                        ready.append(table.get_entity(row["PartitionKey"], row["RowKey"]))
            removed += deleter.delete(ready)
            if self.face_ledger is not None:  # no attempt row will name these: their ledger rows go with them
                self.face_ledger.forget(
                    r["RowKey"].removeprefix("session_")
                    for r in ready
                    if not json.loads(r.get("recorded_attempts") or "[]")
                )
        return removed

    def _delete_owed_at_face(self) -> int:
        """Face sessions erasure could not delete at Face: ask again (each stays owed until Face confirms)."""
        if self.face_ledger is None or self.delete_owed is None:
            return 0
        return sum(1 for session_id in list(self.face_ledger.owed()) if self.delete_owed(session_id))

    def _delete_attempts(self, cutoff: datetime) -> int:
        """Attempt decisions past their time, except those of a subject whose review is pending."""
        pending: dict[str, bool] = {}

        def under_review(row: Any) -> bool:
            partition = row["PartitionKey"]
            if partition not in pending:
                customer_id, correlation_id = partition.split("_", 1)
                found = self.subjects.get(customer_id, correlation_id)
                pending[partition] = found is not None and found.record.state.status is SubjectStatus.FLAGGED
            return pending[partition]

        return self._delete_where(
            "subjects",
            "RowKey ge @lo and RowKey lt @hi and recorded_at lt @cutoff",
            {"lo": "attempt_", "hi": "attempt`", "cutoff": cutoff},
            keep=under_review,
        )

    def _decided_subjects(self, cutoff: datetime) -> Iterator[Versioned[Subject]]:
        for rows in self._pages(
            "subjects", "RowKey eq @row and decided_at lt @cutoff", {"row": SUBJECT_ROW, "cutoff": cutoff}
        ):
            for row in rows:
                if decode_value(row.get("status")) in DECIDED:
                    yield Versioned(from_entity(Subject, row), etag_of(row))

    def _compact_tombstones(self, cutoff: datetime) -> int:
        """Strip the attempt history from subjects decided longer ago than attempts are kept."""
        compacted = 0
        for found in self._decided_subjects(cutoff):
            tombstone = tombstone_of(found.record)
            if tombstone == found.record:
                continue
            try:
                self.subjects.commit(
                    found.record.customer_id,
                    found.record.correlation_id,
                    SubjectChange(replace=(Versioned(tombstone, found.etag),)),
                )
                compacted += 1
            except StaleWrite:
                pass  # changed meanwhile (or compacted by an overlapping sweep): the next sweep looks again
        return compacted

    def _delete_tombstones(self, cutoff: datetime) -> int:
        """Blocked and retired subjects past the tombstone period go, with whatever is left of them."""
        removed = 0
        for found in self._decided_subjects(cutoff):
            subject = found.record
            rows = self.subjects.partition(subject.customer_id, subject.correlation_id)
            removed += BatchDeleter(self.tables.client("subjects"), self.on_batch).delete(
                r for r in rows if r["RowKey"] != SUBJECT_ROW or etag_of(r) == found.etag
            )
            self.index.remove(INDEX_OF_STATUS[subject.state.status], subject.customer_id, subject.correlation_id)
        return removed
