"""What a client app's developer does with the contract: generate a typed Python client from the
served OpenAPI document (openapi-python-client, pinned in requirements-dev.txt) and run a whole
check with it over real HTTP against the local host — consent, session, the device's attempt at the
Face emulator, the result — and read a refusal as the typed error envelope."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import pytest
import requests

from devtools.run import LocalStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[LocalStack]:
    stack = LocalStack.isolated(tmp_path_factory.mktemp("client-stack")).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def client_package(stack: LocalStack, tmp_path_factory) -> Iterator[str]:
    """The generated package's name, importable for this module's tests (generated without warnings)."""
    out = tmp_path_factory.mktemp("generated")
    document = out / "openapi.json"
    document.write_text(json.dumps(requests.get(f"{stack.base_url}/v1/openapi.json", timeout=30).json()))
    generator = Path(sys.executable).with_name("openapi-python-client")
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    done = subprocess.run(
        [str(generator), "generate", "--path", str(document), "--meta", "none", "--output-path", str(out / "lg")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=out,
        env={"PATH": str(Path(ruff).parent) if ruff else "", "HOME": str(out)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(out))
    try:
        yield "lg"
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "lg" or m.startswith("lg.")]:
            del sys.modules[name]


def _module(package: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


def _customer_client(stack: LocalStack, package: str, contact: str) -> Any:
    """A generated client sending a new customer's api key, as a client app's backend would."""
    key = stack.create_customer("Generated client", contact)["apiKey"]
    return _module(package, "client").AuthenticatedClient(
        base_url=_root(stack), token=key, prefix="", auth_header_name="x-api-key"
    )


def _root(stack: LocalStack) -> str:
    """Where the document's paths (`/api/v1/...`) start."""
    return stack.base_url.removesuffix("/api")


def test_a_generated_client_runs_a_whole_check(stack: LocalStack, client_package: str):
    client = _module(client_package, "client")
    models = _module(client_package, "models")
    consent = _module(client_package, "api.client.create_consent")
    create = _module(client_package, "api.client.create_session")
    result = _module(client_package, "api.client.get_session_result")

    with_key = _customer_client(stack, client_package, "gen@contoso.example")
    guid = str(uuid4())
    body = models.ConsentRequest(correlation_id=guid, policy_version="v1")
    granted = consent.sync_detailed(client=with_key, body=body)
    assert granted.status_code == 201, granted.content

    issued = create.sync_detailed(client=with_key, body=models.SessionRequest(correlation_id=guid))
    assert issued.status_code == 201, issued.content
    session = issued.parsed
    assert isinstance(session, models.SessionResponse) and session.calls_allowed >= 1
    requests.post(
        f"{stack.face.endpoint}/face/v1.2/detectLiveness-sessions/{session.session_id}/attempts",
        json={"livenessDecision": "realface"},
        headers={"Authorization": f"Bearer {session.face_auth_token}"},
        timeout=30,
    )

    with_token = client.AuthenticatedClient(base_url=_root(stack), token=session.session_token)
    answer = result.sync_detailed(UUID(session.session_id), client=with_token)
    assert answer.status_code == 200, answer.content
    assert isinstance(answer.parsed, models.ResultResponse)
    assert answer.parsed.liveness_decision == models.LivenessDecision.REALFACE
    assert answer.parsed.subject_status == models.SubjectStatus.ACTIVE


def test_a_refusal_reads_as_the_typed_error_envelope(stack: LocalStack, client_package: str):
    models = _module(client_package, "models")
    create = _module(client_package, "api.client.create_session")

    with_key = _customer_client(stack, client_package, "gen2@contoso.example")
    refused = create.sync_detailed(client=with_key, body=models.SessionRequest(correlation_id=str(uuid4())))
    assert refused.status_code == 403, refused.content
    assert isinstance(refused.parsed, models.Error)
    assert refused.parsed.error.code == models.ErrorErrorCode.CONSENT_REQUIRED
