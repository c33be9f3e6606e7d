"""Offline checks of infra/ (pycep-parser): they pass on the real Bicep and fail on broken copies."""

import json
from pathlib import Path

import pytest

from devtools.infra_check import ROOT, app_settings, check, parse
from tests.infra.breakage import broken_copy

INFRA = ROOT / "infra"
SAMPLE = ROOT / "local.settings.sample.json"


def test_the_bicep_meets_every_requirement():
    assert check(INFRA, SAMPLE) == []


def test_azure_yaml_deploys_the_function_app_with_azd():
    text = (ROOT / "azure.yaml").read_text()
    assert "host: function" in text and "language: python" in text and "path: infra" in text


def test_parameters_file_holds_no_secret_value():
    params = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert params["sessionSealingKey"]["value"].startswith("$(secretOrRandomPassword")
    text = json.dumps(params)
    assert "AccountKey=" not in text and "accesskey=" not in text.lower()


def test_outputs_expose_no_key_or_connection_string():
    outputs = parse(INFRA / "main.bicep")["outputs"]
    assert "SERVICE_API_URI" in outputs
    assert not any("connection" in name.lower() or name.lower().endswith("key") for name in outputs)


def test_every_setting_the_app_reads_is_set_in_azure_or_is_local_only():
    from devtools.infra_check import LOCAL_ONLY
    from shared.settings import setting_names

    bicep = set(app_settings(parse(INFRA / "main.bicep")))
    required = {"FACE_ENDPOINT", "EMAIL_SENDER_ADDRESS", "SESSION_SEALING_KEY", "ACS_ENDPOINT"}
    assert required <= bicep
    assert setting_names() - bicep - LOCAL_ONLY == set()


BREAKAGES = [
    ("main.bicep", "    allowSharedKeyAccess: false\n", "", "allowSharedKeyAccess"),
    ("main.bicep", "minimumTlsVersion: 'TLS1_2'", "minimumTlsVersion: 'TLS1_0'", "minimumTlsVersion"),
    ("main.bicep", "      AzureWebJobsStorage__credential: 'managedidentity'\n", "", "AzureWebJobsStorage__credential"),
    ("app/app-settings.json", '  "POLICY_SPOOFS_TO_FLAG": "3",\n', "", "POLICY_SPOOFS_TO_FLAG"),
    (
        "app/app-settings.json",
        '"POLICY_SESSIONS_PER_HOUR": "10"',
        '"POLICY_SESSIONS_PER_HOUR": "100"',
        "POLICY_SESSIONS_PER_HOUR",
    ),
    ("main.bicep", "{ name: '${notificationQueue}-poison' }", "", "poison"),
    ("main.bicep", "user-assigned-identity:0.4.1", "user-assigned-identity:latest", "not pinned"),
    ("main.bicep", "    disableLocalAuth: true\n", "", "Application Insights"),
    (
        "main.bicep",
        "output AZURE_LOCATION string = location",
        "output STORAGE_CONNECTION_STRING string = 'DefaultEndpointsProtocol=https;AccountKey=${storage.outputs.name}'",
        "STORAGE_CONNECTION_STRING",
    ),
    ("app/api.bicep", "version: '3.11'", "version: '3.10'", "python 3.11"),
    ("app/face.bicep", "    disableLocalAuth: true\n", "", "Face"),
    ("app/rbac.bicep", "  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'\n", "", "Key Vault Secrets User"),
    (
        "app/rbac.bicep",
        "name: guid(face.id, principalId, roles.cognitiveServicesUser)",
        "name: 'face-access'",
        "guid()",
    ),
    (
        "app/communication.bicep",
        "domainManagement: 'AzureManaged'",
        "domainManagement: 'CustomerManaged'",
        "Azure-managed",
    ),
    (
        "main.parameters.json",
        '"$(secretOrRandomPassword ${AZURE_KEY_VAULT_NAME} session-sealing-key)"',
        '"hunter2-hunter2-hunter2-hunter2-hunter2"',
        "literal secret",
    ),
]


def _rule(name: str) -> str:
    """One alert rule's text in alerts.bicep: from its `resource` line to the next resource or output."""
    text = (INFRA / "app" / "alerts.bicep").read_text()
    start = text.index(f"resource {name} ")
    return text[start : min(i for i in (text.find("\nresource ", start), text.find("\noutput ", start)) if i > 0)]


def _in_rule(name: str, old: str, new: str, expected: str) -> tuple[str, str, str, str]:
    """A breakage of one alert rule: `old` replaced by `new` inside it (the whole rule when `old` is empty)."""
    rule = _rule(name)
    return ("app/alerts.bicep", rule, rule.replace(old, new) if old else "", expected)


ALERT_BREAKAGES = [
    _in_rule("poisonNotifications", "", "", "alert missing: poison queue (notifications)"),
    _in_rule("poisonWebhooks", "", "", "alert missing: poison queue (webhooks)"),
    _in_rule("sweepMissed", "", "", "alert missing: retention sweep failed or overdue"),
    _in_rule("reviewOverdue", "", "", "alert missing: pending review older than the SLA"),
    _in_rule("dependencyFailures", "", "", "alert missing: Face or storage failure rate"),
    _in_rule("reviewOverdue", "[actionGroup.id]", "[]", "alert not wired to the action group"),
    _in_rule("sweepMissed", "enabled: true", "enabled: false", "alert not wired to the action group"),
    _in_rule("reviewOverdue", "oldest_pending", "oldest", "alert missing: pending review older than the SLA"),
    ("app/alerts.bicep", "emailAddress: alertEmail", "emailAddress: 'ops@example.org'", "action group emailing"),
    ("main.bicep", "    alertEmail: alertEmail\n", "", "with the alertEmail parameter"),
]
ALL_BREAKAGES = BREAKAGES + ALERT_BREAKAGES


@pytest.mark.parametrize(("file", "old", "new", "expected"), ALL_BREAKAGES, ids=[b[3] for b in ALL_BREAKAGES])
def test_a_deliberately_broken_copy_fails(tmp_path: Path, file, old, new, expected):
    problems = check(broken_copy(tmp_path, file, old, new), SAMPLE)
    assert any(expected in p for p in problems), problems


def test_a_setting_added_to_the_sample_only_is_reported_as_drift(tmp_path: Path):
    sample = json.loads(SAMPLE.read_text())
    sample["Values"]["POLICY_NEW_THRESHOLD"] = "7"
    drifted = tmp_path / "local.settings.sample.json"
    drifted.write_text(json.dumps(sample))
    assert any("POLICY_NEW_THRESHOLD" in p for p in check(INFRA, drifted))
