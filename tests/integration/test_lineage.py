"""Face v1.3's cross-GUID face matching against the subject's own lineage (docs/abuse-policy.md,
"Signals beyond the counts"): the same person through two resets is no abuse; the same face under an
unrelated GUID still is."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.helpers import ADMIN, consented_subject, device_attempt, new_session, result

pytestmark = pytest.mark.face_api_versions("v1.3-preview.1")


def _attempt(api, face, key: str, guid: str, face_id: str) -> dict:
    session = new_session(api, key, guid).json
    assert device_attempt(face.endpoint, session, "realface", faceId=face_id).status_code == 200
    return session


def _reset(api, customer_id: str, guid: str) -> str:
    answer = api.post(f"/api/v1/review/subjects/{customer_id}/{guid}/reset", json={"reason": "new id"}, headers=ADMIN)
    assert answer.status == 200, answer.body
    return answer.json["newCorrelationId"]


def _detail(api, customer_id: str, guid: str) -> dict:
    return api.get(f"/api/v1/review/subjects/{customer_id}/{guid}", headers=ADMIN).json


def test_one_face_through_two_resets_is_kept_as_lineage_evidence_and_not_flagged(api, face, customer, key):
    customer_id, face_id = customer[0], f"face-{uuid.uuid4()}"
    first = consented_subject(api, key)
    result(api, **_ids(_attempt(api, face, key, first, face_id)))
    second = _reset(api, customer_id, first)
    result(api, **_ids(_attempt(api, face, key, second, face_id)))
    third = _reset(api, customer_id, second)
    session = _attempt(api, face, key, third, face_id)  # Face names the sessions of `first` and `second`
    answer = result(api, **_ids(session))
    assert (answer.status, answer.json["subjectStatus"], answer.json["livenessDecision"]) == (200, "active", "realface")
    detail = _detail(api, customer_id, third)
    assert detail["status"] == "active"
    [evidence] = detail["faceEvidence"]
    assert evidence["lineageMatch"] is True and sorted(evidence["sameFaceCorrelationIds"]) == sorted([first, second])
    assert new_session(api, key, third).status == 201


def test_the_same_face_under_an_unrelated_guid_flags_as_before(api, face, customer, key):
    customer_id, face_id = customer[0], f"face-{uuid.uuid4()}"
    first = consented_subject(api, key)
    result(api, **_ids(_attempt(api, face, key, first, face_id)))
    second = _reset(api, customer_id, first)
    result(api, **_ids(_attempt(api, face, key, second, face_id)))
    unrelated = consented_subject(api, key)
    answer = result(api, **_ids(_attempt(api, face, key, unrelated, face_id)))
    assert answer.json["subjectStatus"] == "flagged"
    detail = _detail(api, customer_id, unrelated)
    assert detail["reason"] == "face_abuse_detected" and detail["faceEvidence"][0]["lineageMatch"] is False


def _ids(session: dict) -> dict:
    return {"session_id": session["sessionId"], "token": session["sessionToken"]}
