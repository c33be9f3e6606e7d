"""Wire models of determinations (docs/abuse-policy.md) and the decision's severity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from shared.api.models import ApiModel, Reason
from shared.domain.determinations import Determination, DeterminationStatus, ResolutionOutcome, Severity

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
STATUSES = tuple(s.value for s in DeterminationStatus)  # the query filter and the OpenAPI enum, from the enum


class ResponseView(ApiModel):
    explanation: str
    remediation: str
    at: datetime


class ResolutionView(ApiModel):
    outcome: ResolutionOutcome
    reason: str
    at: datetime


class DeterminationView(ApiModel):
    determination_id: str
    correlation_id: str
    determined_at: datetime
    reason: str
    severity: Severity
    guideline_id: str | None = None
    status: DeterminationStatus
    respond_by: datetime | None = None
    response: ResponseView | None = None
    resolution: ResolutionView | None = None
    responses: list[ResponseView]


class ReviewDeterminationView(DeterminationView):
    customer_id: str


class DeterminationResponseRequest(ApiModel):
    explanation: Text
    remediation: Text


class DeterminationAccepted(ApiModel):
    determination_id: str
    status: Literal[DeterminationStatus.RESPONSE_RECEIVED]


class ResolutionRequest(ApiModel):
    outcome: ResolutionOutcome
    reason: Reason


def determination_view(d: Determination, with_customer: bool = False) -> DeterminationView:
    """A determination on the wire: the latest response and resolution, and every response sent.
    Reviewers' names stay with the operator (a resolution shows only its outcome and reason)."""
    responses = [ResponseView(explanation=r.explanation, remediation=r.remediation, at=r.at) for r in d.responses]
    last = d.resolutions[-1] if d.resolutions else None
    fields = {
        "determination_id": d.determination_id,
        "correlation_id": d.correlation_id,
        "determined_at": d.determined_at,
        "reason": d.reason,
        "severity": d.severity,
        "guideline_id": d.guideline_id,
        "status": d.status,
        "respond_by": d.respond_by,
        "response": responses[-1] if responses else None,
        "resolution": ResolutionView(outcome=last.outcome, reason=last.reason, at=last.at) if last else None,
        "responses": responses,
    }
    if with_customer:
        return ReviewDeterminationView(customer_id=d.customer_id, **fields)
    return DeterminationView(**fields)
