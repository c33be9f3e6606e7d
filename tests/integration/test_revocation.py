"""A flag stops the person (issue 24; docs/abuse-policy.md, "Revocation"): every session issued before
a subject stopped being active, or before its customer was suspended or terminated, is revoked — the
device cannot make another attempt at Face, the token answers 401 `token_revoked`, `/result` never
hands a decision to a subject that is not active. Each test tries one way around it, as an attacker
would: pre-issuing sessions, polling another session at the moment of the flag, and Face failing.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.helpers import (
    ADMIN,
    consented_subject,
    deliver_notifications,
    device_attempt,
    face_faults,
    face_holds,
    face_sessions_held,
    new_customer,
    new_session,
    result,
    review_decision,
)
from tests.support import ApiClient


def pre_issued(api: ApiClient, key: str, guid: str, n: int = 3) -> list[dict]:
    sessions = [new_session(api, key, guid) for _ in range(n)]
    assert [s.status for s in sessions] == [201] * n, [s.body for s in sessions]
    return [s.json for s in sessions]


def spoof_three_times(api: ApiClient, face, session: dict) -> list:
    """Three spoofface attempts on one session, each read back; the third flags the subject."""
    answers = []
    for _ in range(3):
        assert device_attempt(face.endpoint, session, "spoofface").status_code == 200
        answers.append(result(api, session["sessionId"], session["sessionToken"]))
    return answers


def spoofed_unread(api: ApiClient, face) -> tuple[str, str, str, list[dict]]:
    """Three pre-issued sessions, the first with three spoofface attempts nobody read yet (the next
    result call on it flags): (customerId, apiKey, GUID, the sessions)."""
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    sessions = pre_issued(api, key, guid)
    for _ in range(3):
        assert device_attempt(face.endpoint, sessions[0], "spoofface").status_code == 200
    return customer_id, key, guid, sessions


def flagged_but_not_revoked(services, api: ApiClient, face) -> tuple[str, str, str, dict]:
    """A subject flagged by three spoofs while the revocation right after the flag fails (a no-op
    stands in for it): (customerId, apiKey, GUID, a second session issued before the flag)."""
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    first, second, _ = pre_issued(api, key, guid)
    services.sessions.endings.revoke_after = lambda *args: 0
    spoof_three_times(api, face, first)
    return customer_id, key, guid, second


def assert_dead(api: ApiClient, face, session: dict) -> None:
    """The device can no longer attempt at Face, and the token answers 401 token_revoked."""
    assert device_attempt(face.endpoint, session, "realface").status_code == 401  # Face no longer holds it
    answer = result(api, session["sessionId"], session["sessionToken"])
    assert (answer.status, answer.error_code) == (401, "token_revoked"), answer.body


def test_a_flag_revokes_every_session_issued_before_it(preissue, face):
    _services, api = preissue
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    first, *others = pre_issued(api, key, guid)
    answers = spoof_three_times(api, face, first)
    # the one call whose own attempt flagged the subject gets its decision once, marked flagged
    assert [(a.status, a.json["subjectStatus"]) for a in answers] == [(200, "active")] * 2 + [(200, "flagged")]
    assert answers[-1].json["livenessDecision"] == "spoofface"
    for session in (first, *others):
        assert not face_holds(face.endpoint, face.key, session["sessionId"])
        assert_dead(api, face, session)
    assert face_sessions_held(face.endpoint, guid) == []


@pytest.mark.face_api_versions("v1.3-preview.1")  # Face's own abuse verdict exists on v1.3 only
def test_a_face_verdict_flag_revokes_the_other_sessions(preissue, face):
    _services, api = preissue
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    first, second, third = pre_issued(api, key, guid)
    assert device_attempt(face.endpoint, first, "realface", abuseDetected=True).status_code == 200
    answer = result(api, first["sessionId"], first["sessionToken"])
    assert (answer.status, answer.json["subjectStatus"]) == (200, "flagged")
    for session in (second, third):
        assert_dead(api, face, session)


@pytest.mark.parametrize("decision", ["confirm", "override"])
def test_a_decision_revokes_what_a_failed_revocation_at_the_flag_left_open(preissue, face, decision):
    services, api = preissue
    customer_id, _, guid, second = flagged_but_not_revoked(services, api, face)
    del services.sessions.endings.revoke_after
    assert face_holds(face.endpoint, face.key, second["sessionId"])
    assert review_decision(api, customer_id, guid, decision).status == 200
    assert_dead(api, face, second)
    assert face_sessions_held(face.endpoint, guid) == []


def test_a_reset_revokes_the_sessions_of_an_active_subject(preissue, face):
    _services, api = preissue
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    sessions = pre_issued(api, key, guid)
    reset = api.post(f"/api/v1/review/subjects/{customer_id}/{guid}/reset", json={"reason": "asked"}, headers=ADMIN)
    assert reset.status == 200, reset.body
    for session in sessions:
        assert_dead(api, face, session)


def test_termination_revokes_every_open_session_of_the_customer(preissue, face):
    _services, api = preissue
    customer_id, key = new_customer(api)
    guids = [consented_subject(api, key) for _ in range(3)]
    sessions = [s for guid in guids for s in pre_issued(api, key, guid, 2)]
    _other_id, other_key = new_customer(api, "Another customer")
    bystander = pre_issued(api, other_key, consented_subject(api, other_key), 1)[0]
    ended = api.post(f"/api/v1/manage/customers/{customer_id}/terminate", json={"reason": "fraud"}, headers=ADMIN)
    assert ended.status == 200, ended.body
    for session in sessions:
        assert_dead(api, face, session)
    assert face_holds(face.endpoint, face.key, bystander["sessionId"])  # another customer's stay
    assert result(api, bystander["sessionId"], bystander["sessionToken"]).status == 200


def test_a_severe_confirmation_suspends_and_revokes_the_customers_other_subjects(preissue, face):
    _services, api = preissue
    customer_id, key = new_customer(api)
    bystander = pre_issued(api, key, consented_subject(api, key), 2)
    guid = consented_subject(api, key)
    spoof_three_times(api, face, new_session(api, key, guid).json)
    assert review_decision(api, customer_id, guid, "confirm", severity="severe").status == 200
    for session in bystander:
        assert_dead(api, face, session)
    assert new_session(api, key, consented_subject(api, key)).error_code == "customer_suspended"


def test_a_suspension_by_the_confirmation_count_revokes_too(configure, router, face):
    services = configure(POLICY_OPEN_SESSIONS="3", POLICY_CUSTOMER_SUSPEND_AFTER="1")
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    bystander = pre_issued(api, key, consented_subject(api, key), 2)
    guid = consented_subject(api, key)
    spoof_three_times(api, face, new_session(api, key, guid).json)
    assert review_decision(api, customer_id, guid, "confirm").status == 200
    deliver_notifications(services)  # the consumer escalates: one confirmation suspends
    for session in bystander:
        assert_dead(api, face, session)


def test_parallel_results_on_a_pre_issued_session_at_the_moment_of_the_flag_get_no_realface(preissue, face):
    """The attacker polls a second session's realface while the first one's attempt flags."""
    _services, api = preissue
    _, _, _, (first, second, _) = spoofed_unread(api, face)
    flag_call = [(first["sessionId"], first["sessionToken"])]
    polls = [(second["sessionId"], second["sessionToken"])] * 4
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda st: result(api, *st), flag_call + polls))
    assert answers[0].json["subjectStatus"] == "flagged"
    # second had no attempt before the flag, so nothing it answers is a decision for this subject
    assert all(a.status in (200, 401, 403) for a in answers[1:]), [a.body for a in answers]
    assert all(a.json["livenessDecision"] is None for a in answers[1:] if a.status == 200)
    assert device_attempt(face.endpoint, second, "realface").status_code == 401  # and none can follow


def test_a_result_for_a_subject_that_is_not_active_is_refused_even_when_the_session_was_not_revoked(preissue, face):
    """The second line of defence: a session whose revocation has not happened yet."""
    services, api = preissue
    customer_id, _, guid, second = flagged_but_not_revoked(services, api, face)
    assert device_attempt(face.endpoint, second, "realface").status_code == 200  # Face still had it
    answer = result(api, second["sessionId"], second["sessionToken"])
    assert (answer.status, answer.error_code) == (403, "correlation_id_blocked"), answer.body
    held = services.sessions.subjects.get(customer_id, guid).record
    assert held.attempts_total == 4  # the refused call still counted its attempt


def test_a_revocation_face_could_not_delete_is_owed_and_the_sweep_counts_then_deletes_it(preissue, face, clock):
    services, api = preissue
    customer_id, _, guid, (first, second, third) = spoofed_unread(api, face)
    face_faults(face.endpoint, 503, 100, method="DELETE")  # Face reads, but refuses every deletion
    answer = result(api, first["sessionId"], first["sessionToken"])
    assert answer.json["subjectStatus"] == "flagged"
    for session in (second, third):
        revoked = result(api, session["sessionId"], session["sessionToken"])
        assert (revoked.status, revoked.error_code) == (401, "token_revoked")  # the token dies at once
    # what the device can still do at Face is no decision anyone reads: the attempts are counted later
    assert device_attempt(face.endpoint, second, "spoofface").status_code == 200
    face_faults(face.endpoint)
    assert len(face_sessions_held(face.endpoint, guid)) == 3
    clock.advance(hours=1, minutes=5)
    counts = services.retention.run()
    assert counts.get("faceSessionsOwed", 0) >= 2
    assert face_sessions_held(face.endpoint, guid) == []
    subject = services.sessions.subjects.get(customer_id, guid).record
    assert subject.attempts_total == 4  # second's late spoof was counted before Face forgot it


def test_owed_deletions_stay_in_the_backlog_while_face_refuses(preissue, face, clock):
    services, api = preissue
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    first, _, _ = pre_issued(api, key, guid)
    face_faults(face.endpoint, 503, 1000, method="DELETE")
    try:
        spoof_three_times(api, face, first)
        clock.advance(hours=1, minutes=5)
        counts = services.retention.run()
        assert counts.get("faceDeletionsStillOwed", 0) >= 2  # visible to the operator, retried next hour
    finally:
        face_faults(face.endpoint)
    clock.advance(hours=1, minutes=5)
    services.retention.run()
    assert face_sessions_held(face.endpoint, guid) == []


# --- one open session at a time --------------------------------------------------------------


def test_a_new_session_counts_and_revokes_the_older_open_one(api, services, face, customer):
    customer_id, key = customer
    guid = consented_subject(api, key)
    older = new_session(api, key, guid).json
    assert device_attempt(face.endpoint, older, "spoofface").status_code == 200  # never read by the client
    newer = new_session(api, key, guid)
    assert newer.status == 201
    assert_dead(api, face, older)
    subject = services.sessions.subjects.get(customer_id, guid).record
    assert (subject.attempts_total, len(subject.state.spoofs)) == (1, 1)  # counted before it was revoked
    assert result(api, newer.json["sessionId"], newer.json["sessionToken"]).status == 200


def test_a_client_request_id_replay_is_not_a_new_session(api, services, face, customer):
    _, key = customer
    guid = consented_subject(api, key)
    first = new_session(api, key, guid, clientRequestId="retry-1")
    again = new_session(api, key, guid, clientRequestId="retry-1")
    assert (first.status, again.status) == (201, 200)
    assert again.json["sessionId"] == first.json["sessionId"]
    assert face_holds(face.endpoint, face.key, first.json["sessionId"])
    assert result(api, again.json["sessionId"], again.json["sessionToken"]).status == 200


def test_parallel_session_requests_leave_at_most_the_allowed_open_sessions(api, services, face, customer):
    _, key = customer
    guid = consented_subject(api, key)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: new_session(api, key, guid), range(8)))
    assert {a.status for a in answers} <= {201, 429}
    assert len(face_sessions_held(face.endpoint, guid)) == 1
    issued = [a.json for a in answers if a.status == 201]
    live = [s for s in issued if result(api, s["sessionId"], s["sessionToken"]).status == 200]
    assert len(live) == 1


def test_a_revocation_that_failed_after_the_flag_is_done_by_the_subjects_retention_check(preissue, face, clock):
    """Storage gave out right after the flag: the flag stands, and the next sweep revokes what is left."""
    services, api = preissue
    _, _, guid, (first, second, _) = spoofed_unread(api, face)
    real_revoke, calls = services.sessions.endings.revoke, []

    def fails_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise ConnectionError("storage went away")
        return real_revoke(*args, **kwargs)

    services.sessions.endings.revoke = fails_once
    flagged = result(api, first["sessionId"], first["sessionToken"])
    assert flagged.json["subjectStatus"] == "flagged"  # the flag committed; its revocation did not
    assert result(api, second["sessionId"], second["sessionToken"]).error_code == "correlation_id_blocked"
    assert face_holds(face.endpoint, face.key, second["sessionId"])
    clock.advance(hours=1, minutes=5)
    counts = services.retention.run()
    assert counts.get("sessionsRevoked", 0) >= 2
    assert_dead(api, face, second)
    assert face_sessions_held(face.endpoint, guid) == []
