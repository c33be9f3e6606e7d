"""Determinations (docs/abuse-policy.md): the customer's chance to explain or remediate, end to end over HTTP."""

import json
from datetime import datetime, timedelta

import pytest

from tests.integration.helpers import (
    ADMIN,
    consented_subject,
    deliver_notifications,
    flagged_subject,
    new_customer,
    new_session,
    queued_notifications,
    review_decision,
)


def confirm(api, customer_id, guid, severity=None):
    return review_decision(api, customer_id, guid, "confirm", "spoof attempts", severity)


def own(api, key, status=None):
    query = {"status": status} if status else None
    return api.get("/api/v1/determinations", headers={"x-api-key": key}, query=query).json["items"]


def respond(api, key, determination_id, text="we closed the account"):
    return api.post(
        f"/api/v1/determinations/{determination_id}/response",
        json={"explanation": "a fraud ring used one account", "remediation": text},
        headers={"x-api-key": key},
    )


def resolve(api, determination_id, outcome):
    return api.post(
        f"/api/v1/review/determinations/{determination_id}/resolution",
        json={"outcome": outcome, "reason": "reviewed the remediation"},
        headers=ADMIN,
    )


def customer_status(api, customer_id):
    return api.get(f"/api/v1/manage/customers/{customer_id}", headers=ADMIN).json["status"]


@pytest.fixture
def confirmed(api, services, face):
    """A standard confirmation, its message processed by the consumer."""
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    assert confirm(api, customer_id, guid).status == 200
    assert deliver_notifications(services) == ["sent"]
    return customer_id, key, guid


def test_a_standard_confirmation_opens_a_determination_the_customer_answers_and_a_reviewer_accepts(
    api, services, confirmed
):
    customer_id, key, guid = confirmed
    assert customer_status(api, customer_id) == "warned"
    [d] = own(api, key)
    assert (d["correlationId"], d["status"], d["severity"]) == (guid, "awaiting_response", "standard")
    determined = datetime.fromisoformat(d["determinedAt"])
    assert datetime.fromisoformat(d["respondBy"]) - determined == timedelta(days=14)

    answered = respond(api, key, d["determinationId"])
    assert (answered.status, answered.json["status"]) == (202, "response_received")
    again = respond(api, key, d["determinationId"])
    assert (again.status, again.error_code) == (409, "conflict")  # one pending response at a time

    waiting = api.get("/api/v1/review/determinations", headers=ADMIN).json["items"]
    assert [(w["determinationId"], w["customerId"]) for w in waiting] == [(d["determinationId"], customer_id)]
    assert waiting[0]["response"]["remediation"] == "we closed the account"

    accepted = resolve(api, d["determinationId"], "accepted")
    assert (accepted.status, accepted.json["status"]) == (200, "remediated")
    assert own(api, key, "remediated")[0]["resolution"]["outcome"] == "accepted"
    assert api.get("/api/v1/review/determinations", headers=ADMIN).json["items"] == []  # nothing waits now
    actions = [e["action"] for e in api.get("/api/v1/review/audit", headers=ADMIN).json["items"]]
    assert {"determination.respond", "determination.resolve"} <= set(actions)


def test_the_email_says_how_to_respond_and_by_when(api, services, face, sink):
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    confirm(api, customer_id, guid)
    deliver_notifications(services)
    [d] = own(api, key)
    text = sink.messages()[-1]["message"]["content"]["plainText"]
    assert f"POST /api/v1/determinations/{d['determinationId']}/response" in text
    assert datetime.fromisoformat(d["respondBy"]).strftime("%Y-%m-%d %H:%M") in text


def test_past_respond_by_the_sweep_expires_it_and_suspends_the_customer_once(api, services, clock, confirmed):
    customer_id, key, _ = confirmed
    clock.advance(days=15)
    counts = services.retention.run()
    assert counts["determinationsExpired"] == 1
    assert own(api, key)[0]["status"] == "expired"
    assert customer_status(api, customer_id) == "suspended"
    spare = consented_subject(api, key)
    assert new_session(api, key, spare).error_code == "customer_suspended"
    kinds = [m["kind"] for m in queued_notifications(services)]
    assert kinds == ["customer_suspended"]
    assert deliver_notifications(services) == ["sent"]
    clock.advance(hours=2)
    assert services.retention.run()["determinationsExpired"] == 0  # once
    assert deliver_notifications(services) == []


def test_a_rejected_response_may_be_sent_again_and_a_late_rejection_expires_it(api, services, clock, confirmed):
    customer_id, key, _ = confirmed
    [d] = own(api, key)
    respond(api, key, d["determinationId"])
    assert resolve(api, d["determinationId"], "rejected").json["status"] == "response_rejected"
    assert respond(api, key, d["determinationId"], "and retrained staff").status == 202
    clock.advance(days=15)  # the reviewer decides after respondBy
    assert resolve(api, d["determinationId"], "rejected").json["status"] == "expired"
    assert customer_status(api, customer_id) == "suspended"
    assert len(own(api, key)[0]["responses"]) == 2


def test_a_severe_confirmation_suspends_at_once(api, services, face):
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    spare = consented_subject(api, key)
    assert confirm(api, customer_id, guid, "severe").status == 200
    refused = new_session(api, key, spare)  # before any message is processed
    assert (refused.status, refused.error_code) == (403, "customer_suspended")
    [d] = own(api, key)
    assert (d["status"], d["severity"], d["respondBy"]) == ("closed", "severe", None)
    deliver_notifications(services)  # the consumer finds it done: one determination, no second count
    assert len(own(api, key)) == 1
    assert respond(api, key, d["determinationId"]).status == 409


def test_severity_goes_only_with_confirm(api, face):
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    refused = api.post(
        f"/api/v1/review/subjects/{customer_id}/{guid}/decision",
        json={"decision": "override", "reason": "glare", "guidelineId": "repeated-spoof", "severity": "severe"},
        headers=ADMIN,
    )
    assert refused.status == 400


def test_a_customer_sees_and_answers_only_its_own(api, confirmed):
    _, key, _ = confirmed
    _, other_key = new_customer(api, "Other")
    assert own(api, other_key) == []
    [d] = own(api, key)
    assert respond(api, other_key, d["determinationId"]).status == 404
    assert respond(api, key, "not-an-id").status == 404
    assert api.get("/api/v1/determinations", headers={"x-api-key": key}, query={"status": "bogus"}).status == 400


def test_a_closed_determination_goes_a_year_after_it_closed(api, services, clock, confirmed):
    _, key, _ = confirmed
    [d] = own(api, key)
    respond(api, key, d["determinationId"])
    resolve(api, d["determinationId"], "accepted")
    clock.advance(days=364)
    assert services.retention.run()["determinations"] == 0  # kept until its time
    assert len(own(api, key)) == 1
    clock.advance(days=2)
    assert services.retention.run()["determinations"] == 1
    assert own(api, key) == []
    assert api.get("/api/v1/review/determinations", headers=ADMIN, query={"status": "remediated"}).json["items"] == []


def test_a_response_waiting_for_a_reviewer_never_expires_the_determination(api, services, clock, confirmed):
    """The customer answered in time: a slow review must not suspend it."""
    customer_id, key, _ = confirmed
    [d] = own(api, key)
    respond(api, key, d["determinationId"])
    clock.advance(days=20)
    assert services.retention.run()["determinationsExpired"] == 0
    assert own(api, key)[0]["status"] == "response_received"
    assert customer_status(api, customer_id) == "warned"
    assert respond(api, key, d["determinationId"]).status == 409  # and no second answer meanwhile


def test_five_full_size_non_ascii_answers_are_all_taken_and_the_determination_stays_resolvable(api, services, face):
    """Each answer used to be appended to one 64 KiB property: the third full-size one was a 500."""
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    assert confirm(api, customer_id, guid).status == 200
    deliver_notifications(services)
    [determination] = own(api, key)
    the_id = determination["determinationId"]
    # the largest answer the 16 KiB body limit lets through: 2 x 4,000 two-byte characters (8,000 UTF-16 units)
    texts = [chr(0xE0 + n) * 4000 for n in range(5)]
    for n, text in enumerate(texts):
        answered = api.post(  # raw UTF-8, as a client that does not escape non-ASCII sends it
            f"/api/v1/determinations/{the_id}/response",
            body=json.dumps({"explanation": text, "remediation": text}, ensure_ascii=False).encode(),
            headers={"x-api-key": key, "content-type": "application/json"},
        )
        assert answered.status == 202, answered.body
        outcome = "accepted" if n == len(texts) - 1 else "rejected"
        assert resolve(api, the_id, outcome).status == 200
    [shown] = own(api, key)
    assert shown["status"] == "remediated"
    assert [r["explanation"] for r in shown["responses"]] == texts  # every answer kept, oldest first
    assert shown["response"]["explanation"] == texts[-1]
    listed = api.get("/api/v1/review/determinations", headers=ADMIN, query={"status": "remediated"}).json["items"]
    assert [r["remediation"] for r in listed[0]["responses"]] == texts
