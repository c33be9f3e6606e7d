"""Human review: list flags, inspect a subject, confirm/override/reset, escalate per customer.

Every transition is one ETag-guarded transaction on the subject's partition; the notification it
causes is written in that same transaction as an outbox row, then queued and removed. A crash
between the two leaves the outbox row, which `repair` (and the next flush) sends again with the
same notification id, so the customer gets the email once.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared import telemetry
from shared.adapters.audit_log import AuditLog, audit_row
from shared.adapters.notification_queue import NotificationQueue
from shared.adapters.review_index import ReviewIndex
from shared.adapters.review_stats import ReviewStats
from shared.adapters.subject_rows import outbox_row
from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import Versioned
from shared.domain.clock import Clock
from shared.domain.determinations import Severity
from shared.domain.guidelines import Guideline
from shared.domain.keys import Keyring
from shared.domain.notifications import Notification, abuse_confirmed
from shared.domain.policy import SubjectStatus
from shared.domain.records import (
    AuditEntry,
    DecisionKind,
    OutboxEntry,
    ReviewDecision,
    ReviewIndexEntry,
    Subject,
)
from shared.domain.review_overview import reason_kind
from shared.domain.review_people import Decider
from shared.domain.secrets import subject_ref, subject_refs
from shared.domain.webhook_events import WebhookEvent, webhook_event
from shared.errors import Conflict, InvalidRequest, NotFound
from shared.services.customers import no_revocation
from shared.services.escalation import CustomerEscalation
from shared.services.review_claims import refuse_if_claimed, refuse_while_awaiting
from shared.unit_of_work import Listing, SubjectChange, SubjectKey, UnitOfWork

log = logging.getLogger(__name__)
INDEX_OF_STATUS = {
    SubjectStatus.FLAGGED: "pending",
    SubjectStatus.BLOCKED: "blocked",
    SubjectStatus.RETIRED: "retired",
}
STATUS_OF_INDEX = {index: status for status, index in INDEX_OF_STATUS.items()}
_CUSTOMER_ID = re.compile(r"[0-9a-f]{32}")
_SUBJECT_ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|erased-(?:[0-9a-f]{8}\.)?[0-9a-f]{32}"
)


@dataclass
class ReviewService:
    subjects: SubjectStore
    uow: UnitOfWork
    index: ReviewIndex
    queue: NotificationQueue
    audit: AuditLog
    clock: Clock
    keys: Keyring
    escalation: CustomerEscalation  # runs a severe confirmation's suspension at once
    stats: ReviewStats  # counts overrides and resets for the overview (confirms: the consumer)
    tombstone: timedelta = timedelta(days=180)
    respond_within: timedelta = timedelta(days=14)  # how long a customer has to answer a determination
    guidelines: tuple[Guideline, ...] = ()  # what a decision may name (GET /review/guidelines)
    revoke: Callable[[str, str], int] = no_revocation  # the subject's open sessions, after a decision

    def ref(self, customer_id: str, correlation_id: str) -> str:
        """How the audit log names a subject (a keyed pseudonym, so erasure leaves no GUID behind)."""
        return subject_ref(self.keys, customer_id, correlation_id)

    def refs(self, customer_id: str, correlation_id: str) -> list[str]:
        """Every pseudonym the subject may appear under in the log (after key rotations too)."""
        return subject_refs(self.keys, customer_id, correlation_id)

    # --- deciding: one function per command -------------------------------------------
    def decide(
        self,
        customer_id: str,
        correlation_id: str,
        decision: DecisionKind,
        reason: str,
        decider: Decider,
        severity: Severity = Severity.STANDARD,
        guideline_id: str | None = None,
    ) -> Subject:
        """confirm → blocked (customer notified; the consumer escalates); override → retired with a new
        GUID. Either names the guideline it followed (400 for one that is not in GET /review/guidelines)."""
        if guideline_id is not None and guideline_id not in {g.id for g in self.guidelines}:
            raise InvalidRequest("guidelineId is not one of GET /review/guidelines.")
        if decision is DecisionKind.CONFIRM:
            return self.confirm(customer_id, correlation_id, reason, decider, severity, guideline_id)
        return self.override(customer_id, correlation_id, reason, decider, guideline_id)

    def confirm(
        self,
        customer_id: str,
        correlation_id: str,
        reason: str,
        decider: Decider,
        severity: Severity = Severity.STANDARD,
        guideline_id: str | None = None,
        second: Decider | None = None,
    ) -> Subject:
        """A pending flag is abuse: the subject is blocked and the customer told (outbox, same
        transaction), which opens a determination; a severe one suspends the customer at once."""
        notes: list[Notification] = []

        def change(subject: Subject, now: datetime) -> Decided:
            _require_pending(subject)
            if subject.appeal is not None:  # an appeal rejected: it stays blocked; nothing new to tell or count
                return Decided(SubjectStatus.BLOCKED, successor=None, guideline_id=guideline_id)
            note = abuse_confirmed(
                customer_id,
                correlation_id,
                subject.state.flagged_at or now,
                now,
                subject.state.flag_reason or reason,
                severity,
                now + self.respond_within,
                guideline_id,
            )
            notes[:] = [note]
            outbox = OutboxEntry(
                notification_id=note.notification_id,
                message=note.model_dump(mode="json", by_alias=True),
                created_at=now,
            )
            return Decided(SubjectStatus.BLOCKED, successor=None, outbox=(outbox,), guideline_id=guideline_id)

        decided = self._decide(customer_id, correlation_id, DecisionKind.CONFIRM, reason, decider, change, second)
        if severity is Severity.SEVERE and notes:
            self.escalation.confirmed(notes[0])  # at once; the consumer later finds it done
        return decided

    def override(
        self, customer_id: str, correlation_id: str, reason: str, decider: Decider, guideline_id: str | None = None
    ) -> Subject:
        """A pending flag was wrong: the GUID is retired and a fresh one handed out."""

        def change(subject: Subject, now: datetime) -> Decided:
            _require_pending(subject)
            return Decided(SubjectStatus.RETIRED, successor=_successor(subject), guideline_id=guideline_id)

        return self._decide(customer_id, correlation_id, DecisionKind.OVERRIDE, reason, decider, change)

    def reset(self, customer_id: str, correlation_id: str, reason: str, decider: Decider) -> Subject:
        """Retire a GUID and hand out a fresh one (consent carried over, counters fresh)."""

        def change(subject: Subject, now: datetime) -> Decided:
            if subject.state.status is SubjectStatus.RETIRED:
                raise Conflict("This subject is already retired.")
            if subject.state.status is not SubjectStatus.FLAGGED:  # a flagged one is checked hourly already
                self.subjects.file_check(customer_id, correlation_id, now)  # finishes what a crash leaves
            return Decided(SubjectStatus.RETIRED, successor=_successor(subject))

        return self._decide(customer_id, correlation_id, DecisionKind.RESET, reason, decider, change)

    def _decide(
        self,
        customer_id: str,
        correlation_id: str,
        kind: DecisionKind,
        reason: str,
        decider: Decider,
        change: Callable[[Subject, datetime], Decided],
        second: Decider | None = None,
    ) -> Subject:
        """Commit a decision with its outbox and audit entry in one ETag-guarded transaction, then
        deliver what it caused (index, successor, notification, audit log). `second`: the person
        who agreed to a severe confirmation (four eyes)."""
        check_address(customer_id, correlation_id)
        flagged_by: list[str] = []  # the rule that flagged the subject, as the committed attempt read it
        still_open: list[bool] = [False]  # a session not yet revoked (a reset of an active subject, say)

        def attempt() -> tuple[Subject, Decided, AuditEntry]:
            current, sessions = self.subjects.get_with_sessions(customer_id, correlation_id)  # one round trip
            if current is None:
                raise NotFound("No such subject.")
            still_open[0] = any(not s.record.revoked and not s.record.face_deleted for s in sessions)
            subject, now = current.record, self.clock()
            flagged_by[:] = [reason_kind(subject.state.flag_reason)]
            refuse_if_claimed(subject, decider, now)
            refuse_while_awaiting(subject, decider, second is not None)
            decided = change(subject, now)
            updated = _decided(subject, decided, kind, reason, decider, now, self.tombstone)
            entry = self._entry(updated, decided, kind, reason, decider, now, second)
            listing = ReviewIndexEntry(customer_id=customer_id, correlation_id=correlation_id, since=now, reason=reason)
            events = _retired_event(updated, now) if decided.status is SubjectStatus.RETIRED else []
            self.uow.commit(
                SubjectChange(
                    SubjectKey.of(updated),
                    replace=(Versioned(updated, current.etag),),
                    create=(*decided.outbox, entry),
                    events=tuple(events),
                    listings=(Listing(INDEX_OF_STATUS[decided.status], listing),),
                )
            )
            return updated, decided, entry

        updated, decided, entry = self.uow.run(attempt, "The subject")
        self._after_decision(updated, decided, entry, kind, flagged_by[0], still_open[0])
        return updated

    def _after_decision(
        self, updated: Subject, decided: Decided, entry: AuditEntry, kind: DecisionKind, rule: str, still_open: bool
    ) -> None:
        """What a committed decision causes: open sessions revoked, counted and logged, the audit
        entry moved to the log, the successor created, the notification queued."""
        customer_id, correlation_id = updated.customer_id, updated.correlation_id
        if still_open:  # no longer active: what it still holds goes
            self.revoke(customer_id, correlation_id)
        if kind is not DecisionKind.CONFIRM:  # a confirmation is counted with its determination
            self.stats.record(kind, rule, entry.at, entry.entry_id)
        telemetry.count("decisions", outcome=kind, reason=rule)
        telemetry.event(
            log,
            "subject.decided",
            outcome=kind,
            reason=rule,
            guideline=decided.guideline_id,
            customer=customer_id,
            subject=entry.target,
        )
        # The old status's index row is left for the next listing to drop (it checks every row
        # against its subject): one round trip less here, none lost.
        logged = [audit_row(entry.entry_id)] if self.audit.try_write(entry) else []
        if decided.successor:
            self.ensure_successor(updated)
        # just written: no need to read the outbox back; its rows and the logged audit row go in one batch
        self._deliver(customer_id, correlation_id, list(decided.outbox), done=logged)

    def _entry(
        self,
        subject: Subject,
        decided: Decided,
        kind: DecisionKind,
        reason: str,
        decider: Decider,
        now: datetime,
        second: Decider | None = None,
    ) -> AuditEntry:
        """The decision's audit entry (the subject and its successor named by pseudonym; with four
        eyes, the second person too)."""
        customer_id = subject.customer_id
        detail = {
            "deciderId": decider.object_id,
            **({"secondReviewer": second.name, "secondReviewerId": second.object_id} if second else {}),
            **({"successor": self.ref(customer_id, decided.successor)} if decided.successor else {}),
            **({"guideline": decided.guideline_id} if decided.guideline_id else {}),
        }
        return self.audit.entry(
            at=now,
            actor=decider.actor,
            action=f"subject.{kind}",
            target=self.ref(customer_id, subject.correlation_id),
            reason=reason,
            detail=detail,
        )

    def ensure_successor(self, old: Subject) -> bool:
        """Create the new GUID's subject (consent carried over, counters fresh) once; False if it
        existed. The old subject is marked, so a successor deleted later (idle, erased) stays gone."""
        now = self.clock()
        created = self.subjects.create_subject(
            Subject(
                customer_id=old.customer_id,
                correlation_id=old.replaced_by or "",
                consent_policy_version=old.consent_policy_version,
                consent_purpose=old.consent_purpose,
                consent_granted_at=old.consent_granted_at,
                created_at=now,
                last_activity_at=now,
                replaces=old.correlation_id,
            )
        )
        self.subjects.mark_successor_created(old.customer_id, old.correlation_id)
        return created

    # --- notifications --------------------------------------------------------------------
    def flush_outbox(self, customer_id: str, correlation_id: str) -> int:
        """Queue every pending notification of a subject; safe to run again."""
        return self._deliver(customer_id, correlation_id, self.subjects.outbox(customer_id, correlation_id))

    def _deliver(
        self, customer_id: str, correlation_id: str, entries: list[OutboxEntry], done: list[str] | None = None
    ) -> int:
        """Queue each notification, then remove their outbox rows (and the `done` rows of the same
        subject) in one transaction."""
        for entry in entries:  # the consumer escalates per customer before it sends the email
            self.queue.send(Notification.model_validate(entry.message))
        self.subjects.delete_rows(
            customer_id, correlation_id, [outbox_row(e.notification_id) for e in entries] + (done or [])
        )
        return len(entries)


@dataclass(frozen=True)
class Decided:
    """What a review command decided: the new status, a successor GUID, notifications to send."""

    status: SubjectStatus
    successor: str | None
    outbox: tuple[OutboxEntry, ...] = ()
    guideline_id: str | None = None  # the reviewer guideline the decision followed


def _require_pending(subject: Subject) -> None:
    if subject.state.status is not SubjectStatus.FLAGGED and subject.appeal is None:
        raise Conflict(f"This subject is {subject.state.status.value}; only a pending flag can be decided.")


def _successor(subject: Subject) -> str | None:
    """A fresh GUID for a retired subject; none for an erased one (its end user withdrew consent)."""
    return None if subject.erased else str(uuid.uuid4())


def _decided(
    subject: Subject,
    decided: Decided,
    kind: DecisionKind,
    reason: str,
    decider: Decider,
    now: datetime,
    tombstone: timedelta,
) -> Subject:
    """The subject row after a decision."""
    return subject.model_copy(
        update={
            "claim": None,  # decided: nothing left to claim
            "second_review": None,
            "appeal": None,
            "state": subject.state.model_copy(update={"status": decided.status}),
            "status": decided.status.value,
            "decided_at": now,
            "last_activity_at": now,
            "replaced_by": decided.successor or subject.replaced_by,
            "gate_until": now + tombstone if subject.erased else None,
            "decisions": (
                *subject.decisions,
                ReviewDecision(
                    decision=kind,
                    reason=reason,
                    by=decider.actor,
                    by_id=decider.object_id,
                    at=now,
                    new_correlation_id=decided.successor,
                    notification_id=decided.outbox[0].notification_id if decided.outbox else None,
                    guideline_id=decided.guideline_id,
                ),
            ),
        }
    )


def _retired_event(subject: Subject, now: datetime) -> list[WebhookEvent]:
    data = {"correlationId": subject.correlation_id, "newCorrelationId": subject.replaced_by}
    return [webhook_event("subject.retired", subject.customer_id, f"{subject.correlation_id}|retired", now, data)]


def check_address(customer_id: str, correlation_id: str) -> None:
    if not _CUSTOMER_ID.fullmatch(customer_id) or not _SUBJECT_ID.fullmatch(correlation_id):
        raise NotFound("No such subject.")
