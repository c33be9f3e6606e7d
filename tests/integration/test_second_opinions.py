"""Blind second opinions and calibration, with App Service Authentication on (docs/api.md)."""

from __future__ import annotations

import pytest

from tests.integration.helpers import flagged_subject, new_customer
from tests.integration.test_claims import ANA, BEN, person
from tests.support import ApiClient

DANA = person("dana@contoso.example", "oid-dana", "Administrator")


@pytest.fixture
def api(configure, router):
    configure(EASY_AUTH_ENABLED="true", REVIEW_SECOND_OPINION_RATE="1")  # every decision is asked
    return ApiClient(router)


def _decide(api, customer_id: str, guid: str, decision: str, who: dict) -> None:
    body = {"decision": decision, "reason": "as seen", "guidelineId": "repeated-spoof"}
    answer = api.post(f"/api/v1/review/subjects/{customer_id}/{guid}/decision", json=body, headers=who)
    assert answer.status == 200, answer.body


def test_a_second_opinion_is_blind_from_another_reviewer_and_changes_nothing(api, face):
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    _decide(api, customer_id, guid, "confirm", ANA)
    assert api.get("/api/v1/review/second-opinions", headers=ANA).json["items"] == []  # not on her own
    [item] = api.get("/api/v1/review/second-opinions", headers=BEN).json["items"]
    assert item["correlationId"] == guid and "decision" not in item
    path = f"/api/v1/review/second-opinions/{item['opinionId']}"
    assert api.get(path, headers=ANA).error_code == "four_eyes"
    blind = api.get(path, headers=BEN).json
    assert blind["status"] == "flagged" and blind["decisions"] == []  # evidence only
    given = {"decision": "override", "guidelineId": "insufficient-evidence", "reason": "glare"}
    assert api.post(path, json=given, headers=BEN).status == 204
    subject = api.get(f"/api/v1/review/subjects/{customer_id}/{guid}", headers=BEN).json
    assert subject["status"] == "blocked"  # the first decision stands
    assert api.get("/api/v1/review/second-opinions", headers=BEN).json["items"] == []


def test_calibration_reports_agreement_and_kappa_and_shows_disagreements_to_administrators(api, face):
    customer_id, key = new_customer(api)
    guids = [flagged_subject(api, face.endpoint, key) for _ in range(3)]
    for guid, decision in zip(guids, ("confirm", "override", "confirm"), strict=True):
        _decide(api, customer_id, guid, decision, ANA)
    opinions = {
        i["correlationId"]: i["opinionId"] for i in api.get("/api/v1/review/second-opinions", headers=BEN).json["items"]
    }
    for guid, second in zip(guids, ("confirm", "override", "override"), strict=True):
        given = {"decision": second, "guidelineId": "repeated-spoof", "reason": "r"}
        assert api.post(f"/api/v1/review/second-opinions/{opinions[guid]}", json=given, headers=BEN).status == 204
    seen = api.get("/api/v1/review/calibration", headers=BEN, query={"days": "30"}).json
    # pairs (c,c), (o,o), (c,o): observed 2/3; chance (2*1 + 1*2)/9 = 4/9; kappa (2/3 - 4/9) / (5/9) = 0.4
    assert (seen["overall"]["pairs"], seen["overall"]["agreement"], seen["overall"]["kappa"]) == (3, 0.6667, 0.4)
    assert [(g["key"], g["pairs"]) for g in seen["byGuideline"]] == [("repeated-spoof", 3)]
    assert {r["key"]: r["pairs"] for r in seen["byReviewer"]} == {"ana@contoso.example": 3, "ben@contoso.example": 3}
    assert seen["disagreements"] is None
    admin = api.get("/api/v1/review/calibration", headers=DANA, query={"days": "30"}).json
    [disagreed] = admin["disagreements"]
    assert (disagreed["first"], disagreed["second"], disagreed["subject"].startswith("subject:")) == (
        "confirm",
        "override",
        True,
    )
