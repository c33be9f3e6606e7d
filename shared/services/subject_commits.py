"""Committing what a session request, a result or a revocation decided about one subject: the new
state, the sessions read and their new attempts in one unit of work, with a flag listed for review
ahead and announced after; then what it did is counted and logged."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from shared import telemetry
from shared.adapters.repositories import ReviewCounts
from shared.adapters.tables import Versioned
from shared.domain.attempts import Absorbed
from shared.domain.keys import Keyring
from shared.domain.policy import SubjectState, SubjectStatus
from shared.domain.records import Attempt, Record, ReviewIndexEntry, Session, Subject
from shared.domain.retention_rules import with_attempt_hour
from shared.domain.review_overview import reason_kind
from shared.domain.secrets import subject_ref
from shared.domain.webhook_events import WebhookEvent, webhook_event
from shared.unit_of_work import Listing, SubjectChange, SubjectKey, UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class SubjectCommits:
    """One subject change after the policy decided it (see the module docstring)."""

    uow: UnitOfWork
    keys: Keyring
    stats: ReviewCounts  # counts each flag for the review overview

    def commit(
        self,
        current: Versioned[Subject],
        subject: Subject,
        state: SubjectState,
        absorbed: list[tuple[Versioned[Session], Absorbed]],
        create: tuple[Record, ...],
        now: datetime,
    ) -> bool:
        """Write the subject's new state, the read sessions and their attempts in one transaction
        (StaleWrite when another writer got there first); True when the change stopped the subject
        (its open sessions must go: `SessionEndings.commit` revokes them)."""
        attempts = [a for _, result in absorbed for a in result.attempts]
        updated = subject.model_copy(
            update={
                "state": state,
                "status": state.status.value,
                "last_activity_at": now,
                "attempts_total": subject.attempts_total + len(attempts),
                "attempt_hours": with_attempt_hour(subject.attempt_hours, now) if attempts else subject.attempt_hours,
                "sessions_total": subject.sessions_total + sum(isinstance(r, Session) for r in create),
            }
        )
        flagged, listings = announce_flag(current.record, updated, now)
        rows: list[Versioned[Record]] = [Versioned(updated, current.etag)]
        rows += [Versioned(result.session, session.etag) for session, result in absorbed]
        key = SubjectKey.of(subject)
        self.uow.commit(SubjectChange(key, tuple(rows), (*create, *attempts), tuple(flagged), listings))
        self._observe(current.record, updated, attempts, bool(flagged), now)
        return current.record.state.status is SubjectStatus.ACTIVE and state.status is not SubjectStatus.ACTIVE

    def _observe(self, before: Subject, after: Subject, attempts: list[Attempt], flagged: bool, now: datetime) -> None:
        """Count and log what a committed change did: attempts read, a timeout begun, a flag raised."""
        for a in attempts:
            telemetry.count("attempts", decision=a.liveness_decision or a.attempt_status or "none")
            if a.ip_mismatch:  # evidence for the reviewer, counted per customer in the overview
                telemetry.count("attempts.ip_mismatch")
                self.stats.record("ip_mismatch", after.customer_id, now, f"{a.session_id}|{a.attempt_id}")
        if lineage := sum(e.lineage for e in after.state.face_evidence) - sum(
            e.lineage for e in before.state.face_evidence
        ):
            telemetry.count("face.lineage_matches", max(0, lineage))
        timed_out = after.state.timed_out_until and after.state.timed_out_until != before.state.timed_out_until
        if not (timed_out or flagged):
            return  # the common case: no pseudonym to compute
        ref = subject_ref(self.keys, after.customer_id, after.correlation_id)
        if timed_out and after.state.timed_out_until:
            until = after.state.timed_out_until.isoformat()
            telemetry.event(log, "subject.timed_out", customer=after.customer_id, subject=ref, until=until)
        if not flagged:
            return
        at, rule = after.state.flagged_at or now, reason_kind(after.state.flag_reason)
        telemetry.count("flags", reason=rule)
        telemetry.event(log, "subject.flagged", logging.WARNING, customer=after.customer_id, subject=ref, reason=rule)
        cause = f"{after.customer_id}|{after.correlation_id}|{at.isoformat()}"  # hashed, never stored
        self.stats.record("flag", rule, at, cause)


def announce_flag(before: Subject, after: Subject, now: datetime) -> tuple[list[WebhookEvent], tuple[Listing, ...]]:
    """A newly flagged subject's `subject.flagged` webhook event, and its listing for review
    (written ahead of the commit: a lost race leaves a stale row, no gap)."""
    if after.state.status is not SubjectStatus.FLAGGED or before.state.status is SubjectStatus.FLAGGED:
        return [], ()
    flagged_at = after.state.flagged_at or now
    entry = ReviewIndexEntry.of(after, flagged_at)
    data = {
        "correlationId": after.correlation_id,
        "reason": after.state.flag_reason,
        "flaggedAt": flagged_at.isoformat(),
    }
    event = webhook_event("subject.flagged", after.customer_id, f"{after.correlation_id}|{flagged_at}", now, data)
    return [event], (Listing("pending", entry),)
