"""`/review/policy-evaluation` and `python -m shared.services.policy_evaluation`: what the abuse
policy does to honest people and to attackers, for the live settings or candidate ones
(docs/abuse-policy.md, "What the policy does"). Candidates are validated exactly as start-up
validates settings; answers are cached per settings fingerprint."""

from __future__ import annotations

import argparse
import functools
import sys
from datetime import timedelta

from shared.domain.ip_policy import IpPolicy
from shared.domain.policy_lab import Evaluation, LabSettings, evaluate, rows
from shared.errors import InvalidRequest
from shared.settings import Settings, SettingsError, load_settings
from shared.settings_catalog import as_setting

EVALUATED = frozenset(  # the settings the evaluation depends on: the only ones a candidate may change
    {
        "POLICY_FAILED_CHECKS_LIMIT",
        "POLICY_FAILED_CHECKS_WINDOW_SECONDS",
        "POLICY_TIMEOUT_SECONDS",
        "POLICY_TIMEOUTS_TO_FLAG",
        "POLICY_SPOOFS_TO_FLAG",
        "POLICY_FLAG_WINDOW_SECONDS",
        "POLICY_SESSIONS_PER_HOUR",
        "POLICY_SESSION_WINDOW_SECONDS",
        "POLICY_OPEN_SESSIONS",
        "POLICY_IP_FAILED_CHECKS_LIMIT",
        "POLICY_IP_WINDOW_SECONDS",
        "POLICY_IP_TIMEOUT_SECONDS",
        "FACE_CLIENT_ATTEMPTS",
        "SESSION_TOKEN_TTL_SECONDS",
    }
)
MAX_CHANGES = len(EVALUATED)


def lab_settings(settings: Settings) -> LabSettings:
    """What the evaluation needs of the settings."""
    return LabSettings(
        policy=settings.abuse_policy(),
        ip_policy=IpPolicy(
            failed_checks_limit=settings.ip_failed_checks_limit,
            window=timedelta(seconds=settings.ip_window_seconds),
            timeout=timedelta(seconds=settings.ip_timeout_seconds),
        ),
        client_attempts=settings.face_client_attempts,
        session_ttl=timedelta(seconds=settings.session_ttl_seconds),
        tombstone=timedelta(seconds=settings.retention_tombstone_seconds),
    )


def candidate(settings: Settings, changes: dict[str, str]) -> Settings:
    """The live settings with `changes` applied, validated as start-up validates them; 400 naming
    each setting that is not one the evaluation depends on, or whose value start-up would refuse."""
    unknown = sorted(set(changes) - EVALUATED)
    if unknown:
        raise InvalidRequest(f"Only the abuse-policy settings can be evaluated; not {', '.join(unknown)}.")
    current = {
        f.alias: as_setting(getattr(settings, name))
        for name, f in Settings.model_fields.items()
        if f.alias and getattr(settings, name) is not None
    }
    try:
        return load_settings({**current, **changes})
    except SettingsError as exc:
        raise InvalidRequest(str(exc).removeprefix("invalid app settings: ")) from None


@functools.lru_cache(maxsize=16)
def evaluation(lab: LabSettings, seed: int = 1) -> Evaluation:
    """The evaluation of one set of settings, computed once per fingerprint and process."""
    return evaluate(lab, seed)


def markdown(result: Evaluation) -> str:
    """The evaluation as Markdown tables (docs/abuse-policy.md carries the one for the defaults)."""
    lines: list[str] = []
    for row in rows(result):
        if row[0] in ("population", "attacker"):
            lines += ["", "| " + " | ".join(row) + " |", "|" + " --- |" * len(row)]
        else:
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines).strip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate abuse-policy settings before deploying them.")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a candidate setting")
    parser.add_argument("--markdown", action="store_true", help="print Markdown (for a change review)")
    args = parser.parse_args(argv)
    changes = dict(item.split("=", 1) for item in args.set)
    from shared.settings_catalog import sample

    base = load_settings(sample()["Values"])
    try:
        chosen = candidate(base, changes)
    except InvalidRequest as exc:
        print(exc.message, file=sys.stderr)
        return 2
    result = evaluation(lab_settings(chosen))
    if args.markdown:
        print(markdown(result), end="")
    else:
        for row in rows(result):
            print("  ".join(f"{cell:>24}" if i else f"{cell:<18}" for i, cell in enumerate(row)))
        print("\n".join(f"- {a}" for a in result.assumptions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
