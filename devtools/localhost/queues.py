"""Queue triggers: poll a Storage queue (Azurite) with host.json's `extensions.queues` settings.

A message is deleted only after the function returns; after a failure it becomes visible again
after `visibilityTimeout`; once it has been dequeued `maxDequeueCount` times and fails again it is
moved to `<queue>-poison`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import azure.functions.queue as fq
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import QueueClient, QueueMessage

from devtools.localhost.config import QueueOptions

log = logging.getLogger("localhost.queue")
PROCESSING_VISIBILITY = 600  # seconds a message stays invisible while its function runs
MIN_POLL = 0.1


@dataclass
class QueueFunction:
    name: str
    queue_name: str
    connection: str
    handler: Callable[..., Any]
    arg_name: str


def queue_client(connection_setting: str, queue_name: str, environ: Any = os.environ) -> QueueClient:
    """A client for the queue named by a binding's `connection` app setting."""
    value = environ.get(connection_setting) or ""
    if value:
        return QueueClient.from_connection_string(value, queue_name)
    uri = environ.get(f"{connection_setting}__queueServiceUri")
    if not uri:
        raise KeyError(f"app setting {connection_setting} (or {connection_setting}__queueServiceUri) is not set")
    from azure.identity import DefaultAzureCredential

    return QueueClient(uri, queue_name, credential=DefaultAzureCredential())


def _ensure(client: QueueClient) -> None:
    with contextlib.suppress(ResourceExistsError):
        client.create_queue()


class QueuePoller(threading.Thread):
    """Delivers one queue's messages to one function until stopped."""

    def __init__(self, function: QueueFunction, options: QueueOptions, stop: threading.Event) -> None:
        super().__init__(name=f"queue-{function.name}", daemon=True)
        self.function, self.options, self.stop = function, options, stop
        self.queue = queue_client(function.connection, function.queue_name)
        self.poison = queue_client(function.connection, f"{function.queue_name}-poison")

    def run(self) -> None:
        _ensure(self.queue)
        interval = MIN_POLL
        with ThreadPoolExecutor(max_workers=self.options.batch_size, thread_name_prefix=self.name) as pool:
            while not self.stop.is_set():
                try:
                    batch = self._receive()
                except Exception:
                    log.exception("polling %s failed", self.function.queue_name)
                    batch = []
                if batch:
                    list(pool.map(self._deliver, batch))
                    interval = MIN_POLL
                else:
                    self.stop.wait(interval)
                    interval = min(interval * 2, max(self.options.max_polling_interval.total_seconds(), MIN_POLL))

    def _receive(self) -> list[QueueMessage]:
        pages = self.queue.receive_messages(
            messages_per_page=min(self.options.batch_size, 32), visibility_timeout=PROCESSING_VISIBILITY
        ).by_page()
        return list(next(pages, []))

    def _decode(self, content: Any) -> bytes:
        raw = content.encode() if isinstance(content, str) else bytes(content or b"")
        if self.options.message_encoding == "base64":
            return base64.b64decode(raw, validate=True)
        return raw

    def _deliver(self, message: QueueMessage) -> None:
        try:
            body = self._decode(message.content)
            self.function.handler(
                **{
                    self.function.arg_name: fq.QueueMessage(
                        id=message.id,
                        body=body,
                        dequeue_count=message.dequeue_count,
                        expiration_time=message.expires_on,
                        insertion_time=message.inserted_on,
                        time_next_visible=message.next_visible_on,
                        pop_receipt=message.pop_receipt,
                    )
                }
            )
        except (binascii.Error, ValueError, Exception) as exc:
            self._failed(message, exc)
            return
        try:
            self.queue.delete_message(message)
        except ResourceNotFoundError:
            log.warning("message %s was already gone", message.id)

    def _failed(self, message: QueueMessage, exc: BaseException) -> None:
        count = message.dequeue_count or 1
        log.warning(
            "%s failed on message %s (dequeue %d/%d): %s",
            self.function.name,
            message.id,
            count,
            self.options.max_dequeue_count,
            type(exc).__name__,
        )
        if count >= self.options.max_dequeue_count:
            _ensure(self.poison)
            self.poison.send_message(message.content)
            self.queue.delete_message(message)
            log.warning("message %s moved to %s", message.id, self.poison.queue_name)
        else:
            self.queue.update_message(message, visibility_timeout=int(self.options.visibility_timeout.total_seconds()))
