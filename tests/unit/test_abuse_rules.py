"""The pure parts of the abuse gate: attempt finality, the per-IP rule and the erasure gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.attempts import GONE, FaceReading, SeenAttempt, absorb, is_open
from shared.domain.gate import GateView, counts_until, gate_of, gate_refusal, gate_view, merge_gates, resumed_state
from shared.domain.ip_policy import (
    MAX_FAILURE_KEYS,
    IpPolicy,
    IpState,
    OpenSession,
    normalise_ip,
    record_failures,
    refuse_from_ip,
    track_session,
)
from shared.domain.policy import (
    FACE_ABUSE_REASON,
    MAX_FACE_EVIDENCE,
    FaceEvidence,
    FlaggedRef,
    IssuedSession,
    LivenessDecision,
    Policy,
    SubjectState,
    SubjectStatus,
    record_face_abuse,
)
from shared.domain.records import Session, Subject

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SPOOF = LivenessDecision.SPOOFFACE


def session(**changes) -> Session:
    fields = dict(
        session_id="s1",
        customer_id="c" * 32,
        correlation_id="g",
        token_hash="h",
        sealed_face_token="x",
        operation_mode="Passive",
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=10),
        calls_allowed=5,
    )
    return Session(**(fields | changes))


def seen(attempt_id: int, status: str, decision=None) -> SeenAttempt:
    return SeenAttempt(attempt_id, status, status in ("Succeeded", "Failed"), decision)


# --- attempts --------------------------------------------------------------------------------


def test_a_running_attempt_is_not_recorded_and_counts_once_when_final():
    running = absorb(SubjectState(), session(), FaceReading("Running", (seen(1, "Running"),)), NOW, Policy())
    assert running.attempts == () and running.session.recorded_attempts == () and running.state.spoofs == ()
    done = FaceReading("Succeeded", (seen(1, "Succeeded", SPOOF),))
    first = absorb(running.state, running.session, done, NOW, Policy())
    again = absorb(first.state, first.session, done, NOW, Policy())
    assert len(first.state.spoofs) == 1 and first.failed_keys and again.attempts == () and again.state == first.state


def test_attempts_listed_newest_first_are_applied_in_order_and_the_latest_decision_wins():
    reading = FaceReading("Succeeded", (seen(2, "Succeeded", LivenessDecision.REALFACE), seen(1, "Succeeded", SPOOF)))
    result = absorb(SubjectState(), session(), reading, NOW, Policy())
    assert [a.attempt_id for a in result.attempts] == [1, 2] and result.session.last_decision == "realface"


def test_a_session_settles_only_after_expiry_with_nothing_running_or_when_gone():
    live = session()
    final = FaceReading("Succeeded", (seen(1, "Succeeded", SPOOF),))
    assert not absorb(SubjectState(), live, final, NOW, Policy()).session.settled  # more attempts may come
    later = NOW + timedelta(minutes=11)
    assert absorb(SubjectState(), live, final, later, Policy()).session.settled
    still_running = FaceReading("Running", (seen(1, "Running"),))
    assert not absorb(SubjectState(), live, still_running, later, Policy()).session.settled
    assert absorb(SubjectState(), live, GONE, NOW, Policy()).session.settled
    grace = timedelta(hours=1)
    assert is_open(live, later, grace) and not is_open(live, later + grace, grace)


# --- per end-user IP rule ------------------------------------------------------------------------


def test_ip_failures_time_the_address_out_at_the_limit_and_count_each_key_once():
    policy = IpPolicy(failed_checks_limit=3)
    state = record_failures(IpState(), ["a", "b", "a"], NOW, policy)
    state = record_failures(state, ["b"], NOW, policy)
    assert len(state.failures) == 2 and refuse_from_ip(state, NOW) is None
    state = record_failures(state, ["c"], NOW, policy)
    refusal = refuse_from_ip(state, NOW)
    assert refusal is not None and refusal.retry_after_seconds == 3600
    assert refuse_from_ip(state, NOW + timedelta(hours=1, seconds=1)) is None


def test_ip_failures_leave_the_window_and_the_row_stays_bounded():
    policy = IpPolicy(failed_checks_limit=200)
    state = record_failures(IpState(), [f"k{i}" for i in range(150)], NOW, policy)
    state = record_failures(state, ["late"], NOW + timedelta(hours=1, seconds=1), policy)
    assert [f.key for f in state.failures] == ["late"]
    state = record_failures(IpState(), [f"k{i}" for i in range(500)], NOW, policy)
    assert len(state.failures) == MAX_FAILURE_KEYS


def test_tracked_sessions_drop_out_after_expiry_and_grace():
    grace = timedelta(hours=1)
    old = OpenSession(session_id="old", expires_at=NOW - grace - timedelta(seconds=1))
    state = IpState(open_sessions=(old,))
    state = track_session(state, OpenSession(session_id="new", expires_at=NOW + timedelta(minutes=10)), NOW, grace)
    assert [s.session_id for s in state.open_sessions] == ["new"]


@pytest.mark.parametrize(
    ("raw", "counted"),
    [
        ("198.51.100.7", "198.51.100.7"),
        (" 2001:db8:1:2::17 ", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
    ],
)
def test_addresses_are_counted_as_ipv4_or_ipv6_slash_64(raw, counted):
    assert normalise_ip(raw) == counted


@pytest.mark.parametrize("bad", ["999.1.1.1", "1.2.3.4/24", "example.com", ""])
def test_anything_but_an_address_is_refused(bad):
    with pytest.raises(ValueError):
        normalise_ip(bad)


# --- the gate erasure leaves -----------------------------------------------------------------------


def subject(state: SubjectState, **changes) -> Subject:
    fields = dict(
        customer_id="c" * 32,
        correlation_id="0" * 8 + "-0000-0000-0000-" + "0" * 12,
        consent_policy_version="v1",
        consent_purpose="kyc",
        consent_granted_at=NOW,
        created_at=NOW,
        last_activity_at=NOW,
        state=state,
        status=state.status.value,
    )
    return Subject(**(fields | changes))


def test_a_subject_with_nothing_left_to_count_leaves_no_gate_and_a_timed_out_one_a_gate_until_the_timeout_ends():
    tombstone, policy = timedelta(days=180), Policy()
    assert gate_of(subject(SubjectState()), "erased-x", NOW, tombstone, policy) is None
    old = NOW - timedelta(days=2)  # every window of these has ended
    spent = SubjectState(
        failures=(old,), spoofs=(old,), sessions=(IssuedSession(session_id="s", at=old, expires_at=old),)
    )
    assert gate_of(subject(spent), "erased-x", NOW, tombstone, policy) is None
    until = NOW + timedelta(minutes=20)
    gate = gate_of(subject(SubjectState(timed_out_until=until)), "erased-x", NOW, tombstone, policy)
    assert gate is not None and gate.gate_until == until and gate.consent_purpose is None
    assert gate_refusal(gate, NOW + timedelta(minutes=5)).retry_after_seconds == 15 * 60
    assert gate_refusal(gate, until) is None


def test_an_active_subject_with_counts_leaves_a_gate_holding_them_until_its_longest_window_ends():
    """Erase -> consent must resume the same counts (docs/abuse-policy.md): spoofs, failures, sessions."""
    policy = Policy()
    issued = IssuedSession(session_id="face-session-id", at=NOW, expires_at=NOW + timedelta(minutes=10))
    state = SubjectState(failures=(NOW,), spoofs=(NOW, NOW), sessions=(issued,) * 4)
    gate = gate_of(subject(state), "erased-x", NOW, timedelta(days=180), policy)
    assert gate is not None and gate.gate_until == NOW + policy.flag_window  # the spoofs' window is the longest
    assert gate.state.spoofs == state.spoofs and gate.state.failures == state.failures
    assert [s.at for s in gate.state.sessions] == [NOW] * 4 and {s.session_id for s in gate.state.sessions} == {""}
    assert resumed_state(gate, NOW + timedelta(hours=1)) == gate.state
    assert resumed_state(gate, NOW + policy.flag_window) is None  # let go: nothing to resume
    assert gate_refusal(gate, NOW) is None  # counts only: the policy decides on them, not the gate


def test_only_sessions_left_keeps_the_gate_for_the_session_window():
    policy = Policy()
    issued = IssuedSession(session_id="s", at=NOW, expires_at=NOW)
    assert counts_until(SubjectState(sessions=(issued,)), policy) == NOW + policy.session_window


@pytest.mark.parametrize("status", [SubjectStatus.FLAGGED, SubjectStatus.BLOCKED, SubjectStatus.RETIRED])
def test_a_gated_status_holds_for_the_tombstone_period(status):
    tombstone = timedelta(days=180)
    gate = gate_of(
        subject(SubjectState(status=status, flagged_at=NOW), decided_at=NOW), "erased-x", NOW, tombstone, Policy()
    )
    assert gate.correlation_id == "erased-x" and gate.state.sessions == ()
    assert gate_refusal(gate, NOW + tombstone - timedelta(seconds=1)).code == "correlation_id_blocked"
    assert gate_refusal(gate, NOW + tombstone) is None
    assert resumed_state(gate, NOW) is None  # a decision is not resumed: the gate refuses instead


def test_erasing_again_keeps_the_stronger_gate_and_the_newer_counts():
    tombstone, policy = timedelta(days=180), Policy()
    blocked = gate_of(
        subject(SubjectState(status=SubjectStatus.BLOCKED), decided_at=NOW), "erased-x", NOW, tombstone, policy
    )
    timed_out = gate_of(
        subject(SubjectState(timed_out_until=NOW + timedelta(hours=1))), "erased-x", NOW, tombstone, policy
    )
    assert merge_gates(blocked, timed_out) is blocked and merge_gates(timed_out, blocked) is blocked
    assert merge_gates(None, timed_out) is timed_out
    newer = gate_of(subject(SubjectState(spoofs=(NOW,))), "erased-x", NOW, tombstone, policy)
    merged = merge_gates(timed_out, newer)
    assert merged.state.spoofs == (NOW,) and merged.gate_until == max(timed_out.gate_until, newer.gate_until)


def test_the_gate_view_says_why_and_until_when():
    flagged = subject(SubjectState(status=SubjectStatus.FLAGGED, flagged_at=NOW))
    assert gate_view(flagged, None, NOW) == GateView(True, "flagged", None)
    until = NOW + timedelta(minutes=30)
    assert gate_view(subject(SubjectState(timed_out_until=until)), None, NOW) == GateView(True, "timed_out", until)
    gate = gate_of(flagged, "erased-x", NOW, timedelta(days=180), Policy())
    consented_again = subject(SubjectState(), gated=True)
    assert gate_view(consented_again, gate, NOW) == GateView(True, "erased_flagged", gate.gate_until)
    assert gate_view(subject(SubjectState()), None, NOW) == GateView(False, None, None)


# --- Face v1.3's own verdict and finished sessions ------------------------------------------

REAL = LivenessDecision.REALFACE


def flagged_by_face(attempt_id: int, *others: str) -> SeenAttempt:
    refs = tuple(FlaggedRef(session_id=o, attempt_id=1) for o in others)
    return SeenAttempt(attempt_id, "Succeeded", True, REAL, abuse_detected=True, flagged=refs)


def test_faces_verdict_flags_at_once_with_its_evidence_even_on_a_realface():
    result = absorb(SubjectState(), session(), FaceReading("Succeeded", (flagged_by_face(1, "a", "b"),)), NOW, Policy())
    assert result.state.status is SubjectStatus.FLAGGED and result.state.flag_reason == FACE_ABUSE_REASON
    [evidence] = result.state.face_evidence
    assert (evidence.session_id, evidence.attempt_id, evidence.at) == ("s1", 1, NOW)
    assert [o.session_id for o in evidence.others] == ["a", "b"]
    assert result.attempts[0].abuse_detected and result.attempts[0].liveness_decision == "realface"


def test_a_flagged_subject_gathers_more_evidence_a_decided_one_is_left_alone():
    flagged = SubjectState(status=SubjectStatus.FLAGGED, flagged_at=NOW, flag_reason="3 spoofface decisions")
    more = absorb(flagged, session(), FaceReading("Succeeded", (flagged_by_face(1, "a"),)), NOW, Policy())
    assert more.state.flag_reason == "3 spoofface decisions" and len(more.state.face_evidence) == 1
    blocked = SubjectState(status=SubjectStatus.BLOCKED)
    assert (
        absorb(blocked, session(), FaceReading("Succeeded", (flagged_by_face(1, "a"),)), NOW, Policy()).state == blocked
    )


def test_evidence_is_bounded():
    state = SubjectState()
    for i in range(MAX_FACE_EVIDENCE + 5):
        state = record_face_abuse(state, FaceEvidence(session_id=f"s{i}", attempt_id=1, at=NOW), NOW)
    assert (
        len(state.face_evidence) == MAX_FACE_EVIDENCE
        and state.face_evidence[-1].session_id == f"s{MAX_FACE_EVIDENCE + 4}"
    )


@pytest.mark.parametrize(
    ("allowed", "attempts", "finished"),
    [
        (1, (seen(1, "Succeeded", SPOOF),), True),  # the one allowed attempt is used
        (3, (seen(1, "Succeeded", SPOOF),), False),  # two more may follow
        (3, (seen(1, "Succeeded", SPOOF), seen(2, "Succeeded", REAL)), True),  # passed: nothing more needed
        (3, (seen(1, "Succeeded", REAL), seen(2, "Running")), False),  # never cut off a running attempt
        (3, (seen(1, "Failed"), seen(2, "Failed"), seen(3, "Succeeded", SPOOF)), True),
        (1, (), False),
    ],
)
def test_a_session_is_finished_when_nothing_more_can_follow(allowed, attempts, finished):
    result = absorb(SubjectState(), session(attempts_allowed=allowed), FaceReading("x", attempts), NOW, Policy())
    assert result.session.finished is finished


def test_a_session_deleted_at_face_is_no_longer_open():
    assert is_open(session(), NOW, timedelta(hours=1))
    assert not is_open(session(face_deleted=True), NOW, timedelta(hours=1))
    assert absorb(SubjectState(), session(), GONE, NOW, Policy()).session.finished
