"""The Face REST client against the emulator: wire format, retries, failures."""

import time

import pytest
import requests

from devtools.stack import free_port
from shared.adapters.face import FaceRestClient, FaceSessionGone, NewFaceSession
from shared.errors import UpstreamUnavailable


@pytest.fixture(params=["v1.2", "v1.3-preview.1"])
def client(face, request):
    return FaceRestClient(face.endpoint, api_key=face.key, api_version=request.param, timeout_seconds=3, max_retries=2)


def faults(face, status: int, count: int, retry_after: int | None = None) -> None:
    body = {"status": status, "count": count} | ({"retryAfter": retry_after} if retry_after is not None else {})
    assert requests.post(f"{face.endpoint}/emulator/faults", json=body, timeout=5).status_code == 200


def clear_faults(face) -> None:
    assert requests.delete(f"{face.endpoint}/emulator/faults", timeout=5).status_code == 200


def attempt(face, created, **body):
    return requests.post(
        f"{face.endpoint}/face/v1.2/detectLiveness-sessions/{created.session_id}/attempts",
        json=body,
        headers={"Authorization": f"Bearer {created.auth_token}"},
        timeout=5,
    )


def test_create_get_delete_speak_the_v12_wire_format(client):
    created = client.create_session(
        NewFaceSession(mode="PassiveActive", device_correlation_id="dev-1", ttl_seconds=120)
    )
    assert created.session_id and created.auth_token
    fetched = client.get_session(created.session_id)
    assert fetched.status == "NotStarted" and fetched.results.attempts == []
    client.delete_session(created.session_id)
    with pytest.raises(FaceSessionGone):
        client.get_session(created.session_id)


def test_throttling_is_retried_with_backoff(client, face):
    created = client.create_session(NewFaceSession(mode="Passive", device_correlation_id="d", ttl_seconds=60))
    faults(face, 429, 2)
    try:
        assert client.get_session(created.session_id).session_id == created.session_id
    finally:
        clear_faults(face)


def test_a_long_retry_after_is_handed_to_the_caller_not_slept(client, face):
    created = client.create_session(NewFaceSession(mode="Passive", device_correlation_id="d", ttl_seconds=60))
    faults(face, 429, 5, retry_after=30)
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamUnavailable) as caught:
            client.get_session(created.session_id)
    finally:
        clear_faults(face)
    assert caught.value.status == 503 and caught.value.retry_after == 30
    assert time.monotonic() - started < 3
    assert client.get_session(created.session_id).session_id == created.session_id


def test_emulator_reports_running_failed_and_client_ip_like_the_service(client, face):
    created = client.create_session(
        NewFaceSession(mode="Passive", device_correlation_id="d", ttl_seconds=60, client_attempts=3)
    )
    assert attempt(face, created, livenessDecision="spoofface", completeAfterSeconds=0.6, clientIp="203.0.113.9").ok
    assert attempt(face, created, error={"code": "FaceWithMaskDetected", "message": "mask"}).ok
    running, failed = client.get_session(created.session_id).results.attempts
    assert (running.attempt_status, running.result, running.final) == ("Running", None, False)
    if client.api_version == "v1.3-preview.1":  # clientInformation is a v1.3 field
        assert running.client_information[0].ip == "203.0.113.9"
    else:
        assert running.client_information == []
    assert (failed.attempt_status, failed.error.code, failed.result, failed.final) == (
        "Failed",
        "FaceWithMaskDetected",
        None,
        True,
    )
    time.sleep(0.7)
    done = client.get_session(created.session_id).results.attempts[0]
    assert (done.attempt_status, done.result.liveness_decision, done.final) == ("Succeeded", "spoofface", True)
    assert attempt(face, created, livenessDecision="realface", error={"code": "x"}).status_code == 400


def test_a_wrong_key_is_an_upstream_failure_not_a_crash(face):
    with pytest.raises(UpstreamUnavailable) as caught:
        FaceRestClient(face.endpoint, api_key="wrong").create_session(
            NewFaceSession(mode="Passive", device_correlation_id="d", ttl_seconds=60)
        )
    assert caught.value.status == 502


def test_nothing_listening_fails_fast_as_503():
    client = FaceRestClient(f"http://127.0.0.1:{free_port()}", api_key="k", timeout_seconds=1, max_retries=0)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable) as caught:
        client.create_session(NewFaceSession(mode="Passive", device_correlation_id="d", ttl_seconds=60))
    assert caught.value.status == 503 and time.monotonic() - started < 5


def test_emulator_refuses_a_fourth_attempt_and_bad_tokens(client, face):
    created = client.create_session(
        NewFaceSession(mode="Passive", device_correlation_id="d", ttl_seconds=60, client_attempts=3)
    )
    url = f"{face.endpoint}/face/v1.2/detectLiveness-sessions/{created.session_id}/attempts"
    good = {"Authorization": f"Bearer {created.auth_token}"}
    assert (
        requests.post(
            url, json={"livenessDecision": "realface"}, headers={"Authorization": "Bearer nope"}, timeout=5
        ).status_code
        == 401
    )
    for _ in range(3):
        assert requests.post(url, json={"livenessDecision": "realface"}, headers=good, timeout=5).status_code == 200
    fourth = requests.post(url, json={"livenessDecision": "realface"}, headers=good, timeout=5)
    assert fourth.status_code == 429 and fourth.json()["error"]["code"] == "TooManyAttempts"
    assert [a.attempt_id for a in client.get_session(created.session_id).results.attempts] == [1, 2, 3]
