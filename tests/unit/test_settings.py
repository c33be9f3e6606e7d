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


def _as_setting(value: object) -> str:
    """A default as an app setting spells it: 10.0 -> '10', False -> 'false'."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_default_the_bicep_sets_is_the_settings_models_own():
    """The Bicep app settings repeat the defaults for operators to see and change; they may not drift."""
    import re

    bicep = (ROOT / "infra" / "main.bicep").read_text()
    set_there = dict(re.findall(r"^\s+([A-Z][A-Z0-9_]+): '([^']*)'", bicep, re.MULTILINE))
    drifted = []
    for field in Settings.model_fields.values():
        default, there = field.default, set_there.get(field.alias or "")
        plain = isinstance(default, int | float | str) and default not in ("", None)
        if there is not None and plain and there != _as_setting(default):
            drifted.append(f"{field.alias}: Bicep {there!r}, model {default!r}")
    assert drifted == []
    assert len(set_there) >= 30  # the check reads the app settings block, not nothing
