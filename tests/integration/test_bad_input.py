"""Bad input gets a 4xx in the error envelope, never a 5xx, and changes no row."""

import json

import pytest

from tests.integration.helpers import ADMIN, consented_subject, data_rows, new_customer

GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
BAD_BODIES = [
    b"{not json",
    b"[]",
    b'"a string"',
    b"null",
    b"",
    json.dumps({"correlationId": 42}).encode(),
    json.dumps({"correlationId": "not-a-uuid"}).encode(),
    json.dumps({"correlationId": "0f8fad5b-d9cb-469f-a165-70867728950e' or PartitionKey ne '"}).encode(),
    json.dumps({"correlationId": "0f8fad5b d9cb 469f a165 70867728950e"}).encode(),
    json.dumps({"correlationId": GUID, "unknown": 1}).encode(),
    json.dumps({"correlationId": GUID, "livenessOperationMode": "Sleepy"}).encode(),
    json.dumps({"correlationId": GUID, "clientRequestId": "has space"}).encode(),
    json.dumps({"correlationId": GUID, "clientRequestId": "x" * 65}).encode(),
    json.dumps({"correlationId": GUID, "clientRequestId": "a' or RowKey gt '"}).encode(),
    json.dumps({"correlationId": [GUID]}).encode(),
    json.dumps({"correlationId": GUID, "policyVersion": {"$ne": 1}}).encode(),
    b"\xff\xfe\x00garbage",
    json.dumps({"correlationId": GUID, "padding": "x" * 40000}).encode(),
]
ROUTES = ["/api/v1/sessions", "/api/v1/consents"]


@pytest.mark.parametrize("route", ROUTES)
def test_bad_bodies_are_refused_with_the_envelope_and_change_nothing(api, services, route):
    _, key = new_customer(api)
    consented_subject(api, key)
    before = data_rows(services)
    for body in BAD_BODIES:
        response = api.post(route, body=body, headers={"x-api-key": key, "content-type": "application/json"})
        assert 400 <= response.status < 500, (body[:60], response.status, response.body)
        error = response.json["error"]
        assert error["code"] in ("invalid_request", "payload_too_large") and error["message"]
    assert data_rows(services) == before


@pytest.mark.parametrize(
    "session_id",
    ["x' or 1 eq 1 or '", "..%2F..", "a" * 65, "abc def", "%00", "' and PartitionKey ne '"],
)
def test_odata_and_junk_in_session_ids_are_token_invalid(api, services, session_id):
    _, key = new_customer(api)
    guid = consented_subject(api, key)
    token = api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key}).json["sessionToken"]
    before = data_rows(services)
    response = api.get(f"/api/v1/sessions/{session_id}/result", headers={"Authorization": f"Bearer {token}"})
    assert response.status in (401, 404), response.status
    if response.status == 401:
        assert response.error_code == "token_invalid"
    assert data_rows(services) == before


@pytest.mark.parametrize(
    "customer_id",
    ["' or PartitionKey ne '", "0" * 32, "ZZZ", "a" * 300],
)
def test_manage_routes_refuse_odd_customer_ids_with_404(api, customer_id):
    response = api.get(f"/api/v1/manage/customers/{customer_id}", headers=ADMIN)
    assert (response.status, response.error_code) == (404, "not_found")


def test_oversized_body_is_413(api, services):
    _, key = new_customer(api)
    response = api.post(
        "/api/v1/consents",
        body=b"{" + b" " * 20000 + b"}",
        headers={"x-api-key": key, "content-type": "application/json"},
    )
    assert (response.status, response.error_code) == (413, "payload_too_large")


def test_wrong_types_are_named_in_details(api):
    _, key = new_customer(api)
    response = api.post(
        "/api/v1/consents", json={"correlationId": GUID, "policyVersion": 3}, headers={"x-api-key": key}
    )
    assert response.status == 400
    assert [d["field"] for d in response.json["error"]["details"]] == ["policyVersion"]


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_that_is_not_declared_json_is_415_and_changes_nothing(api, services, content_type):
    """A cross-site form posts text/plain without asking first: it must not reach any route."""
    _, key = new_customer(api)
    before = data_rows(services)
    body = json.dumps({"name": "Evil", "contactEmail": "evil@example.com"}).encode()
    headers = {**ADMIN, **({"content-type": content_type} if content_type else {})}
    response = api.post("/api/v1/manage/customers", body=body, headers=headers)
    assert (response.status, response.error_code) == (415, "unsupported_media_type")
    consent = api.post(
        "/api/v1/consents",
        body=json.dumps({"correlationId": GUID, "policyVersion": "1"}).encode(),
        headers={"x-api-key": key, **({"content-type": content_type} if content_type else {})},
    )
    assert (consent.status, consent.error_code) == (415, "unsupported_media_type")
    assert data_rows(services) == before


def test_json_with_a_charset_and_bodyless_posts_are_accepted(api):
    created = api.post(
        "/api/v1/manage/customers",
        body=json.dumps({"name": "Fine", "contactEmail": "ok@example.com"}).encode(),
        headers={**ADMIN, "content-type": "application/json; charset=utf-8"},
    )
    assert created.status == 201, created.body
    rotated = api.post(f"/api/v1/manage/customers/{created.json['customerId']}/keys", headers=ADMIN)
    assert rotated.status == 200, rotated.body


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
    ],
)
def test_staff_routes_refuse_cross_site_requests(api, services, headers):
    before = data_rows(services)
    response = api.post(
        "/api/v1/manage/customers",
        json={"name": "Evil", "contactEmail": "evil@example.com"},
        headers={**ADMIN, **headers},
    )
    assert (response.status, response.error_code) == (403, "forbidden")
    assert data_rows(services) == before
    refused = [e for e in services.tables.client("audit").list_entities() if e["outcome"] == "refused"]
    assert [e["reason"] for e in refused] == ["cross-site request"]


def test_staff_routes_accept_their_own_origin(api):
    response = api.post(
        "/api/v1/manage/customers",
        json={"name": "Own", "contactEmail": "own@example.com"},
        headers={**ADMIN, "origin": "http://127.0.0.1", "sec-fetch-site": "same-origin"},
    )
    assert response.status == 201, response.body
