"""Manage API: customers, keys, reinstatement, and who may call it."""

import base64
import json

import pytest

from shared.domain.records import CustomerStatus
from tests.integration.helpers import ADMIN, consented_subject, data_rows, force_status, new_customer, new_session


def principal(*roles: str, name: str = "rita@contoso.example") -> str:
    claims = [{"typ": "name", "val": name}] + [{"typ": "roles", "val": r} for r in roles]
    return base64.b64encode(
        json.dumps({"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": "roles"}).encode()
    ).decode()


def audit_rows(services) -> list[dict]:
    return list(services.tables.client("audit").list_entities())


def test_create_and_read_a_customer_without_exposing_the_key(api, services):
    customer_id, key = new_customer(api)
    response = api.get(f"/api/v1/manage/customers/{customer_id}", headers=ADMIN)
    assert response.status == 200
    assert response.json["name"] == "Contoso KYC" and response.json["status"] == "active"
    assert key not in response.body.decode()
    stored = services.tables.client("customers").get_entity(customer_id, "customer")
    assert key not in json.dumps(dict(stored), default=str)


def test_rotating_a_key_stops_the_old_one_at_once(api, services):
    customer_id, old_key = new_customer(api)
    guid = consented_subject(api, old_key)
    response = api.post(f"/api/v1/manage/customers/{customer_id}/keys", headers=ADMIN)
    assert response.status == 200
    new_key = response.json["apiKey"]
    assert new_key != old_key
    assert new_session(api, old_key, guid).error_code == "unauthorized"
    assert new_session(api, new_key, guid).status == 201
    actions = [row["action"] for row in audit_rows(services)]
    assert "customer.rotate_key" in actions
    assert not any(new_key in json.dumps(dict(r), default=str) for r in audit_rows(services))


def test_reinstating_a_suspended_customer_lets_sessions_through_again(api, services):
    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    store = services.customers.store  # this instance: its own writes are seen at once
    force_status(store, customer_id, CustomerStatus.SUSPENDED)
    assert new_session(api, key, guid).error_code == "customer_suspended"
    response = api.post(
        f"/api/v1/manage/customers/{customer_id}/reinstate", json={"reason": "remediated"}, headers=ADMIN
    )
    assert response.status == 200 and response.json["status"] == "active"
    assert new_session(api, key, guid).status == 201
    entry = next(r for r in audit_rows(services) if r["action"] == "customer.reinstate")
    assert entry["reason"] == "remediated" and entry["actor"] == "admin-key"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"x-admin-key": "wrong-key-0123456789abcdef"}, 401),
        ({"x-ms-client-principal": principal("Administrator")}, 401),  # forged: Easy Auth is off
        ({"x-api-key": "lgk." + "0" * 32 + "." + "A" * 43}, 401),
    ],
)
def test_manage_routes_refuse_and_audit_callers_without_the_role(api, services, headers, status):
    response = api.post("/api/v1/manage/customers", json={"name": "X", "contactEmail": "x@y.example"}, headers=headers)
    assert (response.status, response.error_code) == (status, "unauthorized")
    refused = [r for r in audit_rows(services) if r["outcome"] == "refused"]
    assert len(refused) == 1 and refused[0]["action"] == "customer.create"


def test_a_customer_api_key_is_not_an_admin_credential(api):
    _, key = new_customer(api)
    response = api.post(
        "/api/v1/manage/customers", json={"name": "X", "contactEmail": "x@y.example"}, headers={"x-api-key": key}
    )
    assert response.status == 401


def test_principal_is_trusted_only_when_easy_auth_is_enabled(configure, router):
    from tests.support import ApiClient

    configure(EASY_AUTH_ENABLED="true")
    api = ApiClient(router)
    body = {"name": "X", "contactEmail": "x@y.example"}
    admin = api.post(
        "/api/v1/manage/customers", json=body, headers={"x-ms-client-principal": principal("Administrator")}
    )
    assert admin.status == 201
    reviewer = api.post("/api/v1/manage/customers", json=body, headers={"x-ms-client-principal": principal("Reviewer")})
    assert (reviewer.status, reviewer.error_code) == (403, "forbidden")
    garbage = api.post("/api/v1/manage/customers", json=body, headers={"x-ms-client-principal": "%%%not-base64"})
    assert garbage.status == 401


def test_health_reports_ok_when_storage_answers(api):
    response = api.get("/api/v1/health")
    assert response.status == 200 and response.json["status"] == "ok"


def test_health_is_503_when_storage_is_down(configure, router):
    from devtools.stack import free_port
    from shared import bootstrap
    from tests.support import ApiClient

    configure()
    services = bootstrap.services()
    port = free_port()
    down = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    from azure.data.tables import TableServiceClient

    from shared.adapters.tables import Tables

    services.tables = Tables(TableServiceClient.from_connection_string(down, retry_total=0), "lg")
    response = ApiClient(router).get("/api/v1/health")
    assert (response.status, response.json["status"]) == (503, "unavailable")


def test_customers_are_listed_in_pages(api):
    created = {new_customer(api, f"Customer {i}")[0] for i in range(5)}
    seen, token, pages = set(), None, 0
    while True:
        query = {"pageSize": "2", **({"continuationToken": token} if token else {})}
        response = api.get("/api/v1/manage/customers", headers=ADMIN, query=query)
        assert response.status == 200
        seen |= {c["customerId"] for c in response.json["items"]}
        pages += 1
        token = response.json.get("continuationToken")
        if not token:
            break
    assert seen == created and pages >= 3


@pytest.mark.parametrize(
    "query", [{"pageSize": "0"}, {"pageSize": "x"}, {"continuationToken": "!!"}, {"continuationToken": "e30"}]
)
def test_bad_paging_parameters_are_400(api, query):
    response = api.get("/api/v1/manage/customers", headers=ADMIN, query=query)
    assert (response.status, response.error_code) == (400, "invalid_request")


def test_another_instances_key_rotation_takes_effect_within_the_cache_bound(api, services, clock):
    """Api keys are checked against a per-instance cache (CUSTOMER_CACHE_SECONDS, default 30): a key
    rotated on another instance keeps working here for at most that long, never longer."""
    from shared import bootstrap
    from shared.settings import load_settings

    customer_id, old_key = new_customer(api)
    guid = consented_subject(api, old_key)  # this instance has now read (and cached) the customer
    other = bootstrap.build(load_settings(), clock)  # a second instance on the same storage
    other.customers.rotate_key(customer_id, "admin-key")
    clock.advance(seconds=29)
    assert new_session(api, old_key, guid).status == 201  # still within the bound
    clock.advance(seconds=2)
    refused = new_session(api, old_key, guid)
    assert (refused.status, refused.error_code) == (401, "unauthorized")


def test_made_up_keys_cost_one_storage_read_per_customer_id_at_most(configure, router, clock):
    """A flood of wrong keys for one customer id becomes one read, not one per request."""
    from shared import bootstrap
    from tests.support import ApiClient

    reads: list[str] = []
    configure()
    bootstrap.reset(clock, lambda request: reads.append(request.http_request.url))
    api = ApiClient(router)
    made_up = "lgk." + "ab" * 16 + "." + "x" * 43
    for _ in range(20):
        assert (
            api.post(
                "/api/v1/consents",
                json={"correlationId": "0f8fad5b-d9cb-469f-a165-70867728950e", "policyVersion": "1"},
                headers={"x-api-key": made_up},
            ).status
            == 401
        )
    assert sum("customers(" in url for url in reads) == 1


def test_another_instances_suspension_takes_effect_within_the_cache_bound(api, services, clock):
    """The same bound holds for a suspension: a suspended customer gets sessions for at most
    CUSTOMER_CACHE_SECONDS on an instance that read it before."""
    from shared import bootstrap
    from shared.settings import load_settings

    customer_id, key = new_customer(api)
    guid = consented_subject(api, key)
    other = bootstrap.build(load_settings(), clock).customers.store
    force_status(other, customer_id, CustomerStatus.SUSPENDED)
    clock.advance(seconds=31)
    refused = new_session(api, key, guid)
    assert (refused.status, refused.error_code) == (403, "customer_suspended")


@pytest.mark.parametrize("status", ["active", "warned"])
def test_reinstating_a_customer_that_is_not_suspended_is_409_and_changes_nothing(api, services, status):
    customer_id, _ = new_customer(api)
    store = services.customers.store
    force_status(store, customer_id, CustomerStatus(status))
    before = data_rows(services, ("customers",))
    answer = api.post(f"/api/v1/manage/customers/{customer_id}/reinstate", json={"reason": "r"}, headers=ADMIN)
    assert (answer.status, answer.error_code) == (409, "conflict")
    assert data_rows(services, ("customers",)) == before  # no status change, no event, no audit row
