"""An audit entry is written atomically with the change it records (docs/api.md): storage fails
at each step of a key rotation, a registration and a decision in turn, and no change persists
without its entry, no entry without its change, and no key is lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from azure.core.exceptions import ServiceResponseError

from shared import bootstrap
from tests.integration.helpers import ADMIN, flagged_subject, new_customer
from tests.support import ApiClient

pytestmark = pytest.mark.face_api_versions("v1.2")


class Faults:
    """A storage request hook that fails the requests a rule matches (each retry fails too)."""

    def __init__(self) -> None:
        self.rule: Callable[[str, str, bytes], bool] | None = None

    def __call__(self, request) -> None:
        http = request.http_request
        body = http.body if isinstance(http.body, bytes) else str(http.body or "").encode()
        if self.rule is not None and self.rule(http.method, http.url, body):
            raise ServiceResponseError("injected storage fault")


def transaction_on(table: str) -> Callable[[str, str, bytes], bool]:
    return lambda method, url, body: url.endswith("$batch") and f"{table}".encode() in body


def insert_into(table: str) -> Callable[[str, str, bytes], bool]:
    return lambda method, url, body: method == "POST" and url.split("?")[0].endswith(table)


def delete_of_audit_row(method: str, url: str, body: bytes) -> bool:
    return method == "DELETE" and "audit_" in url


@pytest.fixture
def faulty(configure, router, clock):
    """The app with a storage fault injector: (api, faults, services)."""
    services = configure()
    faults = Faults()
    bootstrap.reset(clock, faults)
    services = bootstrap.services()
    return ApiClient(router), faults, services


def logged(services, action: str) -> list[dict]:
    now = services.clock()
    entries, _ = services.audit.page(now - timedelta(hours=1), now + timedelta(hours=1), 1000, None)
    return [e for e in entries if e["action"] == action]


def waiting_rows(services) -> list[dict]:
    rows = []
    for table in ("customers", "subjects"):
        client = services.tables.client(table)
        rows += list(
            client.query_entities("RowKey ge @lo and RowKey lt @hi", parameters={"lo": "audit_", "hi": "audit`"})
        )
    return rows


def repair(api: ApiClient) -> dict:
    response = api.post("/api/v1/manage/repair", headers=ADMIN)
    assert response.status == 200, response.body
    return response.json


def works(api: ApiClient, key: str) -> bool:
    """Whether the api key is accepted (erasing a GUID never seen changes nothing)."""
    status = api.delete("/api/v1/subjects/00000000-0000-4000-8000-000000000000", headers={"x-api-key": key}).status
    assert status in (401, 204)
    return status == 204


def rotate(api: ApiClient, customer_id: str):
    return api.post(f"/api/v1/manage/customers/{customer_id}/keys", headers=ADMIN)


def test_rotation_that_fails_to_commit_changes_nothing_and_logs_nothing(faulty) -> None:
    api, faults, services = faulty
    customer_id, key = new_customer(api)
    faults.rule = transaction_on("customers")
    assert rotate(api, customer_id).status == 503
    faults.rule = None
    assert works(api, key)  # the old key was not killed
    assert logged(services, "customer.rotate_key") == []
    assert waiting_rows(services) == []


@pytest.mark.parametrize("step", ["write to the log", "clear the waiting row"])
def test_rotation_whose_entry_is_not_yet_logged_still_returns_the_new_key(faulty, step: str) -> None:
    api, faults, services = faulty
    customer_id, old_key = new_customer(api)
    faults.rule = insert_into("audit") if step == "write to the log" else delete_of_audit_row
    response = rotate(api, customer_id)
    faults.rule = None
    assert response.status == 200, response.body
    new_key = response.json["apiKey"]
    assert works(api, new_key) and not works(api, old_key)  # the customer is not locked out
    assert len(waiting_rows(services)) == 1  # the entry is committed beside the change
    repair(api)
    assert len(logged(services, "customer.rotate_key")) == 1  # relayed once, however often repair runs
    repair(api)
    assert len(logged(services, "customer.rotate_key")) == 1
    assert waiting_rows(services) == []


def test_registration_keeps_its_key_and_its_entry(faulty) -> None:
    api, faults, services = faulty
    faults.rule = transaction_on("customers")
    refused = api.post("/api/v1/manage/customers", json={"name": "A", "contactEmail": "a@b.example"}, headers=ADMIN)
    assert refused.status == 503
    faults.rule = None
    assert logged(services, "customer.create") == [] and waiting_rows(services) == []
    assert api.get("/api/v1/manage/customers", headers=ADMIN).json["items"] == []  # no customer without its entry

    faults.rule = insert_into("audit")
    customer_id, key = new_customer(api)
    faults.rule = None
    assert works(api, key)
    assert repair(api)["auditRelayed"] == 1
    assert [e["target"] for e in logged(services, "customer.create")] == [customer_id]


def test_a_decision_is_never_without_its_entry(faulty, face) -> None:
    api, faults, services = faulty
    customer_id, key = new_customer(api)
    guid = flagged_subject(api, face.endpoint, key)
    decide = f"/api/v1/review/subjects/{customer_id}/{guid}/decision"
    body = {"decision": "confirm", "reason": "same face, many GUIDs", "guidelineId": "repeated-spoof"}

    faults.rule = transaction_on("subjects")
    assert api.post(decide, json=body, headers=ADMIN).status == 503
    faults.rule = None
    assert services.sessions.subjects.get(customer_id, guid).record.status == "flagged"
    assert logged(services, "subject.confirm") == []

    faults.rule = insert_into("audit")
    assert api.post(decide, json=body, headers=ADMIN).status == 200
    faults.rule = None
    assert services.sessions.subjects.get(customer_id, guid).record.status == "blocked"
    repair(api)
    assert len(logged(services, "subject.confirm")) == 1
