"""Reading a session's result (docs/api.md, `GET /sessions/{sessionId}/result`): one call of the
token spent, Face read, new final attempts recorded and the policy run, in one unit of work."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace

from shared.adapters.repositories import SubjectRepository
from shared.domain.attempts import FaceReading
from shared.domain.clock import Clock
from shared.domain.policy import LivenessDecision, Policy, SubjectStatus, record_digest_mismatch
from shared.domain.records import Session
from shared.domain.secrets import secret_matches, session_token_address
from shared.errors import CorrelationIdBlocked, TokenExhausted, TokenExpired, TokenInvalid, TokenRevoked
from shared.services.address_rule import AddressRule
from shared.services.face_reads import FaceReads, Readings
from shared.services.session_endings import SessionEndings
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ResultView:
    """What `GET /sessions/{id}/result` answers."""

    session_id: str
    status: str
    liveness_decision: LivenessDecision | None
    attempts: int
    subject_status: SubjectStatus = SubjectStatus.ACTIVE


@dataclass
class SessionResults:
    """Results spent call by call against the session token's budget."""

    subjects: SubjectRepository
    uow: UnitOfWork
    reads: FaceReads
    address: AddressRule
    endings: SessionEndings
    policy: Policy
    clock: Clock
    refuse_customer: Callable[[str], None]  # raises for a suspended or terminated customer

    def get_result(self, session_id: str, token: str | None, digest: str | None = None) -> ResultView:
        """Spend one call of the token: read the Face result, record new final attempts, run the policy.

        A subject that is not active gets no decision (403), except in the call whose own attempt
        flagged it (200 with `subjectStatus: flagged`); a revoked session answers 401 token_revoked.
        `digest`: what the device SDK reported for its attempt; one that differs from Face's is not
        trusted (docs/abuse-policy.md, "Signals beyond the counts"): a failed check and a flag."""
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
            reading = self.reads.read(session_id, pulled, session.record.face_deleted)
            result = self.endings.absorb(subject.record, subject.record.state, session.record, reading, now)
            self.address.count([(session, result)], now, pulled)
            faces = reading.latest_digest() or session.record.last_digest
            untrusted = digest is not None and faces is not None and not hmac.compare_digest(digest, faces)
            if untrusted:
                result = replace(result, state=record_digest_mismatch(result.state, now, self.policy))
            used = {"calls_used": session.record.calls_used + 1, "last_digest": faces}
            spent = replace(result, session=result.session.model_copy(update=used))
            if not self.endings.commit(subject, subject.record, result.state, [(session, spent)], (), now, pulled):
                self.endings.forget_finished([(session, spent)])
            if subject.record.state.status is not SubjectStatus.ACTIVE:  # counted above, answered with nothing
                raise CorrelationIdBlocked(f"This correlation id is {subject.record.state.status.value}.")
            return ResultView(
                session_id,
                reading.status or session.record.face_status or "NotStarted",
                None if untrusted else _latest(reading, result.session),
                len(reading.attempts) if not reading.gone else len(result.session.recorded_attempts),
                result.state.status,
            )

        return self.uow.run(attempt, "This session")


def _latest(reading: FaceReading, session: Session) -> LivenessDecision | None:
    final = [a for a in sorted(reading.attempts, key=lambda a: a.attempt_id) if a.final and a.decision]
    return final[-1].decision if final and final[-1].decision else session.last_decision


def _valid_session_id(session_id: str) -> bool:
    return 0 < len(session_id) <= 64 and all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in session_id)
