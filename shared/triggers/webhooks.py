"""Queue trigger: each message on the webhook queue is one delivery try (docs/api.md, Webhooks)."""

from __future__ import annotations

import azure.functions as func

from shared.bootstrap import services
from shared.telemetry import context_id, invocation

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%WEBHOOK_QUEUE%", connection="AzureWebJobsStorage")
def deliver_webhook(msg: func.QueueMessage, context: func.Context) -> None:
    """Deliver one event; a failure is queued again with backoff (never raised: the retry period is ours)."""
    with invocation("deliver_webhook", "pubsub", context_id(context)):
        services().webhooks.deliver(msg.get_body())
