"""Offline checks of the Bicep in infra/ (the Bicep CLI cannot be installed here).

    python -m devtools.infra_check [infra-dir]

Parses every .bicep file with pycep-parser and reports what a deployment of Liveness Guard must
not lack: identity-based storage with shared keys off and TLS 1.2, the tables and queues the app
uses, Flex Consumption on Python 3.11, exactly the roles the identity needs (named with guid()),
Entra-only Face, ACS and Application Insights, no secret in outputs or parameters, app settings
in step with local.settings.sample.json, and both shapes of the vnetEnabled switch (network_check).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from pycep import BicepParser

from devtools import network_check

ROOT = Path(__file__).resolve().parent.parent
ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "a97b65f3-24c7-4388-baec-2e87135dc908": "Cognitive Services User",
    "09976791-48a7-449e-bb21-39d1a415f350": "Communication and Email Service Owner",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
}
# Settings that exist only on a developer machine; Azure uses identities instead.
LOCAL_ONLY = {
    "FUNCTIONS_WORKER_RUNTIME",  # Flex Consumption takes the runtime from functionAppConfig
    "AzureWebJobsFeatureFlags",
    "AzureWebJobsStorage",  # a connection string; Azure uses AzureWebJobsStorage__* with the identity
    "FACE_API_KEY",  # Azure uses FACE_CLIENT_ID (managed identity)
    "ACS_CONNECTION_STRING",  # Azure uses ACS_ENDPOINT + ACS_CLIENT_ID
    "EMAIL_CA_BUNDLE",  # the local email endpoint's test CA
    "ADMIN_API_KEY",  # Azure uses Entra sign-in with app roles
    "OTEL_CONSOLE",  # telemetry printed locally; Azure exports to Application Insights
}
IDENTITY_STORAGE = {
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__tableServiceUri",
}
SECRET_WORDS = re.compile(r"(key|secret|password|connection_?string|token)s?$", re.IGNORECASE)


def parse(path: Path) -> dict[str, Any]:
    return BicepParser().parse(file_path=path)


def flat(value: Any) -> str:
    """A parsed expression as compact text, for substring checks."""
    return json.dumps(value, default=str, sort_keys=True)


def _module(main: dict[str, Any], path_fragment: str) -> dict[str, Any] | None:
    for module in main.get("modules", {}).values():
        detail = module.get("detail", {})
        if path_fragment in str(detail.get("path", "")) or path_fragment == detail.get("path"):
            return module
    return None


def check(infra: Path = ROOT / "infra", sample: Path = ROOT / "local.settings.sample.json") -> list[str]:
    """Every problem found (an empty list when the infrastructure is as it must be)."""
    problems: list[str] = []
    try:
        files = {p.relative_to(infra).as_posix(): parse(p) for p in sorted(infra.rglob("*.bicep"))}
    except Exception as exc:
        return [f"a Bicep file does not parse: {exc}"]
    main = files.get("main.bicep")
    if main is None:
        return ["infra/main.bicep is missing"]
    problems += _check_modules_pinned(main)
    problems += _check_storage(main)
    problems += _check_function_app(files.get("app/api.bicep"), main)
    problems += _check_settings(main, sample, infra)
    problems += _check_monitoring(main)
    problems += _check_face(files.get("app/face.bicep"))
    problems += _check_email(files.get("app/communication.bicep"), main, infra)
    problems += _check_roles(files.get("app/rbac.bicep"))
    problems += _check_alerts(files.get("app/alerts.bicep"), main)
    for name, parsed in files.items():
        problems += _check_outputs(name, parsed)
    problems += _check_parameters(infra / "main.parameters.json")
    problems += network_check.check(files)
    return problems


def _check_modules_pinned(main: dict[str, Any]) -> list[str]:
    problems = []
    for name, module in main.get("modules", {}).items():
        detail = module.get("detail", {})
        if module.get("type") == "bicep_registry_alias" and not re.fullmatch(r"\d+\.\d+\.\d+", str(detail.get("tag"))):
            problems.append(f"module {name}: registry module not pinned to a version ({detail.get('tag')})")
    return problems


def _check_storage(main: dict[str, Any]) -> list[str]:
    module = _module(main, "avm/res/storage/storage-account")
    if module is None:
        return ["no storage account module"]
    params = module["config"]["params"]
    problems = []
    if params.get("allowSharedKeyAccess") is not False:
        problems.append("storage: allowSharedKeyAccess must be false")
    if params.get("minimumTlsVersion") != "TLS1_2":
        problems.append("storage: minimumTlsVersion must be TLS1_2")
    if params.get("allowBlobPublicAccess") is not False:
        problems.append("storage: allowBlobPublicAccess must be false")
    from shared.adapters.tables import TABLES

    tables = flat(params.get("tableServices"))
    problems += [f"storage: table {t} is not created" for t in TABLES if f"${{tablePrefix}}{t}" not in tables]
    queues = flat(params.get("queueServices"))
    if "notificationQueue" not in queues or "${notificationQueue}-poison" not in queues:
        problems.append("storage: the notification queue and its poison queue must both be created")
    if "deploymentContainerName" not in flat(params.get("blobServices")):
        problems.append("storage: the deployment package container is missing")
    return problems


def _check_function_app(api: dict[str, Any] | None, main: dict[str, Any]) -> list[str]:
    if api is None:
        return ["infra/app/api.bicep is missing"]
    site = api["resources"].get("site", {})
    config = site.get("config", {})
    props = config.get("properties", {})
    app_config = props.get("functionAppConfig", {})
    problems = []
    if "functionapp" not in str(config.get("kind")):
        problems.append("function app: kind must be functionapp")
    if app_config.get("runtime") != {"name": "python", "version": "3.11"}:
        problems.append("function app: runtime must be python 3.11")
    if flat(app_config.get("deployment", {})).count("UserAssignedIdentity") < 1:
        problems.append("function app: deployment storage must use the user-assigned identity")
    if config.get("identity", {}).get("type") != "UserAssigned":
        problems.append("function app: identity must be user-assigned")
    if props.get("httpsOnly") is not True or props.get("siteConfig", {}).get("minTlsVersion") != "1.2":
        problems.append("function app: https only with TLS 1.2")
    plan = _module(main, "avm/res/web/serverfarm")
    if plan is None or plan["config"]["params"].get("sku") != {"name": "FC1", "tier": "FlexConsumption"}:
        problems.append("plan: must be Flex Consumption (FC1)")
    auth = api["resources"].get("auth")
    if (
        auth is None
        or "authClientId" not in flat(auth.get("config", {}).get("condition"))
        or "authsettingsV2" not in flat(auth)
    ):
        problems.append(
            "function app: App Service Authentication (authsettingsV2) must be configured when authClientId is set"
        )
    return problems


def app_settings(main: dict[str, Any], infra: Path | None = None) -> dict[str, Any]:
    """The app settings main.bicep hands the function app: an object, or
    `union(loadJsonContent('<file>'), {...})` (the file read relative to infra/)."""
    module = main.get("modules", {}).get("api", {})
    value = module.get("config", {}).get("params", {}).get("appSettings", {}) or {}
    return _resolve(value, infra or ROOT / "infra")


def _resolve(value: Any, infra: Path) -> dict[str, Any]:
    function = value.get("function") if isinstance(value, dict) else None
    if function is None:
        return value
    parameters = list(function["parameters"].values())
    if function["type"] == "load_json_content":
        return json.loads((infra / parameters[0]).read_text())
    if function["type"] == "union":
        merged: dict[str, Any] = {}
        for part in parameters:
            merged |= _resolve(part, infra)
        return merged
    raise ValueError(f"appSettings: cannot read a {function['type']}(...)")


def _check_settings(main: dict[str, Any], sample_path: Path, infra: Path) -> list[str]:
    settings = app_settings(main, infra)
    sample = json.loads(sample_path.read_text())["Values"]
    problems = [f"app setting {name} is missing (identity-based storage)" for name in IDENTITY_STORAGE - set(settings)]
    if settings.get("AzureWebJobsStorage__credential") != "managedidentity":
        problems.append("app setting AzureWebJobsStorage__credential must be managedidentity")
    if "AzureWebJobsStorage" in settings:
        problems.append("app setting AzureWebJobsStorage (a connection string) must not be used in Azure")
    if not str(settings.get("SESSION_SEALING_KEY", "")).startswith("@Microsoft.KeyVault("):
        problems.append("app setting SESSION_SEALING_KEY must be a Key Vault reference")
    if "easyAuthEnabled" not in flat(settings.get("EASY_AUTH_ENABLED")):
        problems.append("app setting EASY_AUTH_ENABLED must follow whether sign-in is configured")
    for name in sorted(set(sample) - LOCAL_ONLY - set(settings)):
        problems.append(f"drift: {name} is in local.settings.sample.json but not in the Bicep app settings")
    from shared.settings import setting_names

    for name in sorted((set(settings) & setting_names()) - set(sample)):
        problems.append(f"drift: {name} is set by the Bicep but missing from local.settings.sample.json")
    for name in sorted(n for n in set(settings) & set(sample) if n.startswith(("POLICY_", "RETENTION_"))):
        if settings[name] != sample[name]:
            problems.append(f"drift: {name} is {settings[name]!r} in Bicep but {sample[name]!r} locally")
    return problems


def _check_monitoring(main: dict[str, Any]) -> list[str]:
    insights = _module(main, "avm/res/insights/component")
    workspace = _module(main, "avm/res/operational-insights/workspace")
    if insights is None or workspace is None:
        return ["Application Insights on a Log Analytics workspace is missing"]
    params = insights["config"]["params"]
    problems = []
    if params.get("disableLocalAuth") is not True:
        problems.append("Application Insights: local auth must be disabled")
    if "logAnalytics" not in flat(params.get("workspaceResourceId")):
        problems.append("Application Insights must use the Log Analytics workspace")
    return problems


# Each alert docs/operations.md asks for, and what its query must read (all of the markers).
ALERTS = {
    "poison queue (notifications)": ("liveness_guard.queue.poison", '\\"notifications\\"'),
    "poison queue (webhooks)": ("liveness_guard.queue.poison", '\\"webhooks\\"'),
    "retention sweep failed or overdue": ("liveness_guard.sweep.runs", "failed > 0", "ok == 0"),
    "pending review older than the SLA": ("liveness_guard.reviews.oldest_pending", "${reviewSlaSeconds}"),
    "Face or storage failure rate": ("dependencies", "face", "storage", "${failureRatePercent}"),
}


def _check_alerts(alerts: dict[str, Any] | None, main: dict[str, Any]) -> list[str]:
    """Every alert exists, is on, reads the app's Application Insights and notifies the action group,
    whose email receiver is the `alertEmail` parameter main.bicep passes on."""
    if alerts is None:
        return ["infra/app/alerts.bicep is missing"]
    resources = alerts.get("resources", {})
    groups = [n for n, r in resources.items() if r.get("type") == "Microsoft.Insights/actionGroups"]
    problems = []
    if len(groups) != 1 or "alertEmail" not in flat(resources[groups[0]]["config"]["properties"].get("emailReceivers")):
        problems.append("alerts: one action group emailing the alertEmail parameter is required")
    module = _module(main, "app/alerts.bicep")
    if module is None or "alertEmail" not in flat(module["config"]["params"].get("alertEmail")):
        problems.append("alerts: main.bicep must deploy app/alerts.bicep with the alertEmail parameter")
    if module is not None and "monitoring" not in flat(module["config"]["params"].get("appInsightsId")):
        problems.append("alerts: the rules must read the app's Application Insights")
    rules = {
        name: r["config"]["properties"]
        for name, r in resources.items()
        if r.get("type") == "Microsoft.Insights/scheduledQueryRules"
    }
    for what, markers in ALERTS.items():
        found = [p for p in rules.values() if all(m in flat(p.get("criteria")) for m in markers)]
        if not found:
            problems.append(f"alert missing: {what}")
        elif not any(_wired(p, groups) for p in found):
            problems.append(f"alert not wired to the action group (or disabled, or not on the app's telemetry): {what}")
    emitted = _emitted_metrics()
    for name, props in rules.items():
        problems += [
            f"alert {name} reads {metric}, which the app does not emit"
            for metric in re.findall(r"liveness_guard\.[a-z_.]+", flat(props.get("criteria")))
            if metric not in emitted
        ]
    return problems


def _wired(props: dict[str, Any], groups: list[str]) -> bool:
    actions = flat(props.get("actions"))
    return (
        props.get("enabled") is True
        and "appInsightsId" in flat(props.get("scopes"))
        and any(f'"operand_1": "{g}"' in actions for g in groups)
    )


def _emitted_metrics() -> set[str]:
    from shared.telemetry import COUNTERS, GAUGES, SCOPE

    return {f"{SCOPE}.{name}" for name in (*COUNTERS, *GAUGES)}


def _check_face(face: dict[str, Any] | None) -> list[str]:
    if face is None:
        return ["infra/app/face.bicep is missing"]
    account = face["resources"].get("face", {}).get("config", {})
    props = account.get("properties", {})
    problems = []
    if account.get("kind") != "Face":
        problems.append("Face: the Cognitive Services account must be kind Face")
    if not props.get("customSubDomainName"):
        problems.append("Face: a custom subdomain is required for Entra ID auth")
    if props.get("disableLocalAuth") is not True:
        problems.append("Face: local (key) auth must be disabled")
    return problems


def _check_email(email: dict[str, Any] | None, main: dict[str, Any], infra: Path) -> list[str]:
    if email is None:
        return ["infra/app/communication.bicep is missing"]
    resources = email["resources"]
    problems = []
    domain = resources.get("domain", {}).get("config", {}).get("properties", {})
    if domain.get("domainManagement") != "AzureManaged":
        problems.append("email: an Azure-managed domain is required")
    acs = resources.get("communication", {}).get("config", {}).get("properties", {})
    if "domain" not in flat(acs.get("linkedDomains")) or acs.get("disableLocalAuth") is not True:
        problems.append("email: ACS must link the domain and disable local auth")
    if "senderAddress" not in flat(app_settings(main, infra).get("EMAIL_SENDER_ADDRESS")):
        problems.append("email: the sender address must be handed to the app")
    return problems


def _check_roles(rbac: dict[str, Any] | None) -> list[str]:
    if rbac is None:
        return ["infra/app/rbac.bicep is missing"]
    declared = set(rbac.get("variables", {}).get("roles", {}).get("value", {}).values())
    problems = [f"role {name} is not assigned" for rid, name in ROLES.items() if rid not in declared]
    problems += [f"role {rid} is assigned but not needed" for rid in declared - set(ROLES)]
    for name, resource in rbac.get("resources", {}).items():
        config = resource.get("config", {})
        name_expression = config.get("config", config).get("name")  # loops nest the body one level down
        if resource.get("type") == "Microsoft.Authorization/roleAssignments" and '"type": "guid"' not in flat(
            name_expression
        ):
            problems.append(f"role assignment {name} must be named with guid()")
    return problems


def _check_outputs(file: str, parsed: dict[str, Any]) -> list[str]:
    problems = []
    for name, output in parsed.get("outputs", {}).items():
        text = flat(output.get("value"))
        if SECRET_WORDS.search(name) or re.search(r"listKeys|connectionString|secretUri|accessKey", text, re.I):
            if "secretUri" in text and file == "app/keyvault.bicep":
                continue  # a Key Vault reference URI, not a secret
            problems.append(f"{file}: output {name} exposes a key, secret or connection string")
    return problems


def _check_parameters(path: Path) -> list[str]:
    if not path.exists():
        return ["infra/main.parameters.json is missing"]
    problems = []
    for name, entry in json.loads(path.read_text()).get("parameters", {}).items():
        value = entry.get("value")
        literal = isinstance(value, str) and not re.fullmatch(r"\$[({].*[)}]", value)
        if SECRET_WORDS.search(name) and (literal or ("reference" not in entry and not isinstance(value, str))):
            problems.append(f"main.parameters.json: {name} holds a literal secret")
    return problems


def main() -> None:
    infra = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "infra"
    problems = check(infra)
    for problem in problems:
        print(f"- {problem}")
    print("infrastructure checks: " + ("ok" if not problems else f"{len(problems)} problem(s)"))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
