"""One typed settings object, read from the app settings (environment) and validated at start-up.

Every setting the app reads is a field here; `local.settings.sample.json` lists each with its
local default and `tests/unit/test_settings.py` keeps the two in step.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.domain.guidelines import Guideline, guidelines, parse_guidelines
from shared.domain.keys import Keyring
from shared.domain.policy import MAX_STATE_CHARS, Policy, largest_state, state_chars


class SettingsError(RuntimeError):
    """A missing or malformed setting; the message names every offending setting."""


class Settings(BaseModel):
    """Typed view of the app settings. Field aliases are the exact setting names."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    # --- storage -------------------------------------------------------------------------
    storage_connection_string: str | None = Field(None, alias="AzureWebJobsStorage", repr=False)
    storage_table_uri: str | None = Field(None, alias="AzureWebJobsStorage__tableServiceUri")
    storage_queue_uri: str | None = Field(None, alias="AzureWebJobsStorage__queueServiceUri")
    storage_client_id: str | None = Field(None, alias="AzureWebJobsStorage__clientId")
    notification_queue: str = Field(
        "abuse-notifications", alias="NOTIFICATION_QUEUE", pattern=r"^[a-z0-9][a-z0-9-]{1,50}[a-z0-9]$"
    )
    storage_timeout_seconds: float = Field(3.0, alias="STORAGE_TIMEOUT_SECONDS", gt=0, le=10)
    storage_max_retries: int = Field(1, alias="STORAGE_MAX_RETRIES", ge=0, le=3)
    table_prefix: str = Field("lg", alias="TABLE_NAME_PREFIX", pattern=r"^[A-Za-z][A-Za-z0-9]{0,20}$")
    storage_create_missing: bool = Field(True, alias="STORAGE_CREATE_MISSING")

    # --- Face ----------------------------------------------------------------------------
    face_endpoint: str = Field(alias="FACE_ENDPOINT")
    face_api_key: str | None = Field(None, alias="FACE_API_KEY", repr=False)
    face_client_id: str | None = Field(None, alias="FACE_CLIENT_ID")
    face_timeout_seconds: float = Field(10.0, alias="FACE_TIMEOUT_SECONDS", gt=0, le=120)
    webhook_queue: str = Field(
        "webhook-deliveries", alias="WEBHOOK_QUEUE", pattern=r"^[a-z0-9][a-z0-9-]{1,50}[a-z0-9]$"
    )
    webhook_allow_loopback: bool = Field(False, alias="WEBHOOK_ALLOW_LOOPBACK")  # local runs only
    webhook_retry_seconds: int = Field(86400, alias="WEBHOOK_RETRY_SECONDS", ge=60, le=7 * 86400)
    webhook_backoff_seconds: int = Field(30, alias="WEBHOOK_BACKOFF_SECONDS", ge=0, le=3600)
    webhook_timeout_seconds: float = Field(10.0, alias="WEBHOOK_TIMEOUT_SECONDS", gt=0, le=30)
    face_max_retries: int = Field(2, alias="FACE_MAX_RETRIES", ge=0, le=10)
    face_pull_limit: int = Field(10, alias="FACE_PULL_LIMIT", ge=1, le=50)
    face_api_version: Literal["v1.2", "v1.3-preview.1"] = Field("v1.2", alias="FACE_API_VERSION")
    face_client_attempts: int = Field(1, alias="FACE_CLIENT_ATTEMPTS", ge=1, le=3)

    # --- email (Azure Communication Services) -------------------------------------------
    acs_connection_string: str | None = Field(None, alias="ACS_CONNECTION_STRING", repr=False)
    acs_endpoint: str | None = Field(None, alias="ACS_ENDPOINT")
    acs_client_id: str | None = Field(None, alias="ACS_CLIENT_ID")
    email_sender: str = Field(alias="EMAIL_SENDER_ADDRESS", pattern=r"^[^@\s]+@[^@\s]+$")
    email_ca_bundle: str | None = Field(None, alias="EMAIL_CA_BUNDLE")
    email_send_attempts: int = Field(3, alias="EMAIL_SEND_ATTEMPTS", ge=1, le=10)
    email_poll_interval_seconds: float = Field(2.0, alias="EMAIL_POLL_INTERVAL_SECONDS", gt=0, le=30)
    notification_max_dequeue: int = Field(5, alias="NOTIFICATION_MAX_DEQUEUE_COUNT", ge=1, le=100)
    support_contact: str = Field(
        "the Liveness Guard operator who registered your application", alias="SUPPORT_CONTACT", max_length=300
    )

    # --- identities ----------------------------------------------------------------------
    admin_api_key: str | None = Field(None, alias="ADMIN_API_KEY", min_length=16, repr=False)
    easy_auth_enabled: bool = Field(False, alias="EASY_AUTH_ENABLED")
    session_sealing_key: str = Field(alias="SESSION_SEALING_KEY", repr=False)
    previous_sealing_keys: str | None = Field(None, alias="SESSION_SEALING_KEYS_PREVIOUS", repr=False)

    customer_cache_seconds: int = Field(30, alias="CUSTOMER_CACHE_SECONDS", ge=0, le=300)

    # --- sessions ------------------------------------------------------------------------
    session_ttl_seconds: int = Field(600, alias="SESSION_TOKEN_TTL_SECONDS", ge=60, le=86400)
    session_call_budget: int = Field(5, alias="SESSION_CALL_BUDGET", ge=1, le=100)
    liveness_operation_mode: Literal["Passive", "PassiveActive"] = Field(
        "Passive", alias="DEFAULT_LIVENESS_OPERATION_MODE"
    )
    max_body_bytes: int = Field(16384, alias="MAX_REQUEST_BODY_BYTES", ge=1024, le=1048576)

    # --- abuse policy (docs/abuse-policy.md) ---------------------------------------------------
    failed_checks_limit: int = Field(5, alias="POLICY_FAILED_CHECKS_LIMIT", ge=1, le=100)
    failed_checks_window_seconds: int = Field(180, alias="POLICY_FAILED_CHECKS_WINDOW_SECONDS", ge=1)
    timeout_seconds: int = Field(1800, alias="POLICY_TIMEOUT_SECONDS", ge=1)
    timeouts_to_flag: int = Field(3, alias="POLICY_TIMEOUTS_TO_FLAG", ge=1, le=50)
    spoofs_to_flag: int = Field(3, alias="POLICY_SPOOFS_TO_FLAG", ge=1, le=50)
    flag_window_seconds: int = Field(86400, alias="POLICY_FLAG_WINDOW_SECONDS", ge=1)
    sessions_per_hour_limit: int = Field(10, alias="POLICY_SESSIONS_PER_HOUR", ge=1, le=60)
    session_window_seconds: int = Field(3600, alias="POLICY_SESSION_WINDOW_SECONDS", ge=1)
    open_sessions: int = Field(1, alias="POLICY_OPEN_SESSIONS", ge=1, le=5)
    ip_failed_checks_limit: int = Field(20, alias="POLICY_IP_FAILED_CHECKS_LIMIT", ge=1, le=200)
    ip_window_seconds: int = Field(3600, alias="POLICY_IP_WINDOW_SECONDS", ge=1)
    ip_timeout_seconds: int = Field(3600, alias="POLICY_IP_TIMEOUT_SECONDS", ge=1)
    customer_suspend_after: int = Field(5, alias="POLICY_CUSTOMER_SUSPEND_AFTER", ge=1)
    customer_window_seconds: int = Field(2592000, alias="POLICY_CUSTOMER_WINDOW_SECONDS", ge=1)
    remediation_response_days: int = Field(14, alias="REMEDIATION_RESPONSE_DAYS", ge=1, le=365)
    review_guidelines_json: str | None = Field(None, alias="REVIEW_GUIDELINES_JSON")
    review_sla_seconds: int = Field(86400, alias="REVIEW_SLA_SECONDS", ge=60)
    review_claim_seconds: int = Field(900, alias="REVIEW_CLAIM_SECONDS", ge=60, le=86400)
    review_second_opinion_rate: float = Field(0.1, alias="REVIEW_SECOND_OPINION_RATE", ge=0, le=1)
    review_four_eyes: bool | None = Field(None, alias="REVIEW_FOUR_EYES")  # unset: on exactly when people sign in

    @property
    def four_eyes(self) -> bool:
        """Whether a severe confirmation waits for a second person (default: with App Service Authentication)."""
        return self.easy_auth_enabled if self.review_four_eyes is None else self.review_four_eyes

    @field_validator("review_guidelines_json")
    @classmethod
    def _guidelines_parse(cls, value: str | None) -> str | None:
        if value:
            parse_guidelines(value)  # a ValueError names the problem at start-up
        return value

    def guidelines(self) -> tuple[Guideline, ...]:
        """The guidelines reviewers decide by (the operator's, or the shipped defaults)."""
        return guidelines(self.review_guidelines_json)

    # --- retention (docs/retention.md) -----------------------------------------------------
    retention_schedule: str = Field("0 17 * * * *", alias="RETENTION_SCHEDULE")
    retention_session_grace_seconds: int = Field(3600, alias="RETENTION_SESSION_GRACE_SECONDS", ge=0)
    retention_attempt_seconds: int = Field(259200, alias="RETENTION_ATTEMPT_SECONDS", ge=60)
    retention_subject_idle_seconds: int = Field(2592000, alias="RETENTION_SUBJECT_IDLE_SECONDS", ge=60)
    retention_tombstone_seconds: int = Field(15552000, alias="RETENTION_TOMBSTONE_SECONDS", ge=60)
    retention_audit_seconds: int = Field(31536000, alias="RETENTION_AUDIT_SECONDS", ge=60)
    retention_feedback_seconds: int = Field(15552000, alias="RETENTION_FEEDBACK_SECONDS", ge=60)
    retention_ledger_seconds: int = Field(2592000, alias="RETENTION_LEDGER_SECONDS", ge=60)
    retention_determination_seconds: int = Field(31536000, alias="RETENTION_DETERMINATION_SECONDS", ge=60)
    retention_review_stats_seconds: int = Field(34560000, alias="RETENTION_REVIEW_STATS_SECONDS", ge=86400)
    retention_page_size: int = Field(1000, alias="RETENTION_PAGE_SIZE", ge=1, le=1000)

    # --- feedback -------------------------------------------------------------------------
    feedback_rate_limit: int = Field(5, alias="FEEDBACK_RATE_LIMIT", ge=1)
    feedback_rate_window_seconds: int = Field(600, alias="FEEDBACK_RATE_WINDOW_SECONDS", ge=1)

    @field_validator("retention_schedule")
    @classmethod
    def _six_field_ncrontab(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 6 or not all(re.fullmatch(r"[0-9*/,\-A-Za-z]+", f) for f in fields):
            raise ValueError("must be a six-field NCRONTAB expression, e.g. '0 17 * * * *'")
        return value

    @field_validator("session_sealing_key")
    @classmethod
    def _sealing_key_is_long_enough(cls, value: str) -> str:
        if len(value) < 32:
            raise ValueError("must be a random secret of at least 32 characters (openssl rand -base64 32)")
        return value

    @model_validator(mode="after")
    def _storage_is_configured(self) -> Settings:
        if not self.acs_connection_string and not self.acs_endpoint:
            raise ValueError("set ACS_CONNECTION_STRING (local) or ACS_ENDPOINT (managed identity)")
        if not self.storage_connection_string and not self.storage_table_uri:
            raise ValueError(
                "set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__tableServiceUri (managed identity)"
            )
        if not self.storage_connection_string and not self.storage_queue_uri:
            raise ValueError(
                "set AzureWebJobsStorage__queueServiceUri (managed identity) beside the table URI, "
                "or AzureWebJobsStorage (connection string)"
            )
        return self

    @model_validator(mode="after")
    def _state_fits_a_row(self) -> Settings:
        largest = state_chars(largest_state(self.abuse_policy(), datetime.now(UTC)))
        if largest > MAX_STATE_CHARS:
            raise ValueError(
                f"the abuse-policy limits let one subject's state grow to {largest} characters, over the "
                f"{MAX_STATE_CHARS} a table property holds: lower POLICY_SESSIONS_PER_HOUR or the other limits"
            )
        return self

    def abuse_policy(self) -> Policy:
        """The per-subject abuse policy (docs/abuse-policy.md) these settings configure."""
        return Policy(
            failed_checks_limit=self.failed_checks_limit,
            failed_checks_window=timedelta(seconds=self.failed_checks_window_seconds),
            timeout=timedelta(seconds=self.timeout_seconds),
            timeouts_to_flag=self.timeouts_to_flag,
            spoofs_to_flag=self.spoofs_to_flag,
            flag_window=timedelta(seconds=self.flag_window_seconds),
            sessions_per_window=self.sessions_per_hour_limit,
            session_window=timedelta(seconds=self.session_window_seconds),
            open_sessions=self.open_sessions,
        )

    def keyring(self) -> Keyring:
        """One key per purpose from SESSION_SEALING_KEY; the previous secrets still open and match old values."""
        previous = [p.strip() for p in (self.previous_sealing_keys or "").split(",") if p.strip()]
        return Keyring(self.session_sealing_key, previous)


def setting_names() -> set[str]:
    """Every app-setting name the app reads."""
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise SettingsError naming each bad setting."""
    source = os.environ if environ is None else environ
    values = {name: source[name] for name in setting_names() if source.get(name, "") != ""}
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid app settings: " + "; ".join(problems)) from None
    if source.get("WEBSITE_SITE_NAME"):  # App Service sets it: this is Azure, not a developer's machine
        check_trust_in_azure(settings, source)
    return settings


# SHA-256 of every secret in local.settings.sample.json (tests keep this in step with the file):
# anyone can read them, so a deployment that uses one is refused.
SAMPLE_SECRET_HASHES = frozenset(
    {
        "db3a137008bd8360b3895b7d98a2cea42c2142a869cbe71fc4a0409026cfcd9d",  # ADMIN_API_KEY
        "e958de3ca3a75879c9c24ccf3468ac36ec35fc6a47da9d0c9ea3cb18789f17c4",  # SESSION_SEALING_KEY
        "fa862c17c028e2affde525951fa61fd1175a9804a542fa67c81759c2ca0091c0",  # FACE_API_KEY
        "85d8b6ed20160fa411c86ebac2618c9118b50414eb91a586955a576de7e11d7b",  # ACS_CONNECTION_STRING
    }
)
SECRET_SETTINGS = (
    "ADMIN_API_KEY",
    "SESSION_SEALING_KEY",
    "SESSION_SEALING_KEYS_PREVIOUS",
    "FACE_API_KEY",
    "ACS_CONNECTION_STRING",
)


def check_trust_in_azure(settings: Settings, environ: Mapping[str, str]) -> None:
    """Refuse to start in Azure on settings that would hand out trust: `X-MS-CLIENT-PRINCIPAL`
    believed while the platform does not set it (anyone could forge it), or a published sample key."""
    problems = []
    if settings.webhook_allow_loopback:
        problems.append("WEBHOOK_ALLOW_LOOPBACK=true is for local runs: in Azure it would let webhooks reach the host")
    if settings.easy_auth_enabled and environ.get("WEBSITE_AUTH_ENABLED", "").lower() != "true":
        problems.append(
            "EASY_AUTH_ENABLED=true but App Service Authentication is off (WEBSITE_AUTH_ENABLED is not True): "
            "a forged X-MS-CLIENT-PRINCIPAL would be trusted"
        )
    for name in SECRET_SETTINGS:
        values = [v.strip() for v in (environ.get(name) or "").split(",") if v.strip()]
        if any(hashlib.sha256(v.encode()).hexdigest() in SAMPLE_SECRET_HASHES for v in values):
            problems.append(f"{name} is the published sample value from local.settings.sample.json")
    if problems:
        raise SettingsError("refusing to start in Azure: " + "; ".join(problems))
