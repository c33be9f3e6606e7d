"""Storage hung, stopped, throttled or refusing: every call answers 503 `storage_unavailable` with
`Retry-After` within 10 seconds (docs/api.md), never a hang or a 500; a refusal that is not a
race (400) is not mistaken for one."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError

from devtools.busy_storage import BusyStorage
from devtools.stack import Azurite
from shared import bootstrap
from shared.adapters.subject_rows import subject_partition
from shared.adapters.tables import StaleWrite, submit
from tests.conftest import ARTIFACTS
from tests.integration.helpers import ADMIN, consented_subject, new_customer, new_session
from tests.support import ApiClient

pytestmark = pytest.mark.face_api_versions("v1.2")  # storage faults do not depend on the Face version
ANSWER_WITHIN = 10.0


@pytest.fixture
def own_azurite() -> Iterator[Azurite]:
    """An Azurite of this test's own, so pausing or stopping it harms no other test."""
    instance = Azurite().start(log=ARTIFACTS / "azurite-faults.log")
    yield instance
    instance.stop()


@pytest.fixture
def ready(configure, router, own_azurite: Azurite) -> tuple[ApiClient, str, str]:
    """The app on its own Azurite with a customer and a consented subject: (api, api key, GUID)."""
    configure(AzureWebJobsStorage=own_azurite.connection_string, STORAGE_TIMEOUT_SECONDS="2")
    api = ApiClient(router)
    _, key = new_customer(api)
    return api, key, consented_subject(api, key)


def timed(call) -> tuple[object, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_unavailable(response, elapsed: float) -> None:
    assert elapsed < ANSWER_WITHIN, f"answered after {elapsed:.1f}s"
    assert response.status == 503, response.body
    assert int(response.headers["Retry-After"]) >= 1


def assert_sessions_and_health_unavailable(api: ApiClient, key: str, guid: str) -> None:
    """A session request answers 503 storage_unavailable, and the health check says storage is unreachable."""
    response, elapsed = timed(lambda: new_session(api, key, guid))
    assert_unavailable(response, elapsed)
    assert response.json["error"]["code"] == "storage_unavailable"
    health, elapsed = timed(lambda: api.get("/api/v1/health"))
    assert_unavailable(health, elapsed)
    assert health.json["storage"] == "unreachable"


def test_paused_storage_answers_503_within_seconds(ready, own_azurite: Azurite) -> None:
    api, key, guid = ready
    own_azurite.pause()
    try:
        assert_sessions_and_health_unavailable(api, key, guid)
    finally:
        own_azurite.resume()
    assert new_session(api, key, guid).status == 201  # back as soon as storage is


def test_stopped_storage_answers_503_even_on_a_cold_start(ready, own_azurite: Azurite) -> None:
    api, key, guid = ready
    own_azurite.stop()
    response, elapsed = timed(lambda: new_session(api, key, guid))
    assert_unavailable(response, elapsed)
    assert response.json["error"]["code"] == "storage_unavailable"
    bootstrap.reset()  # a new worker: building the services needs storage too
    for path in ("/api/v1/health", "/api/v1/privacy"):
        response, elapsed = timed(lambda p=path: api.get(p))
        assert_unavailable(response, elapsed)
    response, elapsed = timed(
        lambda: api.post("/api/v1/manage/customers", json={"name": "x", "contactEmail": "a@b.example"}, headers=ADMIN)
    )
    assert_unavailable(response, elapsed)


def test_stopped_storage_answers_503_on_a_cold_start_as_deployed(ready, own_azurite: Azurite, monkeypatch) -> None:
    """In Azure the instance creates nothing on its first request (STORAGE_CREATE_MISSING=false), so
    the first storage call a request makes is the one that meets the outage."""
    api, key, guid = ready
    own_azurite.stop()
    monkeypatch.setenv("STORAGE_CREATE_MISSING", "false")
    bootstrap.reset()  # a new worker
    assert_sessions_and_health_unavailable(api, key, guid)
    assert api.get("/api/v1/privacy").status == 200  # the notice needs no storage, so it stays readable


def test_storage_answering_503_gives_503_not_500(configure, router) -> None:
    with BusyStorage() as busy:
        configure_busy = {"AzureWebJobsStorage": busy.connection_string, "STORAGE_MAX_RETRIES": "1"}
        with pytest.raises(HttpResponseError):
            configure(**configure_busy)  # building the services (creating tables) fails fast
        api = ApiClient(router)
        for path in ("/api/v1/health", "/api/v1/privacy"):
            response, elapsed = timed(lambda p=path: api.get(p))
            assert_unavailable(response, elapsed)
        response, elapsed = timed(
            lambda: api.post("/api/v1/sessions", json={"correlationId": str(uuid.uuid4())}, headers={"x-api-key": "k"})
        )
        assert_unavailable(response, elapsed)
        assert response.json["error"]["code"] == "storage_unavailable"
        assert busy.requests <= 4 * 2  # four calls, each tried twice (STORAGE_MAX_RETRIES=1), no more


def test_a_refused_transaction_is_not_a_lost_race(services) -> None:
    """A 400 (an oversized property) propagates at once; only 409/412 read as StaleWrite."""
    table = services.tables.client("subjects")
    partition = subject_partition(uuid.uuid4().hex, str(uuid.uuid4()))
    too_large = {"PartitionKey": partition, "RowKey": "subject", "state": "x" * 40_000}
    with pytest.raises(HttpResponseError) as raised:
        submit(table, [("create", too_large)])
    assert not isinstance(raised.value, StaleWrite)
    assert raised.value.status_code == 400
    submit(table, [("create", {"PartitionKey": partition, "RowKey": "subject", "state": "{}"})])
    with pytest.raises(StaleWrite):
        submit(table, [("create", {"PartitionKey": partition, "RowKey": "subject", "state": "{}"})])
