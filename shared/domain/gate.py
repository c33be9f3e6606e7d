"""The gate that survives erasure (SPEC sections 5 and 8), as pure functions.

Erasing a flagged, blocked, retired or timed-out subject keeps a gate record: the subject row
re-keyed by the keyed pseudonym of (customer, GUID) — `erased-<pseudonym>` — with its status,
its policy counters and until when it holds; no GUID, no consent, no sessions or attempts.
Consenting to the GUID again finds the record, and sessions keep the same refusal until a reviewer
decides or the gate's time ends. A flagged record stays in the review queue under its pseudonym.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.policy import Refusal, SubjectStatus, seconds_until
from shared.domain.records import Subject

WITHDRAWN = "withdrawn"
_EPOCH = datetime.min.replace(tzinfo=UTC)


def gate_of(subject: Subject, gate_id: str, now: datetime, tombstone: timedelta) -> Subject | None:
    """The gate record erasing `subject` must leave, or None when it is free to go."""
    state = subject.state
    if state.status is SubjectStatus.ACTIVE:
        if state.timed_out_until is None or state.timed_out_until <= now:
            return None
        until = state.timed_out_until
    elif state.status is SubjectStatus.FLAGGED:
        until = (state.flagged_at or now) + tombstone
    else:
        until = (subject.decided_at or now) + tombstone
    kept = state.model_copy(update={"sessions": ()})  # session ids and clientRequestIds are the GUID's data
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
            "gate_until": until,
            "last_activity_at": now,
        }
    )


def merge_gates(kept: Subject | None, new: Subject) -> Subject:
    """Erasing a re-consented GUID again: the record that holds longer (a decision beats a timeout)."""
    if kept is None:
        return new
    if kept.state.status is not SubjectStatus.ACTIVE:
        return kept
    if new.state.status is not SubjectStatus.ACTIVE:
        return new
    return new if (new.gate_until or _EPOCH) > (kept.gate_until or _EPOCH) else kept


def gate_refusal(gate: Subject | None, now: datetime) -> Refusal | None:
    """The refusal a gate record still imposes on the GUID, or None when it no longer holds."""
    if gate is None or gate.gate_until is None or gate.gate_until <= now:
        return None
    status = gate.state.status
    if status is not SubjectStatus.ACTIVE:
        return Refusal("correlation_id_blocked", f"This correlation id is {status.value}; no new sessions.")
    until = gate.state.timed_out_until
    if until is not None and until > now:
        return Refusal("retry_limited", "Too many failed checks; this subject is timed out.", seconds_until(until, now))
    return None
