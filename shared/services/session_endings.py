"""How a liveness session ends (docs/abuse-policy.md, "Revocation"; docs/retention.md): deleted at Face
once its result is final, settled by the retention sweep before its row goes, revoked when its subject
stops being active, its customer is suspended or terminated or a newer session replaces it, and
closed by an erasure. In each case what Face still holds is read and counted first, so no attempt
goes uncounted; a deletion Face refuses is owed to the sweep.

`SessionEndings.commit` is also how the other session services commit a subject change: when the
change stops the subject, its open sessions are revoked right after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from shared import telemetry
from shared.adapters.repositories import FaceSessionOwners, SubjectRepository
from shared.adapters.tables import Versioned
from shared.domain.attempts import Absorbed, FaceReading, absorb
from shared.domain.clock import Clock
from shared.domain.keys import Keyring
from shared.domain.policy import Policy, SubjectState
from shared.domain.records import Record, Session, Subject
from shared.domain.secrets import subject_ref
from shared.errors import Contended, UpstreamUnavailable
from shared.services.address_rule import AddressRule
from shared.services.face_cleanup import FaceCleanup
from shared.services.face_reads import FaceReads, Readings
from shared.services.lineage import Lineage
from shared.services.subject_commits import SubjectCommits
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class RevokeReason(StrEnum):
    """Why open sessions were revoked (a metric label and a log field)."""

    FLAGGED = "flagged"
    DECIDED = "decided"
    ERASED = "erased"
    CUSTOMER = "customer"
    REPLACED = "replaced"  # a new session beyond POLICY_OPEN_SESSIONS


@dataclass
class SessionEndings:
    """Revocation, settling and the Face side of a session's end (see the module docstring)."""

    subjects: SubjectRepository
    uow: UnitOfWork
    commits: SubjectCommits
    reads: FaceReads
    address: AddressRule
    ledger: FaceSessionOwners
    cleanup: FaceCleanup
    lineage: Lineage
    clock: Clock
    keys: Keyring
    policy: Policy
    pull_grace: timedelta

    def absorb(
        self, subject: Subject, state: SubjectState, session: Session, reading: FaceReading, now: datetime
    ) -> Absorbed:
        """The policy run on a reading's new attempts (`absorb`), with the subject's lineage resolved
        when Face's abuse monitoring named other sessions (docs/abuse-policy.md)."""
        return absorb(state, session, reading, now, self.policy, self.lineage.sessions_of(subject, reading))

    def commit(
        self,
        current: Versioned[Subject],
        subject: Subject,
        state: SubjectState,
        absorbed: list[tuple[Versioned[Session], Absorbed]],
        create: tuple[Record, ...],
        now: datetime,
        pulled: Readings | None = None,
    ) -> bool:
        """Commit a subject change (`SubjectCommits.commit`); when it stops the subject, its open
        sessions are revoked at once (`pulled`: what the request already read from Face). Returns
        whether it did, so the caller leaves the Face deletions to that revocation."""
        stopped = self.commits.commit(current, subject, state, absorbed, create, now)
        if stopped:  # every other session it holds goes at once (docs/abuse-policy.md, "Revocation")
            self.revoke_after(subject.customer_id, subject.correlation_id, RevokeReason.FLAGGED, pulled)
        return stopped

    # --- Face-side data lifecycle (docs/retention.md) ----------------------------------------
    def forget_finished(self, absorbed: list[tuple[Versioned[Session], Absorbed]]) -> None:
        """After the commit that recorded them: delete at Face the sessions whose result is final."""
        for _, result in absorbed:
            if result.session.finished and not result.session.face_deleted:
                self.cleanup.delete(result.session)

    def delete_owed(self, session_id: str) -> bool:
        """The sweep's retry of a deletion Face owes; a revoked session's last attempts are counted
        first. True once Face holds nothing of it."""
        owner = self.ledger.owed_by(session_id)
        if owner is not None and not self._count_owed(*owner, session_id):
            return False
        if not self.cleanup.forget(session_id):
            return False
        if owner is not None:
            self.subjects.mark_face_deleted(*owner, session_id)
        self.ledger.paid(session_id)
        return True

    def _count_owed(self, customer_id: str, correlation_id: str, session_id: str) -> bool:
        """Record what a revoked session still holds at Face; False while Face cannot be read."""
        pulled: Readings = {}

        def attempt() -> bool:
            now = self.clock()
            subject, session = self.subjects.get_with_session(customer_id, correlation_id, session_id)
            if subject is None or session is None or session.record.face_deleted:
                return True
            try:
                reading = self.reads.read(session_id, pulled)
            except UpstreamUnavailable:
                return False
            result = self.absorb(subject.record, subject.record.state, session.record, reading, now)
            self.address.count([(session, result)], now, pulled)
            self.commit(subject, subject.record, result.state, [(session, result)], (), now)
            return True

        try:
            return self.uow.run(attempt, "This session")
        except Contended:
            return False

    # --- revocation ---------------------------------------------------------------------------
    def revoke(
        self, customer_id: str, correlation_id: str, reason: RevokeReason, pulled: Readings | None = None
    ) -> int:
        """Revoke every open session of a subject: attempts read from Face first (none goes
        uncounted), the rows marked revoked in one transaction (401 `token_revoked` from then on),
        then each deleted at Face — owed to the sweep, which counts before it deletes, when Face
        fails. Returns how many were revoked. `pulled`: sessions the caller read from Face just now."""
        pulled = pulled if pulled is not None else {}

        def attempt() -> list[tuple[Session, bool]]:
            now = self.clock()
            current, sessions = self.subjects.get_with_sessions(customer_id, correlation_id)
            live = [s for s in sessions if revocable(s.record, now, self.pull_grace)]
            if current is None or not live:
                return []
            state, revoked, unread = self._revoking(current.record, live, pulled, now)
            self.commit(current, current.record, state, revoked, (), now)
            return [(r.session, r.session.session_id not in unread) for _, r in revoked]

        revoked = self.uow.run(attempt, "The subject")
        self._delete_revoked(revoked)
        if revoked:
            self.observe_revoked(customer_id, correlation_id, len(revoked), reason)
        return len(revoked)

    def _revoking(
        self, subject: Subject, live: list[Versioned[Session]], pulled: Readings, now: datetime
    ) -> tuple[SubjectState, list[tuple[Versioned[Session], Absorbed]], set[str]]:
        """Read each session from Face, absorb its final attempts and mark it revoked. A session Face
        cannot be read now is revoked all the same; its deletion is owed, and the sweep counts it
        first. Returns the state, the revoked sessions and the ids of those left unread."""
        out: list[tuple[Versioned[Session], Absorbed]] = []
        unread: set[str] = set()
        state = subject.state
        for session in live:
            try:
                reading = self.reads.read(session.record.session_id, pulled, session.record.face_deleted)
            except UpstreamUnavailable:
                unread.add(session.record.session_id)
                out.append((session, Absorbed(state, session.record.model_copy(update={"revoked": True}), (), ())))
                continue
            result = self.absorb(subject, state, session.record, reading, now)
            state = result.state
            out.append((session, replace(result, session=result.session.model_copy(update=REVOKED))))
        counted = [entry for entry in out if entry[0].record.session_id not in unread]
        self.address.count(counted, now, pulled)
        return state, out, unread

    def _delete_revoked(self, revoked: list[tuple[Session, bool]]) -> None:
        """After the commit that revoked them: delete at Face what was read, owe what was not."""
        for session, read in revoked:
            if session.face_deleted:
                continue
            if read:
                self.cleanup.delete(session)
            else:
                self.cleanup.owe(session.session_id, (session.customer_id, session.correlation_id))

    def observe_revoked(self, customer_id: str, correlation_id: str, count: int, reason: RevokeReason) -> None:
        telemetry.count("sessions.revoked", count, reason=reason.value)
        ref = subject_ref(self.keys, customer_id, correlation_id)
        telemetry.event(log, "sessions.revoked", customer=customer_id, subject=ref, sessions=count, reason=reason.value)

    def revoke_customer(self, customer_id: str) -> int:
        """Revoke every open session of a suspended or terminated customer, subject by subject (found
        by one range query over the customer's partitions); returns how many were revoked."""
        revoked = 0
        try:  # never fails the change that suspended or terminated: /result refuses the customer meanwhile
            for correlation_id in self.subjects.with_open_sessions(customer_id, self.clock() - self.pull_grace):
                try:
                    revoked += self.revoke(customer_id, correlation_id, RevokeReason.CUSTOMER)
                except Exception:
                    telemetry.count("sessions.revoke_failed")
                    log.exception("sessions.revoke_failed for one subject; the others go on")
        except Exception:
            telemetry.count("sessions.revoke_failed")
            log.exception("sessions.revoke_failed: the customer's sessions could not be listed")
        return revoked

    def revoke_after(
        self, customer_id: str, correlation_id: str, reason: RevokeReason, pulled: Readings | None = None
    ) -> int:
        """Revoke right after the commit that stopped the subject; a failure never undoes that change:
        `/result` refuses a subject that is not active meanwhile, and its retention check (filed with
        the flag) revokes again."""
        try:
            return self.revoke(customer_id, correlation_id, reason, pulled)
        except Exception:
            telemetry.count("sessions.revoke_failed")
            log.exception("sessions.revoke_failed; the subject's retention check revokes again")
            return 0

    # --- settling before deletion (retention sweep) ---------------------------------------
    def settle(self, customer_id: str, correlation_id: str, session_id: str) -> bool:
        """Record whatever a session still holds at Face, then delete it there; True when its row may go.

        False while Face cannot be read or asked to delete, or an attempt is still running: the sweep
        keeps the row and looks again next run (Face itself forgets a session after 48 hours, which
        then reads as gone)."""
        pulled: Readings = {}

        def attempt() -> bool:
            now = self.clock()
            subject, session = self.subjects.get_with_session(customer_id, correlation_id, session_id)
            if session is None:
                return True
            if session.record.settled or subject is None:  # an orphan row: nothing to count against
                return session.record.face_deleted or self.cleanup.delete(session.record)
            try:
                reading = self.reads.read(session_id, pulled, session.record.face_deleted)
            except UpstreamUnavailable:
                return False
            result = self.absorb(subject.record, subject.record.state, session.record, reading, now)
            self.address.count([(session, result)], now, pulled)
            if not result.attempts and not result.session.settled:
                return False
            self.commit(subject, subject.record, result.state, [(session, result)], (), now)
            settled = result.session
            return settled.settled and (settled.face_deleted or self.cleanup.delete(settled))

        try:
            return self.uow.run(attempt, "This session")
        except Contended:
            return False  # the next sweep looks again

    # --- erasure ------------------------------------------------------------------------------
    def close_for_erasure(self, customer_id: str, correlation_id: str) -> list[Session]:
        """An erasure's first step: in one transaction the subject is marked `erasing` (no session can
        be issued or committed from then on: a request racing it loses its ETag race and is refused)
        and its open sessions revoked, after their attempts are read from Face (best effort: consent
        withdrawn outranks counting). Returns every session row, for erasure to delete at Face."""
        pulled: Readings = {}
        read: list[Session] = []

        def attempt() -> None:
            now = self.clock()
            current, sessions = self.subjects.get_with_sessions(customer_id, correlation_id)
            if current is None:  # erased already (or only orphan rows left): nothing to close
                read[:] = [s.record for s in sessions]
                return
            live = [s for s in sessions if revocable(s.record, now, self.pull_grace)]
            state, revoked, _ = self._revoking(current.record, live, pulled, now)
            closing = current.record.model_copy(update={"erasing": True})
            self.commit(current, closing, state, revoked, (), now)
            done = {s.record.session_id for s in live}
            read[:] = [r.session for _, r in revoked] + [s.record for s in sessions if s.record.session_id not in done]
            closed[:] = [len(revoked)]

        closed = [0]
        self.uow.run(attempt, "The subject")  # Contended: 429, the client erases again (idempotent)
        if closed[0]:
            self.observe_revoked(customer_id, correlation_id, closed[0], RevokeReason.ERASED)
        return read


REVOKED = {"revoked": True, "finished": True}


def revocable(session: Session, now: datetime, grace: timedelta) -> bool:
    """Whether revoking the subject must still revoke this session (its token or Face side may live)."""
    return not session.revoked and not session.face_deleted and session.expires_at + grace > now


def unfinished(session: Session, now: datetime) -> bool:
    """A session the device may still use: counted against POLICY_OPEN_SESSIONS."""
    return not (session.finished or session.revoked or session.settled or session.face_deleted) and (
        session.expires_at > now
    )
