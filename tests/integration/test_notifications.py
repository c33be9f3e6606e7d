"""Notification emails through the real ACS Email SDK against the local endpoint (README.md, Notifications)."""

import base64
import html
import json
import re
from datetime import UTC, datetime

import pytest
from azure.storage.queue import QueueClient

from shared.adapters.ledger import NotificationLedger
from shared.domain.notifications import abuse_confirmed, customer_suspended
from shared.services.notifier import NotificationNotSent
from tests.integration.helpers import consent, new_customer

GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def message(api):
    customer_id, _ = new_customer(api)
    now = datetime.now(UTC)
    note = abuse_confirmed(customer_id, GUID, now, now, "3 spoofface decisions within 24 hours")
    return note, note.model_dump_json(by_alias=True).encode()


def ledger(services, notification_id):
    return NotificationLedger(services.tables).get(notification_id).record


def test_the_same_message_delivered_three_times_sends_one_email(services, sink, message):
    note, body = message
    outcomes = [services.notifier().handle(body, f"m{i}", i + 1) for i in range(3)]
    assert outcomes == ["sent", "duplicate", "duplicate"]
    assert len(sink.messages()) == 1
    entry = ledger(services, note.notification_id)
    assert (entry.status, entry.deliveries, entry.send_attempts) == ("sent", 3, 1)
    assert sink.messages()[0]["operationId"] == note.notification_id


def test_throttled_twice_then_accepted_sends_one_email_and_the_ledger_shows_the_retries(services, sink, message):
    note, body = message
    sink.fail(429, 2, retry_after=1)
    assert services.notifier().handle(body, "m1", 1) == "sent"
    assert len(sink.messages()) == 1
    entry = ledger(services, note.notification_id)
    assert (entry.status, entry.send_attempts) == ("sent", 3)


def test_an_endpoint_that_always_fails_ends_failed_and_sends_nothing(configure, sink, api):
    services = configure(EMAIL_SEND_ATTEMPTS="2", NOTIFICATION_MAX_DEQUEUE_COUNT="3")
    customer_id, _ = new_customer(api)
    note = abuse_confirmed(customer_id, GUID, datetime.now(UTC), datetime.now(UTC), "spoof")
    body = note.model_dump_json(by_alias=True).encode()
    sink.fail(500, 100)
    for dequeue in (1, 2):
        with pytest.raises(NotificationNotSent):
            services.notifier().handle(body, "m", dequeue)
        assert ledger(services, note.notification_id).status == "retrying"
    with pytest.raises(NotificationNotSent):
        services.notifier().handle(body, "m", 3)
    entry = ledger(services, note.notification_id)
    assert entry.status == "failed" and entry.last_error.startswith("500") and entry.send_attempts == 6
    assert sink.messages() == []


def test_a_malformed_message_is_rejected_and_dead_lettered_once(services, sink):
    raw = b'{"schemaVersion": 1, "kind": "abuse_confirmed", "customerId": 7}'
    assert services.notifier().handle(raw, "bad-1", 1) == "rejected"
    assert services.notifier().handle(raw, "bad-1", 2) == "rejected"
    entry = ledger(services, "rejected-bad-1")
    assert entry.status == "rejected" and "notificationId" in entry.last_error
    poison = QueueClient.from_connection_string(
        services.settings.storage_connection_string, services.settings.notification_queue + "-poison"
    )
    assert [base64.b64decode(m.content) for m in poison.peek_messages(max_messages=5)] == [raw]
    assert sink.messages() == []


def _visible_text(markup: str) -> str:
    body = markup.split("<body", 1)[1].split(">", 1)[1]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def _words(text: str) -> list[str]:
    """The words a reader sees, ignoring list dashes and the colons a definition list drops."""
    return [w for w in re.findall(r"[^\s:]+", text) if w != "-"]


@pytest.mark.parametrize("kind", ["abuse_confirmed", "customer_suspended"])
def test_text_and_html_say_the_same_facts_and_name_no_one_but_the_guid(services, sink, api, kind):
    customer_id, key = new_customer(api, "Contoso <KYC> & Co")
    consent(api, key, GUID)  # the subject exists: an email names a GUID only while it does
    now = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
    note = (
        abuse_confirmed(customer_id, GUID, now, now, "3 spoofface decisions within 24 hours")
        if kind == "abuse_confirmed"
        else customer_suspended(customer_id, now, 5)
    )
    services.notifier().handle(note.model_dump_json(by_alias=True).encode(), "m", 1)
    [received] = sink.messages()
    content = received["message"]["content"]
    text, page = content["plainText"], _visible_text(content["html"])
    facts = ["2026-11-22 10:30", note.notification_id, "Contoso <KYC> & Co", "remediat"]
    facts += [GUID, "3 spoofface decisions"] if kind == "abuse_confirmed" else ["5 confirmed abuse determinations"]
    for fact in facts:
        assert fact in text and fact in page, fact
    assert _words(text) == _words(page)
    assert set(UUID.findall(text + content["html"])) <= {GUID, note.notification_id}
    assert received["message"]["recipients"]["to"] == [{"address": "ops@contoso.example"}]
    assert "<KYC>" not in content["html"]  # escaped, not markup
    assert json.dumps(received).count("@") == 2  # sender and the customer's contact, nobody else
