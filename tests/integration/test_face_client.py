"""The Face REST client against the emulator: wire format, retries, failures."""

import time

import pytest
import requests

from devtools.stack import free_port
from shared.adapters.face import FaceRestClient
from shared.errors import UpstreamUnavailable


@pytest.fixture
def client(face):
    return FaceRestClient(face.endpoint, api_key=face.key, timeout_seconds=3, max_retries=2)


def faults(face, status: int, count: int) -> None:
    requests.post(f"{face.endpoint}/_emulator/faults", json={"status": status, "count": count}, timeout=5)


def test_create_get_delete_speak_the_v12_wire_format(client):
    created = client.create_session(mode="PassiveActive", device_correlation_id="dev-1", ttl_seconds=120)
    assert created.session_id and created.auth_token
    fetched = client.get_session(created.session_id)
    assert fetched.status == "NotStarted" and fetched.results.attempts == []
    client.delete_session(created.session_id)
    with pytest.raises(UpstreamUnavailable):
        client.get_session(created.session_id)


def test_throttling_is_retried_with_backoff(client, face):
    created = client.create_session(mode="Passive", device_correlation_id="d", ttl_seconds=60)
    faults(face, 429, 2)
    try:
        assert client.get_session(created.session_id).session_id == created.session_id
    finally:
        faults(face, 500, 0)


def test_a_wrong_key_is_an_upstream_failure_not_a_crash(face):
    with pytest.raises(UpstreamUnavailable) as caught:
        FaceRestClient(face.endpoint, api_key="wrong").create_session(
            mode="Passive", device_correlation_id="d", ttl_seconds=60
        )
    assert caught.value.status == 502


def test_nothing_listening_fails_fast_as_503():
    client = FaceRestClient(f"http://127.0.0.1:{free_port()}", api_key="k", timeout_seconds=1, max_retries=0)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable) as caught:
        client.create_session(mode="Passive", device_correlation_id="d", ttl_seconds=60)
    assert caught.value.status == 503 and time.monotonic() - started < 5


def test_emulator_refuses_a_fourth_attempt_and_bad_tokens(client, face):
    created = client.create_session(mode="Passive", device_correlation_id="d", ttl_seconds=60)
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
