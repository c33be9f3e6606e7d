"""The device's digest of an attempt against Face's (docs/abuse-policy.md, "Signals beyond the
counts"), on both Face API versions: a mismatch is not trusted, a match or no digest changes nothing."""

from __future__ import annotations

import pytest

from devtools.face_wire import digest
from tests.integration.helpers import ADMIN, consented_subject, device_attempt, new_customer, new_session


def _result(api, session: dict, sent: str | None):
    headers = {"Authorization": f"Bearer {session['sessionToken']}"}
    if sent is not None:
        headers["x-liveness-digest"] = sent
    return api.get(f"/api/v1/sessions/{session['sessionId']}/result", headers=headers)


@pytest.fixture
def attempted(api, face):
    """A session whose device made one realface attempt: (customerId, apiKey, GUID, session)."""
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json
    assert device_attempt(face.endpoint, session, "realface").status_code == 200
    return customer_id, key, guid, session


def test_a_digest_that_differs_from_faces_flags_at_once_and_answers_no_realface(api, attempted):
    _, key, guid, session = attempted
    answer = _result(api, session, "0" * 64)
    assert answer.status == 200, answer.body
    assert (answer.json["livenessDecision"], answer.json["subjectStatus"]) == (None, "flagged")
    assert new_session(api, key, guid).error_code == "correlation_id_blocked"
    flags = api.get("/api/v1/review/flags", headers=ADMIN).json["items"]
    assert [f["reason"] for f in flags if f["correlationId"] == guid] == ["digest_mismatch"]


def test_the_digest_face_computed_changes_nothing(api, attempted):
    _, key, guid, session = attempted
    answer = _result(api, session, digest(session["sessionId"], 1, "realface"))
    assert (answer.json["livenessDecision"], answer.json["subjectStatus"]) == ("realface", "active")
    assert new_session(api, key, guid).status == 201


def test_no_digest_changes_nothing(api, attempted):
    session = attempted[3]
    answer = _result(api, session, None)
    assert (answer.json["livenessDecision"], answer.json["subjectStatus"]) == ("realface", "active")


def test_a_wrong_digest_on_a_later_call_is_caught_after_face_forgot_the_session(api, attempted):
    """The first read of a final result deletes the session at Face; its digest stays on the row."""
    session = attempted[3]
    assert _result(api, session, None).json["livenessDecision"] == "realface"
    later = _result(api, session, "f" * 64)
    assert (later.status, later.json["subjectStatus"]) == (200, "flagged")


def test_a_malformed_digest_header_is_a_400_that_spends_nothing(api, attempted):
    _, _, _, session = attempted
    answer = _result(api, session, "x" * 300)
    assert (answer.status, answer.error_code) == (400, "invalid_request")
    assert _result(api, session, None).json["livenessDecision"] == "realface"
