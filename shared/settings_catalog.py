"""Every app setting from one source: the `Settings` model's defaults, described here once.

`python -m shared.settings_catalog` writes what repeats them — `local.settings.sample.json`,
`infra/app/app-settings.json` (the literal app settings `infra/main.bicep` deploys, loaded with
`loadJsonContent`) and the README's settings table — and `--check` (a test runs it) fails when
any of them differs from what the model and this catalog make.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "local.settings.sample.json"
AZURE_LITERALS = ROOT / "infra" / "app" / "app-settings.json"
README = ROOT / "README.md"
TABLE_START, TABLE_END = "<!-- settings table: python -m shared.settings_catalog -->", "<!-- end of settings table -->"


@dataclass(frozen=True)
class Row:
    """One row of the settings table: the settings it describes and what they mean."""

    names: tuple[str, ...]
    meaning: str
    shown: str | None = None  # the default column, for a setting the model does not read


ROWS: tuple[Row, ...] = (
    Row(
        (
            "AzureWebJobsStorage",
            "AzureWebJobsStorage__tableServiceUri",
            "AzureWebJobsStorage__queueServiceUri",
            "AzureWebJobsStorage__clientId",
        ),
        "storage: a connection string locally; in Azure the table and queue URIs and the managed identity's client id (identity-based connections)",
    ),
    Row(
        ("APPLICATIONINSIGHTS_CONNECTION_STRING",),
        "turns telemetry on: traces, metrics and logs to Application Insights ([docs/operations.md](docs/operations.md))",
        shown="— (set by the Bicep)",
    ),
    Row(
        ("OTEL_CONSOLE",),
        "locally: print the same telemetry (spans, metrics, log records, redacted) on stdout",
        shown="false",
    ),
    Row(
        ("STORAGE_TIMEOUT_SECONDS", "STORAGE_MAX_RETRIES"),
        "per storage call: connect/read timeout (at most 10) and SDK retries (at most 3), so throttled, hung or down storage answers 503 `storage_unavailable` with `Retry-After` within 10 seconds",
    ),
    Row(("TABLE_NAME_PREFIX",), "prefix of every table name"),
    Row(
        ("STORAGE_CREATE_MISSING",),
        "create every table and queue the app uses, if missing, on an instance's first request (16 calls, one after the other). The Bicep creates them and sets `false`, so a cold start in Azure skips those calls (docs/scale.md)",
    ),
    Row(
        ("FACE_ENDPOINT", "FACE_API_KEY", "FACE_CLIENT_ID"),
        "Face resource; without a key the app uses its managed identity (`FACE_CLIENT_ID`)",
    ),
    Row(
        ("FACE_TIMEOUT_SECONDS", "FACE_MAX_RETRIES"),
        "per-call timeout; retries on 408/429/5xx with exponential backoff (a POST is not retried on 5xx)",
    ),
    Row(
        ("FACE_PULL_LIMIT",),
        "Face reads a session request may make to count unread attempts; more open sessions than this → 429 (fail closed)",
    ),
    Row(
        ("FACE_API_VERSION",),
        "Face wire format: `v1.2` (GA) or `v1.3-preview.1` (adds the service's own abuse monitoring; see below)",
    ),
    Row(
        ("FACE_CLIENT_ATTEMPTS",),
        "attempts the device may make in one session (1-3); sent as `numberOfClientAttemptsAllowed` on v1.3; after this many final attempts (or a `realface`) the session is finished and deleted at Face",
    ),
    Row(
        ("CUSTOMER_CACHE_SECONDS",),
        "how long an instance trusts the customer row it read to check api keys (0-300; 0 turns the cache off). A suspension or key rotation made on another instance takes effect here within this bound; made on this instance, at once. Unknown customer ids are remembered too, so made-up keys cost one read per id",
    ),
    Row(("ADMIN_API_KEY",), "`x-admin-key` for automation and local runs (acts as Administrator); unset disables it"),
    Row(
        ("EASY_AUTH_ENABLED",),
        "trust `X-MS-CLIENT-PRINCIPAL` only when App Service Authentication is configured. In Azure the app refuses to start when this is `true` but the platform's authentication is off (`WEBSITE_AUTH_ENABLED` not `True`): anyone could forge the header",
    ),
    Row(
        ("SESSION_SEALING_KEY",),
        "a random secret of at least 32 characters (`openssl rand -base64 32`). HKDF derives one key per purpose from it: sealing Face auth tokens (AES-256-GCM), subject pseudonyms (audit log, gate records), address pseudonyms. In Azure it is a Key Vault reference. Rotate it as below",
    ),
    Row(
        ("SESSION_SEALING_KEYS_PREVIOUS",),
        "comma-separated earlier values of `SESSION_SEALING_KEY`: still open and match what they made (replays in flight, audit look-ups, erasure gates)",
    ),
    Row(("SESSION_TOKEN_TTL_SECONDS", "SESSION_CALL_BUDGET"), "session token lifetime and calls"),
    Row(("DEFAULT_LIVENESS_OPERATION_MODE",), "when a request names none"),
    Row(("MAX_REQUEST_BODY_BYTES",), "larger bodies get 413 `payload_too_large`"),
    Row(
        ("POLICY_FAILED_CHECKS_LIMIT", "POLICY_FAILED_CHECKS_WINDOW_SECONDS"),
        "failed checks (spoofface or uncertain) that time a subject out",
    ),
    Row(("POLICY_TIMEOUT_SECONDS",), "how long a timeout lasts"),
    Row(("POLICY_TIMEOUTS_TO_FLAG", "POLICY_SPOOFS_TO_FLAG", "POLICY_FLAG_WINDOW_SECONDS"), "flagging rules"),
    Row(
        ("POLICY_SESSIONS_PER_HOUR", "POLICY_SESSION_WINDOW_SECONDS"),
        "session cap per subject (at most 60; with the other limits at most 100 failed checks, 50 spoofs, 50 timeouts — a subject's state must fit one table property, and settings whose largest state would not are refused at start-up)",
    ),
    Row(
        ("POLICY_OPEN_SESSIONS",),
        "unfinished sessions one subject may hold (1-5); a new session beyond it first counts the oldest open one's attempts, then revokes it (docs/abuse-policy.md)",
    ),
    Row(
        ("POLICY_IP_FAILED_CHECKS_LIMIT", "POLICY_IP_WINDOW_SECONDS", "POLICY_IP_TIMEOUT_SECONDS"),
        "failed checks per end-user IP (across the customer's GUIDs) that time the IP out, and for how long (limit at most 200)",
    ),
    Row(
        ("POLICY_CUSTOMER_SUSPEND_AFTER", "POLICY_CUSTOMER_WINDOW_SECONDS"),
        "confirmed determinations within the window that suspend a customer",
    ),
    Row(
        ("WEBHOOK_QUEUE",),
        "the Storage queue of webhook deliveries (`<queue>-poison` holds those that failed for good)",
    ),
    Row(
        ("WEBHOOK_RETRY_SECONDS", "WEBHOOK_BACKOFF_SECONDS", "WEBHOOK_TIMEOUT_SECONDS"),
        "how long a delivery is retried, the first backoff (doubling, at most an hour), the timeout of one try",
    ),
    Row(
        ("WEBHOOK_ALLOW_LOOPBACK",),
        "lets webhooks reach `http://127.0.0.1`/`localhost` (local runs only; the app refuses to start in Azure with it on)",
    ),
    Row(
        ("REVIEW_GUIDELINES_JSON",),
        'the guidelines reviewers decide by, `[{"id", "title", "text"}]`; every decision names one',
        shown="(empty: the shipped `shared/review_guidelines.json`)",
    ),
    Row(
        ("REVIEW_SLA_SECONDS",),
        "how long a flag may wait for a reviewer; `GET /review/overview` counts the ones past it as `overdue`, and the Bicep alerts on the oldest",
    ),
    Row(
        ("REVIEW_SECOND_OPINION_RATE",),
        "the share (0-1) of standard confirmations and overrides sent, without the first decision, to a different reviewer for a blind second opinion; `GET /review/calibration` compares the two (a second opinion never changes the first decision)",
    ),
    Row(
        ("REVIEW_FOUR_EYES",),
        "a severe confirmation (it suspends the customer at once) waits, 202, until a second, different person agrees in `/review/second-reviews`; unset, it is on exactly when people sign in (`EASY_AUTH_ENABLED=true`) and off for a local run where the administrator key is the only identity",
        shown="(follows `EASY_AUTH_ENABLED`)",
    ),
    Row(
        ("REVIEW_CLAIM_SECONDS",),
        "how long a reviewer's claim on a pending flag lasts (60-86400); meanwhile another reviewer's decision on it is a 409 `claimed` (an Administrator may take it over)",
    ),
    Row(
        ("REMEDIATION_RESPONSE_DAYS",),
        "days a customer has to answer a standard determination (`respondBy`); without an accepted response by then the sweep expires it and suspends the customer",
    ),
    Row(
        ("ACS_CONNECTION_STRING", "ACS_ENDPOINT", "ACS_CLIENT_ID"),
        "Azure Communication Services Email: connection string locally, endpoint + managed identity in Azure",
    ),
    Row(("EMAIL_SENDER_ADDRESS",), "the `From` address (the ACS managed domain's `DoNotReply@…`)"),
    Row(("EMAIL_CA_BUNDLE",), "local only: the CA file that signed the local email endpoint's TLS certificate"),
    Row(
        ("EMAIL_SEND_ATTEMPTS", "EMAIL_POLL_INTERVAL_SECONDS"),
        "send attempts per delivery (429/5xx, honouring `Retry-After`), status poll interval",
    ),
    Row(
        ("NOTIFICATION_MAX_DEQUEUE_COUNT",),
        "must equal `host.json` `extensions.queues.maxDequeueCount` (a test checks): on that delivery the ledger records `failed`",
    ),
    Row(("SUPPORT_CONTACT",), "who customers contact to respond or remediate (named in every email)"),
    Row(("NOTIFICATION_QUEUE",), "the queue decisions hand emails to (its poison queue is `<name>-poison`)"),
    Row(("RETENTION_SCHEDULE",), "six-field NCRONTAB of the retention sweep (hourly at :17)"),
    Row(("RETENTION_SESSION_GRACE_SECONDS",), "sessions and session tokens: kept until expiry + this"),
    Row(("RETENTION_ATTEMPT_SECONDS",), "attempt decisions (longer while a review is pending)"),
    Row(("RETENTION_SUBJECT_IDLE_SECONDS",), "an active subject's consent and counters after its last activity"),
    Row(("RETENTION_TOMBSTONE_SECONDS",), "blocked/retired tombstones after the decision"),
    Row(("RETENTION_AUDIT_SECONDS", "RETENTION_FEEDBACK_SECONDS"), "audit log, feedback"),
    Row(("RETENTION_LEDGER_SECONDS",), "notification ledger entries after their last change"),
    Row(("RETENTION_DETERMINATION_SECONDS",), "determinations and the customer's responses after they close"),
    Row(
        ("RETENTION_REVIEW_STATS_SECONDS",),
        "the review overview's daily counts (no GUID, IP or text: kinds and rule names only)",
    ),
    Row(("RETENTION_PAGE_SIZE",), "rows per page the sweep reads"),
    Row(("FEEDBACK_RATE_LIMIT", "FEEDBACK_RATE_WINDOW_SECONDS"), "feedback per client address and window"),
)
HOST = {"FUNCTIONS_WORKER_RUNTIME": "python", "AzureWebJobsFeatureFlags": "EnableWorkerIndexing"}
NOT_MODELLED = {"OTEL_CONSOLE": "false"}  # read by shared/telemetry.py before the settings are
LOCAL = {  # the local run's values, where they are not the model's defaults
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "FACE_ENDPOINT": "http://127.0.0.1:7081",
    "FACE_API_KEY": "local-face-key",
    "ACS_CONNECTION_STRING": "endpoint=https://127.0.0.1:7082/;accesskey=bG9jYWwtYWNzLWFjY2Vzcy1rZXk=",
    "EMAIL_SENDER_ADDRESS": "DoNotReply@liveness-guard.local",
    "EMAIL_CA_BUNDLE": ".run/email-ca.pem",
    "EMAIL_POLL_INTERVAL_SECONDS": "0.5",
    "SUPPORT_CONTACT": "abuse-desk@liveness-guard.local",
    "ADMIN_API_KEY": "local-admin-key-change-me-0123456789",
    "SESSION_SEALING_KEY": "bG9jYWwtb25seS1zZWFsaW5nLWtleS0zMi1ieXRlcyE=",
    "WEBHOOK_ALLOW_LOOPBACK": "true",
}
LOCAL_ONLY = frozenset(  # never deployed: a connection string, keys and the local email CA
    {"AzureWebJobsStorage", "FACE_API_KEY", "ACS_CONNECTION_STRING", "ADMIN_API_KEY", "EMAIL_CA_BUNDLE"}
)
FROM_BICEP = frozenset(  # deployed with a value main.bicep computes (a parameter, an output, a Key Vault reference)
    {
        "AzureWebJobsStorage__tableServiceUri",
        "AzureWebJobsStorage__queueServiceUri",
        "AzureWebJobsStorage__clientId",
        "TABLE_NAME_PREFIX",
        "NOTIFICATION_QUEUE",
        "WEBHOOK_QUEUE",
        "FACE_ENDPOINT",
        "FACE_CLIENT_ID",
        "FACE_API_VERSION",
        "ACS_ENDPOINT",
        "ACS_CLIENT_ID",
        "EMAIL_SENDER_ADDRESS",
        "SUPPORT_CONTACT",
        "EASY_AUTH_ENABLED",
        "SESSION_SEALING_KEY",
        "REVIEW_SLA_SECONDS",
    }
)


def as_setting(value: Any) -> str:
    """A default as an app setting spells it: 10.0 -> '10', False -> 'false', None -> ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _defaults() -> dict[str, str]:
    """Each setting's default as an app setting ('' for none, and for the required ones)."""
    return {
        f.alias: "" if f.is_required() else as_setting(f.default) for f in Settings.model_fields.values() if f.alias
    }


def _ordered() -> list[str]:
    return [name for row in ROWS for name in row.names]


def sample() -> dict[str, Any]:
    """`local.settings.sample.json`: every setting, with the local run's values."""
    defaults = _defaults()
    values = {name: LOCAL.get(name, defaults.get(name, NOT_MODELLED.get(name, ""))) for name in _ordered()}
    values.pop("APPLICATIONINSIGHTS_CONNECTION_STRING", None)  # telemetry stays on the console locally
    return {"IsEncrypted": False, "Values": {**HOST, **values}}


def azure_literals() -> dict[str, str]:
    """What Azure deploys as the model's own default (the rest: `FROM_BICEP`, in main.bicep)."""
    defaults = _defaults()
    return {n: defaults[n] for n in _ordered() if n in defaults and n not in FROM_BICEP | LOCAL_ONLY}


def _shown(name: str) -> str | None:
    field = next((f for f in Settings.model_fields.values() if f.alias == name), None)
    if field is None:
        return None
    if field.is_required() or field.default in (None, ""):
        return "—"
    value = field.default
    if isinstance(value, str):
        return f"`{value}`" if len(value) < 40 else "—"
    text = as_setting(value)
    if name.endswith("_SECONDS") and isinstance(value, int) and value >= 86400 and value % 3600 == 0:
        days = value // 86400
        text += f" ({days} d)" if value % 86400 == 0 and days >= 2 else f" ({value // 3600} h)"
    return text


def table() -> str:
    """The README's settings table."""
    lines = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for row in ROWS:
        shown = [s for s in (_shown(n) for n in row.names) if s is not None]
        default = row.shown or (", ".join(shown) if set(shown) != {"—"} else "—")
        lines.append(f"| {', '.join(f'`{n}`' for n in row.names)} | {default} | {row.meaning} |")
    return "\n".join(lines)


def _readme(text: str) -> str:
    before, rest = text.split(TABLE_START, 1)
    _, after = rest.split(TABLE_END, 1)
    return f"{before}{TABLE_START}\n{table()}\n{TABLE_END}{after}"


def generated() -> dict[Path, str]:
    """Every file this catalog writes, with its content."""
    return {
        SAMPLE: json.dumps(sample(), indent=2) + "\n",
        AZURE_LITERALS: json.dumps(azure_literals(), indent=2) + "\n",
        README: _readme(README.read_text()),
    }


def drift() -> list[str]:
    """The generated files that differ from what is committed."""
    return [str(p.relative_to(ROOT)) for p, text in generated().items() if not p.exists() or p.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) every file that repeats the settings.")
    parser.add_argument("--check", action="store_true", help="fail when a generated file differs")
    args = parser.parse_args(argv)
    if args.check:
        stale = drift()
        for path in stale:
            print(f"{path} differs from the settings model: run python -m shared.settings_catalog")
        return 1 if stale else 0
    for path, text in generated().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
