"""When rows fall due and when a partition is looked at next (pure rules, no storage)."""

from datetime import UTC, datetime, timedelta

from shared.domain.policy import SubjectState, SubjectStatus
from shared.domain.records import Subject
from shared.domain.retention_rules import (
    ATTEMPT_HOURS_KEPT,
    RetentionPolicy,
    SubjectFate,
    bucket_of,
    fate_of,
    needs_check,
    next_check,
    with_attempt_hour,
)

NOW = datetime(2026, 11, 22, 10, 20, tzinfo=UTC)
POLICY = RetentionPolicy()


def subject(**changes) -> Subject:
    fields = {
        "customer_id": "c" * 32,
        "correlation_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "consent_policy_version": "v1",
        "consent_granted_at": NOW,
        "created_at": NOW,
        "last_activity_at": NOW,
    }
    return Subject(**{**fields, **changes})


def test_checks_are_filed_under_the_hour_rounded_up():
    assert bucket_of(NOW) == datetime(2026, 11, 22, 11, tzinfo=UTC)
    assert bucket_of(datetime(2026, 11, 22, 11, tzinfo=UTC)) == datetime(2026, 11, 22, 11, tzinfo=UTC)


def test_a_session_of_a_visit_is_covered_by_the_check_its_first_session_filed():
    first = bucket_of(NOW + timedelta(hours=1, minutes=5))
    assert needs_check(None, NOW + timedelta(hours=1), NOW)  # nothing filed yet
    assert not needs_check(first, NOW + timedelta(hours=1, minutes=20), NOW)  # a later session: same check
    assert needs_check(first, NOW + timedelta(minutes=10), NOW)  # due before the check: its own
    assert needs_check(NOW + timedelta(minutes=5), NOW + timedelta(hours=1), NOW)  # that check may be running


def test_next_check_is_the_earliest_thing_left():
    s = subject(attempt_hours=(bucket_of(NOW - timedelta(hours=71, minutes=30)),))
    at = next_check(s, [NOW + timedelta(minutes=30)], NOW, POLICY)
    assert at == bucket_of(NOW - timedelta(hours=71, minutes=30)) + POLICY.attempts  # attempts before the session
    assert next_check(subject(), [], NOW, POLICY) == NOW + POLICY.idle_subject
    assert next_check(None, [], NOW, POLICY) is None  # nothing left: no check
    assert next_check(None, [], NOW, POLICY, settled=True) == NOW + POLICY.attempts


def test_a_flagged_subject_is_looked_at_again_within_the_hour():
    flagged = subject(state=SubjectState(status=SubjectStatus.FLAGGED, flagged_at=NOW), status="flagged")
    assert next_check(flagged, [], NOW, POLICY) == NOW  # filed for the next hour
    assert fate_of(flagged, NOW + timedelta(days=400), POLICY) is SubjectFate.KEEP


def test_fates_of_a_subject_row():
    assert fate_of(subject(last_activity_at=NOW - timedelta(days=31)), NOW, POLICY) is SubjectFate.IDLE
    blocked = SubjectState(status=SubjectStatus.BLOCKED)
    decided = subject(state=blocked, status="blocked", decided_at=NOW - timedelta(days=5))
    assert fate_of(decided, NOW, POLICY) is SubjectFate.COMPACT
    assert next_check(decided, [], NOW, POLICY) == decided.decided_at + POLICY.tombstone
    assert fate_of(decided, NOW + timedelta(days=180), POLICY) is SubjectFate.EXPIRED
    gate = subject(gate_until=NOW - timedelta(seconds=1))
    assert fate_of(gate, NOW, POLICY) is SubjectFate.EXPIRED


def test_attempt_hours_stay_bounded():
    hours: tuple[datetime, ...] = ()
    for h in range(ATTEMPT_HOURS_KEPT + 20):
        hours = with_attempt_hour(hours, NOW + timedelta(hours=h))
    assert len(hours) == ATTEMPT_HOURS_KEPT and hours[-1] == bucket_of(NOW + timedelta(hours=ATTEMPT_HOURS_KEPT + 19))
    assert with_attempt_hour(hours, NOW + timedelta(hours=ATTEMPT_HOURS_KEPT + 19)) == hours
