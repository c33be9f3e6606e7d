"""The response of `GET /subjects/{correlationId}` (subject access): what is held, in the API's casing,
built from the records without anything secret."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.api.models import ApiModel
from shared.domain.policy import LivenessDecision, SubjectStatus
from shared.domain.records import ReviewDecision, Session
from shared.domain.review_people import decider_name
from shared.services.subject_access import SubjectRecords


class ConsentHeld(ApiModel):
    policy_version: str
    purpose: str | None = None
    granted_at: datetime


class SessionHeld(ApiModel):
    session_id: str
    created_at: datetime
    expires_at: datetime
    operation_mode: str
    calls_allowed: int
    calls_used: int
    status: str | None = None
    liveness_decision: LivenessDecision | None = None
    attempts_recorded: int
    revoked: bool = False  # its token answers 401 token_revoked; Face no longer takes attempts on it


class AttemptHeld(ApiModel):
    session_id: str
    attempt_id: int
    recorded_at: datetime
    attempt_status: str | None = None
    liveness_decision: LivenessDecision | None = None
    abuse_detected: bool = False


class DecisionHeld(ApiModel):
    decision: str
    reason: str
    at: datetime
    decided_by: str  # the person who decided (their name), or `administrator key`
    new_correlation_id: str | None = None


class GateHeld(ApiModel):
    """Whether the subject is refused sessions now, why and until when."""

    gated: bool
    reason: str | None = Field(
        None, description="flagged, blocked, retired, timed_out, erasing, or erased_<status>: a gate an erasure kept"
    )
    until: datetime | None = Field(None, description="When the gate lets go (none: until a reviewer decides)")
    timed_out_until: datetime | None = None


class SubjectAccessView(ApiModel):
    correlation_id: str
    status: SubjectStatus
    created_at: datetime
    last_activity_at: datetime
    consent: ConsentHeld
    flagged_at: datetime | None = None
    flag_reason: str | None = None
    sessions_total: int
    attempts_total: int
    sessions: list[SessionHeld]
    attempt_decisions: list[AttemptHeld]
    decisions: list[DecisionHeld]
    replaces: str | None = None
    replaced_by: str | None = None
    gate: GateHeld


def _decision_held(d: ReviewDecision) -> DecisionHeld:
    return DecisionHeld(
        decision=d.decision,
        reason=d.reason,
        at=d.at,
        decided_by=decider_name(d.by),
        new_correlation_id=d.new_correlation_id,
    )


def _session_held(s: Session) -> SessionHeld:
    return SessionHeld(
        session_id=s.session_id,
        created_at=s.created_at,
        expires_at=s.expires_at,
        operation_mode=s.operation_mode,
        calls_allowed=s.calls_allowed,
        calls_used=s.calls_used,
        status=s.face_status,
        liveness_decision=s.last_decision,
        attempts_recorded=len(s.recorded_attempts),
        revoked=s.revoked,
    )


def access_view(held: SubjectRecords) -> SubjectAccessView:
    """The subject access response: the records held, without anything secret."""
    subject = held.subject
    return SubjectAccessView(
        correlation_id=subject.correlation_id,
        status=subject.state.status,
        created_at=subject.created_at,
        last_activity_at=subject.last_activity_at,
        consent=ConsentHeld(
            policy_version=subject.consent_policy_version,
            purpose=subject.consent_purpose,
            granted_at=subject.consent_granted_at,
        ),
        flagged_at=subject.state.flagged_at,
        flag_reason=subject.state.flag_reason,
        sessions_total=subject.sessions_total,
        attempts_total=subject.attempts_total,
        sessions=[_session_held(s) for s in held.sessions],
        attempt_decisions=[
            AttemptHeld(
                session_id=a.session_id,
                attempt_id=a.attempt_id,
                recorded_at=a.recorded_at,
                attempt_status=a.attempt_status,
                liveness_decision=a.liveness_decision,
                abuse_detected=a.abuse_detected,
            )
            for a in held.attempts
        ],
        decisions=[_decision_held(d) for d in subject.decisions],
        replaces=subject.replaces,
        replaced_by=subject.replaced_by,
        gate=GateHeld(
            gated=held.gate.gated,
            reason=held.gate.reason,
            until=held.gate.until,
            timed_out_until=subject.state.timed_out_until,
        ),
    )
