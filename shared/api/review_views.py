"""Turn subjects into the review API's views (counters, timeline)."""

from __future__ import annotations

from datetime import datetime

from shared.api.models import (
    Counters,
    DecisionView,
    FaceMatchView,
    FlagItem,
    GateState,
    SecondReviewView,
    SubjectDetailView,
    TimelineEvent,
)
from shared.domain.policy import Policy, prune
from shared.domain.records import Attempt, CustomerStatus, Subject
from shared.domain.review_people import APPEAL_REASON, decider_name
from shared.services.review_queries import SubjectDetail
from shared.services.second_reviews import Pending


def counters(subject: Subject, policy: Policy, now: datetime) -> Counters:
    state = prune(subject.state, now, policy)
    return Counters(
        failed_checks_in_window=len(state.failures),
        spoofface_in_window=len(state.spoofs),
        timeouts_in_window=len(state.timeouts),
        sessions_in_window=len([s for s in state.sessions if s.at > now - policy.session_window]),
        sessions_total=subject.sessions_total,
        attempts_total=subject.attempts_total,
        timed_out_until=state.timed_out_until,
    )


def flag_item(subject: Subject, policy: Policy, now: datetime) -> FlagItem:
    return FlagItem(
        customer_id=subject.customer_id,
        correlation_id=subject.correlation_id,
        status=subject.state.status,
        flagged_at=subject.state.flagged_at,
        reason=APPEAL_REASON if subject.appeal else subject.state.flag_reason,
        decided_at=subject.decided_at,
        counters=counters(subject, policy, now),
        claimed_by=subject.claim.by if subject.claim and subject.claim.until > now else None,
        claimed_until=subject.claim.until if subject.claim and subject.claim.until > now else None,
    )


def timeline(detail: SubjectDetail) -> list[TimelineEvent]:
    """Sessions, attempt decisions, timeouts, the flag and decisions, oldest first."""
    subject = detail.subject
    events = [TimelineEvent(at=s.created_at, kind="session", session_id=s.session_id) for s in detail.sessions]
    events += [
        TimelineEvent(
            at=a.recorded_at,
            kind="attempt",
            session_id=a.session_id,
            attempt_id=a.attempt_id,
            decision=a.liveness_decision,
            detail=_attempt_detail(a),
        )
        for a in detail.attempts
    ]
    events += [TimelineEvent(at=t, kind="timeout") for t in subject.state.timeouts]
    if subject.state.flagged_at:
        events.append(TimelineEvent(at=subject.state.flagged_at, kind="flag", detail=subject.state.flag_reason))
    events += [TimelineEvent(at=d.at, kind="decision", decision=d.decision, detail=d.reason) for d in subject.decisions]
    return sorted(events, key=lambda e: e.at)


def detail_view(
    detail: SubjectDetail, policy: Policy, now: datetime, customer_status: CustomerStatus | None = None
) -> SubjectDetailView:
    subject = detail.subject
    return SubjectDetailView(
        customer_status=customer_status,
        **flag_item(subject, policy, now).model_dump(),
        consent_policy_version=subject.consent_policy_version,
        consent_granted_at=subject.consent_granted_at,
        replaces=subject.replaces,
        replaced_by=subject.replaced_by,
        decisions=[DecisionView(**d.model_dump(exclude={"notification_id"})) for d in subject.decisions],
        timeline=timeline(detail),
        face_evidence=[
            FaceMatchView(
                session_id=m.session_id,
                attempt_id=m.attempt_id,
                at=m.at,
                same_face_correlation_ids=list(m.correlation_ids),
                other_flagged_sessions_unlinked=m.unlinked,
                lineage_match=m.lineage,
            )
            for m in detail.face_matches
        ],
        gate=GateState(gated=detail.gate.gated, reason=detail.gate.reason, until=detail.gate.until),
        second_review=second_review_view(Pending(subject, subject.second_review)) if subject.second_review else None,
    )


def _attempt_detail(a: Attempt) -> str | None:
    """An attempt's status with its evidence: Face's abuse verdict, an address other than expected."""
    notes = [a.attempt_status or ""]
    if a.abuse_detected:
        notes.append("Face abuse monitoring flagged it")
    if a.ip_mismatch:
        notes.append("ip_mismatch: made from another address than the one expected")
    return "; ".join(n for n in notes if n) or None


def second_review_view(pending: Pending) -> SecondReviewView:
    asked = pending.review
    return SecondReviewView(
        review_id=pending.review_id,
        customer_id=pending.subject.customer_id,
        correlation_id=pending.subject.correlation_id,
        requested_by=decider_name(asked.by),
        requested_by_id=asked.by_id,
        requested_at=asked.at,
        reason=asked.reason,
        guideline_id=asked.guideline_id,
        disagreed_by=decider_name(asked.disagreed_by) if asked.disagreed_by else None,
    )
