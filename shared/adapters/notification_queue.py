"""The Storage queues: `abuse-notifications` (decisions hand work to the email sender) and the
webhook deliveries."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import LinearRetry, QueueClient, TextBase64EncodePolicy

from shared.adapters.tables import client_options
from shared.domain.notifications import Notification
from shared.settings import Settings


@dataclass(frozen=True)
class QueuePair:
    """A Storage queue and its `<queue>-poison`, messages base64-encoded as the Functions queue
    trigger expects (`poison` holds what can never be processed)."""

    _client: QueueClient
    _poison: QueueClient

    @classmethod
    def named(cls, settings: Settings, name: str, request_hook: Callable[[Any], None] | None = None) -> Self:
        return cls(_client(settings, name, request_hook), _client(settings, f"{name}-poison", request_hook))

    def poison_depth(self) -> int:
        """About how many messages wait in `<queue>-poison` (the service's approximate count)."""
        return self._poison.get_queue_properties().approximate_message_count or 0

    def ensure(self) -> None:
        for client in (self._client, self._poison):
            with contextlib.suppress(ResourceExistsError):
                client.create_queue()


class NotificationQueue(QueuePair):
    """The `abuse-notifications` queue: where decisions hand work to the email sender."""

    @classmethod
    def from_settings(cls, settings: Settings, request_hook: Callable[[Any], None] | None = None) -> Self:
        return cls.named(settings, settings.notification_queue, request_hook)

    def dead_letter(self, body: bytes, reason: str) -> None:
        """Move a message that can never be processed to `<queue>-poison` (the reason goes to the ledger)."""
        self._poison.send_message(body.decode("utf-8", errors="replace"))

    def send(self, notification: Notification) -> None:
        self._client.send_message(notification.model_dump_json(by_alias=True))


class WebhookQueue(QueuePair):
    """The webhook delivery queue (`WEBHOOK_QUEUE`; `<queue>-poison` holds deliveries that failed for
    good): one message per event and customer, sent again with a delay to retry."""

    @classmethod
    def from_settings(cls, settings: Settings, request_hook: Callable[[Any], None] | None = None) -> Self:
        return cls.named(settings, settings.webhook_queue, request_hook)

    def send(self, message: str, delay_seconds: int = 0) -> None:
        self._client.send_message(message, visibility_timeout=delay_seconds or None)

    def dead_letter(self, message: str) -> None:
        self._poison.send_message(message)


def _client(settings: Settings, name: str, request_hook: Callable[[Any], None] | None = None) -> QueueClient:
    bounded = client_options(settings)
    options: dict[str, Any] = {
        "message_encode_policy": TextBase64EncodePolicy(),
        # Storage's default retry waits 15 s before its first retry; keep the app's answer within seconds.
        "retry_policy": LinearRetry(backoff=0.2, random_jitter_range=0.1, retry_total=bounded["retry_total"]),
        "connection_timeout": bounded["connection_timeout"],
        "read_timeout": bounded["read_timeout"],
    }
    if request_hook:
        options["raw_request_hook"] = request_hook
    if settings.storage_connection_string:
        return QueueClient.from_connection_string(settings.storage_connection_string, name, **options)
    from azure.identity import ManagedIdentityCredential  # only in Azure

    credential = ManagedIdentityCredential(client_id=settings.storage_client_id)
    return QueueClient(settings.storage_queue_uri, name, credential=credential, **options)
