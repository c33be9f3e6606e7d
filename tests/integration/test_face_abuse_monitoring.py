"""Face v1.3-preview.1 abuse monitoring (docs/abuse-policy.md; README.md, Face emulator): the service's own
verdict flags a subject.

The emulator stands in for the service's face matching: one `faceId` shown under three GUIDs of a
customer flags the third attempt, naming the earlier two sessions in `otherFlaggedSessions`.
"""

import uuid

import pytest

from tests.integration.helpers import (
    ADMIN,
    consented_subject,
    device_attempt,
    face_received,
    new_customer,
    new_session,
    result,
)

pytestmark = pytest.mark.face_api_versions("v1.3-preview.1")


def _attempt_under_new_guid(api, face, key: str, face_id: str, decision: str = "realface") -> tuple[str, dict]:
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json
    assert device_attempt(face.endpoint, session, decision, faceId=face_id).status_code == 200
    return guid, session


def _detail(api, customer_id: str, guid: str) -> dict:
    response = api.get(f"/api/v1/review/subjects/{customer_id}/{guid}", headers=ADMIN)
    assert response.status == 200, response.body
    return response.json


def _set_monitoring(api, enabled: bool) -> None:
    body = {"livenessAbuseMonitoring": {"enabled": enabled}, "reason": "abuse monitoring test"}
    response = api.patch("/api/v1/manage/face-settings", json=body, headers=ADMIN)
    assert response.status == 200, response.body
    assert response.json["livenessAbuseMonitoring"] == {"enabled": enabled}


def test_one_face_under_three_guids_flags_the_third_even_if_nobody_reads_its_result(api, face, customer, key):
    customer_id = customer[0]
    face_id = f"face-{uuid.uuid4()}"
    first, _ = _attempt_under_new_guid(api, face, key, face_id)
    second, _ = _attempt_under_new_guid(api, face, key, face_id)
    third, session = _attempt_under_new_guid(api, face, key, face_id)  # realface, but the same face again

    # The client never calls /result: the next session request pulls the attempt and refuses.
    refused = new_session(api, key, third)
    assert refused.status == 403 and refused.json["error"]["code"] == "correlation_id_blocked", refused.body

    detail = _detail(api, customer_id, third)
    assert detail["status"] == "flagged" and detail["reason"] == "face_abuse_detected"
    [evidence] = detail["faceEvidence"]
    assert evidence["sessionId"] == session["sessionId"] and evidence["attemptId"] == 1
    assert sorted(evidence["sameFaceCorrelationIds"]) == sorted([first, second])
    assert evidence["otherFlaggedSessionsUnlinked"] == 0
    assert next(e for e in detail["timeline"] if e["kind"] == "attempt")["detail"].endswith("flagged it")
    for earlier in (first, second):  # the earlier GUIDs were not flagged by their own attempts
        assert _detail(api, customer_id, earlier)["status"] == "active"
    listed = api.get("/api/v1/review/flags", headers=ADMIN, query={"status": "pending"}).json["items"]
    assert third in [item["correlationId"] for item in listed]


def test_the_verdict_flags_through_the_result_call_too_and_never_names_another_customers_guids(api, face, key):
    face_id = f"face-{uuid.uuid4()}"
    _, other_key = new_customer(api, "Fabrikam")  # a second customer shows the same face first
    foreign = [_attempt_under_new_guid(api, face, other_key, face_id)[0] for _ in range(2)]
    guid, session = _attempt_under_new_guid(api, face, key, face_id)
    read = result(api, session["sessionId"], session["sessionToken"])
    assert read.status == 200, read.body

    customer_id = session["sessionToken"].split(".")[1]
    detail = _detail(api, customer_id, guid)
    assert detail["status"] == "flagged" and detail["reason"] == "face_abuse_detected"
    [evidence] = detail["faceEvidence"]
    assert evidence["sameFaceCorrelationIds"] == [] and evidence["otherFlaggedSessionsUnlinked"] == 2
    assert not any(g in str(detail) for g in foreign)


def test_with_abuse_monitoring_off_the_same_pattern_flags_nothing_and_the_change_is_audited(api, face, customer, key):
    customer_id = customer[0]
    assert api.get("/api/v1/health").json["faceAbuseMonitoring"] == "on"
    _set_monitoring(api, False)
    try:
        assert api.get("/api/v1/manage/face-settings", headers=ADMIN).json == {
            "apiVersion": "v1.3-preview.1",
            "livenessAbuseMonitoring": {"enabled": False},
        }
        assert api.get("/api/v1/health").json["faceAbuseMonitoring"] == "off"
        face_id = f"face-{uuid.uuid4()}"
        guids = [_attempt_under_new_guid(api, face, key, face_id)[0] for _ in range(3)]
        assert new_session(api, key, guids[2]).status == 201
        assert all(_detail(api, customer_id, g)["status"] == "active" for g in guids)
    finally:
        _set_monitoring(api, True)
    entries = api.get("/api/v1/review/audit", headers=ADMIN, query={"pageSize": "200"}).json["items"]
    changes = [e for e in entries if e["action"] == "face.settings.update"]
    assert sorted((c["enabledBefore"], c["enabledAfter"], c["actor"]) for c in changes) == [
        (False, True, "admin-key"),
        (True, False, "admin-key"),
    ]
    assert all(c["reason"] == "abuse monitoring test" for c in changes)


def test_end_user_ip_reaches_face_as_the_expected_client_ip_and_the_guid_as_user_correlation_id(api, face, key):
    guid = consented_subject(api, key)
    session = new_session(api, key, guid, endUserIp="198.51.100.23").json
    received = face_received(face.endpoint, session["sessionId"])
    assert received["apiVersion"] == "v1.3-preview.1"
    assert received["received"]["expectedClientIpAddress"] == "198.51.100.23"
    assert received["received"]["userCorrelationId"] == guid
    assert received["received"]["numberOfClientAttemptsAllowed"] == 3  # FACE_CLIENT_ATTEMPTS of the test settings


def test_face_settings_need_an_administrator(api):
    assert api.get("/api/v1/manage/face-settings").status == 401
    body = {"livenessAbuseMonitoring": {"enabled": "no"}}
    bad = api.patch("/api/v1/manage/face-settings", json=body, headers=ADMIN)
    assert bad.status == 400 and bad.json["error"]["code"] == "invalid_request"


@pytest.mark.face_api_versions("v1.2")
def test_on_v12_face_settings_are_a_clear_409_and_health_says_which_version_is_spoken(api):
    for response in (
        api.get("/api/v1/manage/face-settings", headers=ADMIN),
        api.patch("/api/v1/manage/face-settings", json={"livenessAbuseMonitoring": {"enabled": False}}, headers=ADMIN),
    ):
        assert response.status == 409 and response.json["error"]["code"] == "face_version_unsupported", response.body
    health = api.get("/api/v1/health").json
    assert health["faceApiVersion"] == "v1.2" and health.get("faceAbuseMonitoring") is None
