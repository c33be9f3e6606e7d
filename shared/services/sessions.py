"""Consent, liveness sessions and results: the client API's domain logic.

Every subject change is read → decide (pure policy) → one entity-group transaction guarded by
ETags; a lost race re-reads and decides again, so N parallel requests never get past the policy.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.adapters.face import CreatedFaceSession, FaceClient, FaceSessionResult
from shared.adapters.stores import ReviewIndex, SubjectChange, SubjectStore, Versioned
from shared.adapters.tables import StaleWrite
from shared.domain.clock import Clock
from shared.domain.policy import (
    IssuedSession,
    LivenessDecision,
    Policy,
    SubjectState,
    SubjectStatus,
    find_replay,
    record_decision,
    record_session,
    refuse_new_session,
)
from shared.domain.records import Attempt, Customer, CustomerStatus, ReviewIndexEntry, Session, Subject
from shared.domain.secrets import hash_secret, new_session_token, seal, secret_matches, session_token_address, unseal
from shared.errors import (
    ConsentRequired,
    Contended,
    CorrelationIdBlocked,
    CustomerSuspended,
    RetryLimited,
    TokenExhausted,
    TokenExpired,
    TokenInvalid,
)

log = logging.getLogger(__name__)
MAX_RACES = 40


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


def backoff(race: int) -> None:
    """A short random pause before retrying a lost optimistic-concurrency race."""
    time.sleep(random.uniform(0, 0.004 * (race + 1)))


@dataclass
class SessionService:
    subjects: SubjectStore
    index: ReviewIndex
    face: FaceClient
    policy: Policy
    clock: Clock
    sealing_key: bytes
    session_ttl: timedelta
    call_budget: int
    default_mode: str

    # --- consent ------------------------------------------------------------------------
    def grant_consent(
        self, customer: Customer, correlation_id: str, policy_version: str, purpose: str | None
    ) -> Subject:
        """Record (or renew) the subject's consent; creates the subject on first consent."""
        for race in range(MAX_RACES):
            now = self.clock()
            consent = {"consent_policy_version": policy_version, "consent_purpose": purpose, "consent_granted_at": now}
            fresh = Subject(
                customer_id=customer.customer_id,
                correlation_id=correlation_id,
                created_at=now,
                last_activity_at=now,
                **consent,
            )
            if self.subjects.create_subject(fresh):  # the common case, first consent: one round trip
                return fresh
            current = self.subjects.get(customer.customer_id, correlation_id)
            if current is not None:
                renewed = current.record.model_copy(update={**consent, "last_activity_at": now})
                try:
                    self.subjects.commit(
                        customer.customer_id, correlation_id, SubjectChange(replace=(Versioned(renewed, current.etag),))
                    )
                    return renewed
                except StaleWrite:
                    pass
            backoff(race)
        raise Contended("The subject is being changed concurrently; retry.", retry_after=1)

    # --- sessions -----------------------------------------------------------------------
    def create_session(
        self, customer: Customer, correlation_id: str, mode: str | None, client_request_id: str | None
    ) -> IssuedView:
        """Issue a liveness session for a subject, or replay the one issued for clientRequestId."""
        if customer.status is CustomerStatus.SUSPENDED:
            raise CustomerSuspended("This customer is suspended; contact the operator.")
        created: CreatedFaceSession | None = None
        committed = False
        try:
            for race in range(MAX_RACES):
                now = self.clock()
                current = self.subjects.get(customer.customer_id, correlation_id)
                if current is None:
                    raise ConsentRequired("Record the subject's consent (POST /consents) first.")
                state = current.record.state
                if state.status is not SubjectStatus.ACTIVE:
                    raise CorrelationIdBlocked(f"This correlation id is {state.status.value}; no new sessions.")
                replay = find_replay(state, client_request_id, now)
                if replay is not None:
                    view = self._replay(customer, correlation_id, replay.session_id)
                    if view is not None:
                        return view
                    backoff(race)
                    continue
                refusal = refuse_new_session(state, now, self.policy)
                if refusal is not None:
                    if refusal.code == CorrelationIdBlocked.code:
                        raise CorrelationIdBlocked(refusal.message)
                    raise RetryLimited(refusal.message, retry_after=refusal.retry_after_seconds)
                if created is None:
                    created = self.face.create_session(
                        mode=mode or self.default_mode,
                        device_correlation_id=correlation_id,
                        ttl_seconds=int(self.session_ttl.total_seconds()),
                    )
                view = self._issue(current, created, mode or self.default_mode, client_request_id, now)
                if view is not None:
                    committed = True
                    return view
                backoff(race)
            raise Contended("Too many concurrent requests for this subject; retry.", retry_after=1)
        finally:
            if created is not None and not committed:
                self._discard(created.session_id)

    def _issue(
        self,
        current: Versioned[Subject],
        created: CreatedFaceSession,
        mode: str,
        client_request_id: str | None,
        now: datetime,
    ) -> IssuedView | None:
        subject = current.record
        token = new_session_token(subject.customer_id, subject.correlation_id)
        session = Session(
            session_id=created.session_id,
            customer_id=subject.customer_id,
            correlation_id=subject.correlation_id,
            token_hash=hash_secret(token),
            sealed_face_token=seal(self.sealing_key, created.auth_token, created.session_id),
            client_request_id=client_request_id,
            operation_mode=mode,
            created_at=now,
            expires_at=now + self.session_ttl,
            calls_allowed=self.call_budget,
        )
        issued = IssuedSession(
            session_id=session.session_id, at=now, expires_at=session.expires_at, client_request_id=client_request_id
        )
        updated = subject.model_copy(
            update={
                "state": record_session(subject.state, issued, now, self.policy),
                "last_activity_at": now,
                "sessions_total": subject.sessions_total + 1,
            }
        )
        try:
            self.subjects.commit(
                subject.customer_id,
                subject.correlation_id,
                SubjectChange(replace=(Versioned(updated, current.etag),), create=(session,)),
            )
        except StaleWrite:
            return None
        return IssuedView(session, created.auth_token, token, replayed=False)

    def _replay(self, customer: Customer, correlation_id: str, session_id: str) -> IssuedView | None:
        """Hand back the session issued for a clientRequestId, with a fresh session token.

        Only the token's hash is stored, so the earlier token cannot be shown again: the replay
        mints a new one for the same session (same budget) and the earlier one stops working.
        """
        _, found = self.subjects.get_with_session(customer.customer_id, correlation_id, session_id)
        if found is None:
            return None
        token = new_session_token(customer.customer_id, correlation_id)
        session = found.record.model_copy(update={"token_hash": hash_secret(token)})
        try:
            self.subjects.commit(
                customer.customer_id, correlation_id, SubjectChange(replace=(Versioned(session, found.etag),))
            )
        except StaleWrite:
            return None
        face_token = unseal(self.sealing_key, session.sealed_face_token, session.session_id)
        return IssuedView(session, face_token, token, replayed=True)

    def _discard(self, face_session_id: str) -> None:
        """Best effort: delete a Face session we created but did not hand out."""
        try:
            self.face.delete_session(face_session_id)
        except Exception:
            log.info("could not delete unused Face session")

    # --- results ------------------------------------------------------------------------
    def get_result(self, session_id: str, token: str | None) -> ResultView:
        """Spend one call of the token: fetch the Face result, record new attempts, run the policy."""
        address = session_token_address(token or "")
        if address is None or not _valid_session_id(session_id):
            raise TokenInvalid("A valid session token is required (Authorization: Bearer <token>).")
        fetched: FaceSessionResult | None = None
        for race in range(MAX_RACES):
            now = self.clock()
            subject, session = self.subjects.get_with_session(address.customer_id, address.correlation_id, session_id)
            if subject is None or session is None or not secret_matches(token or "", session.record.token_hash):
                raise TokenInvalid("The session token is not valid for this session.")
            if session.record.expires_at <= now:
                raise TokenExpired("The session token has expired; create a new session.")
            if session.record.calls_used >= session.record.calls_allowed:
                raise TokenExhausted("The session token has no calls left.", retry_after=None)
            if fetched is None:
                fetched = self.face.get_session(session_id)
            view = self._record(subject, session, fetched, now)
            if view is not None:
                return view
            backoff(race)
        raise Contended("Too many concurrent requests for this session; retry.", retry_after=1)

    def _record(
        self, subject: Versioned[Subject], session: Versioned[Session], fetched: FaceSessionResult, now: datetime
    ) -> ResultView | None:
        known = set(session.record.recorded_attempts)
        new = [a for a in sorted(fetched.results.attempts, key=lambda a: a.attempt_id) if a.attempt_id not in known]
        state: SubjectState = subject.record.state
        attempts: list[Attempt] = []
        for attempt in new:
            decision = _decision(attempt.result.liveness_decision if attempt.result else None)
            attempts.append(
                Attempt(
                    session_id=session.record.session_id,
                    attempt_id=attempt.attempt_id,
                    attempt_status=attempt.attempt_status,
                    liveness_decision=decision.value if decision else None,
                    recorded_at=now,
                )
            )
            if decision is not None:
                state = record_decision(state, decision, now, now, self.policy)
        decisions = [_decision(a.result.liveness_decision if a.result else None) for a in fetched.results.attempts]
        latest = next((d.value for d in reversed(decisions) if d is not None), None)
        updated_session = session.record.model_copy(
            update={
                "calls_used": session.record.calls_used + 1,
                "recorded_attempts": (*session.record.recorded_attempts, *(a.attempt_id for a in new)),
                "face_status": fetched.status,
                "last_decision": latest,
            }
        )
        replace: list[Versioned] = [Versioned(updated_session, session.etag)]
        if new:
            updated_subject = subject.record.model_copy(
                update={
                    "state": state,
                    "status": state.status.value,
                    "last_activity_at": now,
                    "attempts_total": subject.record.attempts_total + len(new),
                }
            )
            replace.insert(0, Versioned(updated_subject, subject.etag))
            if state.status is SubjectStatus.FLAGGED and subject.record.state.status is not SubjectStatus.FLAGGED:
                # Written ahead of the commit: a lost race leaves a stale row the listing drops, never a gap.
                self.index.put(
                    "pending",
                    ReviewIndexEntry(
                        customer_id=session.record.customer_id,
                        correlation_id=session.record.correlation_id,
                        since=state.flagged_at or now,
                        reason=state.flag_reason,
                    ),
                )
        try:
            self.subjects.commit(
                session.record.customer_id,
                session.record.correlation_id,
                SubjectChange(replace=tuple(replace), create=tuple(attempts)),
            )
        except StaleWrite:
            return None
        return ResultView(session.record.session_id, fetched.status, latest, len(fetched.results.attempts))


def _decision(raw: str | None) -> LivenessDecision | None:
    try:
        return LivenessDecision(raw.lower()) if raw else None
    except ValueError:
        return None


def _valid_session_id(session_id: str) -> bool:
    return 0 < len(session_id) <= 64 and all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in session_id)
