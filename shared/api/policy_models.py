"""Bodies of `/review/policy-evaluation` (docs/api.md)."""

from __future__ import annotations

from pydantic import Field

from shared.api.models import ApiModel
from shared.domain.policy_lab import AttackRow, Evaluation, HonestRow, Strategy


class PolicyEvaluationRequest(ApiModel):
    """Candidate settings, as app settings spell them (`{"POLICY_SPOOFS_TO_FLAG": "4"}`)."""

    settings: dict[str, str] = Field(max_length=20)


class HonestRowView(ApiModel):
    fail_rate: float
    people: int
    timed_out_per_10000: int
    flagged_per_10000: int
    blocked_per_10000: int


class AttackRowView(ApiModel):
    strategy: Strategy
    pass_rate: float
    attackers: int
    attempts_before_first_refusal: float | None
    attempts_before_flag: float | None
    never_flagged: float
    passes_before_stopped: float


class PolicyEvaluationView(ApiModel):
    """What the policy does to honest people and to attackers, with the model's assumptions."""

    fingerprint: str
    seed: int
    assumptions: list[str]
    honest: list[HonestRowView]
    attackers: list[AttackRowView]


class PolicyComparisonView(ApiModel):
    """The live settings' evaluation beside the candidate's."""

    live: PolicyEvaluationView
    candidate: PolicyEvaluationView


def _honest(row: HonestRow) -> HonestRowView:
    return HonestRowView.model_validate(row.__dict__)


def _attack(row: AttackRow) -> AttackRowView:
    return AttackRowView.model_validate(row.__dict__)


def evaluation_view(result: Evaluation) -> PolicyEvaluationView:
    return PolicyEvaluationView(
        fingerprint=result.fingerprint,
        seed=result.seed,
        assumptions=list(result.assumptions),
        honest=[_honest(h) for h in result.honest],
        attackers=[_attack(a) for a in result.attackers],
    )
