"""Policy evaluation for reviewers and administrators (docs/api.md, `/review/policy-evaluation`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from shared.api.auth import Principal, Role
from shared.api.http import json_response, parse_body
from shared.api.policy_models import (
    PolicyComparisonView,
    PolicyEvaluationRequest,
    PolicyEvaluationView,
    evaluation_view,
)
from shared.api.router import Api
from shared.services.policy_evaluation import candidate, evaluation, lab_settings

if TYPE_CHECKING:
    from shared.bootstrap import Services

api = Api()
bp = api.bp


@api.route(
    "v1/review/policy-evaluation",
    "GET",
    "What the live abuse policy does to honest people and attackers",
    "review",
    responses={200: PolicyEvaluationView},
    role=Role.REVIEWER,
    action="policy.evaluate",
)
def live_policy_evaluation(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    """Synthetic traffic replayed through the app's own policy functions, seeded: the same settings
    always give the same answer (cached per settings fingerprint)."""
    return json_response(evaluation_view(evaluation(lab_settings(s.settings))))


@api.route(
    "v1/review/policy-evaluation",
    "POST",
    "Evaluate candidate abuse-policy settings beside the live ones",
    "review",
    request=PolicyEvaluationRequest,
    responses={200: PolicyComparisonView},
    role=Role.REVIEWER,
    action="policy.evaluate",
)
def candidate_policy_evaluation(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    """Candidate settings are validated as start-up validates them: one it would refuse, or one the
    evaluation does not depend on, is a 400 naming it."""
    body = parse_body(req, PolicyEvaluationRequest, s.settings.max_body_bytes)
    chosen = candidate(s.settings, body.settings)
    live = evaluation_view(evaluation(lab_settings(s.settings)))
    return json_response(PolicyComparisonView(live=live, candidate=evaluation_view(evaluation(lab_settings(chosen)))))
