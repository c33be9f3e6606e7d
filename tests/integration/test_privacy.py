"""Erasure, the privacy notice and the feedback channel."""

import pytest

from tests.integration.helpers import (
    ADMIN,
    audit_actions,
    checked_attempt,
    consent,
    consented_subject,
    erase,
    flagged_subject,
    new_customer,
    new_session,
    rows_naming,
)

# --- erasure ------------------------------------------------------------------------------


def test_erasure_leaves_no_row_holding_the_guid(api, services, face):
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json
    checked_attempt(api, face.endpoint, session, "uncertain")
    api.post(
        "/api/v1/feedback",
        json={"category": "false_rejection", "message": "I am real", "correlationId": guid},
        headers={"x-api-key": key},
    )
    reset = api.post(
        f"/api/v1/review/subjects/{customer_id}/{guid}/reset", json={"reason": "customer asked"}, headers=ADMIN
    )
    successor = reset.json["newCorrelationId"]
    assert rows_naming(services, guid)
    assert erase(api, key, guid).status == 204
    assert rows_naming(services, guid) == []
    assert api.get(f"/api/v1/review/subjects/{customer_id}/{successor}", headers=ADMIN).json["replaces"] is None
    # the GUID now behaves as unknown; erasing again is harmless
    assert new_session(api, key, guid).error_code == "consent_required"
    assert erase(api, key, guid).status == 204


def test_erasing_a_blocked_subject_keeps_only_a_pseudonymous_gate(api, services, face):
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    api.post(
        f"/api/v1/review/subjects/{customer_id}/{guid}/decision",
        json={"decision": "confirm", "reason": "spoof", "guidelineId": "repeated-spoof"},
        headers=ADMIN,
    )
    assert erase(api, key, guid).status == 204
    assert rows_naming(services, guid) == []
    gate_id = "erased-" + services.review.ref(customer_id, guid).removeprefix("subject:")
    gate = services.tables.client("subjects").get_entity(f"{customer_id}_{gate_id}", "subject")
    assert gate["status"] == "blocked" and gate["consent_policy_version"] == "withdrawn"
    assert '"sessions":[]' in gate["state"] and "consent_purpose" not in gate
    consent(api, key, guid)
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    assert sorted(audit_actions(api, customer_id, guid)) == ["subject.confirm", "subject.erase"]
    entries = api.get(
        "/api/v1/review/audit", headers=ADMIN, query={"customerId": customer_id, "correlationId": guid}
    ).json["items"]
    erased = next(e for e in entries if e["action"] == "subject.erase")
    assert (erased["gateKept"], erased["gateStatus"]) == (True, "blocked")


def test_a_customer_erases_only_its_own_subjects(api, services):
    _, owner_key = new_customer(api, "Owner")
    _, other_key = new_customer(api, "Other")
    guid = consented_subject(api, owner_key)
    assert erase(api, other_key, guid).status == 204  # the other customer's (unknown) subject of that GUID
    assert new_session(api, owner_key, guid).status == 201
    assert erase(api, "", guid).status == 401
    assert erase(api, owner_key, "not-a-guid").error_code == "invalid_request"


# --- privacy notice -----------------------------------------------------------------------


def test_privacy_notice_is_built_from_the_live_retention_settings(configure, router):
    from tests.support import ApiClient

    configure(RETENTION_ATTEMPT_SECONDS="172800", RETENTION_FEEDBACK_SECONDS="7776000")
    notice = ApiClient(router).get("/api/v1/privacy")
    assert notice.status == 200
    data = notice.json
    assert data["retentionSeconds"]["attemptDecisions"] == 172800
    kept = {item["data"]: item["keptFor"] for item in data["stored"]}
    assert kept["Liveness decisions (realface, spoofface or uncertain) per attempt"].startswith("48 hours")
    assert kept["Feedback you send"] == "90 days"
    assert "never stores face images" in data["summary"]
    assert "DELETE /api/v1/subjects/{correlationId}" in data["yourChoices"]["erasure"]


def test_privacy_notice_as_an_accessible_page(api):
    page = api.get("/api/v1/privacy", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    text = page.body.decode()
    assert '<html lang="en">' in text and "<h1>" in text and "<caption>" in text and 'scope="col"' in text
    assert "72 hours" in text and "<script" not in text


# --- feedback -----------------------------------------------------------------------------


def test_anonymous_feedback_is_accepted_and_reviewers_can_read_it(api):
    response = api.post(
        "/api/v1/feedback",
        json={"category": "accessibility", "message": "The prompt is too fast", "contact": "me@example.org"},
    )
    assert response.status == 202 and response.json["feedbackId"]
    items = api.get("/api/v1/review/feedback", headers=ADMIN).json["items"]
    assert [(i["category"], i["message"], i["contact"]) for i in items] == [
        ("accessibility", "The prompt is too fast", "me@example.org")
    ]
    assert api.get("/api/v1/review/feedback").status == 401


def test_feedback_with_an_api_key_records_the_customer(api):
    customer_id, key = new_customer(api)
    api.post("/api/v1/feedback", json={"category": "other", "message": "hello"}, headers={"x-api-key": key})
    [item] = api.get("/api/v1/review/feedback", headers=ADMIN).json["items"]
    assert item["customerId"] == customer_id
    assert (
        api.post("/api/v1/feedback", json={"category": "other", "message": "x"}, headers={"x-api-key": "forged"}).status
        == 401
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"category": "complaint", "message": "x"}, 400),
        ({"category": "other", "message": ""}, 400),
        ({"category": "other", "message": "x" * 2001}, 400),
        ({"category": "other", "message": "x", "correlationId": "nope"}, 400),
        ({"category": "other", "message": "x", "extra": 1}, 400),
        ({"category": "other", "message": "x" * 1500, "contact": "y" * 7000}, 413),
    ],
)
def test_bad_feedback_is_refused_and_stores_nothing(api, services, body, status):
    assert api.post("/api/v1/feedback", json=body).status == status
    assert list(services.tables.client("feedback").list_entities()) == []


def test_feedback_is_rate_limited_per_client_address(api, clock):
    one, other = {"x-forwarded-for": "198.51.100.7:5123"}, {"x-forwarded-for": "203.0.113.9:4000"}
    for _ in range(5):
        assert api.post("/api/v1/feedback", json={"category": "other", "message": "m"}, headers=one).status == 202
    limited = api.post("/api/v1/feedback", json={"category": "other", "message": "m"}, headers=one)
    assert (limited.status, limited.error_code) == (429, "rate_limited")
    assert 0 < int(limited.headers["Retry-After"]) <= 600
    assert api.post("/api/v1/feedback", json={"category": "other", "message": "m"}, headers=other).status == 202
    clock.advance(seconds=601)
    assert api.post("/api/v1/feedback", json={"category": "other", "message": "m"}, headers=one).status == 202


def test_rate_limit_rows_never_hold_the_address(api, services):
    api.post(
        "/api/v1/feedback", json={"category": "other", "message": "m"}, headers={"x-forwarded-for": "198.51.100.7"}
    )
    assert rows_naming(services, "198.51.100.7") == []
