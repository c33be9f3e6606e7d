"""The end user's appeal (docs/abuse-policy.md, "Humans in the loop"): a false_rejection naming a
blocked GUID, sent with the customer's api key, reopens it for review; without the key nothing is
linked."""

from __future__ import annotations

import pytest

from tests.integration.helpers import ADMIN, flagged_subject, new_customer, review_decision


@pytest.fixture
def blocked(api, face):
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    assert review_decision(api, customer_id, guid, "confirm", "spoof").status == 200
    return customer_id, key, guid


def _appeal(api, guid: str, key: str | None):
    headers = {"x-api-key": key} if key else {}
    body = {"category": "false_rejection", "message": "it was me", "correlationId": guid}
    return api.post("/api/v1/feedback", json=body, headers=headers)


def _pending(api) -> list[dict]:
    return api.get("/api/v1/review/flags", headers=ADMIN, query={"status": "pending"}).json["items"]


def test_an_appeal_with_the_api_key_reopens_the_blocked_subject_and_an_override_hands_out_a_new_guid(api, blocked):
    customer_id, key, guid = blocked
    sent = _appeal(api, guid, key)
    assert (sent.status, sent.json["appealOpened"]) == (202, True)
    [item] = [f for f in _pending(api) if f["correlationId"] == guid]
    assert (item["reason"], item["status"]) == ("appeal", "blocked")
    detail = api.get(f"/api/v1/review/subjects/{customer_id}/{guid}", headers=ADMIN).json
    assert [d["decision"] for d in detail["decisions"]] == ["confirm"]  # the original decision is shown
    overview = api.get("/api/v1/review/overview", headers=ADMIN).json
    assert overview["pending"] == 1  # counted against the SLA like any flag
    lifted = review_decision(api, customer_id, guid, "override", "the person, not a spoof")
    assert lifted.status == 200 and lifted.json["status"] == "retired" and lifted.json["newCorrelationId"]
    assert _appeal(api, guid, key).json["appealOpened"] is False  # retired now: nothing to appeal


def test_an_appeal_rejected_keeps_the_block_with_a_reason_the_customer_can_read(api, services, blocked):
    customer_id, key, guid = blocked
    assert _appeal(api, guid, key).json["appealOpened"] is True
    kept = review_decision(api, customer_id, guid, "confirm", "the same replayed video again")
    assert (kept.status, kept.json["status"]) == (200, "blocked")
    held = api.get(f"/api/v1/subjects/{guid}", headers={"x-api-key": key}).json
    assert [d["reason"] for d in held["decisions"]][-1] == "the same replayed video again"
    assert guid not in [f["correlationId"] for f in _pending(api)]
    subject = services.sessions.subjects.get(customer_id, guid).record
    first, second = subject.decisions
    assert first.notification_id and second.notification_id is None  # no second email, no second determination


def test_without_the_api_key_a_named_guid_is_never_linked(api, blocked):
    _, _, guid = blocked
    sent = _appeal(api, guid, None)
    assert (sent.status, sent.json["appealOpened"]) == (202, False)
    assert guid not in [f["correlationId"] for f in _pending(api)]


def test_another_customers_key_cannot_appeal_for_a_guid(api, blocked):
    _, _, guid = blocked
    _, other_key = new_customer(api, "Fabrikam")
    assert _appeal(api, guid, other_key).json["appealOpened"] is False
