"""The gate that survives erasure (docs/abuse-policy.md, "Erasure and the gate"), as pure functions.

Erasing a subject keeps a gate record whenever the policy still needs something of it: the subject
row re-keyed by the keyed pseudonym of (customer, GUID) — `erased-<pseudonym>` — with its status,
the times its windows count (failed checks, spoofs, timeouts, sessions; no session ids) and until
when it holds; no GUID, no consent, no sessions or attempts. Consenting to the GUID again finds the
record: an active one hands its counts to the new subject (erase → consent resumes the same counts,
the hourly session cap too); a flagged, blocked or retired one keeps refusing sessions until a
reviewer decides or the gate's time ends. A flagged record stays in the review queue under its pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.domain.policy import IssuedSession, Policy, Refusal, RefusalCode, SubjectState, SubjectStatus, seconds_until
from shared.domain.records import Subject

WITHDRAWN = "withdrawn"
_EPOCH = datetime.min.replace(tzinfo=UTC)


def longest_window(policy: Policy) -> timedelta:
    """The longest time the policy counts anything of a subject (how long an erased subject's counts stay)."""
    return max(policy.failed_checks_window, policy.flag_window, policy.session_window, policy.timeout)


def counts_until(state: SubjectState, policy: Policy) -> datetime | None:
    """When the last window the policy still counts of this state ends (None: nothing left to count)."""
    ends = [
        *(t + policy.failed_checks_window for t in state.failures[-1:]),
        *(t + policy.flag_window for t in (*state.spoofs[-1:], *state.timeouts[-1:])),
        *(s.at + policy.session_window for s in state.sessions[-1:]),
        *([state.timed_out_until] if state.timed_out_until else []),
    ]
    return max(ends, default=None)


def gate_of(subject: Subject, gate_id: str, now: datetime, tombstone: timedelta, policy: Policy) -> Subject | None:
    """The gate record erasing `subject` must leave, or None when nothing of it still counts."""
    state = subject.state
    if state.status is SubjectStatus.ACTIVE:
        until = counts_until(state, policy)
        if until is None or until <= now:
            return None
    elif state.status is SubjectStatus.FLAGGED:
        until = (state.flagged_at or now) + tombstone
    else:
        until = (subject.decided_at or now) + tombstone
    # an active subject's session times still count (the hourly cap); ids are the GUID's data: never kept
    anonymous = tuple(IssuedSession(session_id="", at=s.at, expires_at=s.expires_at) for s in state.sessions)
    kept = state.model_copy(update={"sessions": anonymous if state.status is SubjectStatus.ACTIVE else ()})
    return subject.model_copy(
        update={
            "correlation_id": gate_id,
            "state": kept,
            "consent_policy_version": WITHDRAWN,
            "consent_purpose": None,
            "replaces": None,
            "replaced_by": None,
            "decisions": tuple(d.model_copy(update={"new_correlation_id": None}) for d in subject.decisions),
            "gated": False,
            "erasing": False,
            "gate_until": until,
            "last_activity_at": now,
        }
    )


def merge_gates(kept: Subject | None, new: Subject) -> Subject:
    """Erasing a re-consented GUID again: a decision beats counts; between two records of counts the
    new one wins (consent handed it the old counts), holding at least as long as the old one."""
    if kept is None:
        return new
    if kept.state.status is not SubjectStatus.ACTIVE:
        return kept
    if new.state.status is not SubjectStatus.ACTIVE:
        return new
    return new.model_copy(update={"gate_until": max(new.gate_until or _EPOCH, kept.gate_until or _EPOCH)})


def resumed_state(gate: Subject | None, now: datetime) -> SubjectState | None:
    """The counts a new consent resumes from an active gate record (None: nothing to resume)."""
    if gate is None or gate.state.status is not SubjectStatus.ACTIVE or (gate.gate_until or _EPOCH) <= now:
        return None
    return gate.state


def gate_view(subject: Subject, gate: Subject | None, now: datetime) -> GateView:
    """Whether a subject is refused sessions now, why and until when (subject access, the reviewer view)."""
    state = subject.state
    if state.status is not SubjectStatus.ACTIVE:
        return GateView(True, state.status.value, None)
    if subject.erasing:
        return GateView(True, "erasing", None)
    refusal = gate_refusal(gate, now) if subject.gated else None
    if refusal is not None and refusal.code is RefusalCode.CORRELATION_ID_BLOCKED and gate is not None:
        return GateView(True, f"erased_{gate.state.status.value}", gate.gate_until)
    until = state.timed_out_until
    if until is not None and until > now:
        return GateView(True, "timed_out", until)
    return GateView(False, None, None)


@dataclass(frozen=True)
class GateView:
    """What the gate says of a subject now."""

    gated: bool
    reason: str | None  # flagged | blocked | retired | timed_out | erased_<status> | erasing
    until: datetime | None


def gate_refusal(gate: Subject | None, now: datetime) -> Refusal | None:
    """The refusal a gate record still imposes on the GUID, or None when it no longer holds."""
    if gate is None or gate.gate_until is None or gate.gate_until <= now:
        return None
    status = gate.state.status
    if status is not SubjectStatus.ACTIVE:
        return Refusal(RefusalCode.CORRELATION_ID_BLOCKED, f"This correlation id is {status.value}; no new sessions.")
    until = gate.state.timed_out_until
    if until is not None and until > now:
        return Refusal(
            RefusalCode.RETRY_LIMITED, "Too many failed checks; this subject is timed out.", seconds_until(until, now)
        )
    return None
