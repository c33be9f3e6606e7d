"""Steps of the client story, shared by the integration tests."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64DecodePolicy

from shared.adapters.tables import Versioned
from shared.unit_of_work import CustomerChange
from tests.conftest import ADMIN_KEY
from tests.support import ApiClient, Response

ADMIN = {"x-admin-key": ADMIN_KEY}


def new_customer(api: ApiClient, name: str = "Contoso KYC") -> tuple[str, str]:
    """Register a customer; returns (customerId, apiKey)."""
    response = api.post(
        "/api/v1/manage/customers", json={"name": name, "contactEmail": "ops@contoso.example"}, headers=ADMIN
    )
    assert response.status == 201, response.body
    return response.json["customerId"], response.json["apiKey"]


def consent(api: ApiClient, api_key: str, guid: str) -> None:
    """Record (or record again) consent for a GUID."""
    response = api.post(
        "/api/v1/consents", json={"correlationId": guid, "policyVersion": "2026-01"}, headers={"x-api-key": api_key}
    )
    assert response.status == 201, response.body


def consented_subject(api: ApiClient, api_key: str) -> str:
    """A new GUID with consent recorded."""
    guid = str(uuid.uuid4())
    consent(api, api_key, guid)
    return guid


def audit_actions(api: ApiClient, customer_id: str, guid: str) -> list[str]:
    """The actions the audit log holds for one subject (found by its pseudonym)."""
    entries = api.get(
        "/api/v1/review/audit",
        headers=ADMIN,
        query={"customerId": customer_id, "correlationId": guid, "pageSize": "200"},
    ).json["items"]
    return [e["action"] for e in entries]


def new_session(api: ApiClient, api_key: str, guid: str, **extra: str) -> Response:
    return api.post("/api/v1/sessions", json={"correlationId": guid, **extra}, headers={"x-api-key": api_key})


def result(api: ApiClient, session_id: str, token: str) -> Response:
    return api.get(f"/api/v1/sessions/{session_id}/result", headers={"Authorization": f"Bearer {token}"})


def device_attempt(face_endpoint: str, session: dict, decision: str | None, **extra: object) -> requests.Response:
    """What the device SDK does: submit an attempt to Face with the session's auth token.

    `extra` is passed on (`completeAfterSeconds`, `error`, `clientIp`: README.md, Face emulator)."""
    body = ({"livenessDecision": decision} if decision else {}) | extra
    return requests.post(
        f"{face_endpoint}/face/v1.2/detectLiveness-sessions/{session['sessionId']}/attempts",
        json=body,
        headers={"Authorization": f"Bearer {session['faceAuthToken']}"},
        timeout=5,
    )


def checked_attempt(api: ApiClient, face_endpoint: str, session: dict, decision: str) -> Response:
    """An attempt on the device, then the app server fetching the result."""
    assert device_attempt(face_endpoint, session, decision).status_code == 200
    response = result(api, session["sessionId"], session["sessionToken"])
    assert response.status == 200, response.body
    return response


def flagged_subject(api: ApiClient, face_endpoint: str, api_key: str) -> str:
    """A consented GUID driven into the spoofface flagging rule (3 spoofface decisions)."""
    guid = consented_subject(api, api_key)
    session = new_session(api, api_key, guid).json
    for _ in range(3):
        checked_attempt(api, face_endpoint, session, "spoofface")
    return guid


def queued_notifications(services) -> list[dict]:
    """Every message now on the notification queue, decoded."""
    import base64
    import json

    from azure.storage.queue import QueueClient

    client = QueueClient.from_connection_string(
        services.settings.storage_connection_string, services.settings.notification_queue
    )
    return [json.loads(base64.b64decode(m.content)) for m in client.peek_messages(max_messages=32)]


def data_rows(services, tables: tuple[str, ...] = ("customers", "subjects")) -> list[dict]:
    """Every row of the given tables, sorted (to show that a refused request changed nothing)."""
    out: list[dict] = []
    for table in tables:
        rows = (dict(e) for e in services.tables.client(table).list_entities())
        out += sorted(rows, key=lambda e: (e["PartitionKey"], e["RowKey"]))
    return out


def rows_naming(services, text: str) -> list[tuple[str, str, str]]:
    """Every row, in every table the app uses, that contains `text` anywhere (keys or values)."""
    import json

    from shared.adapters.tables import TABLES

    found = []
    for table in TABLES:
        for row in services.tables.client(table).list_entities():
            if text in json.dumps(dict(row), default=str) or text in row["PartitionKey"] + row["RowKey"]:
                found.append((table, row["PartitionKey"], row["RowKey"]))
    return found


def erase(api: ApiClient, key: str, guid: str) -> Response:
    return api.delete(f"/api/v1/subjects/{guid}", headers={"x-api-key": key})


def face_holds(face_endpoint: str, face_key: str, session_id: str) -> bool:
    """Whether the Face service (the emulator) still holds a session: GET answers 200, not 404."""
    response = requests.get(
        f"{face_endpoint}/face/v1.2/detectLiveness-sessions/{session_id}",
        headers={"Ocp-Apim-Subscription-Key": face_key},
        timeout=5,
    )
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


def face_received(face_endpoint: str, session_id: str) -> dict:
    """What the emulator received when the session was created (its test-control view)."""
    response = requests.get(f"{face_endpoint}/emulator/sessions/{session_id}", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def face_faults(face_endpoint: str, status: int = 0, count: int = 0, method: str | None = None) -> None:
    """Make the next `count` Face calls (of `method` only, when given) answer `status`; with no
    arguments, clear the faults."""
    if count:
        body = {"status": status, "count": count} | ({"method": method} if method else {})
        response = requests.post(f"{face_endpoint}/emulator/faults", json=body, timeout=5)
    else:
        response = requests.delete(f"{face_endpoint}/emulator/faults", timeout=5)
    assert response.status_code == 200, response.text


def deliver_notifications(services) -> list[str]:
    """Run the queue consumer over every message now queued (as the queue trigger would), until the
    queue is empty; returns the outcomes."""
    import base64

    from azure.storage.queue import QueueClient

    client = QueueClient.from_connection_string(
        services.settings.storage_connection_string, services.settings.notification_queue
    )
    outcomes = []
    while messages := list(client.receive_messages(max_messages=32, visibility_timeout=30)):
        for m in messages:
            outcomes.append(services.notifier().handle(base64.b64decode(m.content), m.id, m.dequeue_count))
            client.delete_message(m)
    return outcomes


def review_decision(
    api: ApiClient, customer_id: str, guid: str, decision: str, reason: str = "reviewed", severity: str | None = None
) -> Response:
    """A reviewer's decision on a flagged subject (the admin key)."""
    body = {"decision": decision, "reason": reason, "guidelineId": "repeated-spoof"} | (
        {"severity": severity} if severity else {}
    )
    return api.post(f"/api/v1/review/subjects/{customer_id}/{guid}/decision", json=body, headers=ADMIN)


def face_sessions_held(face_endpoint: str, guid: str) -> list[str]:
    """The sessions the Face service (the emulator) still holds for a GUID: what a device could use."""
    response = requests.get(f"{face_endpoint}/emulator/held", params={"deviceCorrelationId": guid}, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["sessions"]


def queued_naming(services, text: str) -> list[str]:
    """Every message on the notification and webhook queues (and their poison queues) containing `text`."""
    import base64

    from azure.storage.queue import QueueClient

    found = []
    for name in (services.settings.notification_queue, services.settings.webhook_queue):
        for queue_name in (name, name + "-poison"):
            client = QueueClient.from_connection_string(services.settings.storage_connection_string, queue_name)
            try:
                peeked = client.peek_messages(max_messages=32)
            except ResourceNotFoundError:  # a poison queue nobody created yet holds nothing
                peeked = []
            found += [queue_name for m in peeked if text in base64.b64decode(m.content).decode(errors="replace")]
    return found


class Receiver:
    """A customer's endpoint on 127.0.0.1: answers with the scripted statuses (then 200), records all."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]


def webhook_queue(services, suffix: str = "") -> QueueClient:
    return QueueClient.from_connection_string(
        services.settings.storage_connection_string,
        services.settings.webhook_queue + suffix,
        message_decode_policy=TextBase64DecodePolicy(),
    )


def drain(services, rounds: int = 10, between=None) -> list[str]:
    """Run the webhook consumer over the queue until it is empty (retries included)."""
    outcomes: list[str] = []
    client = webhook_queue(services)
    for _ in range(rounds):
        messages = list(client.receive_messages(max_messages=32, visibility_timeout=30))
        if not messages:
            break
        for m in messages:
            outcomes.append(services.webhooks.deliver(m.content))
            client.delete_message(m)
        if between:
            between()
    return outcomes


def reinstate_suspended(services, api: ApiClient, customer_id: str) -> Response:
    """Suspend a customer (as escalation would), then reinstate it over the API."""
    from shared.domain.records import CustomerStatus

    store = services.customers.store
    force_status(store, customer_id, CustomerStatus.SUSPENDED)
    answer = api.post(f"/api/v1/manage/customers/{customer_id}/reinstate", json={"reason": "r"}, headers=ADMIN)
    assert answer.status == 200, answer.body
    return answer


def force_status(store, customer_id: str, status) -> None:
    """Set a customer's status behind the API's back (a state the API reaches another way)."""
    found = store.get(customer_id)
    store.replace(CustomerChange(Versioned(found.record.model_copy(update={"status": status}), found.etag)))
