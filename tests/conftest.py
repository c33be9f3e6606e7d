"""Test fixtures: a real Azurite and Face emulator per test run, fresh tables per test."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from devtools.stack import Azurite, EmailSink, FaceEmulator
from tests.support import ApiClient, FakeClock

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# Property-based tests: the same examples every run (a CI failure reproduces), 300 of them, and no
# example database or character cache written into the checkout.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="lg-hypothesis-"))
settings.register_profile("project", derandomize=True, max_examples=300, database=None)
settings.load_profile("project")
ADMIN_KEY = "test-admin-key-0123456789abcdef"
BASE_SETTINGS = {
    "ADMIN_API_KEY": ADMIN_KEY,
    "EASY_AUTH_ENABLED": "false",
    "SESSION_SEALING_KEY": "dGVzdC1vbmx5LXNlYWxpbmcta2V5LTMyLWJ5dGVzISE=",
    "FACE_TIMEOUT_SECONDS": "3",
    "FACE_MAX_RETRIES": "1",
    "FACE_CLIENT_ATTEMPTS": "3",  # the scenarios make up to 3 attempts in one session
    "REVIEW_SECOND_OPINION_RATE": "0",  # no decision is asked for a second opinion unless a test says so
}
FACE_API_VERSIONS = ("v1.2", "v1.3-preview.1")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that builds the app runs once per Face API version (README.md, Face emulator)."""
    if "face_api_version" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("face_api_versions")
        versions = only.args if only else FACE_API_VERSIONS
        metafunc.parametrize("face_api_version", versions, indirect=True, scope="session")


@pytest.fixture(scope="session")
def face_api_version(request: pytest.FixtureRequest) -> str:
    """The Face API version the app speaks in this test (parametrised: both, in every run)."""
    return request.param


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    ARTIFACTS.mkdir(exist_ok=True)
    instance = Azurite().start(log=ARTIFACTS / "azurite.log")
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def face() -> Iterator[FaceEmulator]:
    instance = FaceEmulator().start(log=ARTIFACTS / "face-emulator.log")
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def email_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmailSink]:
    # the CA in this run's own folder: another test run (or make run) on the machine has its own
    ca_file = tmp_path_factory.mktemp("email") / "email-ca.pem"
    instance = EmailSink(ca_file=ca_file).start(log=ARTIFACTS / "email-sink.log")
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def base_env(azurite: Azurite, face: FaceEmulator, email_sink: EmailSink) -> dict[str, str]:
    env = {
        **BASE_SETTINGS,
        "AzureWebJobsStorage": azurite.connection_string,
        "FACE_ENDPOINT": face.endpoint,
        "FACE_API_KEY": face.key,
        "ACS_CONNECTION_STRING": email_sink.connection_string,
        "EMAIL_CA_BUNDLE": str(email_sink.ca_file),
        "EMAIL_SENDER_ADDRESS": "DoNotReply@liveness-guard.test",
        "EMAIL_POLL_INTERVAL_SECONDS": "0.05",
    }
    os.environ.update(env)
    return env


@pytest.fixture(scope="session")
def router(base_env: dict[str, str]):
    """The app's routes, read once from `function_app.app` (get_functions may run once per app)."""
    import function_app
    from devtools.localhost.routing import Router, http_functions

    return Router(http_functions(function_app.app), "api")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def configure(base_env: dict[str, str], clock: FakeClock, monkeypatch: pytest.MonkeyPatch, face_api_version: str):
    """Apply setting overrides on fresh tables and rebuild the services; returns the services."""
    from shared import bootstrap

    def apply(**overrides: str):
        unique = uuid.uuid4().hex[:12]
        monkeypatch.setenv("TABLE_NAME_PREFIX", "t" + unique)
        monkeypatch.setenv("NOTIFICATION_QUEUE", "notes-" + unique)
        monkeypatch.setenv("WEBHOOK_QUEUE", "hooks-" + unique)
        monkeypatch.setenv("FACE_API_VERSION", face_api_version)
        for name, value in overrides.items():
            monkeypatch.setenv(name, value)
        bootstrap.reset(clock)
        return bootstrap.services()

    yield apply
    bootstrap.reset()


@pytest.fixture
def services(configure):
    return configure()


@pytest.fixture
def api(router, services) -> ApiClient:
    return ApiClient(router)
