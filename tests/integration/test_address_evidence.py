"""Face v1.3's clientInformation against the address expected for a session (docs/abuse-policy.md,
"Signals beyond the counts"): `ip_mismatch` evidence for the reviewer, counted per customer."""

from __future__ import annotations

import pytest

from tests.integration.helpers import ADMIN, consented_subject, device_attempt, new_session, result

pytestmark = pytest.mark.face_api_versions("v1.3-preview.1")
EXPECTED, ELSEWHERE = "203.0.113.7", "198.51.100.9"


def _attempted_from(api, face, key: str, client_ip: str) -> str:
    guid = consented_subject(api, key)
    session = new_session(api, key, guid, endUserIp=EXPECTED).json
    assert device_attempt(face.endpoint, session, "realface", clientIp=client_ip).status_code == 200
    assert result(api, session["sessionId"], session["sessionToken"]).status == 200
    return guid


def _attempt_details(api, customer_id: str, guid: str) -> list[str]:
    detail = api.get(f"/api/v1/review/subjects/{customer_id}/{guid}", headers=ADMIN)
    assert detail.status == 200, detail.body
    return [e.get("detail") or "" for e in detail.json["timeline"] if e["kind"] == "attempt"]


def test_an_attempt_from_elsewhere_is_evidence_for_the_reviewer_and_counted_per_customer(api, face, customer, key):
    customer_id = customer[0]
    guid = _attempted_from(api, face, key, ELSEWHERE)
    [detail] = _attempt_details(api, customer_id, guid)
    assert "ip_mismatch" in detail and ELSEWHERE not in detail and EXPECTED not in detail
    overview = api.get("/api/v1/review/overview", headers=ADMIN).json
    assert overview["ipMismatchesByCustomer"] == {customer_id: 1}
    assert new_session(api, key, guid).status == 201  # evidence only: no flag


def test_an_attempt_from_the_expected_address_is_no_evidence(api, face, customer, key):
    customer_id = customer[0]
    guid = _attempted_from(api, face, key, EXPECTED)
    assert all("ip_mismatch" not in d for d in _attempt_details(api, customer_id, guid))
    assert api.get("/api/v1/review/overview", headers=ADMIN).json["ipMismatchesByCustomer"] == {}
