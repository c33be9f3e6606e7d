"""Consent, liveness sessions and results: the client API's domain logic.

Every subject change is read → decide (pure policy) → one entity-group transaction guarded by
ETags; a lost race re-reads and decides again, so N parallel requests never get past the policy.

Attempts count whether or not the client ever asks for them: before deciding on a new session the
service reads from Face the subject's open sessions (and those issued from the same end-user IP),
records their final attempts in the same cycle, and only then decides; the retention sweep settles
each session the same way before deleting it (`settle`).

A subject that stops being active (flagged, decided, erased) or whose customer is suspended or
terminated has every open session revoked (`revoke`): attempts read first, rows marked revoked in
one transaction (their tokens answer 401 `token_revoked`), then deleted at Face, owed to the sweep
when Face fails. A new session beyond `POLICY_OPEN_SESSIONS` revokes the oldest open one the same way.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared import telemetry
from shared.adapters.face import CreatedFaceSession, FaceClient, FaceSessionGone, FaceSessionResult, NewFaceSession
from shared.adapters.repositories import AddressCounters, FaceSessionOwners, ReviewCounts, SubjectRepository
from shared.adapters.stores import Versioned
from shared.domain.attempts import GONE, Absorbed, FaceReading, SeenAttempt, absorb, is_open
from shared.domain.clock import Clock
from shared.domain.gate import gate_refusal
from shared.domain.ip_policy import (
    IpPolicy,
    IpState,
    OpenSession,
    ip_ref,
    record_failures,
    refuse_from_ip,
    track_session,
    untrack_sessions,
)
from shared.domain.keys import Keyring, UnknownKey
from shared.domain.policy import (
    FlaggedRef,
    IssuedSession,
    LivenessDecision,
    Policy,
    Refusal,
    RefusalCode,
    SubjectState,
    SubjectStatus,
    record_session,
    refuse_new_session,
    seconds_until,
)
from shared.domain.records import Attempt, Customer, CustomerStatus, Record, ReviewIndexEntry, Session, Subject
from shared.domain.retention_rules import needs_check, with_attempt_hour
from shared.domain.review_overview import reason_kind
from shared.domain.secrets import (
    hash_secret,
    new_session_token,
    secret_matches,
    session_token_address,
    subject_ref,
)
from shared.domain.webhook_events import WebhookEvent, webhook_event
from shared.errors import (
    Conflict,
    ConsentRequired,
    CorrelationIdBlocked,
    CustomerSuspended,
    DomainError,
    RetryLimited,
    TokenExhausted,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from shared.services.face_cleanup import FaceCleanup
from shared.services.session_endings import REVOKED, Readings, RevokeReason, SessionEndings, unfinished
from shared.unit_of_work import Listing, LostRace, SubjectChange, SubjectKey, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedView:
    session: Session
    face_auth_token: str
    session_token: str
    replayed: bool


@dataclass(frozen=True)
class ResultView:
    session_id: str
    status: str
    liveness_decision: str | None
    attempts: int
    subject_status: SubjectStatus = SubjectStatus.ACTIVE


def reading_of(result: FaceSessionResult) -> FaceReading:
    """What the policy needs of a Face session read."""
    return FaceReading(
        status=result.status,
        attempts=tuple(
            SeenAttempt(
                attempt_id=a.attempt_id,
                status=a.attempt_status,
                final=a.final,
                decision=_decision(a.result.liveness_decision if a.result else None),
                abuse_detected=a.abuse.detected,
                flagged=tuple(
                    FlaggedRef(session_id=f.session_id, attempt_id=f.attempt_id) for f in a.abuse.flagged_sessions
                ),
            )
            for a in result.results.attempts
        ),
    )


@dataclass
class _Issue:
    """What one session request did so far, kept across lost races (so Face is asked once)."""

    pulled: Readings = field(default_factory=dict)
    created: CreatedFaceSession | None = None
    tracked: bool = False
    committed: bool = False
    fresh: bool = False  # read the subject from storage (not from what this instance last wrote)


@dataclass
class SessionService(SessionEndings):
    subjects: SubjectRepository
    uow: UnitOfWork
    face: FaceClient
    policy: Policy
    clock: Clock
    keys: Keyring
    session_ttl: timedelta
    call_budget: int
    default_mode: str
    ip_counters: AddressCounters
    ledger: FaceSessionOwners
    cleanup: FaceCleanup
    refuse_customer: Callable[[str], None]  # raises for a suspended or terminated customer
    stats: ReviewCounts  # counts each flag for the review overview
    ip_policy: IpPolicy = field(default_factory=IpPolicy)
    pull_limit: int = 10
    pull_grace: timedelta = timedelta(hours=1)
    client_attempts: int = 1  # attempts the device may make per session (FACE_CLIENT_ATTEMPTS)

    def _gate(self, customer_id: str, correlation_id: str) -> Subject | None:
        return self.subjects.gate_record(self.keys, customer_id, correlation_id)

    # --- sessions -----------------------------------------------------------------------
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
        issue = _Issue()

        def attempt() -> IssuedView:
            now = self.clock()
            current, sessions = self._read_subject(issue, customer.customer_id, correlation_id, client_request_id, now)
            replay = find_replay(sessions, client_request_id, now)
            if replay is not None:
                view = self._replay(customer, correlation_id, replay.session_id)
                if view is None:
                    raise LostRace
                return view
            subject = self._through_gate(current.record, now)
            ip_state = self.ip_counters.get(ip) if ip else None
            own = sorted((s for s in sessions if is_open(s.record, now, self.pull_grace)), key=_created)
            absorbed = self._pull_own(subject.state, own[: self.pull_limit], issue.pulled, now)
            state = absorbed[-1][1].state if absorbed else subject.state
            ip_state = self._count_ip(absorbed, ip, ip_state, own, issue.pulled, now)
            refusal = (
                refuse_new_session(state, now, self.policy)
                or (refuse_from_ip(ip_state, now) if ip_state else None)
                or self._unread(own, now)
            )
            if refusal is not None:
                if not (absorbed and self._commit(current, subject, state, absorbed, (), now, issue.pulled)):
                    self._forget_finished(absorbed)
                raise _refused(refusal)
            created = self._create_at_face(issue, customer.customer_id, correlation_id, mode, end_user_ip, now)
            session, token = self._new_session(subject, created, mode or self.default_mode, client_request_id, ip, now)
            absorbed = self._make_room(own, absorbed, state, now)
            if ip:
                self._track_ip(issue, ip, session, now)
            issued = IssuedSession(session_id=session.session_id, at=now, expires_at=session.expires_at)
            subject = self._with_check(subject, session.expires_at + self.pull_grace, now)
            self._commit(current, subject, record_session(state, issued, now, self.policy), absorbed, (session,), now)
            issue.committed = True
            self._forget_finished(absorbed)  # the sessions it replaced too (owed when Face fails)
            if replaced := sum(r.session.revoked and not v.record.revoked for v, r in absorbed):
                self._observe_revoked(customer.customer_id, correlation_id, replaced, RevokeReason.REPLACED)
            return IssuedView(session, created.auth_token, token, replayed=False)

        try:
            return self.uow.run(attempt, "This subject")
        finally:
            if issue.created is not None and not issue.committed:
                self._discard(issue.created.session_id)

    def _read_subject(
        self, issue: _Issue, customer_id: str, correlation_id: str, client_request_id: str | None, now: datetime
    ) -> tuple[Versioned[Subject], list[Versioned[Session]]]:
        """The subject and its sessions, refused unless consented, not being erased, and active. The
        first try may start from what this instance last wrote, when that shows a plain new session."""
        known = None if issue.fresh else self.subjects.recent_with_sessions(customer_id, correlation_id)
        issue.fresh = True
        if known is not None and self._plainly_allowed(*known, client_request_id, now):
            current, sessions = known
        else:
            current, sessions = self.subjects.get_with_sessions(customer_id, correlation_id)
        if current is None or current.record.erasing:
            raise ConsentRequired("Record the subject's consent (POST /consents) first.")
        if current.record.state.status is not SubjectStatus.ACTIVE:
            raise CorrelationIdBlocked(f"This correlation id is {current.record.state.status.value}; no new sessions.")
        return current, sessions

    def _create_at_face(
        self, issue: _Issue, customer_id: str, correlation_id: str, mode: str | None, ip: str | None, now: datetime
    ) -> CreatedFaceSession:
        """The Face session this request hands out, created once however many races it loses."""
        if issue.created is None:
            issue.created = self.face.create_session(
                NewFaceSession(
                    mode=mode or self.default_mode,
                    device_correlation_id=correlation_id,
                    ttl_seconds=int(self.session_ttl.total_seconds()),
                    user_correlation_id=correlation_id,
                    client_attempts=self.client_attempts,
                    expected_client_ip=ip,
                )
            )
            if self.face.reports_other_sessions:  # so a reviewer can resolve Face's otherFlaggedSessions
                self.ledger.record_owner(issue.created.session_id, customer_id, correlation_id, now)
        return issue.created

    def _track_ip(self, issue: _Issue, ip: str, session: Session, now: datetime) -> None:
        """Written ahead, once: a session the address row lists but the request discards reads as gone."""
        if not issue.tracked:
            opened = OpenSession(session_id=session.session_id, expires_at=session.expires_at)
            self.ip_counters.change(ip, lambda st: track_session(st, opened, now, self.pull_grace))
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
        when that is early enough, else a new one filed ahead (the first session of a visit)."""
        if not needs_check(subject.sweep_at, due, now):
            return subject
        filed = self.subjects.file_check(subject.customer_id, subject.correlation_id, due)
        return subject.model_copy(update={"sweep_at": filed}) if filed is not None else subject

    def _through_gate(self, subject: Subject, now: datetime) -> Subject:
        """Refuse while the gate erasure left still holds; once it lets go, the subject is cleared of it."""
        if not subject.gated:
            return subject
        refusal = gate_refusal(self._gate(subject.customer_id, subject.correlation_id), now)
        if refusal is not None:
            raise _refused(refusal)
        return subject.model_copy(update={"gated": False})

    def _pull_own(
        self, state: SubjectState, own: list[Versioned[Session]], pulled: Readings, now: datetime
    ) -> list[tuple[Versioned[Session], Absorbed]]:
        """Read the subject's open sessions from Face and absorb their final attempts, in order."""
        out = []
        for session in own:
            reading = self._read(session.record.session_id, pulled, session.record.face_deleted)
            absorbed = absorb(state, session.record, reading, now, self.policy)
            state = absorbed.state
            if absorbed.session != session.record or absorbed.attempts:
                out.append((session, absorbed))
        return out

    def _count_ip(
        self,
        absorbed: list[tuple[Versioned[Session], Absorbed]],
        ip: str | None,
        ip_state: IpState | None,
        own: list[Versioned[Session]],
        pulled: Readings,
        now: datetime,
    ) -> IpState | None:
        """Feed failed checks and settled sessions to the per-IP rule, written ahead of the subject commit.

        Besides the subject's own sessions, the sessions issued from the requesting IP are read from
        Face (within the pull limit), so a client that rotates GUIDs and never reads a result is
        still counted. Each failed check is counted once by its key, however many paths see it."""
        failures: dict[str, list[str]] = defaultdict(list)
        settled: dict[str, set[str]] = defaultdict(set)
        for session, result in absorbed:
            ref = session.record.ip_ref
            if ref and result.failed_keys:
                failures[ref] += result.failed_keys
            if ref and result.session.settled and not session.record.settled:
                settled[ref].add(session.record.session_id)
        if ip and ip_state is not None and refuse_from_ip(ip_state, now) is None:  # timed out: no Face reads
            mine = {s.record.session_id for s in own}
            room = max(0, self.pull_limit - min(len(own), self.pull_limit))
            others = [o for o in ip_state.open_sessions if o.session_id not in mine][:room]
            for other in others:
                reading = self._read(other.session_id, pulled)
                if keys := reading.failed_keys(other.session_id):
                    failures[ip] += keys
                if reading.settles(other.expires_at, now):
                    settled[ip].add(other.session_id)
        for ref in set(failures) | set(settled):
            keys, done = failures.get(ref, []), settled.get(ref, set())
            updated = self.ip_counters.change(
                ref, lambda st, k=keys, d=done: untrack_sessions(record_failures(st, k, now, self.ip_policy), d)
            )
            if ref == ip:
                ip_state = updated
        return ip_state

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

    def _new_session(
        self,
        subject: Subject,
        created: CreatedFaceSession,
        mode: str,
        client_request_id: str | None,
        ip: str | None,
        now: datetime,
    ) -> tuple[Session, str]:
        """The session row to write and the session token to hand out (only its hash is stored)."""
        token = new_session_token(subject.customer_id, subject.correlation_id)
        return Session(
            session_id=created.session_id,
            customer_id=subject.customer_id,
            correlation_id=subject.correlation_id,
            token_hash=hash_secret(token),
            sealed_face_token=self.keys.seal(created.auth_token, created.session_id),
            client_request_id=client_request_id,
            operation_mode=mode,
            created_at=now,
            expires_at=now + self.session_ttl,
            calls_allowed=self.call_budget,
            ip_ref=ip,
            attempts_allowed=self.client_attempts,
        ), token

    def _commit(
        self,
        current: Versioned[Subject],
        subject: Subject,
        state: SubjectState,
        absorbed: list[tuple[Versioned[Session], Absorbed]],
        create: tuple[Record, ...],
        now: datetime,
        pulled: Readings | None = None,
    ) -> bool:
        """Write the subject's new state, the read sessions and their attempts in one transaction
        (StaleWrite when another writer got there first). When the change stops the subject, its open
        sessions are revoked right after (`pulled`: what this request already read from Face); returns
        whether it did, so the caller leaves the Face deletions to that revocation."""
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
        flagged, listings = self._announce_flag(current.record, updated, now)
        stopped = current.record.state.status is SubjectStatus.ACTIVE and state.status is not SubjectStatus.ACTIVE
        rows: list[Versioned[Record]] = [Versioned(updated, current.etag)]
        rows += [Versioned(result.session, session.etag) for session, result in absorbed]
        self.uow.commit(
            SubjectChange(
                SubjectKey.of(subject),
                replace=tuple(rows),
                create=(*create, *attempts),
                events=tuple(flagged),
                listings=listings,
            )
        )
        self._observe(current.record, updated, attempts, bool(flagged), now)
        if stopped:  # every other session it holds goes at once (docs/abuse-policy.md, "Revocation")
            self.revoke_after(subject.customer_id, subject.correlation_id, RevokeReason.FLAGGED, pulled)
        return stopped

    def _observe(self, before: Subject, after: Subject, attempts: list[Attempt], flagged: bool, now: datetime) -> None:
        """Count and log what a committed change did: attempts read, a timeout begun, a flag raised."""
        for a in attempts:
            telemetry.count("attempts", decision=a.liveness_decision or a.attempt_status or "none")
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

    def _announce_flag(
        self, before: Subject, after: Subject, now: datetime
    ) -> tuple[list[WebhookEvent], tuple[Listing, ...]]:
        """A newly flagged subject's `subject.flagged` webhook event, and its listing for review
        (written ahead of the commit: a lost race leaves a stale row, no gap)."""
        if after.state.status is not SubjectStatus.FLAGGED or before.state.status is SubjectStatus.FLAGGED:
            return [], ()
        flagged_at = after.state.flagged_at or now
        entry = ReviewIndexEntry(
            customer_id=after.customer_id,
            correlation_id=after.correlation_id,
            since=flagged_at,
            reason=after.state.flag_reason,
        )
        data = {
            "correlationId": after.correlation_id,
            "reason": after.state.flag_reason,
            "flaggedAt": flagged_at.isoformat(),
        }
        event = webhook_event("subject.flagged", after.customer_id, f"{after.correlation_id}|{flagged_at}", now, data)
        return [event], (Listing("pending", entry),)

    def _read(self, session_id: str, pulled: Readings, deleted: bool = False) -> FaceReading:
        """One Face read per session per request; a session Face no longer holds (or we deleted) reads as gone."""
        if deleted:
            return GONE
        if session_id not in pulled:
            try:
                pulled[session_id] = reading_of(self.face.get_session(session_id))
            except FaceSessionGone:
                pulled[session_id] = GONE
        return pulled[session_id]

    def _replay(self, customer: Customer, correlation_id: str, session_id: str) -> IssuedView | None:
        """Hand back the session issued for a clientRequestId, with a fresh session token.

        Only the token's hash is stored, so the earlier token cannot be shown again: the replay
        mints a new one for the same session (same budget) and the earlier one stops working.
        None when the session row went meanwhile; StaleWrite when it changed.
        """
        _, found = self.subjects.get_with_session(customer.customer_id, correlation_id, session_id)
        if found is None:
            return None
        try:  # opened first: a replay that cannot hand the token back must not kill the earlier one
            face_token = self.keys.unseal(found.record.sealed_face_token, session_id)
        except UnknownKey:
            raise Conflict(
                "The session for this clientRequestId was sealed under a key this service no longer has; "
                "send a new clientRequestId."
            ) from None
        token = new_session_token(customer.customer_id, correlation_id)
        session = found.record.model_copy(update={"token_hash": hash_secret(token)})
        self.uow.commit(SubjectChange(SubjectKey.of(session), replace=(Versioned(session, found.etag),)))
        return IssuedView(session, face_token, token, replayed=True)

    def _discard(self, face_session_id: str) -> None:
        """A Face session we created but did not hand out goes (owed to the sweep when Face fails)."""
        self.cleanup.discard(face_session_id)

    # --- results ------------------------------------------------------------------------
    def get_result(self, session_id: str, token: str | None) -> ResultView:
        """Spend one call of the token: read the Face result, record new final attempts, run the policy.

        A subject that is not active gets no decision (403), except in the call whose own attempt
        flagged it (200 with `subjectStatus: flagged`); a revoked session answers 401 token_revoked."""
        address = session_token_address(token or "")
        if address is None or not _valid_session_id(session_id):
            raise TokenInvalid("A valid session token is required (Authorization: Bearer <token>).")
        pulled: Readings = {}

        def attempt() -> ResultView:
            now = self.clock()
            subject, session = self.subjects.get_with_session(address.customer_id, address.correlation_id, session_id)
            if subject is None or session is None or not secret_matches(token or "", session.record.token_hash):
                raise TokenInvalid("The session token is not valid for this session.")
            if session.record.revoked:
                raise TokenRevoked("This session was revoked; its subject or customer may not be served.")
            self.refuse_customer(address.customer_id)  # a suspended or terminated customer's tokens grant nothing
            if session.record.expires_at <= now:
                raise TokenExpired("The session token has expired; create a new session.")
            if session.record.calls_used >= session.record.calls_allowed:
                raise TokenExhausted("The session token has no calls left.", retry_after=None)
            reading = self._read(session_id, pulled, session.record.face_deleted)
            result = absorb(subject.record.state, session.record, reading, now, self.policy)
            self._count_ip([(session, result)], None, None, [], pulled, now)
            spent = replace(
                result, session=result.session.model_copy(update={"calls_used": session.record.calls_used + 1})
            )
            if not self._commit(subject, subject.record, result.state, [(session, spent)], (), now, pulled):
                self._forget_finished([(session, spent)])
            if subject.record.state.status is not SubjectStatus.ACTIVE:  # counted above, answered with nothing
                raise CorrelationIdBlocked(f"This correlation id is {subject.record.state.status.value}.")
            return ResultView(
                session_id,
                reading.status or session.record.face_status or "NotStarted",
                _latest(reading, result.session),
                len(reading.attempts) if not reading.gone else len(result.session.recorded_attempts),
                result.state.status,
            )

        return self.uow.run(attempt, "This session")


def _refused(refusal: Refusal) -> Exception:
    if refusal.code is RefusalCode.CORRELATION_ID_BLOCKED:
        return CorrelationIdBlocked(refusal.message)
    return RetryLimited(refusal.message, retry_after=refusal.retry_after_seconds)


def find_replay(sessions: list[Versioned[Session]], client_request_id: str | None, now: datetime) -> Session | None:
    """The live session issued earlier for this clientRequestId, found on the session rows (which
    live as long as the token), so the subject's state need not remember clientRequestIds."""
    if client_request_id is None:
        return None
    for found in sessions:
        record = found.record
        if record.client_request_id == client_request_id and record.expires_at > now and not record.revoked:
            return record
    return None


def _created(session: Versioned[Session]) -> datetime:
    return session.record.created_at


def _latest(reading: FaceReading, session: Session) -> str | None:
    final = [a for a in sorted(reading.attempts, key=lambda a: a.attempt_id) if a.final and a.decision]
    return final[-1].decision.value if final and final[-1].decision else session.last_decision


def _decision(raw: str | None) -> LivenessDecision | None:
    try:
        return LivenessDecision(raw.lower()) if raw else None
    except ValueError:
        return None


def _valid_session_id(session_id: str) -> bool:
    return 0 < len(session_id) <= 64 and all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in session_id)
