"""Erasure (`DELETE /subjects/{correlationId}`): consent withdrawn, the subject's data removed at once.

Afterwards no row holds the GUID, except a blocked subject's tombstone (its subject row and
review-index row: GUID, status, dates), kept until the tombstone period ends so the GUID stays
blocked. Links to and from other GUIDs, ledger entries and feedback reports lose the GUID; the
audit log never held it (it names subjects by a keyed pseudonym).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from shared.adapters.audit_log import AuditLog
from shared.adapters.batch_delete import BatchDeleter
from shared.adapters.ledger import NotificationLedger
from shared.adapters.stores import SUBJECT_ROW, ReviewIndex, SubjectChange, SubjectStore, Versioned
from shared.adapters.tables import StaleWrite, Tables, etag_of, from_entity
from shared.domain.clock import Clock
from shared.domain.policy import SubjectStatus
from shared.domain.records import Customer, Subject
from shared.errors import Contended
from shared.services.feedback import FeedbackService
from shared.services.retention import tombstone_of
from shared.services.review import ReviewService
from shared.services.sessions import MAX_RACES, backoff

WITHDRAWN = "withdrawn"


@dataclass
class ErasureService:
    tables: Tables
    subjects: SubjectStore
    index: ReviewIndex
    review: ReviewService
    ledger: NotificationLedger
    feedback: FeedbackService
    audit: AuditLog
    clock: Clock

    def erase(self, customer: Customer, correlation_id: str) -> None:
        """Erase one subject of this customer (idempotent: erasing an unknown GUID changes nothing)."""
        customer_id = customer.customer_id
        self.review.flush_outbox(customer_id, correlation_id)  # a pending notification still goes out first
        subject, removed = self._erase_partition(customer_id, correlation_id)
        if subject is None and removed == 0:
            return
        tombstone = subject is not None and subject.state.status is SubjectStatus.BLOCKED
        for status in ("pending", "retired") if tombstone else ("pending", "blocked", "retired"):
            self.index.remove(status, customer_id, correlation_id)
        if subject is not None:
            self._unlink(customer_id, subject)
        self.ledger.scrub_subject(customer_id, correlation_id)
        self.feedback.scrub_subject(customer_id, correlation_id)
        self.audit.append(
            at=self.clock(),
            actor=f"customer:{customer_id}",
            action="subject.erase",
            target=self.review.ref(customer_id, correlation_id),
            detail={"rowsRemoved": removed, "tombstoneKept": tombstone},
        )

    def _erase_partition(self, customer_id: str, correlation_id: str) -> tuple[Subject | None, int]:
        deleter = BatchDeleter(self.tables.client("subjects"))
        removed, first_seen = 0, None
        for race in range(MAX_RACES):
            rows = self.subjects.partition(customer_id, correlation_id)
            subject_row = next((r for r in rows if r["RowKey"] == SUBJECT_ROW), None)
            subject = from_entity(Subject, subject_row) if subject_row is not None else None
            first_seen = first_seen or subject
            keep = subject is not None and subject.state.status is SubjectStatus.BLOCKED
            doomed = [r for r in rows if not (keep and r["RowKey"] == SUBJECT_ROW)]
            if keep and subject_row is not None:
                tombstone = tombstone_of(subject).model_copy(update={"consent_policy_version": WITHDRAWN})
                if tombstone != subject:
                    try:
                        self.subjects.commit(
                            customer_id,
                            correlation_id,
                            SubjectChange(replace=(Versioned(tombstone, etag_of(subject_row)),)),
                        )
                    except StaleWrite:
                        backoff(race)
                        continue
            if not doomed:
                return first_seen, removed
            removed += deleter.delete(doomed)
        raise Contended("The subject kept changing while it was being erased; retry.", retry_after=1)

    def _unlink(self, customer_id: str, subject: Subject) -> None:
        """Remove this GUID from the subjects it replaced or was replaced by."""
        for other, field in ((subject.replaced_by, "replaces"), (subject.replaces, "replaced_by")):
            if not other:
                continue
            for race in range(MAX_RACES):
                found = self.subjects.get(customer_id, other)
                if found is None or getattr(found.record, field) != subject.correlation_id:
                    break
                decisions = tuple(
                    d.model_copy(update={"new_correlation_id": None})
                    if d.new_correlation_id == subject.correlation_id
                    else d
                    for d in found.record.decisions
                )
                unlinked = found.record.model_copy(update={field: None, "decisions": decisions})
                with contextlib.suppress(StaleWrite):
                    self.subjects.commit(customer_id, other, SubjectChange(replace=(Versioned(unlinked, found.etag),)))
                    break
                backoff(race)
