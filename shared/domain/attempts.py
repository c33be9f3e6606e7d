"""Which liveness attempts count, and when (docs/abuse-policy.md), as pure functions.

An attempt counts once, when it is final (`Succeeded` or `Failed`): a `Running` attempt is shown as
running and looked at again next time. The policy windows use the moment the app first saw the
attempt final (`now` of the read that recorded it), not a time Face reports: every path that reads
Face (the client's `/result`, the server's pull before a new session, the retention sweep) uses
the same rule, so one attempt is counted once whichever path sees it first.

A session is *settled* when nothing more can be counted from it: read after its auth token expired
with no attempt still running, or gone at Face. Until then it is *open* and read again.

A session is *finished* once its result is final and recorded: a `realface` decision, or as many
final attempts as the device was allowed (`attempts_allowed`), or settled. Nothing can follow, so
the app deletes it at Face (docs/retention.md); a later read finds it gone and settles it.

On Face v1.3 an attempt may carry the service's own abuse verdict; a flagged attempt flags its
subject at once (`record_face_abuse`) in the same cycle that records the attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.ip_policy import failure_key
from shared.domain.policy import (
    FAILED_DECISIONS,
    FaceEvidence,
    FlaggedRef,
    LivenessDecision,
    Policy,
    SubjectState,
    record_decision,
    record_face_abuse,
    record_lineage_match,
)
from shared.domain.records import Attempt, Session


@dataclass(frozen=True)
class SeenAttempt:
    """One attempt as Face reported it."""

    attempt_id: int
    status: str | None
    final: bool
    decision: LivenessDecision | None
    abuse_detected: bool = False  # Face v1.3 abuse monitoring flagged this attempt
    flagged: tuple[FlaggedRef, ...] = ()  # the other sessions it named
    digest: str | None = None  # what Face computed for the attempt's result (the device reports its own)
    ip_mismatch: bool = False  # v1.3: the attempt came from outside the address expected for the session


@dataclass(frozen=True)
class FaceReading:
    """What one read of a Face session gave: its status and attempts, or that it is gone."""

    status: str | None
    attempts: tuple[SeenAttempt, ...] = ()
    gone: bool = False

    def latest_digest(self) -> str | None:
        """Face's digest of the newest final attempt that has a result (None when none has)."""
        final = [a for a in self.attempts if a.final and a.digest]
        return max(final, key=lambda a: a.attempt_id).digest if final else None

    @property
    def running(self) -> bool:
        return any(not a.final for a in self.attempts)

    def failed_keys(self, session_id: str) -> list[str]:
        """Keys of the final failed checks in this reading (the per-IP rule counts them)."""
        return [
            failure_key(session_id, a.attempt_id) for a in self.attempts if a.final and a.decision in FAILED_DECISIONS
        ]

    def settles(self, expires_at: datetime, now: datetime) -> bool:
        """Whether nothing more can come of this session after this reading."""
        return self.gone or (now >= expires_at and not self.running)


GONE = FaceReading(status=None, gone=True)


@dataclass(frozen=True)
class Absorbed:
    """A session's reading applied to its subject: the new state and rows to write."""

    state: SubjectState
    session: Session
    attempts: tuple[Attempt, ...]
    failed_keys: tuple[str, ...]


def is_open(session: Session, now: datetime, grace: timedelta) -> bool:
    """Whether a session may still have attempts nobody counted (read it before deciding)."""
    return not session.settled and not session.face_deleted and session.expires_at + grace > now


def _record(session: Session, attempt: SeenAttempt, now: datetime) -> Attempt:
    return Attempt(
        session_id=session.session_id,
        attempt_id=attempt.attempt_id,
        attempt_status=attempt.status,
        liveness_decision=attempt.decision,
        recorded_at=now,
        abuse_detected=attempt.abuse_detected,
        ip_mismatch=attempt.ip_mismatch,
    )


def absorb(
    state: SubjectState,
    session: Session,
    reading: FaceReading,
    now: datetime,
    policy: Policy,
    lineage: frozenset[str] = frozenset(),
) -> Absorbed:
    """Record the reading's new final attempts (each once) and run the policy on their decisions.
    `lineage`: the sessions Face named that are the subject's own lineage (a verdict naming only
    those is kept as evidence and flags nothing)."""
    known = set(session.recorded_attempts)
    ordered = sorted(reading.attempts, key=lambda a: a.attempt_id)  # Face may list the newest first
    new = [a for a in ordered if a.final and a.attempt_id not in known]
    records: list[Attempt] = []
    failed: list[str] = []
    for attempt in new:
        records.append(_record(session, attempt, now))
        if attempt.abuse_detected:
            evidence = FaceEvidence(
                session_id=session.session_id, attempt_id=attempt.attempt_id, at=now, others=attempt.flagged
            )
            own = bool(attempt.flagged) and all(f.session_id in lineage for f in attempt.flagged)
            state = record_lineage_match(state, evidence) if own else record_face_abuse(state, evidence, now)
        if attempt.decision is not None:
            state = record_decision(state, attempt.decision, now, now, policy)
            if attempt.decision in FAILED_DECISIONS:
                failed.append(failure_key(session.session_id, attempt.attempt_id))
    latest = next((a.decision for a in reversed(ordered) if a.final and a.decision), session.last_decision)
    recorded = (*session.recorded_attempts, *(a.attempt_id for a in new))
    settled = session.settled or reading.settles(session.expires_at, now)
    passed = any(a.final and a.decision is LivenessDecision.REALFACE for a in ordered)
    used_up = len(recorded) >= session.attempts_allowed
    updated = session.model_copy(
        update={
            "recorded_attempts": recorded,
            "face_status": reading.status if not reading.gone else session.face_status,
            "last_decision": latest,
            "settled": settled,
            "finished": session.finished or settled or ((passed or used_up) and not reading.running),
        }
    )
    return Absorbed(state, updated, tuple(records), tuple(failed))
