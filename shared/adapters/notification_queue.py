"""The `abuse-notifications` Storage queue: where decisions hand work to the email sender."""

from __future__ import annotations

import contextlib

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from shared.domain.notifications import Notification
from shared.settings import Settings


class NotificationQueue:
    """Sends notification messages, base64-encoded as the Functions queue trigger expects."""

    def __init__(self, client: QueueClient) -> None:
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> NotificationQueue:
        encode = TextBase64EncodePolicy()
        name = settings.notification_queue
        if settings.storage_connection_string:
            client = QueueClient.from_connection_string(
                settings.storage_connection_string, name, message_encode_policy=encode
            )
        else:
            from azure.identity import ManagedIdentityCredential  # only in Azure

            credential = ManagedIdentityCredential(client_id=settings.storage_client_id)
            client = QueueClient(settings.storage_queue_uri, name, credential=credential, message_encode_policy=encode)
        return cls(client)

    def ensure(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            self._client.create_queue()

    def send(self, notification: Notification) -> None:
        self._client.send_message(notification.model_dump_json(by_alias=True))
