import json
from pathlib import Path

import pytest

from shared.settings import Settings, SettingsError, load_settings, setting_names

ROOT = Path(__file__).resolve().parents[2]
VALID = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "FACE_ENDPOINT": "http://127.0.0.1:7081",
    "SESSION_SEALING_KEY": "bG9jYWwtb25seS1zZWFsaW5nLWtleS0zMi1ieXRlcyE=",
    "ACS_CONNECTION_STRING": "endpoint=https://127.0.0.1:7082/;accesskey=a2V5",
    "EMAIL_SENDER_ADDRESS": "DoNotReply@example.com",
}


def test_valid_settings_load_with_documented_defaults():
    settings = load_settings(VALID)
    assert settings.session_call_budget == 5 and settings.sessions_per_hour_limit == 10
    assert settings.easy_auth_enabled is False
    assert settings.face_api_version == "v1.2" and settings.face_client_attempts == 1


@pytest.mark.parametrize(
    "missing", ["FACE_ENDPOINT", "SESSION_SEALING_KEY", "EMAIL_SENDER_ADDRESS", "ACS_CONNECTION_STRING"]
)
def test_a_missing_setting_stops_start_up_and_is_named(missing):
    values = {k: v for k, v in VALID.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        load_settings(values)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SESSION_CALL_BUDGET", "many"),
        ("SESSION_SEALING_KEY", "c2hvcnQ="),
        ("EASY_AUTH_ENABLED", "perhaps"),
        ("FACE_API_VERSION", "v1.3"),
        ("FACE_CLIENT_ATTEMPTS", "4"),
        ("POLICY_SESSIONS_PER_HOUR", "61"),  # a subject's state would outgrow its table property
        ("STORAGE_TIMEOUT_SECONDS", "30"),  # a call must answer within 10 s
    ],
)
def test_a_malformed_setting_is_named(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({**VALID, name: value})


def test_storage_must_be_configured_one_way_or_the_other():
    values = {k: v for k, v in VALID.items() if k != "AzureWebJobsStorage"}
    with pytest.raises(SettingsError, match="AzureWebJobsStorage"):
        load_settings(values)
    table_only = {**values, "AzureWebJobsStorage__tableServiceUri": "https://x.table.core.windows.net"}
    with pytest.raises(SettingsError, match="AzureWebJobsStorage__queueServiceUri"):  # names itself, as the table URI
        load_settings(table_only)
    load_settings({**table_only, "AzureWebJobsStorage__queueServiceUri": "https://x.queue.core.windows.net"})


def test_sample_settings_list_every_setting_the_app_reads_and_load():
    sample = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    assert setting_names() <= set(sample), setting_names() - set(sample)
    load_settings(sample)


def test_notifier_knows_the_queues_max_dequeue_count_from_host_json():
    host = json.loads((ROOT / "host.json").read_text())
    sample = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    assert str(host["extensions"]["queues"]["maxDequeueCount"]) == sample["NOTIFICATION_MAX_DEQUEUE_COUNT"]


def test_the_largest_policy_limits_and_token_lifetime_load():
    largest = {
        "SESSION_TOKEN_TTL_SECONDS": "86400",
        "POLICY_SESSIONS_PER_HOUR": "60",
        "POLICY_FAILED_CHECKS_LIMIT": "100",
        "POLICY_SPOOFS_TO_FLAG": "50",
        "POLICY_TIMEOUTS_TO_FLAG": "50",
    }
    assert load_settings({**VALID, **largest}).sessions_per_hour_limit == 60


AZURE = {
    **VALID,
    "SESSION_SEALING_KEY": "an-operator-chosen-secret-of-32-characters-or-more",
    "WEBSITE_SITE_NAME": "lg",
}


def test_sample_secret_hashes_match_the_sample_file():
    import hashlib

    from shared.settings import SAMPLE_SECRET_HASHES, SECRET_SETTINGS

    sample = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    published = {hashlib.sha256(v.encode()).hexdigest() for k, v in sample.items() if k in SECRET_SETTINGS and v}
    assert published == SAMPLE_SECRET_HASHES


def test_in_azure_trusting_the_principal_header_needs_platform_authentication():
    with pytest.raises(SettingsError, match="WEBSITE_AUTH_ENABLED"):
        load_settings({**AZURE, "EASY_AUTH_ENABLED": "true"})
    with pytest.raises(SettingsError, match="WEBSITE_AUTH_ENABLED"):
        load_settings({**AZURE, "EASY_AUTH_ENABLED": "true", "WEBSITE_AUTH_ENABLED": "False"})
    assert load_settings({**AZURE, "EASY_AUTH_ENABLED": "true", "WEBSITE_AUTH_ENABLED": "True"}).easy_auth_enabled
    assert load_settings({**VALID, "EASY_AUTH_ENABLED": "true"}).easy_auth_enabled  # locally: a developer's choice


@pytest.mark.parametrize("name", ["ADMIN_API_KEY", "SESSION_SEALING_KEY", "FACE_API_KEY", "ACS_CONNECTION_STRING"])
def test_in_azure_a_published_sample_secret_is_refused(name):
    sample = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    with pytest.raises(SettingsError, match=name):
        load_settings({**AZURE, name: sample[name]})
    load_settings({**VALID, name: sample[name]})  # fine on a developer's machine


def test_malformed_or_duplicate_guidelines_stop_the_start():
    import json

    import pytest

    from shared.settings import SettingsError, load_settings

    base = {"FACE_ENDPOINT": "http://f", "EMAIL_SENDER_ADDRESS": "a@b.c", "SESSION_SEALING_KEY": "k" * 32}
    twice = [{"id": "a", "title": "A", "text": "t"}] * 2
    for bad in ("not json", "[]", json.dumps(twice), json.dumps([{"id": "Bad Id", "title": "A", "text": "t"}])):
        with pytest.raises(SettingsError, match="REVIEW_GUIDELINES_JSON"):
            load_settings({**base, "REVIEW_GUIDELINES_JSON": bad})


def test_every_file_that_repeats_the_settings_is_generated_from_the_model():
    """local.settings.sample.json, infra/app/app-settings.json and the README table come from the
    Settings model's defaults and shared/settings_catalog.py (regenerate: python -m shared.settings_catalog)."""
    from shared.settings_catalog import drift

    assert drift() == []


def test_the_catalog_describes_every_setting_once_and_nothing_else():
    from shared.settings_catalog import NOT_MODELLED, ROWS

    named = [n for row in ROWS for n in row.names]
    assert len(named) == len(set(named))
    assert set(named) == setting_names() | set(NOT_MODELLED) | {"APPLICATIONINSIGHTS_CONNECTION_STRING"}


def test_a_changed_default_is_reported_until_the_files_are_regenerated(monkeypatch):
    from shared import settings_catalog

    field = Settings.model_fields["spoofs_to_flag"]
    monkeypatch.setattr(field, "default", 4)
    assert set(settings_catalog.drift()) == {"local.settings.sample.json", "infra/app/app-settings.json", "README.md"}
