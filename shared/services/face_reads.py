"""Reading a session from Face, once per request (a lost race reuses what was read)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.adapters.face import FaceClient, FaceSessionGone, FaceSessionResult
from shared.domain.attempts import GONE, FaceReading, SeenAttempt
from shared.domain.ip_policy import normalise_ip
from shared.domain.policy import FlaggedRef, LivenessDecision

Readings = dict[str, FaceReading]  # one request's Face reads by session id, kept across lost races


def reading_of(result: FaceSessionResult) -> FaceReading:
    """What the policy needs of a Face session read."""
    return FaceReading(
        status=result.status,
        attempts=tuple(
            SeenAttempt(
                attempt_id=a.attempt_id,
                status=a.attempt_status,
                final=a.final,
                decision=LivenessDecision.parse(a.result.liveness_decision if a.result else None),
                abuse_detected=a.abuse.detected,
                flagged=tuple(
                    FlaggedRef(session_id=f.session_id, attempt_id=f.attempt_id) for f in a.abuse.flagged_sessions
                ),
                digest=a.result.digest if a.result else None,
                ip_mismatch=_elsewhere(result.expected_client_ip, [c.ip for c in a.client_information]),
            )
            for a in result.results.attempts
        ),
    )


def _elsewhere(expected: str | None, seen: list[str]) -> bool:
    """Whether an attempt came from outside the address expected for its session (an IPv6 address
    by its /64, as the per-address rule counts it); unreadable addresses are no evidence."""
    if not expected:
        return False
    try:
        want = normalise_ip(expected)
        return any(normalise_ip(ip) != want for ip in seen)
    except ValueError:
        return False


@dataclass
class FaceReads:
    """Face reads of session results for one request at a time."""

    face: FaceClient

    def read(self, session_id: str, pulled: Readings, deleted: bool = False) -> FaceReading:
        """One Face read per session per request; a session Face no longer holds (or we deleted) reads as gone."""
        if deleted:
            return GONE
        if session_id not in pulled:
            try:
                pulled[session_id] = reading_of(self.face.get_session(session_id))
            except FaceSessionGone:
                pulled[session_id] = GONE
        return pulled[session_id]
