"""Consent (`POST /consents`): the first step for every subject, and where a gate erasure left is
picked up again (docs/abuse-policy.md, "Erasure and the gate")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import Versioned
from shared.domain.clock import Clock
from shared.domain.gate import resumed_state
from shared.domain.keys import Keyring
from shared.domain.records import Customer, Subject
from shared.errors import Conflict
from shared.unit_of_work import LostRace, SubjectChange, SubjectKey, UnitOfWork


@dataclass
class ConsentService:
    subjects: SubjectStore
    uow: UnitOfWork
    clock: Clock
    keys: Keyring
    # A session issued now is due a retention check this long after it (its lifetime and the grace
    # for pulling its results): a first consent files its partition's first check for then, so the
    # visit's first session finds one that covers it (docs/retention.md, "The sweep").
    visit_check_after: timedelta

    def grant_consent(
        self, customer: Customer, correlation_id: str, policy_version: str, purpose: str | None
    ) -> Subject:
        """Record (or renew) the subject's consent; creates the subject on first consent.

        A first consent looks for a gate record erasure left for this GUID: the new subject resumes its
        counts, or is marked `gated` (its session requests read the gate until it lets go)."""

        def attempt() -> Subject:
            now = self.clock()
            consent = {"consent_policy_version": policy_version, "consent_purpose": purpose, "consent_granted_at": now}
            fresh = Subject(
                customer_id=customer.customer_id,
                correlation_id=correlation_id,
                created_at=now,
                last_activity_at=now,
                **consent,
            )
            created = self.subjects.create_subject(fresh, first_check=now + self.visit_check_after)
            if created:  # created first, gate read second: an erasure racing us is seen
                gate = self.subjects.gate_record(self.keys, customer.customer_id, correlation_id)
                if gate is not None:
                    return self._apply_gate(customer.customer_id, correlation_id, gate, now) or fresh
                return fresh
            current = self.subjects.get(customer.customer_id, correlation_id)
            if current is None:
                raise LostRace  # erased between our create and our read
            if current.record.erasing:
                raise Conflict("This subject is being erased; record consent again once the erasure is done.")
            renewed = current.record.model_copy(update={**consent, "last_activity_at": now})
            self._write(renewed, current.etag)
            return renewed

        return self.uow.run(attempt, "The subject")

    def _apply_gate(self, customer_id: str, correlation_id: str, gate: Subject, now: datetime) -> Subject | None:
        """The new subject under a gate erasure left: it resumes the gate's counts, and a gate kept
        for a flagged, blocked or retired subject marks it `gated` (refused until the gate lets go)."""
        resumed = resumed_state(gate, now)
        update: dict[str, object] = {"state": resumed} if resumed is not None else {"gated": True}

        def attempt() -> Subject | None:
            current = self.subjects.get(customer_id, correlation_id)
            if current is None:
                return None  # erased again meanwhile
            gated = current.record.model_copy(update=update)
            self._write(gated, current.etag)
            return gated

        return self.uow.run(attempt, "The subject")

    def _write(self, subject: Subject, etag: str) -> None:
        self.uow.commit(SubjectChange(SubjectKey.of(subject), replace=(Versioned(subject, etag),)))
