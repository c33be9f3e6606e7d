"""Fixtures shared by the integration tests: a registered customer and its api key."""

import pytest
import requests

from tests.integration.helpers import Receiver, new_customer


@pytest.fixture
def customer(api) -> tuple[str, str]:
    """A newly registered customer: (customerId, apiKey)."""
    return new_customer(api)


@pytest.fixture
def key(customer) -> str:
    return customer[1]


@pytest.fixture
def sink(email_sink):
    """The email sink, emptied, with no faults; `messages()` lists what was sent."""
    verify = str(email_sink.ca_file)
    requests.delete(f"{email_sink.url}/messages", verify=verify, timeout=5)
    requests.post(f"{email_sink.url}/_sink/faults", json={"count": 0}, verify=verify, timeout=5)

    class Sink:
        def messages(self):
            return requests.get(f"{email_sink.url}/messages", verify=verify, timeout=5).json()

        def fail(self, status, count, retry_after=0):
            requests.post(
                f"{email_sink.url}/_sink/faults",
                json={"status": status, "count": count, "retryAfter": retry_after},
                verify=verify,
                timeout=5,
            )

    yield Sink()
    requests.post(f"{email_sink.url}/_sink/faults", json={"count": 0}, verify=verify, timeout=5)


@pytest.fixture
def preissue(configure, router):
    """An app that lets one subject hold three open sessions (so a client can pre-issue them):
    (services, api)."""
    from tests.support import ApiClient

    return configure(POLICY_OPEN_SESSIONS="3"), ApiClient(router)


@pytest.fixture
def hooked(configure, router):
    services = configure(WEBHOOK_ALLOW_LOOPBACK="true", WEBHOOK_BACKOFF_SECONDS="0", WEBHOOK_TIMEOUT_SECONDS="2")
    receiver = Receiver()
    from tests.support import ApiClient

    api = ApiClient(router)
    customer_id, key = new_customer(api)
    registered = api.put("/api/v1/webhook", json={"url": receiver.url}, headers={"x-api-key": key})
    assert registered.status == 200, registered.body
    yield services, api, receiver, customer_id, key, registered.json["secret"]
    receiver.server.shutdown()
