"""POST /sessions and GET /sessions/{id}/result against real Azurite and the Face emulator."""

import uuid

import pytest
import requests

from shared.domain.records import CustomerStatus
from tests.integration.helpers import (
    checked_attempt,
    consented_subject,
    data_rows,
    device_attempt,
    force_status,
    new_customer,
    new_session,
    result,
)


@pytest.fixture
def guid(api, key):
    return consented_subject(api, key)


# --- refusal table of docs/api.md ------------------------------------------------------


def test_400_invalid_request_names_the_field(api, key):
    response = new_session(api, key, "not-a-uuid")
    assert response.status == 400 and response.error_code == "invalid_request"
    assert "correlationId" in response.json["error"]["message"]


def test_401_unauthorized_without_or_with_unknown_key(api, guid):
    for headers in ({}, {"x-api-key": "lgk." + "0" * 32 + "." + "A" * 43}, {"x-api-key": "nonsense"}):
        response = api.post("/api/v1/sessions", json={"correlationId": guid}, headers=headers)
        assert (response.status, response.error_code) == (401, "unauthorized")


def test_403_customer_suspended(api, services, customer, guid):
    store = services.customers.store
    force_status(store, customer[0], CustomerStatus.SUSPENDED)
    response = new_session(api, customer[1], guid)
    assert (response.status, response.error_code) == (403, "customer_suspended")


def test_403_consent_required(api, key):
    response = new_session(api, key, str(uuid.uuid4()))
    assert (response.status, response.error_code) == (403, "consent_required")


def test_403_correlation_id_blocked_after_three_spoofs(api, face, key, guid):
    for _ in range(3):
        session = new_session(api, key, guid).json
        checked_attempt(api, face.endpoint, session, "spoofface")
    response = new_session(api, key, guid)
    assert (response.status, response.error_code) == (403, "correlation_id_blocked")


def test_429_retry_limited_after_five_failed_checks(api, face, key, guid):
    session = new_session(api, key, guid).json
    for _ in range(3):
        checked_attempt(api, face.endpoint, session, "uncertain")
    session = new_session(api, key, guid).json
    for _ in range(2):
        checked_attempt(api, face.endpoint, session, "uncertain")
    response = new_session(api, key, guid)
    assert (response.status, response.error_code) == (429, "retry_limited")
    assert 1700 < int(response.headers["Retry-After"]) <= 1800


def test_429_retry_limited_after_the_hourly_cap(api, key, guid, clock):
    for _ in range(10):
        assert new_session(api, key, guid).status == 201
    clock.advance(minutes=30)
    response = new_session(api, key, guid)
    assert (response.status, response.error_code) == (429, "retry_limited")
    assert int(response.headers["Retry-After"]) == 30 * 60
    clock.advance(minutes=31)
    assert new_session(api, key, guid).status == 201


def test_upstream_unavailable_when_face_answers_500_charges_nothing(api, services, face, key, guid):
    before = data_rows(services)
    requests.post(f"{face.endpoint}/emulator/faults", json={"status": 500, "count": 4}, timeout=5)
    response = new_session(api, key, guid)
    assert response.status in (502, 503) and response.error_code == "upstream_unavailable"
    requests.delete(f"{face.endpoint}/emulator/faults", timeout=5)
    assert data_rows(services) == before


def test_upstream_unavailable_when_face_is_down(configure, router, key_for_down_face):
    api, key, guid, services = key_for_down_face
    before = data_rows(services)
    response = new_session(api, key, guid)
    assert (response.status, response.error_code) == (503, "upstream_unavailable")
    assert data_rows(services) == before


@pytest.fixture
def key_for_down_face(configure, router):
    from devtools.stack import free_port
    from tests.support import ApiClient

    services = configure(FACE_ENDPOINT=f"http://127.0.0.1:{free_port()}", FACE_MAX_RETRIES="0")
    api = ApiClient(router)
    _, key = new_customer(api)
    return api, key, consented_subject(api, key), services


# --- session token refusals ---------------------------------------------------------------


def test_token_invalid_for_wrong_missing_or_foreign_tokens(api, key, guid):
    first = new_session(api, key, guid).json
    second = new_session(api, key, guid).json
    assert result(api, first["sessionId"], second["sessionToken"]).error_code == "token_invalid"
    assert result(api, first["sessionId"], "garbage").error_code == "token_invalid"
    response = api.get(f"/api/v1/sessions/{first['sessionId']}/result")
    assert (response.status, response.error_code) == (401, "token_invalid")


def test_token_expired(api, key, guid, clock):
    session = new_session(api, key, guid).json
    clock.advance(seconds=601)
    response = result(api, session["sessionId"], session["sessionToken"])
    assert (response.status, response.error_code) == (401, "token_expired")


def test_token_exhausted_after_its_budget(api, key, guid):
    session = new_session(api, key, guid).json
    for _ in range(5):
        assert result(api, session["sessionId"], session["sessionToken"]).status == 200
    response = result(api, session["sessionId"], session["sessionToken"])
    assert (response.status, response.error_code) == (429, "token_exhausted")


def test_face_outage_on_result_spends_no_call(api, face, key, guid):
    session = new_session(api, key, guid).json
    requests.post(f"{face.endpoint}/emulator/faults", json={"status": 503, "count": 10}, timeout=5)
    try:
        assert result(api, session["sessionId"], session["sessionToken"]).error_code == "upstream_unavailable"
    finally:
        requests.delete(f"{face.endpoint}/emulator/faults", timeout=5)
    for _ in range(5):
        assert result(api, session["sessionId"], session["sessionToken"]).status == 200


# --- results and idempotency --------------------------------------------------------------


def test_each_attempt_is_recorded_once_however_often_the_result_is_read(api, services, face, key, guid, customer):
    session = new_session(api, key, guid).json
    assert device_attempt(face.endpoint, session, "uncertain").status_code == 200
    for _ in range(3):
        answer = result(api, session["sessionId"], session["sessionToken"]).json
    assert answer["attempts"] == 1 and answer["livenessDecision"] == "uncertain"
    subject = services.sessions.subjects.get(customer[0], guid).record
    assert subject.attempts_total == 1 and len(subject.state.failures) == 1


def test_client_request_id_replays_the_same_session_without_spending_budget(api, face, key, guid):
    first = new_session(api, key, guid, clientRequestId="order-42")
    again = new_session(api, key, guid, clientRequestId="order-42")
    assert (first.status, again.status) == (201, 200)
    assert again.json["sessionId"] == first.json["sessionId"]
    assert again.json["faceAuthToken"] == first.json["faceAuthToken"]
    assert result(api, again.json["sessionId"], again.json["sessionToken"]).status == 200
    for _ in range(9):
        assert new_session(api, key, guid).status == 201  # the replay did not count against the cap of 10
    assert new_session(api, key, guid).status == 429


def test_same_guid_under_two_customers_is_two_subjects(api, key, guid):
    _, other_key = new_customer(api, "Fabrikam")
    assert new_session(api, other_key, guid).error_code == "consent_required"


def test_consent_answer_echoes_what_was_recorded(api, key):
    guid = str(uuid.uuid4()).upper()
    response = api.post(
        "/api/v1/consents",
        json={"correlationId": guid, "policyVersion": "v3", "purpose": "kyc"},
        headers={"x-api-key": key},
    )
    assert response.status == 201
    assert response.json["correlationId"] == guid.lower() and response.json["policyVersion"] == "v3"
    assert response.json["grantedAt"].endswith(("Z", "+00:00"))
