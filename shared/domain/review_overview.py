"""How the automated policy and the human review are doing (docs/api.md, `GET /review/overview`).

Pure: the counts come in as daily tallies (`Tally`, kept as flags, decisions and feedback happen)
and the pending reviews as their flag times; nothing here reads storage or the clock.

An override is a flag a human judged wrong, so a reason's override rate — overrides ÷ (confirms +
overrides) of the flags raised for that reason — is the policy's false-positive rate for it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shared.domain.policy import DIGEST_MISMATCH_REASON, FACE_ABUSE_REASON

StatKind = Literal["flag", "confirm", "override", "reset", "feedback", "ip_mismatch"]
STAT_KINDS: tuple[StatKind, ...] = ("flag", "confirm", "override", "reset", "feedback", "ip_mismatch")
DECISIONS = ("confirm", "override", "reset")
REASON_KINDS = ("timeouts", "spoofface", "face_abuse", "digest_mismatch", "other")
MAX_DAYS = 366


def reason_kind(flag_reason: str | None) -> str:
    """The rule that raised a flag, from the flag's reason text: one of REASON_KINDS (`none` when
    the subject was never flagged, e.g. a reset of an active GUID)."""
    if not flag_reason:
        return "none"
    if flag_reason.strip() == FACE_ABUSE_REASON:
        return "face_abuse"
    if flag_reason.strip() == DIGEST_MISMATCH_REASON:
        return "digest_mismatch"
    for kind in ("timeouts", "spoofface"):
        if f" {kind} " in f" {flag_reason} ":
            return kind
    return "other"


def stat_key(kind: str, label: str) -> str:
    """How one counted event is named inside a day's tally (`confirm|timeouts`)."""
    return f"{kind}|{label}"


Tally = Counter[str]  # stat_key → count, for one UTC day


class _Camel(BaseModel):
    model_config = ConfigDict(
        defer_build=True, alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )


class OverviewDay(_Camel):
    date: str
    flags: int
    confirms: int
    overrides: int


class Overview(_Camel):
    """The body of GET /review/overview (camelCase on the wire)."""

    pending: int
    oldest_pending_seconds: int
    review_sla_seconds: int
    overdue: int
    flags_by_reason: dict[str, int]
    decisions: dict[str, int]
    override_rate_by_reason: dict[str, float]
    feedback_by_category: dict[str, int]
    ip_mismatches_by_customer: dict[str, int] = {}  # v1.3 attempts from outside the expected address
    days: list[OverviewDay]


def window(today: date, days: int) -> list[date]:
    """The `days` UTC days ending today, oldest first."""
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def overview(
    days: list[date], tallies: dict[date, Tally], pending_since: list[datetime], now: datetime, sla: timedelta
) -> Overview:
    """The overview of the window `days` (one entry per day, zeros included) and of the reviews
    pending now (`pending_since`: when each pending subject was flagged)."""
    total: Tally = Counter()
    for day in days:
        total.update(tallies.get(day, Counter()))
    by = _by_kind(total)
    ages = [max(0, int((now - since).total_seconds())) for since in pending_since]
    rates = {}
    for reason in sorted(set(by["confirm"]) | set(by["override"])):
        decided = by["confirm"][reason] + by["override"][reason]
        if decided:
            rates[reason] = round(by["override"][reason] / decided, 4)
    return Overview(
        pending=len(ages),
        oldest_pending_seconds=max(ages, default=0),
        review_sla_seconds=int(sla.total_seconds()),
        overdue=sum(age > sla.total_seconds() for age in ages),
        flags_by_reason=dict(sorted(by["flag"].items())),
        decisions={kind: sum(by[kind].values()) for kind in DECISIONS},
        override_rate_by_reason=rates,
        feedback_by_category=dict(sorted(by["feedback"].items())),
        ip_mismatches_by_customer=dict(sorted(by["ip_mismatch"].items())),
        days=[_day(day, tallies.get(day, Counter())) for day in days],
    )


def _by_kind(tally: Tally) -> dict[str, Counter[str]]:
    by: dict[str, Counter[str]] = {kind: Counter() for kind in STAT_KINDS}
    for key, count in tally.items():
        kind, _, label = key.partition("|")
        if kind in by and count:
            by[kind][label] += count
    return by


def _day(day: date, tally: Tally) -> OverviewDay:
    by = _by_kind(tally)
    return OverviewDay(
        date=day.isoformat(),
        flags=sum(by["flag"].values()),
        confirms=sum(by["confirm"].values()),
        overrides=sum(by["override"].values()),
    )
