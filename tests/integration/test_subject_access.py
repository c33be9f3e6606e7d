"""Subject access (docs/api.md, GET /subjects/{correlationId}): everything held, only to its owner."""

import json

from tests.integration.helpers import (
    ADMIN,
    checked_attempt,
    consented_subject,
    flagged_subject,
    new_customer,
    new_session,
)


def read(api, key, guid):
    return api.get(f"/api/v1/subjects/{guid}", headers={"x-api-key": key})


def test_the_owner_gets_consent_sessions_attempt_decisions_and_decisions(api, face):
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)  # sessions, spoof attempts, a flag
    api.post(
        f"/api/v1/review/subjects/{customer_id}/{guid}/decision",
        json={"decision": "override", "reason": "glare on the camera", "guidelineId": "repeated-spoof"},
        headers=ADMIN,
    )
    held = read(api, key, guid)
    assert held.status == 200
    body = held.json
    assert body["correlationId"] == guid and body["status"] == "retired"
    assert body["consent"]["policyVersion"] == "2026-01" and body["consent"]["grantedAt"]
    assert body["sessions"] and all(s["sessionId"] and s["expiresAt"] for s in body["sessions"])
    decisions = [a["livenessDecision"] for a in body["attemptDecisions"]]
    assert decisions and set(decisions) == {"spoofface"}
    assert body["attemptsTotal"] == len(decisions)
    assert [(d["decision"], d["reason"], d["decidedBy"]) for d in body["decisions"]] == [
        ("override", "glare on the camera", "administrator key")
    ]
    assert body["replacedBy"] == body["decisions"][0]["newCorrelationId"]  # the fresh GUID it was given


def test_nothing_secret_is_in_it(api, face):
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    session = new_session(api, key, guid, endUserIp="203.0.113.7").json
    checked_attempt(api, face.endpoint, session, "realface")
    text = json.dumps(read(api, key, guid).json)
    for secret in (session["sessionToken"], session["faceAuthToken"], key, "203.0.113.7"):
        assert secret not in text
    for field in ("tokenHash", "sealedFaceToken", "ipRef", "apiKeyHash", 'by"'):
        assert field not in text


def test_another_customers_guid_and_an_unknown_one_are_404(api):
    _, owner_key = new_customer(api, "Owner")
    _, other_key = new_customer(api, "Other")
    guid = consented_subject(api, owner_key)
    assert (read(api, other_key, guid).status, read(api, other_key, guid).error_code) == (404, "not_found")
    assert read(api, owner_key, "0f8fad5b-d9cb-469f-a165-70867728950e").status == 404
    assert read(api, owner_key, "not-a-guid").status == 400
    assert read(api, "lgk.bad", guid).status == 401


def test_after_erasure_nothing_is_held_under_the_guid(api):
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    assert api.delete(f"/api/v1/subjects/{guid}", headers={"x-api-key": key}).status == 204
    assert read(api, key, guid).status == 404


def test_the_privacy_notice_names_access_beside_erasure(api):
    notice = api.get("/api/v1/privacy").json["yourChoices"]
    assert "GET /api/v1/subjects/{correlationId}" in notice["access"]
    page = api.get("/api/v1/privacy", headers={"Accept": "text/html"}).body.decode()
    assert page.index("<h3>Access</h3>") < page.index("<h3>Erasure</h3>")
