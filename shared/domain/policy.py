"""The per-subject abuse policy of docs/abuse-policy.md, as pure functions on typed values.

Nothing here does I/O or reads the clock: callers pass `now` (timezone-aware UTC) and get a new
state back, which the session service then writes in one entity-group transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime

from shared.domain.values import Value


class SubjectStatus(StrEnum):
    ACTIVE = "active"
    FLAGGED = "flagged"
    BLOCKED = "blocked"
    RETIRED = "retired"


class LivenessDecision(StrEnum):
    REALFACE = "realface"
    SPOOFFACE = "spoofface"
    UNCERTAIN = "uncertain"

    @classmethod
    def parse(cls, raw: str | None) -> LivenessDecision | None:
        """Face's or a stored decision, whatever its case; None for none or a value Face added since."""
        try:
            return cls(raw.lower()) if raw else None
        except ValueError:
            return None


FAILED_DECISIONS = frozenset({LivenessDecision.SPOOFFACE, LivenessDecision.UNCERTAIN})


@dataclass(frozen=True)
class Policy:
    """Every threshold of the abuse policy; built from the settings."""

    failed_checks_limit: int = 5
    failed_checks_window: timedelta = timedelta(minutes=3)
    timeout: timedelta = timedelta(minutes=30)
    timeouts_to_flag: int = 3
    spoofs_to_flag: int = 3
    flag_window: timedelta = timedelta(hours=24)
    sessions_per_window: int = 10
    session_window: timedelta = timedelta(hours=1)
    open_sessions: int = 1  # unfinished sessions one subject may hold; a new one beyond it revokes the oldest


class IssuedSession(Value):
    """A session counted against the hourly cap (replays are found on the session rows, not here)."""

    session_id: str
    at: AwareDatetime
    expires_at: AwareDatetime
    client_request_id: str | None = None  # read from rows written before replays moved to session rows


FACE_ABUSE_REASON = "face_abuse_detected"
DIGEST_MISMATCH_REASON = "digest_mismatch"  # the device's digest of an attempt is not the one Face computed
MAX_FACE_EVIDENCE = 20
MAX_FLAGGED_REFS = 5  # other sessions kept per piece of evidence (Face may name many)
MAX_STATE_CHARS = 30_000  # a string property holds 32K characters; keep room for growth


class FlaggedRef(Value):
    """A session (and attempt) Face's abuse monitoring named alongside one of ours."""

    session_id: str
    attempt_id: int


class FaceEvidence(Value):
    """Face v1.3 flagged one of the subject's attempts: which, when, and the other sessions it named."""

    session_id: str
    attempt_id: int
    at: AwareDatetime
    others: tuple[FlaggedRef, ...] = ()
    lineage: bool = False  # every session named is the subject's own lineage (a lineage_match: no flag)


class SubjectState(Value):
    """What the policy needs to know about one subject; stored on its subject row."""

    status: SubjectStatus = SubjectStatus.ACTIVE
    failures: tuple[AwareDatetime, ...] = ()
    spoofs: tuple[AwareDatetime, ...] = ()
    timeouts: tuple[AwareDatetime, ...] = ()
    timed_out_until: AwareDatetime | None = None
    sessions: tuple[IssuedSession, ...] = ()
    flagged_at: AwareDatetime | None = None
    flag_reason: str | None = None
    face_evidence: tuple[FaceEvidence, ...] = ()


class RefusalCode(StrEnum):
    """The codes a policy refusal answers with (docs/api.md, "Errors")."""

    CORRELATION_ID_BLOCKED = "correlation_id_blocked"
    RETRY_LIMITED = "retry_limited"


@dataclass(frozen=True)
class Refusal:
    """Why a new session may not be issued now."""

    code: RefusalCode
    message: str
    retry_after_seconds: int | None = None


def seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def refuse_new_session(state: SubjectState, now: datetime, policy: Policy) -> Refusal | None:
    """Return the refusal for a new session request, or None when one may be issued."""
    if state.status is not SubjectStatus.ACTIVE:
        return Refusal(RefusalCode.CORRELATION_ID_BLOCKED, f"This correlation id is {state.status.value}.")
    if state.timed_out_until is not None and state.timed_out_until > now:
        return Refusal(
            RefusalCode.RETRY_LIMITED,
            "Too many failed checks; this subject is timed out.",
            seconds_until(state.timed_out_until, now),
        )
    recent = sorted(s.at for s in state.sessions if s.at > now - policy.session_window)
    if len(recent) >= policy.sessions_per_window:
        # The window frees a slot when the oldest counted session leaves it.
        frees_at = recent[len(recent) - policy.sessions_per_window] + policy.session_window
        return Refusal(
            RefusalCode.RETRY_LIMITED,
            "Too many sessions for this subject within the hour.",
            seconds_until(frees_at, now),
        )
    return None


def prune(state: SubjectState, now: datetime, policy: Policy) -> SubjectState:
    """Drop what no rule can look at any more, so the subject row stays small."""
    keep_sessions_after = now - policy.session_window
    return state.model_copy(
        update={
            # The newest `limit` entries decide whether `limit` fall within a window: keep no more.
            "failures": _newest(state.failures, now - policy.failed_checks_window, policy.failed_checks_limit),
            "spoofs": _newest(state.spoofs, now - policy.flag_window, policy.spoofs_to_flag),
            "timeouts": _newest(state.timeouts, now - policy.flag_window, policy.timeouts_to_flag),
            "timed_out_until": state.timed_out_until if state.timed_out_until and state.timed_out_until > now else None,
            "sessions": tuple(s for s in state.sessions if s.at > keep_sessions_after)[-policy.sessions_per_window :],
        }
    )


def _newest(times: tuple[datetime, ...], after: datetime, limit: int) -> tuple[datetime, ...]:
    return tuple(t for t in times if t > after)[-limit:]


def state_chars(state: SubjectState) -> int:
    """Characters of the state as stored (the `state` JSON column of the subject row)."""
    return len(state.model_dump_json())


def largest_state(policy: Policy, now: datetime) -> SubjectState:
    """The largest state this policy lets a subject accumulate: every list at its bound, every id at
    its longest. Settings whose largest state would not fit a table property are refused."""
    at = now.replace(microsecond=123456)
    times = lambda n: tuple(at for _ in range(n))  # noqa: E731
    ref = FlaggedRef(session_id="f" * 36, attempt_id=2**31 - 1)
    evidence = FaceEvidence(session_id="e" * 36, attempt_id=2**31 - 1, at=at, others=(ref,) * MAX_FLAGGED_REFS)
    issued = IssuedSession(session_id="s" * 36, at=at, expires_at=at)
    return SubjectState(
        status=SubjectStatus.FLAGGED,
        failures=times(policy.failed_checks_limit),
        spoofs=times(policy.spoofs_to_flag),
        timeouts=times(policy.timeouts_to_flag),
        timed_out_until=at,
        sessions=(issued,) * policy.sessions_per_window,
        flagged_at=at,
        flag_reason=FACE_ABUSE_REASON + " " * 40,
        face_evidence=(evidence,) * MAX_FACE_EVIDENCE,
    )


def record_session(state: SubjectState, issued: IssuedSession, now: datetime, policy: Policy) -> SubjectState:
    """Count a newly issued session against the hourly cap."""
    pruned = prune(state, now, policy)
    return pruned.model_copy(update={"sessions": (*pruned.sessions, issued)})


def _flag(state: SubjectState, now: datetime, reason: str) -> SubjectState:
    if state.status is not SubjectStatus.ACTIVE:
        return state
    return state.model_copy(update={"status": SubjectStatus.FLAGGED, "flagged_at": now, "flag_reason": reason})


def record_face_abuse(state: SubjectState, evidence: FaceEvidence, now: datetime) -> SubjectState:
    """Face's own abuse verdict on an attempt flags the subject at once, keeping the evidence.

    A subject already flagged keeps collecting evidence for its reviewer; a decided one is left alone."""
    if state.status not in (SubjectStatus.ACTIVE, SubjectStatus.FLAGGED):
        return state
    evidence = evidence.model_copy(update={"others": evidence.others[:MAX_FLAGGED_REFS]})
    kept = (*state.face_evidence, evidence)[-MAX_FACE_EVIDENCE:]
    return _flag(state.model_copy(update={"face_evidence": kept}), now, FACE_ABUSE_REASON)


def record_digest_mismatch(state: SubjectState, now: datetime, policy: Policy) -> SubjectState:
    """The digest the device reported for an attempt differs from the one Face computed: the result
    is not to be trusted, so it counts as a failed check and flags the subject at once."""
    counted = record_decision(state, LivenessDecision.UNCERTAIN, now, now, policy)
    return _flag(counted, now, DIGEST_MISMATCH_REASON)


def record_lineage_match(state: SubjectState, evidence: FaceEvidence) -> SubjectState:
    """Face's verdict named only sessions of the subject's own lineage (the GUIDs a reviewer handed
    out for this person): kept as `lineage_match` evidence for the reviewer, no flag."""
    evidence = evidence.model_copy(update={"others": evidence.others[:MAX_FLAGGED_REFS], "lineage": True})
    return state.model_copy(update={"face_evidence": (*state.face_evidence, evidence)[-MAX_FACE_EVIDENCE:]})


def record_decision(
    state: SubjectState, decision: LivenessDecision, at: datetime, now: datetime, policy: Policy
) -> SubjectState:
    """Apply one liveness decision made at `at`: failures, timeouts and flagging."""
    state = prune(state, now, policy)
    if decision not in FAILED_DECISIONS:
        return state
    failures = tuple(t for t in (*state.failures, at) if t > now - policy.failed_checks_window)
    spoofs = (state.spoofs + ((at,) if decision is LivenessDecision.SPOOFFACE else ()))[-policy.spoofs_to_flag :]
    timeouts, timed_out_until = state.timeouts, state.timed_out_until
    if len(failures) >= policy.failed_checks_limit:
        timeouts = (*timeouts, now)[-policy.timeouts_to_flag :]
        timed_out_until = now + policy.timeout
        failures = ()
    state = state.model_copy(
        update={"failures": failures, "spoofs": spoofs, "timeouts": timeouts, "timed_out_until": timed_out_until}
    )
    if len(timeouts) >= policy.timeouts_to_flag:
        return _flag(state, now, f"{len(timeouts)} timeouts within {_span(policy.flag_window)}")
    if len(spoofs) >= policy.spoofs_to_flag:
        return _flag(state, now, f"{len(spoofs)} spoofface decisions within {_span(policy.flag_window)}")
    return state


def _span(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g} hours" if hours >= 1 else f"{window.total_seconds():g} seconds"
