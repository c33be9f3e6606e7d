"""The abuse policy on its own: pure functions, no storage."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.domain.policy import (
    MAX_STATE_CHARS,
    IssuedSession,
    LivenessDecision,
    Policy,
    SubjectState,
    SubjectStatus,
    largest_state,
    prune,
    record_decision,
    record_session,
    refuse_new_session,
    state_chars,
)

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POLICY = Policy()
SPOOF, UNCERTAIN, REAL = LivenessDecision.SPOOFFACE, LivenessDecision.UNCERTAIN, LivenessDecision.REALFACE


def fail_n(state: SubjectState, n: int, start: datetime, decision=UNCERTAIN, step=timedelta(seconds=10)):
    now = start
    for _ in range(n):
        state = record_decision(state, decision, now, now, POLICY)
        now += step
    return state, now


def issue(state: SubjectState, at: datetime, crid: str | None = None) -> SubjectState:
    issued = IssuedSession(
        session_id=f"s{at.timestamp()}", at=at, expires_at=at + timedelta(minutes=10), client_request_id=crid
    )
    return record_session(state, issued, at, POLICY)


def test_fresh_subject_may_start_a_session():
    assert refuse_new_session(SubjectState(), T0, POLICY) is None


def test_five_failed_checks_within_three_minutes_time_the_subject_out_for_thirty_minutes():
    state, now = fail_n(SubjectState(), 5, T0)
    refusal = refuse_new_session(state, now, POLICY)
    assert refusal is not None and refusal.code == "retry_limited"
    last_failure = now - timedelta(seconds=10)
    assert refusal.retry_after_seconds == int((last_failure + timedelta(minutes=30) - now).total_seconds())
    assert refuse_new_session(state, last_failure + timedelta(minutes=30, seconds=1), POLICY) is None


def test_four_failures_are_not_a_timeout_and_realface_does_not_count():
    state, now = fail_n(SubjectState(), 4, T0)
    state = record_decision(state, REAL, now, now, POLICY)
    assert refuse_new_session(state, now, POLICY) is None


def test_failures_spread_beyond_the_window_do_not_time_out():
    state, now = fail_n(SubjectState(), 5, T0, step=timedelta(minutes=1))
    assert refuse_new_session(state, now, POLICY) is None


def test_three_timeouts_within_a_day_flag_the_subject():
    state, now = SubjectState(), T0
    for _ in range(3):
        state, now = fail_n(state, 5, now)
        now += timedelta(minutes=31)
    assert state.status is SubjectStatus.FLAGGED
    assert "3 timeouts" in (state.flag_reason or "")
    refusal = refuse_new_session(state, now, POLICY)
    assert refusal is not None and refusal.code == "correlation_id_blocked"


def test_three_spoofface_decisions_within_a_day_flag_the_subject():
    state, _ = fail_n(SubjectState(), 3, T0, decision=SPOOF, step=timedelta(hours=2))
    assert state.status is SubjectStatus.FLAGGED
    assert state.flagged_at is not None and "spoofface" in (state.flag_reason or "")


def test_spoofs_more_than_a_day_apart_do_not_flag():
    state, _ = fail_n(SubjectState(), 3, T0, decision=SPOOF, step=timedelta(hours=13))
    assert state.status is SubjectStatus.ACTIVE


def test_hourly_cap_refuses_the_eleventh_session_until_the_oldest_leaves_the_window():
    state = SubjectState()
    for minute in range(10):
        state = issue(state, T0 + timedelta(minutes=minute))
    now = T0 + timedelta(minutes=20)
    refusal = refuse_new_session(state, now, POLICY)
    assert refusal is not None and refusal.code == "retry_limited"
    assert refusal.retry_after_seconds == 40 * 60
    assert refuse_new_session(state, T0 + timedelta(minutes=60, seconds=1), POLICY) is None


def test_the_state_keeps_no_more_than_any_rule_can_count():
    """However many sessions and failures arrive, the state holds at most each rule's limit."""
    policy = POLICY
    state = SubjectState()
    for minute in range(200):
        now = T0 + timedelta(seconds=20 * minute)
        state = issue(state, now, crid=f"{minute:064d}")
        state = record_decision(state, LivenessDecision.UNCERTAIN, now, now, policy)
    assert len(state.sessions) <= policy.sessions_per_window
    assert len(state.failures) < policy.failed_checks_limit
    assert len(state.timeouts) <= policy.timeouts_to_flag


def test_the_largest_state_the_largest_settings_allow_fits_a_table_property():
    largest = Policy(failed_checks_limit=100, timeouts_to_flag=50, spoofs_to_flag=50, sessions_per_window=60)
    assert state_chars(largest_state(largest, T0)) <= MAX_STATE_CHARS
    assert state_chars(largest_state(replace(largest, sessions_per_window=100), T0)) > MAX_STATE_CHARS


def test_prune_keeps_only_what_a_rule_can_still_see():
    state, _ = fail_n(SubjectState(), 2, T0, decision=SPOOF)
    state = issue(state, T0)
    later = prune(state, T0 + timedelta(days=2), POLICY)
    assert later.failures == () and later.spoofs == () and later.sessions == ()


def test_every_threshold_is_a_setting():
    strict = Policy(failed_checks_limit=2, sessions_per_window=1)
    state = record_decision(SubjectState(), UNCERTAIN, T0, T0, strict)
    state = record_decision(state, UNCERTAIN, T0, T0, strict)
    assert refuse_new_session(state, T0, strict).code == "retry_limited"
    capped = record_session(SubjectState(), IssuedSession(session_id="x", at=T0, expires_at=T0), T0, strict)
    assert refuse_new_session(capped, T0, strict) is not None
