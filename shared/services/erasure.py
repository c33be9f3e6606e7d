"""Erasure (`DELETE /subjects/{correlationId}`): consent withdrawn, the subject's data removed at once.

First the subject is closed (marked `erasing`, its open sessions revoked, in one transaction), so a
session request racing the erasure is refused, never left live; then Face deletes every session and
the rows go. Afterwards no row holds the GUID. A subject whose counts the policy still needs leaves a
gate record instead (`shared.domain.gate`): keyed by the pseudonym of (customer, GUID), with its
status, window counts and until when it holds, so consenting again resumes them; a flagged one stays
in the review queue under that pseudonym. Determinations keep their facts under the pseudonym; links
to and from other GUIDs, ledger entries and feedback reports lose the GUID; the audit log never held
it (it names subjects by the same pseudonym).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.adapters.audit_log import AUDIT_ROW_PREFIX, AuditLog
from shared.adapters.face_ledger import FaceSessionLedger
from shared.adapters.ledger import NotificationLedger
from shared.adapters.review_index import ReviewIndex
from shared.adapters.subject_rows import SUBJECT_ROW
from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import Versioned, from_entity
from shared.domain.clock import Clock
from shared.domain.gate import gate_of, merge_gates
from shared.domain.keys import Keyring
from shared.domain.notifications import NotificationKind, notification_id
from shared.domain.policy import Policy
from shared.domain.records import AuditEntry, Customer, ReviewIndexEntry, Subject
from shared.domain.secrets import erased_id
from shared.services.face_cleanup import FaceCleanup
from shared.services.feedback import FeedbackService
from shared.services.review import INDEX_OF_STATUS, ReviewService
from shared.services.sessions import SessionService
from shared.services.subject_names import SubjectNames
from shared.unit_of_work import Listing, LostRace, SubjectChange, SubjectKey, UnitOfWork


@dataclass
class ErasureService:
    subjects: SubjectStore
    uow: UnitOfWork
    index: ReviewIndex
    review: ReviewService
    ledger: NotificationLedger
    feedback: FeedbackService
    audit: AuditLog
    clock: Clock
    keys: Keyring
    tombstone: timedelta
    sessions: SessionService
    face_ledger: FaceSessionLedger
    cleanup: FaceCleanup
    names: SubjectNames
    policy: Policy  # what the gate must keep counting

    def erase(self, customer: Customer, correlation_id: str) -> None:
        """Erase one subject of this customer (idempotent: erasing an unknown GUID changes nothing).

        The audit entry is committed in the transaction that deletes the subject row (the last one)."""
        customer_id = customer.customer_id
        self.review.flush_outbox(customer_id, correlation_id)  # a pending notification still goes out first
        # ahead of the change: a check that relays the erasure's audit entry if the relay after it fails
        self.subjects.file_check(customer_id, correlation_id, self.clock())
        sessions = self.sessions.close_for_erasure(customer_id, correlation_id)  # unread attempts still count
        owed = self.cleanup.erase(sessions)
        erased = self._erase_partition(customer_id, correlation_id, owed)
        self.face_ledger.forget(erased.face_sessions)
        self.names.pseudonymise_determinations(customer_id, correlation_id)  # their facts stay, under the pseudonym
        if erased.subject is None and erased.removed == 0:
            return
        for status in ("pending", "blocked", "retired", "second", "opinion"):  # every listing that names it
            self.index.remove(status, customer_id, correlation_id)
        if erased.subject is not None:
            self._unlink(customer_id, erased.subject)
        self.ledger.scrub_subject(customer_id, correlation_id, _notification_ids(customer_id, erased.subject))
        self.feedback.scrub_subject(customer_id, correlation_id)
        if erased.entry is None:  # only orphan rows were left: no change of the subject row to pair with
            self.audit.write(self._entry(customer_id, correlation_id, erased, owed))
        else:
            relayed = self.audit.relay("subjects", SubjectKey(customer_id, correlation_id).partition, [erased.entry])
            if not relayed:
                return  # the check filed ahead relays it, and then lets the GUID's name go
        self.subjects.forget_checks(customer_id, correlation_id)  # no check needs the GUID now

    def _entry(
        self, customer_id: str, correlation_id: str, erased: Erased, owed: int, removed: int | None = None
    ) -> AuditEntry:
        """The erasure's audit entry; `removed` counts the subject row about to go with it."""
        return self.audit.entry(
            at=self.clock(),
            actor=f"customer:{customer_id}",
            action="subject.erase",
            target=self.review.ref(customer_id, correlation_id),
            detail={
                "rowsRemoved": erased.removed if removed is None else removed,
                "gateKept": erased.gate is not None,
                "gateStatus": erased.gate.state.status.value if erased.gate else None,
                "faceSessionsOwed": owed,
            },
        )

    def _erase_partition(self, customer_id: str, correlation_id: str, owed: int) -> Erased:
        """Delete every row of the subject, after writing the gate it must leave (if any); the
        subject row goes last, in one transaction with the erasure's audit entry.

        Also collects the Face session ids its session and attempt rows named (their ledger rows go too)."""
        gate_id = erased_id(self.keys, customer_id, correlation_id)
        erased = Erased()

        def attempt() -> Erased:
            rows = self.subjects.partition(customer_id, correlation_id)
            erased.face_sessions |= {r["session_id"] for r in rows if r.get("session_id")}
            subject_row = next((r for r in rows if r["RowKey"] == SUBJECT_ROW), None)
            others = [r for r in rows if r["RowKey"] != SUBJECT_ROW and not r["RowKey"].startswith(AUDIT_ROW_PREFIX)]
            removed = self.subjects.delete_guarded(others)  # ETag-guarded: a row changed meanwhile is read again
            erased.removed += removed
            if removed < len(others):
                raise LostRace
            if subject_row is None:
                return erased
            subject = from_entity(Subject, subject_row)
            erased.subject = erased.subject or subject
            erased.gate = (
                self._keep_gate(customer_id, gate_of(subject, gate_id, self.clock(), self.tombstone, self.policy))
                or erased.gate
            )
            entry = self._entry(customer_id, correlation_id, erased, owed, removed=erased.removed + 1)
            self.subjects.delete_with_entry(subject_row, entry)  # StaleWrite: read again and retry
            erased.removed += 1
            erased.entry = entry
            return erased

        return self.uow.run(attempt, "The subject")

    def _keep_gate(self, customer_id: str, gate: Subject | None) -> Subject | None:
        """Write (or strengthen) the gate record ahead of the deletion; returns the record kept."""
        if gate is None:
            return None

        def attempt() -> Subject:
            existing = self.subjects.get(customer_id, gate.correlation_id)
            kept = merge_gates(existing.record if existing else None, gate)
            if existing is not None and kept == existing.record:
                return kept
            status = INDEX_OF_STATUS.get(kept.state.status)
            listings = (  # the review queue shows it under its pseudonym
                (Listing(status, ReviewIndexEntry.of(kept, _since(kept))),) if status else ()
            )
            if existing is None:
                if not self.uow.create(kept, listings):
                    raise LostRace
            else:
                self.uow.commit(
                    SubjectChange(SubjectKey.of(kept), replace=(Versioned(kept, existing.etag),), listings=listings)
                )
            return kept

        return self.uow.run(attempt, "The subject")

    def _unlink(self, customer_id: str, subject: Subject) -> None:
        """Remove this GUID from the subjects it replaced or was replaced by."""
        for other, link in ((subject.replaced_by, "replaces"), (subject.replaces, "replaced_by")):
            if not other:
                continue

            def attempt(other: str = other, link: str = link) -> None:
                found = self.subjects.get(customer_id, other)
                if found is None or getattr(found.record, link) != subject.correlation_id:
                    return
                decisions = tuple(
                    d.model_copy(update={"new_correlation_id": None})
                    if d.new_correlation_id == subject.correlation_id
                    else d
                    for d in found.record.decisions
                )
                unlinked = found.record.model_copy(update={link: None, "decisions": decisions})
                self.uow.commit(SubjectChange(SubjectKey.of(unlinked), replace=(Versioned(unlinked, found.etag),)))

            self.uow.run(attempt, "A linked subject")


@dataclass
class Erased:
    """What erasing a partition found and did, gathered across lost races."""

    subject: Subject | None = None
    removed: int = 0
    gate: Subject | None = None
    face_sessions: set[str] = field(default_factory=set)
    entry: AuditEntry | None = None


def _since(subject: Subject) -> datetime:
    return subject.decided_at or subject.state.flagged_at or subject.last_activity_at


def _notification_ids(customer_id: str, subject: Subject | None) -> list[str]:
    """The ids of the emails a subject's decisions caused (and, for decisions recorded before the
    ids were, the confirmation of its last flag)."""
    if subject is None:
        return []
    ids = [d.notification_id for d in subject.decisions if d.notification_id]
    if subject.state.flagged_at is not None:
        kind = NotificationKind.ABUSE_CONFIRMED
        ids.append(notification_id(kind, customer_id, subject.correlation_id, subject.state.flagged_at))
    return ids
