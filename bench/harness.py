"""What the benchmarks share: real stand-ins started on free ports, the app in-process, a call counter."""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core.pipeline import PipelineRequest

from bench.floor import Floor
from devtools.inprocess import ApiClient
from devtools.stack import ROOT, Azurite, EmailSink, FaceEmulator

ADMIN_KEY = "bench-admin-key-0123456789abcdef"


class CountingPolicy:
    """Counts every storage request at the transport, as azure-core's CustomHookPolicy hands it over
    (the SDKs' `raw_request_hook`; retries included)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[str] = []

    def __call__(self, request: PipelineRequest) -> None:
        http = request.http_request
        with self._lock:
            self.calls.append(f"{http.method} {http.url.split('?')[0].rsplit('/', 1)[-1][:60]}")

    def take(self) -> list[str]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


@dataclass
class Bench:
    api: ApiClient
    azurite: Azurite
    face: FaceEmulator
    counter: CountingPolicy = field(default_factory=CountingPolicy)

    def customer(self) -> str:
        response = self.api.post(
            "/api/v1/manage/customers",
            json={"name": "Bench", "contactEmail": "bench@contoso.example"},
            headers={"x-admin-key": ADMIN_KEY},
        )
        return response.json["apiKey"]

    def floor(self) -> Floor:
        """The floor operations on the same storage and Face emulator (bench/floor.py)."""
        return Floor(self.azurite.connection_string, os.environ["TABLE_NAME_PREFIX"], self.face.endpoint, self.face.key)

    def consented(self, key: str, guid: str | None = None) -> str:
        guid = guid or str(uuid.uuid4())
        self.api.post(
            "/api/v1/consents", json={"correlationId": guid, "policyVersion": "v1"}, headers={"x-api-key": key}
        )
        return guid


@contextmanager
def running_app(**settings: str) -> Iterator[Bench]:
    """Azurite, the Face emulator and the email sink on free ports; the app wired to them in-process."""
    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    ca_file = Path(tempfile.mkdtemp(prefix="lg-bench-")) / "email-ca.pem"  # this run's own: runs never collide
    azurite, face, email = Azurite().start(), FaceEmulator().start(), EmailSink(ca_file=ca_file).start()
    try:
        os.environ.update(
            {
                "AzureWebJobsStorage": azurite.connection_string,
                "FACE_ENDPOINT": face.endpoint,
                "FACE_API_KEY": face.key,
                "FACE_CLIENT_ATTEMPTS": "3",  # the benchmarks make several attempts in one session
                "ACS_CONNECTION_STRING": email.connection_string,
                "EMAIL_CA_BUNDLE": str(email.ca_file),
                "EMAIL_SENDER_ADDRESS": "DoNotReply@bench.test",
                "SESSION_SEALING_KEY": "bench-only-sealing-key-0123456789abcdef",
                "ADMIN_API_KEY": ADMIN_KEY,
                "TABLE_NAME_PREFIX": "b" + uuid.uuid4().hex[:10],
                "POLICY_SESSIONS_PER_HOUR": "60",  # the largest cap (a subject's state must fit one row)
                "REVIEW_SECOND_OPINION_RATE": "0",  # a decision asked for one makes one write more
                **settings,
            }
        )
        import function_app
        from devtools.localhost.routing import Router, http_functions
        from shared import bootstrap

        counter = CountingPolicy()
        bootstrap.reset(storage_hook=counter)
        router = _router(function_app.app, Router, http_functions)
        yield Bench(ApiClient(router), azurite, face, counter)
    finally:
        email.stop()
        face.stop()
        azurite.stop()


_ROUTERS: dict[int, Any] = {}


def _router(app: Any, router_type: Any, http_functions: Any) -> Any:
    """One router per app object (`get_functions` may run only once per app)."""
    if id(app) not in _ROUTERS:
        _ROUTERS[id(app)] = router_type(http_functions(app), "api")
    return _ROUTERS[id(app)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
