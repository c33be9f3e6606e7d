"""Issuing liveness sessions (docs/api.md, `POST /sessions`; docs/abuse-policy.md).

A request reads the subject (consented, not being erased, active), reads from Face the subject's
open sessions and those of the requesting address and counts their final attempts, asks the pure
policy, creates the Face session once however many races it loses, makes room under
POLICY_OPEN_SESSIONS, tracks the address, and commits in one unit of work; a lost race re-reads
and decides again, so N parallel requests never get past the policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared import telemetry
from shared.adapters.face import CreatedFaceSession, FaceClient, NewFaceSession
from shared.adapters.repositories import FaceSessionOwners, SubjectRepository
from shared.adapters.tables import Versioned
from shared.domain.attempts import Absorbed, is_open
from shared.domain.clock import Clock
from shared.domain.gate import gate_refusal
from shared.domain.ip_policy import ip_ref, refuse_from_ip
from shared.domain.keys import Keyring
from shared.domain.policy import (
    IssuedSession,
    Policy,
    Refusal,
    RefusalCode,
    SubjectState,
    SubjectStatus,
    record_session,
    refuse_new_session,
    seconds_until,
)
from shared.domain.records import Customer, CustomerStatus, Session, Subject
from shared.domain.retention_rules import needs_check
from shared.domain.secrets import subject_ref
from shared.errors import ConsentRequired, CorrelationIdBlocked, CustomerSuspended, DomainError, RetryLimited
from shared.services.address_rule import AddressRule
from shared.services.face_cleanup import FaceCleanup
from shared.services.face_reads import FaceReads, Readings
from shared.services.session_endings import REVOKED, RevokeReason, SessionEndings, unfinished
from shared.services.session_tokens import IssuedView, SessionTokens, find_replay
from shared.unit_of_work import LostRace, SubjectKey, UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class _Issue:
    """One session request, and what it did so far, kept across lost races (so Face is asked once)."""

    key: SubjectKey
    mode: str | None
    client_request_id: str | None
    end_user_ip: str | None  # sent to Face as the session's expected client address
    ip: str | None  # its keyed reference, as the address rule and the session row know it
    pulled: Readings = field(default_factory=dict)
    created: CreatedFaceSession | None = None
    tracked: bool = False
    committed: bool = False
    fresh: bool = False  # read the subject from storage (not from what this instance last wrote)


@dataclass
class SessionIssuer:
    """`POST /sessions`: one session request, read → count → decide → create at Face → commit."""

    subjects: SubjectRepository
    uow: UnitOfWork
    face: FaceClient
    reads: FaceReads
    address: AddressRule
    tokens: SessionTokens
    endings: SessionEndings
    ledger: FaceSessionOwners
    cleanup: FaceCleanup
    policy: Policy
    clock: Clock
    keys: Keyring
    session_ttl: timedelta
    default_mode: str
    client_attempts: int
    pull_limit: int = 10
    pull_grace: timedelta = timedelta(hours=1)

    def create_session(
        self,
        customer: Customer,
        correlation_id: str,
        mode: str | None,
        client_request_id: str | None,
        end_user_ip: str | None = None,
    ) -> IssuedView:
        """Issue a liveness session for a subject, or replay the one issued for clientRequestId.

        `end_user_ip` (normalised, see `normalise_ip`) is stored only as a keyed hash. Each outcome
        is counted (`sessions.issued`, `sessions.refused` by code) and a refusal logged."""
        try:
            issued = self._issue(customer, correlation_id, mode, client_request_id, end_user_ip)
        except DomainError as refused:
            telemetry.count("sessions.refused", code=refused.code)
            subject = subject_ref(self.keys, customer.customer_id, correlation_id)
            telemetry.event(log, "session.refused", code=refused.code, customer=customer.customer_id, subject=subject)
            raise
        telemetry.count("sessions.issued", replayed=str(issued.replayed).lower())
        return issued

    def _issue(
        self,
        customer: Customer,
        correlation_id: str,
        mode: str | None,
        client_request_id: str | None,
        end_user_ip: str | None,
    ) -> IssuedView:
        if customer.status is CustomerStatus.SUSPENDED:
            raise CustomerSuspended("This customer is suspended; contact the operator.")
        ip = ip_ref(self.keys, customer.customer_id, end_user_ip) if end_user_ip else None
        issue = _Issue(SubjectKey(customer.customer_id, correlation_id), mode, client_request_id, end_user_ip, ip)

        def attempt() -> IssuedView:
            now = self.clock()
            current, sessions = self._read_subject(issue, now)
            replay = find_replay(sessions, client_request_id, now)
            if replay is not None:
                view = self.tokens.replay(issue.key, replay.session_id)
                if view is None:
                    raise LostRace
                return view
            subject = self._through_gate(current.record, now)
            own = sorted((s for s in sessions if is_open(s.record, now, self.pull_grace)), key=_created)
            absorbed = self._pull_own(subject, own[: self.pull_limit], issue.pulled, now)
            state = absorbed[-1][1].state if absorbed else subject.state
            ip_state = self.address.count(absorbed, now, issue.pulled, ip, self.address.state(ip) if ip else None, own)
            refusal = (
                refuse_new_session(state, now, self.policy)
                or (refuse_from_ip(ip_state, now) if ip_state else None)
                or self._unread(own, now)
            )
            if refusal is not None:
                if not (absorbed and self.endings.commit(current, subject, state, absorbed, (), now, issue.pulled)):
                    self.endings.forget_finished(absorbed)
                raise refused(refusal)
            return self._hand_out(issue, current, subject, state, own, absorbed, now)

        try:
            return self.uow.run(attempt, "This subject")
        finally:
            if issue.created is not None and not issue.committed:
                self.cleanup.discard(issue.created.session_id)

    def _hand_out(
        self,
        issue: _Issue,
        current: Versioned[Subject],
        subject: Subject,
        state: SubjectState,
        own: list[Versioned[Session]],
        absorbed: list[tuple[Versioned[Session], Absorbed]],
        now: datetime,
    ) -> IssuedView:
        """The policy let it through: create at Face (once), make room, track the address, commit."""
        created = self._create_at_face(issue, now)
        mode = issue.mode or self.default_mode
        session, token = self.tokens.new_session(subject, created, mode, issue.client_request_id, issue.ip, now)
        absorbed = self._make_room(own, absorbed, state, now)
        if issue.ip:
            self._track_ip(issue, issue.ip, session, now)
        issued = IssuedSession(session_id=session.session_id, at=now, expires_at=session.expires_at)
        subject = self._with_check(subject, session.expires_at + self.pull_grace, now)
        after = record_session(state, issued, now, self.policy)
        self.endings.commit(current, subject, after, absorbed, (session,), now)
        issue.committed = True
        self.endings.forget_finished(absorbed)  # the sessions it replaced too (owed when Face fails)
        if replaced := sum(r.session.revoked and not v.record.revoked for v, r in absorbed):
            key = issue.key
            self.endings.observe_revoked(key.customer_id, key.correlation_id, replaced, RevokeReason.REPLACED)
        return IssuedView(session, created.auth_token, token, replayed=False)

    def _read_subject(self, issue: _Issue, now: datetime) -> tuple[Versioned[Subject], list[Versioned[Session]]]:
        """The subject and its sessions, refused unless consented, not being erased, and active. The
        first try may start from what this instance last wrote, when that shows a plain new session."""
        customer_id, correlation_id = issue.key.customer_id, issue.key.correlation_id
        known = None if issue.fresh else self.subjects.recent_with_sessions(customer_id, correlation_id)
        issue.fresh = True
        if known is not None and self._plainly_allowed(*known, issue.client_request_id, now):
            current, sessions = known
        else:
            current, sessions = self.subjects.get_with_sessions(customer_id, correlation_id)
        if current is None or current.record.erasing:
            raise ConsentRequired("Record the subject's consent (POST /consents) first.")
        if current.record.state.status is not SubjectStatus.ACTIVE:
            raise CorrelationIdBlocked(f"This correlation id is {current.record.state.status.value}; no new sessions.")
        return current, sessions

    def _create_at_face(self, issue: _Issue, now: datetime) -> CreatedFaceSession:
        """The Face session this request hands out, created once however many races it loses."""
        if issue.created is None:
            correlation_id = issue.key.correlation_id
            issue.created = self.face.create_session(
                NewFaceSession(
                    mode=issue.mode or self.default_mode,
                    device_correlation_id=correlation_id,
                    ttl_seconds=int(self.session_ttl.total_seconds()),
                    user_correlation_id=correlation_id,
                    client_attempts=self.client_attempts,
                    expected_client_ip=issue.end_user_ip,
                )
            )
            if self.face.reports_other_sessions:  # so a reviewer can resolve Face's otherFlaggedSessions
                self.ledger.record_owner(issue.created.session_id, issue.key.customer_id, correlation_id, now)
        return issue.created

    def _track_ip(self, issue: _Issue, ip: str, session: Session, now: datetime) -> None:
        """Written ahead, once: a session the address row lists but the request discards reads as gone."""
        if not issue.tracked:
            self.address.track(ip, session, now)
            issue.tracked = True

    def _plainly_allowed(
        self,
        current: Versioned[Subject] | None,
        sessions: list[Versioned[Session]],
        client_request_id: str | None,
        now: datetime,
    ) -> bool:
        """Whether what this instance last wrote shows a plain new session: an active, ungated subject
        the policy lets through, no replay, nothing open to read first. Anything else (a refusal
        above all) is decided on a fresh read; and the write after is ETag-guarded either way."""
        return (
            current is not None
            and current.record.state.status is SubjectStatus.ACTIVE
            and not current.record.gated
            and not current.record.erasing
            and find_replay(sessions, client_request_id, now) is None
            and not any(is_open(s.record, now, self.pull_grace) for s in sessions)
            and refuse_new_session(current.record.state, now, self.policy) is None
        )

    def _make_room(
        self,
        own: list[Versioned[Session]],
        absorbed: list[tuple[Versioned[Session], Absorbed]],
        state: SubjectState,
        now: datetime,
    ) -> list[tuple[Versioned[Session], Absorbed]]:
        """Revoke the oldest sessions the device may still use, so that with the new one the subject
        holds at most POLICY_OPEN_SESSIONS; their final attempts were read just before (`_pull_own`).
        The revoked rows go in the new session's transaction; Face deletes them after the commit."""
        after = {s.record.session_id: (s, r) for s, r in absorbed}
        entries = [after.get(s.record.session_id, (s, None)) for s in own]
        live = [(s, r) for s, r in entries if unfinished(r.session if r else s.record, now)]
        for s, r in live[: max(0, len(live) - self.policy.open_sessions + 1)]:
            base = r or Absorbed(state, s.record, (), ())
            after[s.record.session_id] = (s, replace(base, session=base.session.model_copy(update=REVOKED)))
        return list(after.values())

    def _with_check(self, subject: Subject, due: datetime, now: datetime) -> Subject:
        """The subject with a retention check that will see a new row due at `due`: the one it has
        when that is early enough, else a new one filed ahead (the first session of a later visit:
        a first consent files the check its first session needs)."""
        if not needs_check(subject.sweep_at, due, now):
            return subject
        filed = self.subjects.file_check(subject.customer_id, subject.correlation_id, due)
        return subject.model_copy(update={"sweep_at": filed}) if filed is not None else subject

    def _through_gate(self, subject: Subject, now: datetime) -> Subject:
        """Refuse while the gate erasure left still holds; once it lets go, the subject is cleared of it."""
        if not subject.gated:
            return subject
        refusal = gate_refusal(self.subjects.gate_record(self.keys, subject.customer_id, subject.correlation_id), now)
        if refusal is not None:
            raise refused(refusal)
        return subject.model_copy(update={"gated": False})

    def _pull_own(
        self, subject: Subject, own: list[Versioned[Session]], pulled: Readings, now: datetime
    ) -> list[tuple[Versioned[Session], Absorbed]]:
        """Read the subject's open sessions from Face and absorb their final attempts, in order."""
        out, state = [], subject.state
        for session in own:
            reading = self.reads.read(session.record.session_id, pulled, session.record.face_deleted)
            absorbed = self.endings.absorb(subject, state, session.record, reading, now)
            state = absorbed.state
            if absorbed.session != session.record or absorbed.attempts:
                out.append((session, absorbed))
        return out

    def _unread(self, own: list[Versioned[Session]], now: datetime) -> Refusal | None:
        """Fail closed when more sessions are open than one request may read from Face."""
        if len(own) <= self.pull_limit:
            return None
        waits = sorted(s.record.expires_at for s in own)
        return Refusal(
            RefusalCode.RETRY_LIMITED,
            "Earlier sessions of this subject are still open; try again when they have finished.",
            seconds_until(waits[len(own) - self.pull_limit - 1], now),
        )


def refused(refusal: Refusal) -> Exception:
    """The domain error a policy refusal answers with."""
    if refusal.code is RefusalCode.CORRELATION_ID_BLOCKED:
        return CorrelationIdBlocked(refusal.message)
    return RetryLimited(refusal.message, retry_after=refusal.retry_after_seconds)


def _created(session: Versioned[Session]) -> datetime:
    return session.record.created_at
