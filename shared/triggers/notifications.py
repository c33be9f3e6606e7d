"""Queue trigger: each message on the notification queue becomes one email (README.md, Notifications)."""

from __future__ import annotations

import azure.functions as func

from shared.bootstrap import services
from shared.telemetry import context_id, invocation

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%NOTIFICATION_QUEUE%", connection="AzureWebJobsStorage")
def send_notification(msg: func.QueueMessage, context: func.Context) -> None:
    """Send the email for one notification; raising makes the queue re-deliver (poison after the last try)."""
    with invocation("send_notification", "pubsub", context_id(context)):
        services().notifier().handle(msg.get_body(), msg.id or "unknown", msg.dequeue_count or 1)
