"""Reviewer guidelines (docs/api.md): every decision names one, and the log and history keep it."""

import json

from tests.integration.helpers import ADMIN, flagged_subject, new_customer
from tests.support import ApiClient


def decide(api, customer_id, guid, **body):
    return api.post(
        f"/api/v1/review/subjects/{customer_id}/{guid}/decision",
        json={"decision": "override", "reason": "glare"} | body,
        headers=ADMIN,
    )


def test_the_shipped_guidelines_are_listed_each_with_its_rule(api):
    listed = api.get("/api/v1/review/guidelines", headers=ADMIN).json
    assert {"repeated-spoof", "insufficient-evidence"} <= {g["id"] for g in listed}
    assert all(g["title"] and len(g["text"]) > 40 for g in listed)


def test_a_decision_without_a_guideline_or_with_an_unknown_one_changes_nothing(api, face):
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    missing = decide(api, customer_id, guid)
    unknown = decide(api, customer_id, guid, guidelineId="made-up")
    assert (missing.status, unknown.status) == (400, 400)
    assert "guidelineId" in unknown.json["error"]["message"]
    subject = api.get(f"/api/v1/review/subjects/{customer_id}/{guid}", headers=ADMIN).json
    assert subject["status"] == "flagged" and subject["decisions"] == []


def test_the_audit_entry_and_the_subjects_history_name_the_guideline(api, face):
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    assert decide(api, customer_id, guid, guidelineId="insufficient-evidence").status == 200
    subject = api.get(f"/api/v1/review/subjects/{customer_id}/{guid}", headers=ADMIN).json
    assert subject["decisions"][0]["guidelineId"] == "insufficient-evidence"
    entries = api.get("/api/v1/review/audit", headers=ADMIN).json["items"]
    [entry] = [e for e in entries if e["action"] == "subject.override"]
    assert entry["guideline"] == "insufficient-evidence"


def test_the_operator_replaces_the_guidelines_with_its_own(configure, router, face):
    own = [{"id": "house-rule", "title": "House rule", "text": "Confirm only with two spoofs on two days."}]
    configure(REVIEW_GUIDELINES_JSON=json.dumps(own))
    api = ApiClient(router)
    assert [g["id"] for g in api.get("/api/v1/review/guidelines", headers=ADMIN).json] == ["house-rule"]
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    assert decide(api, customer_id, guid, guidelineId="repeated-spoof").status == 400  # a default, not theirs now
    assert decide(api, customer_id, guid, guidelineId="house-rule").status == 200
