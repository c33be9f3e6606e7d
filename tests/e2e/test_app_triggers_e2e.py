"""The real app's queue and timer functions on the local host: emails, poison, the retention sweep."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
import requests
from azure.data.tables import TableClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devtools.run import LocalStack, flag_subject
from shared.domain.notifications import abuse_confirmed


def wait_for(predicate, timeout=45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    logs = tmp_path_factory.mktemp("stack")
    stack = LocalStack.isolated(
        logs,
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout="00:00:01",
        AzureFunctionsJobHost__extensions__queues__maxPollingInterval="00:00:01",
        EMAIL_SEND_ATTEMPTS="1",
        EMAIL_POLL_INTERVAL_SECONDS="0.05",
        RETENTION_SCHEDULE="*/2 * * * * *",
    ).start()
    yield stack
    stack.stop()


def sink(stack, path="/messages", method="GET", **kw):
    return requests.request(method, f"{stack.email.url}{path}", verify=str(stack.email.ca_file), timeout=10, **kw)


def test_confirming_a_flag_over_http_emails_the_customer_once(stack):
    api, admin = f"{stack.base_url}/v1", stack.admin_headers
    customer = stack.create_customer("E2E", "e2e@contoso.example")
    guid = "7d444840-9dc0-11d1-b245-5ffdce74fad2"
    flag_subject(stack, customer["apiKey"], guid)
    decided = requests.post(
        f"{api}/review/subjects/{customer['customerId']}/{guid}/decision",
        json={"decision": "confirm", "reason": "printed photo", "guidelineId": "repeated-spoof"},
        headers=admin,
        timeout=10,
    )
    assert decided.status_code == 200
    [mail] = wait_for(lambda: [m for m in sink(stack).json() if guid in m["message"]["content"]["subject"]])
    assert mail["message"]["recipients"]["to"] == [{"address": "e2e@contoso.example"}]
    time.sleep(2)
    assert len([m for m in sink(stack).json() if guid in m["message"]["content"]["subject"]]) == 1


def test_an_email_endpoint_that_always_fails_poisons_the_message_and_the_ledger_says_failed(stack):
    customer = stack.create_customer("Dead", "d@contoso.example")
    sink(stack, "/_sink/faults", "POST", json={"status": 500, "count": 1000})
    try:
        before = len(sink(stack).json())
        now = datetime.now(UTC)
        note = abuse_confirmed(customer["customerId"], "11111111-2222-3333-4444-555555555555", now, now, "spoof")
        connection = stack.azurite.connection_string
        QueueClient.from_connection_string(
            connection, "abuse-notifications", message_encode_policy=TextBase64EncodePolicy()
        ).send_message(note.model_dump_json(by_alias=True))
        poison = QueueClient.from_connection_string(connection, "abuse-notifications-poison")
        moved = wait_for(lambda: list(poison.peek_messages(max_messages=10)), timeout=60)
        assert json.loads(base64.b64decode(moved[0].content))["notificationId"] == note.notification_id
        entry = TableClient.from_connection_string(connection, "lgnotifications").get_entity(
            note.notification_id, "ledger"
        )
        assert entry["status"] == "failed" and entry["deliveries"] == 5 and entry["last_error"].startswith("500")
        assert len(sink(stack).json()) == before
    finally:
        sink(stack, "/_sink/faults", "POST", json={"count": 0})


def test_the_retention_timer_runs_on_its_schedule_and_audits_its_counts(stack):
    admin = stack.admin_headers

    def sweeps():
        entries = requests.get(f"{stack.base_url}/v1/review/audit", headers=admin, timeout=10).json()["items"]
        return [e for e in entries if e["action"] == "retention.sweep"]

    runs = wait_for(lambda: len(sweeps()) >= 2 and sweeps())
    assert {"sessions", "attempts", "audit", "feedback"} <= set(runs[0])
