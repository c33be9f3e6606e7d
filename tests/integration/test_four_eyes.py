"""Four eyes on severe confirmations, with App Service Authentication on and two different people
(docs/abuse-policy.md, "Humans in the loop")."""

from __future__ import annotations

import pytest

from tests.integration.helpers import ADMIN, flagged_subject, new_customer, new_session
from tests.integration.test_claims import ANA, BEN, person
from tests.support import ApiClient


@pytest.fixture
def flagged(configure, router, face):
    configure(EASY_AUTH_ENABLED="true")  # REVIEW_FOUR_EYES unset: on, because people sign in
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    return api, customer_id, key, flagged_subject(api, face.endpoint, key)


def _severe(api, customer_id: str, guid: str, who: dict):
    body = {"decision": "confirm", "reason": "replayed video", "guidelineId": "repeated-spoof", "severity": "severe"}
    return api.post(f"/api/v1/review/subjects/{customer_id}/{guid}/decision", json=body, headers=who)


def _customer_status(api, customer_id: str) -> str:
    return api.get(f"/api/v1/manage/customers/{customer_id}", headers=ADMIN).json["status"]


def test_a_severe_confirmation_waits_for_a_second_person_then_applies_naming_both(flagged):
    api, customer_id, key, guid = flagged
    asked = _severe(api, customer_id, guid, ANA)
    assert asked.status == 202, asked.body
    assert (asked.json["requestedBy"], asked.json["requestedById"]) == ("ana@contoso.example", "oid-ana")
    detail = api.get(f"/api/v1/review/subjects/{customer_id}/{guid}", headers=BEN).json
    assert detail["status"] == "flagged" and _customer_status(api, customer_id) == "active"
    assert detail["secondReview"]["requestedBy"] == "ana@contoso.example"  # the subject view names who asked
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    [queued] = api.get("/api/v1/review/second-reviews", headers=BEN).json["items"]
    assert queued["reviewId"] == asked.json["reviewId"]
    assert api.get("/api/v1/review/overview", headers=ADMIN).json["pending"] == 1  # it counts toward the SLA

    own = api.post(
        f"/api/v1/review/second-reviews/{queued['reviewId']}", json={"agree": True, "reason": "ok"}, headers=ANA
    )
    assert (own.status, own.error_code) == (403, "four_eyes")
    agreed = api.post(
        f"/api/v1/review/second-reviews/{queued['reviewId']}", json={"agree": True, "reason": "yes"}, headers=BEN
    )
    assert (agreed.status, agreed.json["status"]) == (200, "blocked"), agreed.body
    assert _customer_status(api, customer_id) == "suspended"
    entries = api.get("/api/v1/review/audit", headers=ADMIN).json["items"]
    [confirm] = [e for e in entries if e["action"] == "subject.confirm"]
    assert confirm["actor"] == "user:ana@contoso.example"
    assert (confirm["secondReviewer"], confirm["secondReviewerId"], confirm["deciderId"]) == (
        "ben@contoso.example",
        "oid-ben",
        "oid-ana",
    )
    assert api.get("/api/v1/review/second-reviews", headers=BEN).json["items"] == []


def test_a_disagreement_goes_to_an_administrator(flagged):
    api, customer_id, _, guid = flagged
    review_id = _severe(api, customer_id, guid, ANA).json["reviewId"]
    no = api.post(f"/api/v1/review/second-reviews/{review_id}", json={"agree": False, "reason": "glare"}, headers=BEN)
    assert (no.status, no.json["status"]) == (200, "flagged")
    [queued] = api.get("/api/v1/review/second-reviews", headers=BEN).json["items"]
    assert queued["disagreedBy"] == "ben@contoso.example"
    carol = person("carol@contoso.example", "oid-carol")
    body = {"decision": "override", "reason": "r", "guidelineId": "insufficient-evidence"}
    refused = api.post(f"/api/v1/review/subjects/{customer_id}/{guid}/decision", json=body, headers=carol)
    assert (refused.status, refused.error_code) == (403, "forbidden")
    admin = person("dana@contoso.example", "oid-dana", "Administrator")
    settled = _severe(api, customer_id, guid, admin)
    assert (settled.status, settled.json["status"]) == (200, "blocked")
    assert _customer_status(api, customer_id) == "suspended"


def test_while_one_waits_another_reviewer_cannot_decide_around_it(flagged):
    api, customer_id, _, guid = flagged
    assert _severe(api, customer_id, guid, ANA).status == 202
    body = {"decision": "override", "reason": "r", "guidelineId": "insufficient-evidence"}
    other = api.post(f"/api/v1/review/subjects/{customer_id}/{guid}/decision", json=body, headers=BEN)
    assert (other.status, other.error_code) == (409, "conflict")
    assert _severe(api, customer_id, guid, BEN).error_code == "conflict"


def test_without_sign_in_the_administrator_key_confirms_severely_at_once(configure, router, face):
    configure(EASY_AUTH_ENABLED="false")
    api = ApiClient(router)
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    done = _severe(api, customer_id, guid, ADMIN)
    assert (done.status, done.json["status"]) == (200, "blocked")
