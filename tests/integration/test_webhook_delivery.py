"""One webhook delivery has a deadline and goes where the SSRF check looked (issue 25; docs/api.md, Webhooks):
a receiver that drips its answer, announces a huge body, or a host whose DNS flips between the check
and the connection, each tried with a real socket server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace

import pytest

from shared.adapters import webhook_http
from shared.adapters.webhook_http import DeliveryFailed
from shared.domain.webhook_urls import check_url
from tests.integration.helpers import drain, new_customer, reinstate_suspended
from tests.support import ApiClient


class DrippingReceiver:
    """A loopback endpoint that reads the request, then sends `answer` a byte every `pause` seconds."""

    def __init__(self, answer: bytes, pause: float) -> None:
        self.answer, self.pause = answer, pause
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hooks"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                for byte in self.answer:
                    conn.sendall(bytes([byte]))
                    time.sleep(self.pause)
            except OSError:
                return

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def dripping():
    made: list[DrippingReceiver] = []

    def make(answer: bytes, pause: float) -> DrippingReceiver:
        made.append(DrippingReceiver(answer, pause))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def target_of(url: str):
    return check_url(url, allow_loopback=True)


def test_a_receiver_dripping_its_status_line_is_cut_off_at_the_deadline(dripping):
    receiver = dripping(b"HTTP/1.1 200 OK\r\n", pause=0.5)  # each byte well inside any per-read timeout
    started = time.monotonic()
    with pytest.raises(DeliveryFailed, match="timeout"):
        webhook_http.post(target_of(receiver.url), b"{}", {}, deadline_seconds=1.5)
    assert time.monotonic() - started < 2.0


def test_a_huge_announced_body_is_not_read(dripping):
    receiver = dripping(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n" + b"x" * 100, pause=0.001)
    started = time.monotonic()
    assert webhook_http.post(target_of(receiver.url), b"{}", {}, deadline_seconds=5) == 200
    assert time.monotonic() - started < 1.0  # the status line is all it reads


def test_an_endless_status_line_stops_at_64_kib(dripping):
    receiver = dripping(b"x" * 70_000, pause=0)
    with pytest.raises(DeliveryFailed):
        webhook_http.post(target_of(receiver.url), b"{}", {}, deadline_seconds=5)


def test_the_connection_goes_to_the_address_that_was_checked(hooked):
    """DNS rebinding: the host resolves to a public address for the check, then to loopback."""
    services, _, _, customer_id, _, _ = hooked
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    looked_up: list[str] = []
    sent_to: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return next(answers)

    def send(target, body, headers, deadline):
        sent_to.append(target.address)
        return 200

    pinned = replace(services.webhooks, resolve=resolve, send=send, allow_loopback=False)
    registration = type("R", (), {"url": "https://rebind.example.test/hooks", "secret": "whsec_" + "A" * 32})
    from shared.domain.webhook_events import webhook_event

    event = webhook_event("customer.warned", customer_id, "x", services.clock(), {"status": "warned"})
    pinned._begin(event, services.clock())  # its ledger entry, as a delivery's first try makes it
    assert pinned._try(event, registration, services.clock()) is None
    assert looked_up == ["rebind.example.test"] and sent_to == ["93.184.216.34"]  # one look-up, that address


def test_a_slow_receiver_delays_only_its_own_customer(configure, router, dripping):
    services = configure(WEBHOOK_ALLOW_LOOPBACK="true", WEBHOOK_BACKOFF_SECONDS="60", WEBHOOK_TIMEOUT_SECONDS="1")
    api = ApiClient(router)
    slow = dripping(b"HTTP/1.1 200 OK\r\n", pause=0.5)
    fast = dripping(b"HTTP/1.1 204 No Content\r\n\r\n", pause=0)
    slow_id, slow_key = new_customer(api)
    fast_id, fast_key = new_customer(api)
    for key, receiver in ((slow_key, slow), (fast_key, fast)):
        assert api.put("/api/v1/webhook", json={"url": receiver.url}, headers={"x-api-key": key}).status == 200
    for _ in range(3):  # three events for the slow customer, queued ahead of the other's one
        reinstate_suspended(services, api, slow_id)
    reinstate_suspended(services, api, fast_id)
    started = time.monotonic()
    outcomes = drain(services, rounds=1)
    elapsed = time.monotonic() - started
    assert outcomes.count("delivered") == 1 and outcomes.count("retrying") == 3
    assert slow.connections == 1  # tried once; its later events wait their own backoff, no network call
    assert elapsed < 2.5, elapsed  # one deadline, not one per event
