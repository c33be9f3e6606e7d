"""The abuse gate tried as an attacker and as a careless client would (issue 12, docs/abuse-policy.md).

Every test drives real Azurite and the Face emulator over HTTP; each tries one way around a rule
and shows that it fails.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.helpers import (
    ADMIN,
    audit_actions,
    consent,
    consented_subject,
    data_rows,
    device_attempt,
    erase,
    new_customer,
    new_session,
    result,
    rows_naming,
)


def attempts(face, session, decision, n, **extra):
    for _ in range(n):
        assert device_attempt(face.endpoint, session, decision, **extra).status_code == 200


def subject_row(services, customer_id, guid):
    return services.sessions.subjects.get(customer_id, guid).record


# --- attempts count when final ---------------------------------------------------------------


def test_an_attempt_polled_while_running_counts_once_when_it_finishes(api, services, face, customer):
    customer_id, key = customer
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json
    for n in range(1, 4):
        attempts(face, session, "spoofface", 1, completeAfterSeconds=0.4)
        running = result(api, session["sessionId"], session["sessionToken"]).json
        assert (running["status"], running["attempts"]) == ("Running", n)
        assert subject_row(services, customer_id, guid).attempts_total == n - 1  # not counted while running
        time.sleep(0.5)
        if n < 3:
            done = result(api, session["sessionId"], session["sessionToken"]).json
            assert (done["status"], done["livenessDecision"]) == ("Succeeded", "spoofface")
            assert subject_row(services, customer_id, guid).attempts_total == n  # counted exactly once
    # the third is never read by the client (its token's budget is spent): the session request reads it
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    subject = subject_row(services, customer_id, guid)
    assert (subject.attempts_total, len(subject.state.spoofs), subject.status) == (3, 3, "flagged")


def test_a_failed_attempt_is_recorded_but_is_not_a_failed_check(api, services, face, customer):
    customer_id, key = customer
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json
    attempts(face, session, None, 3, error={"code": "FaceWithMaskDetected", "message": "mask"})
    assert result(api, session["sessionId"], session["sessionToken"]).json["livenessDecision"] is None
    subject = subject_row(services, customer_id, guid)
    assert subject.attempts_total == 3 and subject.state.failures == ()


# --- results are pulled by the server --------------------------------------------------------


def test_a_client_that_never_reads_results_is_still_flagged(api, face, key):
    guid = consented_subject(api, key)
    attempts(face, new_session(api, key, guid).json, "spoofface", 3)
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"


def test_a_client_that_never_reads_results_is_still_timed_out(api, face, key):
    guid = consented_subject(api, key)
    attempts(face, new_session(api, key, guid).json, "uncertain", 3)
    second = new_session(api, key, guid)
    assert second.status == 201  # 3 failed checks: not yet the limit of 5
    attempts(face, second.json, "uncertain", 2)
    refused = new_session(api, key, guid)
    assert (refused.status, refused.error_code) == (429, "retry_limited")
    assert 1700 < int(refused.headers["Retry-After"]) <= 1800


def test_reading_a_result_after_its_token_expired_does_not_hide_it(api, face, key, clock):
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json
    attempts(face, session, "spoofface", 3)
    clock.advance(seconds=601)
    assert result(api, session["sessionId"], session["sessionToken"]).error_code == "token_expired"
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"


def spoofs_left_unread_past_retention(api, face, key, clock) -> str:
    """A GUID with 3 spoofface attempts nobody read, its session past expiry + grace."""
    guid = consented_subject(api, key)
    attempts(face, new_session(api, key, guid).json, "spoofface", 3)
    clock.advance(seconds=600 + 3600 + 60)
    return guid


def test_the_sweep_counts_a_sessions_last_attempts_before_deleting_it(api, services, face, customer, clock):
    customer_id, key = customer
    guid = spoofs_left_unread_past_retention(api, face, key, clock)
    counts = services.retention.run()
    assert counts["sessions"] == 1
    subject = subject_row(services, customer_id, guid)
    assert (subject.attempts_total, subject.status) == (3, "flagged")
    assert [
        r["RowKey"] for r in services.sessions.subjects.partition(customer_id, guid) if "session_" in r["RowKey"]
    ] == []
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"


def test_the_sweep_keeps_a_session_face_cannot_read_now_and_settles_it_later(api, services, face, customer, clock):
    customer_id, key = customer
    guid = spoofs_left_unread_past_retention(api, face, key, clock)
    requests.post(f"{face.endpoint}/emulator/faults", json={"status": 503, "count": 50}, timeout=5)
    try:
        assert services.retention.run()["sessions"] == 0
    finally:
        requests.delete(f"{face.endpoint}/emulator/faults", timeout=5)
    clock.advance(hours=1)  # the check that could not settle it is filed for the next hourly run
    assert services.retention.run()["sessions"] == 1
    assert subject_row(services, customer_id, guid).status == "flagged"


def test_more_open_sessions_than_one_request_may_read_fail_closed(configure, router, face, clock):
    from tests.support import ApiClient

    configure(FACE_PULL_LIMIT="1", POLICY_OPEN_SESSIONS="2")  # two open sessions, one read per request
    api = ApiClient(router)
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    first = new_session(api, key, guid).json
    clock.advance(seconds=1)  # oldest first: the pull limit reads `first` and leaves `second` unread
    second = new_session(api, key, guid).json
    attempts(face, second, "spoofface", 3)  # in the session the pull limit leaves unread
    refused = new_session(api, key, guid)
    assert (refused.status, refused.error_code) == (429, "retry_limited")
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    clock.advance(seconds=601)  # the first settles once read after its expiry; the second is still unread
    assert new_session(api, key, guid).error_code == "retry_limited"
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"  # the second, read at last
    assert first["sessionId"] != second["sessionId"]


# --- the gate survives erasure -------------------------------------------------------------


def decide(api, customer_id, subject_id, decision):
    return api.post(
        f"/api/v1/review/subjects/{customer_id}/{subject_id}/decision",
        json={"decision": decision, "reason": "reviewed", "guidelineId": "repeated-spoof"},
        headers=ADMIN,
    )


def flagged(api, face, key):
    guid = consented_subject(api, key)
    attempts(face, new_session(api, key, guid).json, "spoofface", 3)
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    return guid


@pytest.mark.parametrize("outcome", ["flagged", "blocked", "retired"])
def test_erasing_and_consenting_again_does_not_reopen_a_gated_guid(api, services, face, customer, outcome):
    customer_id, key = customer
    guid = flagged(api, face, key)
    if outcome != "flagged":
        assert decide(api, customer_id, guid, "confirm" if outcome == "blocked" else "override").status == 200
    assert erase(api, key, guid).status == 204
    assert rows_naming(services, guid) == []
    consent(api, key, guid)
    for _ in range(2):
        refused = new_session(api, key, guid)
        assert (refused.status, refused.error_code) == (403, "correlation_id_blocked")
    assert erase(api, key, guid).status == 204  # erasing again keeps the gate, and still no GUID anywhere
    consent(api, key, guid)
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    # only the live, re-consented subject: its row, and the name row its retention checks resolve through
    named = rows_naming(services, guid)
    assert [row for row in named if row[0] == "subjects"] == [("subjects", f"{customer_id}_{guid}", "subject")]
    assert [(table, pk.split("-")[0]) for table, pk, _ in named if table != "subjects"] == [("expiry", "names")]


def test_a_timed_out_guid_stays_timed_out_through_erasure_with_a_shrinking_retry_after(api, services, face, key, clock):
    guid = consented_subject(api, key)
    attempts(face, new_session(api, key, guid).json, "uncertain", 3)
    attempts(face, new_session(api, key, guid).json, "uncertain", 2)
    assert new_session(api, key, guid).error_code == "retry_limited"
    assert erase(api, key, guid).status == 204
    assert rows_naming(services, guid) == []
    consent(api, key, guid)
    first = int(new_session(api, key, guid).headers["Retry-After"])
    clock.advance(minutes=10)
    later = new_session(api, key, guid)
    assert later.error_code == "retry_limited" and int(later.headers["Retry-After"]) <= first - 600
    clock.advance(minutes=21)  # the timeout is over: the GUID starts afresh
    assert new_session(api, key, guid).status == 201


def test_a_reviewer_still_decides_an_erased_flagged_subject(api, services, face, customer):
    customer_id, key = customer
    guid = flagged(api, face, key)
    assert erase(api, key, guid).status == 204
    pending = api.get("/api/v1/review/flags", query={"status": "pending"}, headers=ADMIN).json["items"]
    (item,) = [i for i in pending if i["customerId"] == customer_id]
    assert item["correlationId"].startswith("erased-") and guid not in str(pending)
    detail = api.get(f"/api/v1/review/subjects/{customer_id}/{item['correlationId']}", headers=ADMIN)
    assert detail.status == 200 and detail.json["status"] == "flagged"
    decided = decide(api, customer_id, item["correlationId"], "confirm")
    assert decided.status == 200 and decided.json["status"] == "blocked"
    consent(api, key, guid)
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    assert {"subject.erase", "subject.confirm"} <= set(audit_actions(api, customer_id, guid))


def test_override_of_an_erased_flagged_subject_retires_it_without_a_successor(api, face, customer):
    customer_id, key = customer
    guid = flagged(api, face, key)
    assert erase(api, key, guid).status == 204
    gate_id = next(
        i["correlationId"]
        for i in api.get("/api/v1/review/flags", query={"status": "pending"}, headers=ADMIN).json["items"]
        if i["customerId"] == customer_id
    )
    decided = decide(api, customer_id, gate_id, "override")
    assert (decided.status, decided.json["status"], decided.json.get("newCorrelationId")) == (200, "retired", None)


def test_after_the_gate_period_the_guid_starts_afresh(api, services, face, customer, clock):
    customer_id, key = customer
    guid = flagged(api, face, key)
    assert decide(api, customer_id, guid, "confirm").status == 200
    assert erase(api, key, guid).status == 204
    consent(api, key, guid)
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    clock.advance(days=181)
    assert new_session(api, key, guid).status == 201  # the gate's time is over, even before a sweep
    services.retention.run()
    consent(api, key, guid)  # the sweep removed the idle subject too
    assert new_session(api, key, guid).status == 201
    gate_id = "erased-" + services.review.ref(customer_id, guid).removeprefix("subject:")
    assert rows_naming(services, gate_id) == []


# --- one person rotating GUIDs: the per end-user IP rule -----------------------------------------


def test_rotating_guids_from_one_ip_is_caught_without_reading_a_result(api, face, key):
    for _ in range(7):  # 21 failed checks, 3 per GUID: no GUID reaches its own limit of 5
        guid = consented_subject(api, key)
        attempts(face, new_session(api, key, guid, endUserIp="198.51.100.7").json, "uncertain", 3)
    eighth = consented_subject(api, key)
    refused = new_session(api, key, eighth, endUserIp="198.51.100.7")
    assert (refused.status, refused.error_code) == (429, "retry_limited")
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert new_session(api, key, eighth, endUserIp="198.51.100.8").status == 201
    assert new_session(api, key, eighth).status == 201  # without an address only the subject rules apply


def test_parallel_requests_from_a_hot_ip_never_get_past_the_limit(api, face, key):
    hot = "2001:db8:1:2::17"
    for _ in range(7):
        guid = consented_subject(api, key)
        attempts(face, new_session(api, key, guid, endUserIp=hot).json, "spoofface" if _ % 2 else "uncertain", 3)
    fresh = [consented_subject(api, key) for _ in range(10)]
    same_slash_64 = "2001:db8:1:2:ffff::1"  # IPv6 counts by its /64
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda g: new_session(api, key, g, endUserIp=same_slash_64), fresh))
    assert [(a.status, a.error_code) for a in answers] == [(429, "retry_limited")] * 10


def test_ip_failures_are_counted_once_however_many_paths_see_them(api, face, key):
    ip = "192.0.2.44"
    sessions = []
    for _ in range(6):
        guid = consented_subject(api, key)
        session = new_session(api, key, guid, endUserIp=ip).json
        attempts(face, session, "uncertain", 3)
        sessions.append((guid, session))
    for guid, session in sessions:  # the client reads every result, twice, and asks again per GUID
        for _ in range(2):
            assert result(api, session["sessionId"], session["sessionToken"]).status == 200
        assert new_session(api, key, guid, endUserIp=ip).status == 201
    # 18 failed checks seen by three paths each: still under the limit of 20
    assert new_session(api, key, consented_subject(api, key), endUserIp=ip).status == 201


def test_an_invalid_end_user_ip_is_a_400_and_changes_nothing(api, services, key):
    guid = consented_subject(api, key)
    before = data_rows(services, ("customers", "subjects", "ratelimits"))
    for bad in ("999.1.1.1", "not-an-ip", "", "1.2.3.4/24"):
        refused = new_session(api, key, guid, endUserIp=bad)
        assert (refused.status, refused.error_code) == (400, "invalid_request"), bad
        assert "endUserIp" in refused.json["error"]["message"]
    assert data_rows(services, ("customers", "subjects", "ratelimits")) == before


def test_no_row_holds_the_end_user_ip(api, services, key):
    guid = consented_subject(api, key)
    assert new_session(api, key, guid, endUserIp="203.0.113.250").status == 201
    assert rows_naming(services, "203.0.113.250") == []


# --- Face faults charge nothing ------------------------------------------------------------------


@pytest.mark.parametrize("fault", [{"status": 429, "retryAfter": 7}, {"status": 503}])
def test_face_throttled_or_down_answers_503_and_charges_nothing(api, services, face, key, fault):
    guid = consented_subject(api, key)
    before = data_rows(services, ("customers", "subjects", "ratelimits"))
    requests.post(f"{face.endpoint}/emulator/faults", json={**fault, "count": 20}, timeout=5)
    try:
        refused = new_session(api, key, guid, endUserIp="198.51.100.99")
    finally:
        requests.delete(f"{face.endpoint}/emulator/faults", timeout=5)
    assert (refused.status, refused.error_code) == (503, "upstream_unavailable")
    if fault["status"] == 429:
        assert refused.headers["Retry-After"] == "7"
    assert data_rows(services, ("customers", "subjects", "ratelimits")) == before
    assert new_session(api, key, guid, endUserIp="198.51.100.99").status == 201


def test_random_guids_are_consent_required_not_an_escape(api, key):
    assert new_session(api, key, str(uuid.uuid4()), endUserIp="198.51.100.1").error_code == "consent_required"


def test_parallel_session_requests_read_unread_spoofs_once_and_none_gets_through(api, services, face, customer):
    customer_id, key = customer
    guid = consented_subject(api, key)
    attempts(face, new_session(api, key, guid).json, "spoofface", 3)  # never read by the client
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: new_session(api, key, guid), range(10)))
    assert [(a.status, a.error_code) for a in answers] == [(403, "correlation_id_blocked")] * 10
    subject = subject_row(services, customer_id, guid)
    assert (subject.attempts_total, len(subject.state.spoofs), subject.sessions_total) == (3, 3, 1)


def test_face_down_while_reading_unread_results_refuses_and_writes_nothing(api, services, face, key):
    guid = consented_subject(api, key)
    attempts(face, new_session(api, key, guid, endUserIp="198.51.100.60").json, "spoofface", 3)
    before = data_rows(services, ("customers", "subjects", "ratelimits"))
    requests.post(f"{face.endpoint}/emulator/faults", json={"status": 503, "count": 20}, timeout=5)
    try:
        refused = new_session(api, key, guid, endUserIp="198.51.100.60")
    finally:
        requests.delete(f"{face.endpoint}/emulator/faults", timeout=5)
    assert (refused.status, refused.error_code) == (503, "upstream_unavailable")  # never a session while unread
    assert data_rows(services, ("customers", "subjects", "ratelimits")) == before
    assert new_session(api, key, guid, endUserIp="198.51.100.60").error_code == "correlation_id_blocked"


def test_a_settled_session_stops_being_read_for_its_ip(api, services, face, customer, clock):
    from shared.domain.ip_policy import ip_ref

    customer_id, key = customer
    guid = consented_subject(api, key)
    first = new_session(api, key, guid, endUserIp="192.0.2.70").json
    attempts(face, first, "realface", 1)
    ref = ip_ref(services.settings.keyring(), customer_id, "192.0.2.70")
    assert [s.session_id for s in services.sessions.ip_counters.get(ref).open_sessions] == [first["sessionId"]]
    clock.advance(seconds=601)  # expired with nothing running: the next read settles it
    second = new_session(api, key, guid, endUserIp="192.0.2.70").json
    assert [s.session_id for s in services.sessions.ip_counters.get(ref).open_sessions] == [second["sessionId"]]
