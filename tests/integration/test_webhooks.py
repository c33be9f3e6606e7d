"""Webhooks (docs/api.md, Webhooks): registration with SSRF protection, signed at-least-once delivery."""

import json

from standardwebhooks.webhooks import Webhook

from shared.adapters.ledger import NotificationLedger
from tests.integration.helpers import (
    ADMIN,
    deliver_notifications,
    drain,
    flagged_subject,
    reinstate_suspended,
    review_decision,
)
from tests.integration.helpers import (
    webhook_queue as queue,
)


def test_registration_shows_the_secret_once_rotates_it_and_refuses_unsafe_urls(hooked):
    _, api, receiver, _, key, secret = hooked
    assert secret.startswith("whsec_")
    shown = api.get("/api/v1/webhook", headers={"x-api-key": key}).json
    assert shown == {"url": receiver.url, "events": shown["events"]} and "secret" not in shown
    rotated = api.put("/api/v1/webhook", json={"url": receiver.url}, headers={"x-api-key": key}).json["secret"]
    assert rotated != secret
    for url in ("https://10.0.0.1/", "https://169.254.169.254/", "http://example.com/", "https://user:pw@x.test/"):
        refused = api.put("/api/v1/webhook", json={"url": url}, headers={"x-api-key": key})
        assert (refused.status, refused.error_code) == (400, "invalid_request"), url
    assert api.delete("/api/v1/webhook", headers={"x-api-key": key}).status == 204
    assert api.get("/api/v1/webhook", headers={"x-api-key": key}).status == 404


def test_determination_created_then_resolved_each_signed_with_the_secret(hooked, face):
    services, api, receiver, customer_id, key, secret = hooked
    guid = flagged_subject(api, face.endpoint, key)
    review_decision(api, customer_id, guid, "confirm", "spoof")
    deliver_notifications(services)
    drain(services)
    [determination] = api.get("/api/v1/determinations", headers={"x-api-key": key}).json["items"]
    the_id = determination["determinationId"]
    api.post(
        f"/api/v1/determinations/{the_id}/response",
        json={"explanation": "a ring", "remediation": "closed it"},
        headers={"x-api-key": key},
    )
    api.post(
        f"/api/v1/review/determinations/{the_id}/resolution",
        json={"outcome": "accepted", "reason": "fine"},
        headers=ADMIN,
    )
    drain(services)
    for headers, body in receiver.received:  # every delivery verifies with the secret from PUT /webhook
        Webhook(secret).verify(body, headers)
    types = [e["type"] for e in receiver.events()]
    assert types.index("determination.created") < types.index("determination.resolved")
    assert "customer.warned" in types
    resolved = next(e for e in receiver.events() if e["type"] == "determination.resolved")
    assert resolved["data"] == resolved["data"] | {"determinationId": the_id, "status": "remediated"}
    assert key not in json.dumps(receiver.events())


def test_500_twice_then_200_is_three_deliveries_of_one_event(hooked):
    services, api, receiver, customer_id, _, _ = hooked
    receiver.statuses = [500, 500]
    reinstate_suspended(services, api, customer_id)
    assert drain(services) == ["retrying", "retrying", "delivered"]
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert len(receiver.received) == 3 and len(ids) == 1  # the receiver drops the repeats by webhook-id
    entry = NotificationLedger(services.tables).get(ids.pop()).record
    assert (entry.status, entry.send_attempts) == ("sent", 3)


def test_an_endpoint_that_never_accepts_ends_failed_after_the_retry_period(hooked, clock):
    services, api, receiver, customer_id, _, _ = hooked
    receiver.statuses = [503] * 50
    reinstate_suspended(services, api, customer_id)
    outcomes = drain(services, rounds=6, between=lambda: clock.advance(hours=6))
    assert outcomes[-1] == "failed" and set(outcomes[:-1]) == {"retrying"}
    event_id = receiver.received[0][0]["webhook-id"]
    assert NotificationLedger(services.tables).get(event_id).record.status == "failed"
    poisoned = list(queue(services, "-poison").peek_messages(max_messages=5))
    assert [json.loads(m.content)["eventId"] for m in poisoned] == [event_id]
    assert drain(services) == []  # nothing left to retry


def test_a_suspension_by_expiry_sends_its_webhook_and_email_once(hooked, face, clock, sink):
    services, api, receiver, customer_id, key, _ = hooked
    guid = flagged_subject(api, face.endpoint, key)
    review_decision(api, customer_id, guid, "confirm", "spoof")
    deliver_notifications(services)
    drain(services)
    clock.advance(days=15)
    services.retention.run()
    clock.advance(hours=2)
    services.retention.run()  # a second sweep finds nothing more to send
    deliver_notifications(services)
    drain(services)
    suspended = [e for e in receiver.events() if e["type"] == "customer.suspended"]
    assert len(suspended) == 1
    subjects = [m["message"]["content"]["subject"] for m in sink.messages()]
    assert sum("suspended" in s for s in subjects) == 1


def test_a_termination_is_announced(hooked):
    services, api, receiver, customer_id, _, _ = hooked
    api.post(f"/api/v1/manage/customers/{customer_id}/terminate", json={"reason": "fraud"}, headers=ADMIN)
    drain(services)
    assert [e["type"] for e in receiver.events()] == ["customer.terminated"]


def test_a_flag_then_an_override_are_announced_and_a_confirmation_blocks(hooked, face):
    services, api, receiver, customer_id, key, _ = hooked
    first = flagged_subject(api, face.endpoint, key)
    review_decision(api, customer_id, first, "override", "glare")
    second = flagged_subject(api, face.endpoint, key)
    review_decision(api, customer_id, second, "confirm", "spoof")
    deliver_notifications(services)
    drain(services)
    seen = [(e["type"], e["data"]["correlationId"]) for e in receiver.events() if e["type"].startswith("subject.")]
    assert seen == [
        ("subject.flagged", first),
        ("subject.retired", first),
        ("subject.flagged", second),
        ("subject.blocked", second),
    ]
    retired = next(e for e in receiver.events() if e["type"] == "subject.retired")
    assert retired["data"]["newCorrelationId"]


def test_a_url_that_turned_unsafe_after_registration_is_never_called(hooked):
    """The check runs again before each delivery (DNS may have changed): here the endpoint is
    loopback, allowed at registration but not any more at delivery."""
    import dataclasses

    services, api, receiver, customer_id, _, _ = hooked
    strict = dataclasses.replace(services.webhooks, allow_loopback=False, retry_for=services.webhooks.retry_for * 0)
    reinstate_suspended(services, api, customer_id)
    [message] = queue(services).receive_messages(max_messages=1)
    assert strict.deliver(message.content) == "failed"
    assert receiver.received == []
    event_id = json.loads(message.content)["eventId"]
    entry = NotificationLedger(services.tables).get(event_id).record
    assert entry.status == "failed" and "unsafe URL" in entry.last_error
