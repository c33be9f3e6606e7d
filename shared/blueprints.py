"""Every blueprint of the function app, in the order `function_app` registers them."""

from __future__ import annotations

import importlib

import azure.functions as func

MODULES = (
    "shared.api.client_routes",
    "shared.api.manage_routes",
    "shared.api.review_routes",
    "shared.api.claim_routes",
    "shared.api.second_review_routes",
    "shared.api.second_opinion_routes",
    "shared.api.privacy_routes",
    "shared.api.console_routes",
    "shared.api.docs_routes",
    "shared.api.determination_routes",
    "shared.api.webhook_routes",
    "shared.api.policy_routes",
    "shared.triggers.notifications",
    "shared.triggers.retention",
    "shared.triggers.webhooks",
    "shared.api.fallback_routes",  # last: the catch-all answers only what no other route takes
)


def blueprints() -> list[func.Blueprint]:
    """Each module's blueprint (importing a module registers its functions on it)."""
    return [importlib.import_module(module).bp for module in MODULES]
