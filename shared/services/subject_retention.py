"""One retention check of one subject partition, as the expiry index asks for it.

One query reads the subject row, its session rows, the attempt rows already due and any outbox or
audit rows left behind; the rules in `shared.domain.retention_rules` decide; due rows go in
ETag-guarded batches; and the partition's next check is filed before the caller drops this one.
It also finishes what an interrupted decision left (outbox rows, audit rows, a successor), so
`repair` never has to look through every subject.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.adapters.audit_log import AUDIT_ROW_PREFIX, AuditLog
from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.face_ledger import FaceSessionLedger
from shared.adapters.outbox import event_of, is_event_row
from shared.adapters.review_index import ReviewIndex
from shared.adapters.subject_rows import SUBJECT_ROW
from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import StaleWrite, Versioned, etag_of, from_entity
from shared.domain.policy import SubjectState, SubjectStatus
from shared.domain.records import AuditEntry, Subject
from shared.domain.retention_rules import RetentionPolicy, SubjectFate, fate_of, next_check
from shared.services.review import INDEX_OF_STATUS, ReviewService
from shared.services.webhooks import WebhookService
from shared.unit_of_work import SubjectChange, SubjectKey, UnitOfWork

log = logging.getLogger(__name__)


def tombstone_of(subject: Subject) -> Subject:
    """What a blocked or retired subject keeps: GUID, status, dates, decisions — no attempt history."""
    kept = SubjectState(status=subject.state.status, flagged_at=subject.state.flagged_at)
    return subject.model_copy(update={"state": kept, "consent_purpose": None, "attempt_hours": ()})


@dataclass
class Tally:
    """What checks removed, by kind (the sweep's audit entry reports these)."""

    counts: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0

    def add(self, kind: str, n: int) -> None:
        if n:
            self.counts[kind] = self.counts.get(kind, 0) + n


@dataclass
class SubjectRetention:
    subjects: SubjectStore
    uow: UnitOfWork
    index: ReviewIndex
    review: ReviewService
    audit: AuditLog
    expiry: ExpiryIndex
    policy: RetentionPolicy
    settle: Callable[[str, str, str], bool]  # counts a session's last attempts before it goes
    face_ledger: FaceSessionLedger
    webhooks: WebhookService  # queues webhook events a crash left beside their change
    revoke: Callable[[str, str], int]  # revokes what a stopped subject still holds (a crash left it)
    on_batch: Callable[[int], None] | None = None  # observes progress (tests stop a sweep half-way)

    def check(self, partition: str, now: datetime, tally: Tally) -> None:
        """Remove what is due in one subject partition and file its next check."""
        rows = self.subjects.due_rows(partition, now - self.policy.attempts)
        tally.rows_read += len(rows)
        deleter = _Deleter(self.subjects, self.on_batch)
        subject_row = next((r for r in rows if r["RowKey"] == SUBJECT_ROW), None)
        subject = from_entity(Subject, subject_row) if subject_row is not None else None
        customer_id, correlation_id = partition.split("_", 1)
        unfinished = self._finish_decision(partition, customer_id, correlation_id, rows, subject, tally)

        sessions = [r for r in rows if r["RowKey"].startswith("session_")]
        if self._left_open(subject, sessions, now):
            tally.add("sessionsRevoked", self.revoke(customer_id, correlation_id))
        due = [r for r in sessions if r["expires_at"] + self.policy.session_grace < now]
        ready, settled = self._settled(customer_id, correlation_id, due)
        tally.add("sessions", deleter.delete(ready))
        gone = {r["RowKey"] for r in ready}
        left = [r["expires_at"] for r in sessions if r["RowKey"] not in gone]
        if ready:  # no attempt row names these: their ledger rows go with them
            unread = [r for r in ready if not json.loads(r.get("recorded_attempts") or "[]")]
            self.face_ledger.forget(r["RowKey"].removeprefix("session_") for r in unread)

        attempts = [r for r in rows if r["RowKey"].startswith("attempt_")]
        if attempts and (subject is None or subject.state.status is not SubjectStatus.FLAGGED):
            tally.add("attempts", deleter.delete(attempts))
            self.face_ledger.forget({r["RowKey"].split("_")[1] for r in attempts})  # they live as long

        if subject is not None and subject_row is not None:
            subject = self._apply_fate(subject, subject_row, now, tally, deleter)
        at = next_check(subject, left, now, self.policy, settled)
        if unfinished:  # look again soon (the failure is logged and counted)
            at = now  # filed for the next hour
        if at is not None:
            self.expiry.schedule("subjects", partition, at, now)
        elif subject is None:  # nothing left of the subject: no later check may lead back to its GUID
            self.subjects.forget_checks(customer_id, correlation_id)

    def _left_open(self, subject: Subject | None, sessions: list[dict[str, Any]], now: datetime) -> bool:
        """A subject that is not active still holding a session not revoked (a revocation that failed)."""
        if subject is None or subject.state.status is SubjectStatus.ACTIVE:
            return False
        grace = self.policy.session_grace
        return any(
            not r.get("revoked") and not r.get("face_deleted") and r["expires_at"] + grace > now for r in sessions
        )

    # --- the subject row -----------------------------------------------------------------
    def _apply_fate(
        self, subject: Subject, row: dict[str, Any], now: datetime, tally: Tally, deleter: _Deleter
    ) -> Subject | None:
        """Delete, compact or keep the subject row; returns what is left of it."""
        fate = fate_of(subject, now, self.policy)
        if fate is SubjectFate.IDLE:
            if deleter.delete([row]):
                tally.add("idleSubjects", 1)
                return None
            return subject  # changed meanwhile: its next check stands
        if fate is SubjectFate.EXPIRED:
            rest = self.subjects.partition(subject.customer_id, subject.correlation_id)
            tally.rows_read += len(rest)
            kind = "gates" if subject.gate_until is not None else "tombstones"
            tally.add(kind, deleter.delete(r for r in rest if r["RowKey"] != SUBJECT_ROW or etag_of(r) == etag_of(row)))
            if subject.state.status in INDEX_OF_STATUS:
                self.index.remove(INDEX_OF_STATUS[subject.state.status], subject.customer_id, subject.correlation_id)
            return None
        if fate is SubjectFate.COMPACT:
            tombstone = tombstone_of(subject)
            if tombstone != subject:
                with contextlib.suppress(StaleWrite):  # changed meanwhile: its next check looks again
                    self.uow.commit(
                        SubjectChange(SubjectKey.of(tombstone), replace=(Versioned(tombstone, etag_of(row)),))
                    )
                    tally.add("compacted", 1)
                    return tombstone
        return subject

    # --- sessions ------------------------------------------------------------------------
    def _settled(self, customer_id: str, correlation_id: str, due: list[dict[str, Any]]) -> tuple[list[Any], bool]:
        """The due session rows ready to go, each settled first (its last final attempts counted,
        docs/abuse-policy.md); one Face cannot read now stays for the next check. Also whether any was
        settled here (it may have recorded attempts just now)."""
        ready: list[Any] = []
        settled = False
        for row in due:
            if row.get("face_deleted"):
                ready.append(row)
                continue
            if self.settle(customer_id, correlation_id, row["RowKey"].removeprefix("session_")):
                settled = True
                again = self.subjects.reread(row)  # settling changed its ETag
                if again is not None:
                    ready.append(again)
        return ready, settled

    # --- what an interrupted decision left -------------------------------------------------
    def _finish_decision(
        self,
        partition: str,
        customer_id: str,
        correlation_id: str,
        rows: list[dict[str, Any]],
        subject: Subject | None,
        tally: Tally,
    ) -> bool:
        """Queue outbox rows, relay audit rows and create a retired subject's successor, if left;
        False when something could not be finished now."""
        finished = True
        if any(r["RowKey"].startswith("outbox_") for r in rows):
            try:
                self.review.flush_outbox(customer_id, correlation_id)
            except Exception:
                log.exception("retention could not flush an outbox; its next check tries again")
                tally.add("failedChecks", 1)
                finished = False
        events = [event_of(r) for r in rows if is_event_row(r)]
        if events:
            self.webhooks.publish(customer_id, events, "subjects", partition)
        waiting = [from_entity(AuditEntry, r) for r in rows if r["RowKey"].startswith(AUDIT_ROW_PREFIX)]
        if waiting and self.audit.relay("subjects", partition, waiting) < len(waiting):
            finished = False
        if (
            subject is not None
            and subject.state.status is SubjectStatus.RETIRED
            and subject.replaced_by
            and not subject.successor_created
            and self.review.ensure_successor(subject)
        ):
            tally.add("successorsCreated", 1)
        return not finished


@dataclass
class _Deleter:
    """ETag-guarded deletes of one check's subject rows, each batch observed by `on_batch`."""

    subjects: SubjectStore
    on_batch: Callable[[int], None] | None

    def delete(self, rows: Iterable[dict[str, Any]]) -> int:
        return self.subjects.delete_guarded(list(rows), self.on_batch)
