"""Queue trigger: each message on the notification queue becomes one email (README.md, Notifications)."""

from __future__ import annotations

import azure.functions as func

from shared.bootstrap import services

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%NOTIFICATION_QUEUE%", connection="AzureWebJobsStorage")
def send_notification(msg: func.QueueMessage) -> None:
    """Send the email for one notification; raising makes the queue re-deliver (poison after the last try)."""
    services().notifier().handle(msg.get_body(), msg.id or "unknown", msg.dequeue_count or 1)
