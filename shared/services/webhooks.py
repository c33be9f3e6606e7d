"""Webhooks (docs/api.md, Webhooks): a customer's registration, and delivering its events.

- The registration is a row in the customer's partition (`webhook`): the URL, the event types,
  and the signing secret *sealed* (it must be used to sign, so it cannot be a hash; it is shown
  only when registered or rotated).
- Events are committed with the change that causes them (`webhook_<eventId>` rows in the same
  transaction, see `DeterminationStore` and `CustomerStore`), then queued (`WEBHOOK_QUEUE`) and
  their rows deleted; a row left by a crash is queued by the partition's retention check.
- A queue-triggered function delivers each one: signed with `standardwebhooks`, the same
  `webhook-id` every time, the URL checked again before each try (SSRF) and the connection made to
  the address checked, within one deadline (`WEBHOOK_TIMEOUT_SECONDS` for connect, send and read
  together, at most 64 KiB read, no redirects followed; `shared.adapters.webhook_http`). A customer
  whose endpoint ran out of time has its next deliveries on this instance held back (retried later
  without a network call) for one backoff period, so a slow receiver delays only its own customer.
  A failure is queued again with exponential backoff (`WEBHOOK_BACKOFF_SECONDS`, doubling, at most
  an hour) until `WEBHOOK_RETRY_SECONDS` (24 hours) after the first try; then the ledger says
  `failed` and the message goes to `<queue>-poison`.
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook

from shared import telemetry
from shared.adapters import webhook_http
from shared.adapters.ledger import NotificationLedger
from shared.adapters.notification_queue import WebhookQueue
from shared.adapters.outbox import Outbox, WebhookRegistrations
from shared.adapters.webhook_http import DeliveryFailed
from shared.domain.clock import Clock
from shared.domain.keys import Keyring
from shared.domain.records import LedgerEntry, LedgerStatus
from shared.domain.webhook_events import EVENT_TYPES, WebhookEvent, payload
from shared.domain.webhook_urls import Resolve, Target, UnsafeUrl, check_url, resolve_host
from shared.errors import InvalidRequest

log = logging.getLogger(__name__)
_CONTEXT = "webhook-secret"


@dataclass(frozen=True)
class Registration:
    url: str
    events: tuple[str, ...]
    secret: str


def as_is(customer_id: str, correlation_id: str | None) -> str | None:
    """Until the bootstrap wires `SubjectNames.current`: the GUID as given."""
    return correlation_id


@dataclass
class WebhookService:
    registrations: WebhookRegistrations
    outbox: Outbox
    keys: Keyring
    clock: Clock
    queue: WebhookQueue
    ledger: NotificationLedger
    allow_loopback: bool = False
    retry_for: timedelta = timedelta(hours=24)
    backoff_seconds: int = 30
    timeout_seconds: float = 10.0
    resolve: Resolve = resolve_host
    send: Callable[[Target, bytes, dict[str, str], float], int] = webhook_http.post
    _slow: dict[str, float] = field(default_factory=dict)  # customer → until when its deliveries wait (monotonic)
    names: Callable[[str, str | None], str | None] = as_is  # a GUID as of now: its pseudonym once erased (wired after)

    # --- registration ---------------------------------------------------------------------
    def register(self, customer_id: str, url: str, events: list[str] | None) -> Registration:
        """Register (or replace) the customer's endpoint with a new secret (`whsec_` + base64)."""
        try:
            check_url(url, self.allow_loopback, self.resolve)
        except UnsafeUrl as exc:
            raise InvalidRequest(f"This webhook URL cannot be used: {exc}.") from None
        chosen = tuple(dict.fromkeys(events or EVENT_TYPES))
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        sealed = self.keys.seal(secret, f"{_CONTEXT}|{customer_id}")
        self.registrations.put(customer_id, url, chosen, sealed, self.clock())
        return Registration(url, chosen, secret)

    def registration(self, customer_id: str) -> Registration | None:
        found = self.registrations.get(customer_id)
        if found is None:
            return None
        url, events, sealed = found
        return Registration(url, events, self.keys.unseal(sealed, f"{_CONTEXT}|{customer_id}"))

    def remove(self, customer_id: str) -> None:
        self.registrations.delete(customer_id)

    # --- publishing (after the change committed) ----------------------------------------
    def publish(
        self, customer_id: str, events: list[WebhookEvent], table: str = "customers", partition: str = ""
    ) -> int:
        """Queue committed events and drop their outbox rows (in `table`, partition `partition`, the
        customer's by default); returns how many were queued."""
        for event in events:
            self.queue.send(event.model_dump_json(by_alias=True))
            self.outbox.drop(table, partition or customer_id, event)
        return len(events)

    def publish_soon(self, customer_id: str, events: list[WebhookEvent], table: str, partition: str) -> None:
        """Best effort right after the commit: a failure leaves the rows for the partition's retention
        check (logged), and never fails the request that made the change."""
        try:
            self.publish(customer_id, events, table, partition)
        except Exception:
            log.warning("webhook events left for the retention check to queue", exc_info=True)

    def publish_left(self, customer_id: str, table: str = "customers", partition: str = "") -> int:
        """Queue events a crash left in a partition (the retention checks call it)."""
        events = self.outbox.left(table, partition or customer_id)
        return self.publish(customer_id, events, table, partition) if events else 0

    # --- delivering (the queue trigger) ----------------------------------------------------
    def deliver(self, body: bytes | str) -> str:
        """One delivery try; returns what happened (`delivered`, `retrying`, `failed`, `dropped`)."""
        try:
            event = WebhookEvent.model_validate_json(body)
        except ValidationError:
            self.queue.dead_letter(body.decode() if isinstance(body, bytes) else body)
            telemetry.count("webhooks", outcome="malformed")
            telemetry.event(log, "webhook.malformed", logging.ERROR)
            return "failed"
        now = self.clock()
        first = event.first_attempt_at or now
        registration = self.registration(event.customer_id)
        if registration is None or event.type not in registration.events:
            return "dropped"  # no endpoint, or not one of its events: nothing to deliver
        entry = self._begin(event, now)
        if entry.status == LedgerStatus.SENT:
            return "delivered"  # a redelivery of what the endpoint already accepted
        event = self._named_now(event)
        error = "held back: its endpoint ran out of time" if self._held_back(event.customer_id) else None
        error = error or self._try(event, registration, now)
        if error is None:
            self._record(event, status=LedgerStatus.SENT, sent_at=now, last_error=None)
            self._observe(event, "delivered", logging.INFO)
            return "delivered"
        if now - first >= self.retry_for:
            self._record(event, status=LedgerStatus.FAILED, last_error=error)
            self.queue.dead_letter(event.model_dump_json(by_alias=True))
            self._observe(event, "failed", logging.ERROR, error)
            return "failed"
        delay = min(3600, self.backoff_seconds * 2**event.attempt)
        retry = event.model_copy(update={"first_attempt_at": first, "attempt": event.attempt + 1})
        self._record(event, status=LedgerStatus.RETRYING, last_error=error)
        self.queue.send(retry.model_dump_json(by_alias=True), delay_seconds=delay)
        self._observe(event, "retrying", logging.WARNING, error)
        return "retrying"

    def _named_now(self, event: WebhookEvent) -> WebhookEvent:
        """The event as sent now: a subject erased since it was queued appears by its pseudonym."""
        guid = event.data.get("correlationId")
        if not isinstance(guid, str):
            return event
        named = self.names(event.customer_id, guid)
        return event if named == guid else event.model_copy(update={"data": {**event.data, "correlationId": named}})

    @staticmethod
    def _observe(event: WebhookEvent, outcome: str, level: int, error: str | None = None) -> None:
        telemetry.count("webhooks", outcome=outcome, type=event.type)
        fields = {"type": event.type, "attempt": event.attempt + 1, "customer": event.customer_id, "error": error}
        telemetry.event(log, f"webhook.{outcome}", level, **fields)

    def _held_back(self, customer_id: str) -> bool:
        until = self._slow.get(customer_id)
        if until is None or until <= time.monotonic():
            self._slow.pop(customer_id, None)
            return False
        return True

    def _try(self, event: WebhookEvent, registration: Registration, now: datetime) -> str | None:
        """POST the signed event once; None when the endpoint answered 2xx, else why not."""
        try:
            target = check_url(registration.url, self.allow_loopback, self.resolve)  # DNS may have changed
        except UnsafeUrl as exc:
            return f"unsafe URL: {exc}"
        body = payload(event)
        signature = Webhook(registration.secret).sign(event.event_id, now, body)
        headers = {
            "content-type": "application/json",
            "webhook-id": event.event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
        self.ledger.change(event.event_id, _one_more_try)
        with telemetry.dependency("POST webhook", target.host) as span:
            try:
                status = self.send(target, body.encode(), headers, self.timeout_seconds)
            except DeliveryFailed as exc:
                telemetry.failed(span, str(exc))
                if str(exc) == "timeout":
                    self._slow[event.customer_id] = time.monotonic() + self.backoff_seconds
                return str(exc)
            telemetry.http_outcome(span, status, failed_from=300)
        return None if 200 <= status < 300 else f"HTTP {status}"

    def _begin(self, event: WebhookEvent, now: datetime) -> LedgerEntry:
        """The event's ledger entry: created on its first try (no read), read on a retry."""
        entry = LedgerEntry(
            notification_id=event.event_id,
            kind=f"webhook:{event.type}",
            customer_id=event.customer_id,
            status=LedgerStatus.SENDING,
            created_at=now,
            updated_at=now,
        )
        if self.ledger.create(entry):
            return entry
        found = self.ledger.get(event.event_id)
        return found.record if found is not None else entry

    def _record(self, event: WebhookEvent, **fields: Any) -> None:
        now = self.clock()
        self.ledger.change(event.event_id, lambda e: e.model_copy(update={**fields, "updated_at": now}))


def _one_more_try(entry: LedgerEntry) -> LedgerEntry:
    return entry.model_copy(update={"send_attempts": entry.send_attempts + 1, "deliveries": entry.deliveries + 1})
