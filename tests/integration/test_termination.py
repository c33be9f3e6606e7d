"""Terminating a customer (docs/api.md and docs/abuse-policy.md): permanent, audited, every client call refused."""

from shared.adapters.subject_rows import subject_partition
from tests.integration.helpers import ADMIN, consented_subject, device_attempt, new_customer, new_session
from tests.support import ApiClient


def terminate(api: ApiClient, customer_id: str, body: dict | None = None):
    return api.post(f"/api/v1/manage/customers/{customer_id}/terminate", json=body, headers=ADMIN)


def test_a_terminated_customer_is_refused_on_every_client_route_and_cannot_come_back(api, services, face):
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    session = new_session(api, key, guid).json  # issued before the termination
    device_attempt(face.endpoint, session, "realface")

    done = terminate(api, customer_id, {"reason": "repeated abuse after warnings"})
    assert done.status == 200 and done.json["status"] == "terminated" and done.json["terminatedAt"]
    assert device_attempt(face.endpoint, session, "realface").status_code == 401  # revoked: gone at Face

    with_key = {"x-api-key": key}
    calls = [
        ("POST", "/api/v1/consents", {"correlationId": guid, "policyVersion": "v1"}, with_key),
        ("POST", "/api/v1/sessions", {"correlationId": guid}, with_key),
        ("DELETE", f"/api/v1/subjects/{guid}", None, with_key),
        ("POST", "/api/v1/feedback", {"category": "other", "message": "hello"}, with_key),
        (
            "GET",
            f"/api/v1/sessions/{session['sessionId']}/result",
            None,
            {"Authorization": f"Bearer {session['sessionToken']}"},
        ),
    ]
    for method, path, body, headers in calls:
        refused = api.request(method, path, json=body, headers=headers)
        expected = (401, "token_revoked") if "result" in path else (403, "customer_terminated")  # revoked with it
        assert (refused.status, refused.error_code) == expected, (method, path, refused.body)
    # nothing changed: the subject is still there (the erasure call was refused, not half-done)
    assert services.tables.client("subjects").get_entity(subject_partition(customer_id, guid), "subject")

    for path in ("reinstate", "keys", "terminate"):  # permanent: no way back, no new key
        again = api.post(f"/api/v1/manage/customers/{customer_id}/{path}", json={"reason": "r"}, headers=ADMIN)
        assert (again.status, again.error_code) == (409, "conflict"), path
    assert api.get(f"/api/v1/manage/customers/{customer_id}", headers=ADMIN).json["status"] == "terminated"


def test_termination_is_audited_with_its_reason_and_needs_one(api, services):
    customer_id, _ = new_customer(api)
    assert terminate(api, customer_id, {}).status == 400  # a termination says why
    assert terminate(api, customer_id, {"reason": "contract ended"}).status == 200
    entries = [e for e in services.tables.client("audit").list_entities() if e.get("action") == "customer.terminate"]
    assert len(entries) == 1 and entries[0]["reason"] == "contract ended" and entries[0]["actor"] == "admin-key"


def test_a_terminated_customer_stays_terminated_whatever_escalation_counts(api, services):
    from datetime import UTC, datetime

    from shared.domain.escalation import EscalationPolicy, escalate

    customer_id, _ = new_customer(api)
    terminate(api, customer_id, {"reason": "fraud"})
    customer = services.customers.get(customer_id).record
    result = escalate(customer, "subject:x", datetime.now(UTC), datetime.now(UTC), EscalationPolicy(suspend_after=1))
    assert not result.changed and result.customer.status.value == "terminated"


def test_an_unknown_customer_cannot_be_terminated(api):
    assert terminate(api, "f" * 32, {"reason": "r"}).status == 404
