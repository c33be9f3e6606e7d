"""How well reviewers agree (docs/abuse-policy.md, "Calibration"): blind second opinions on a share
of decisions, compared with the first decision — the share that agreed and Cohen's kappa, per
guideline and per reviewer, with their sample sizes. Pure functions on answered opinions."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import AwareDatetime

from shared.domain.records import DecisionKind, Record


class Opinion(Record):
    """A decision sent blind to a second reviewer, and (once answered) what they decided."""

    opinion_id: str
    customer_id: str
    correlation_id: str
    asked_at: AwareDatetime
    first: DecisionKind
    first_guideline: str | None = None
    first_by: str  # the first reviewer's name
    first_by_id: str
    second: DecisionKind | None = None
    second_guideline: str | None = None
    second_by: str | None = None
    second_by_id: str | None = None
    answered_at: AwareDatetime | None = None
    reason: str | None = None

    @property
    def agreed(self) -> bool:
        return self.second is not None and self.second == self.first


def kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters over `pairs` of (first, second) labels; None when it is undefined
    (no pairs, or chance agreement is certain: both always gave the same single label)."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in set(first) | set(second)) / (n * n)
    if expected >= 1:
        return None
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class Agreement:
    """Agreement of one group (a guideline, a reviewer): how many pairs, the share that agreed, kappa."""

    key: str
    pairs: int
    agreement: float | None
    kappa: float | None


def agreement(key: str, opinions: list[Opinion]) -> Agreement:
    pairs = [(o.first.value, o.second.value) for o in opinions if o.second is not None]
    share = sum(a == b for a, b in pairs) / len(pairs) if pairs else None
    found = kappa(pairs)
    return Agreement(
        key, len(pairs), round(share, 4) if share is not None else None, round(found, 4) if found is not None else None
    )


@dataclass(frozen=True)
class Calibration:
    since: datetime
    overall: Agreement
    by_guideline: tuple[Agreement, ...]
    by_reviewer: tuple[Agreement, ...]  # each reviewer as first or second rater
    disagreements: tuple[Opinion, ...]


def calibration(opinions: Iterable[Opinion], since: datetime) -> Calibration:
    answered = [o for o in opinions if o.second is not None]
    by_guideline: dict[str, list[Opinion]] = defaultdict(list)
    by_reviewer: dict[str, list[Opinion]] = defaultdict(list)
    for o in answered:
        by_guideline[o.first_guideline or "none"].append(o)
        by_reviewer[o.first_by].append(o)
        if o.second_by:
            by_reviewer[o.second_by].append(o)
    return Calibration(
        since=since,
        overall=agreement("all", answered),
        by_guideline=tuple(agreement(k, v) for k, v in sorted(by_guideline.items())),
        by_reviewer=tuple(agreement(k, v) for k, v in sorted(by_reviewer.items())),
        disagreements=tuple(o for o in answered if not o.agreed),
    )


def chosen(entry_id: str, rate: float) -> bool:
    """Whether a decision is sent for a blind second opinion: a stable share `rate` of decisions,
    decided by its audit entry's id (the same decision is never asked twice)."""
    return int(hashlib.sha256(entry_id.encode()).hexdigest()[:8], 16) / 0x1_0000_0000 < rate
