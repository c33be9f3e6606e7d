"""Turn notification queue messages into emails, once each, never silently lost (README.md, Notifications).

- The ledger (keyed by notification id) records every delivery and send attempt; a message whose
  ledger entry says `sent` is acknowledged without sending.
- The ACS `operation_id` is the notification id, so even two deliveries racing each other are one
  email at ACS.
- Throttling (429, honouring Retry-After) and 5xx are retried with backoff inside a delivery; when
  a delivery still fails the function raises, the queue re-delivers, and on the last dequeue the
  ledger says `failed` with the last error before the host moves the message to the poison queue.
- A malformed message is recorded as `rejected` and dead-lettered at once, with its reason.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Protocol

from azure.core.exceptions import AzureError, HttpResponseError
from pydantic import ValidationError

from shared import telemetry
from shared.adapters.audit_log import clean
from shared.adapters.customer_store import CustomerStore
from shared.adapters.ledger import NotificationLedger
from shared.adapters.notification_queue import NotificationQueue
from shared.adapters.review_stats import ReviewStats
from shared.domain.clock import Clock
from shared.domain.emails import Email, render
from shared.domain.notifications import Notification, NotificationKind
from shared.domain.records import LedgerEntry, LedgerStatus
from shared.domain.review_overview import reason_kind
from shared.services.escalation import CustomerEscalation
from shared.services.subject_names import SubjectNames

log = logging.getLogger(__name__)
RETRYABLE = {408, 429, 500, 502, 503, 504}
MAX_BACKOFF = 30.0


class EmailSender(Protocol):
    def begin_send(self, message: dict[str, Any], **kwargs: Any) -> Any: ...


class NotificationNotSent(Exception):
    """Raised so the queue re-delivers the message (and poisons it after the last try)."""


@dataclass
class Notifier:
    ledger: NotificationLedger
    customers: CustomerStore
    queue: NotificationQueue
    email: EmailSender
    clock: Clock
    sender_address: str
    support_contact: str
    window_days: int
    escalation: CustomerEscalation  # counts an abuse confirmation against its customer
    stats: ReviewStats  # counts each confirmation for the review overview
    names: SubjectNames  # names a subject erased since the message was queued by its pseudonym
    send_attempts: int = 3
    poll_interval: float = 2.0
    max_dequeue: int = 5
    base_backoff: float = 0.5

    def handle(self, body: bytes, message_id: str, dequeue_count: int) -> str:
        """Process one delivery; returns what happened (`sent`, `duplicate`, `rejected`)."""
        try:
            note = Notification.model_validate_json(body)
        except ValidationError as exc:
            return self._reject(
                body, f"rejected-{message_id}", "malformed", f"not a notification message: {_fields(exc)}"
            )
        guid = note.correlation_id
        if guid:  # erased since it was queued: the pseudonym, never the GUID
            note = note.model_copy(update={"correlation_id": self.names.current(note.customer_id, guid)})
        if note.kind is NotificationKind.ABUSE_CONFIRMED:
            self.escalation.confirmed(note)  # idempotent: a redelivery counts nothing twice
            if guid and (named := self.names.current(note.customer_id, guid)) != guid:
                self.names.pseudonymise_determinations(note.customer_id, guid)  # erased while we wrote it
                note = note.model_copy(update={"correlation_id": named})
        if note.kind is NotificationKind.ABUSE_CONFIRMED:  # counted once per notification id
            self.stats.record("confirm", reason_kind(note.reason), note.determined_at, note.notification_id)
        found = self.customers.get(note.customer_id)
        if found is None:
            return self._reject(body, note.notification_id, note.kind.value, "unknown customer")
        entry = self._begin(note)
        if entry.status == LedgerStatus.SENT:
            log.info("notification %s already sent; acknowledged", note.notification_id)
            return "duplicate"
        email = render(note, found.record.name, self.support_contact, self.window_days)
        last_error = self._deliver(note, email, found.record.contact_email)
        now = self.clock()
        if last_error is None:
            self._update(note, status=LedgerStatus.SENT, sent_at=now, updated_at=now, last_error=None)
            telemetry.count("emails", outcome="sent", kind=note.kind.value)
            telemetry.event(log, "email.sent", kind=note.kind.value, customer=note.customer_id)
            return "sent"
        final = dequeue_count >= self.max_dequeue
        self._update(
            note, status=LedgerStatus.FAILED if final else LedgerStatus.RETRYING, last_error=last_error, updated_at=now
        )
        outcome = "failed" if final else "retrying"
        telemetry.count("emails", outcome=outcome, kind=note.kind.value)
        level = logging.ERROR if final else logging.WARNING
        telemetry.event(
            log, f"email.{outcome}", level, kind=note.kind.value, customer=note.customer_id, error=last_error
        )
        raise NotificationNotSent(f"notification {note.notification_id} not sent: {last_error}")

    def _deliver(self, note: Notification, email: Email, to: str) -> str | None:
        """Try to send, retrying throttling and server errors; None when sent, else the last error."""
        last_error = "no attempt made"
        for attempt in range(self.send_attempts):
            self.ledger.change(note.notification_id, _count_attempt)
            try:
                self._send(note, email, to)
                return None
            except HttpResponseError as exc:
                last_error = f"{exc.status_code} {clean(exc.reason or '')}".strip()
                if exc.status_code not in RETRYABLE:
                    return last_error
                self._pause(attempt, exc)
            except (AzureError, NotificationNotSent) as exc:
                last_error = clean(f"{type(exc).__name__}: {exc}") or type(exc).__name__
                self._pause(attempt, None)
        return last_error

    def _update(self, note: Notification, **fields: Any) -> None:
        self.ledger.change(note.notification_id, lambda e: e.model_copy(update=fields))

    def _begin(self, note: Notification) -> LedgerEntry:
        now = self.clock()
        self.ledger.create(
            LedgerEntry(
                notification_id=note.notification_id,
                kind=note.kind.value,
                customer_id=note.customer_id,
                correlation_id=note.correlation_id,
                status=LedgerStatus.SENDING,
                operation_id=note.notification_id,
                created_at=now,
                updated_at=now,
            )
        )
        return self.ledger.change(
            note.notification_id, lambda e: e.model_copy(update={"deliveries": e.deliveries + 1, "updated_at": now})
        )

    def _send(self, note: Notification, email: Email, to: str) -> None:
        message = {
            "senderAddress": self.sender_address,
            "recipients": {"to": [{"address": to}]},
            "content": {"subject": email.subject, "plainText": email.plain_text, "html": email.html},
            "userEngagementTrackingDisabled": True,
        }
        poller = self.email.begin_send(message, operation_id=note.notification_id, polling_interval=self.poll_interval)
        result = poller.result()
        status = (result or {}).get("status")
        if status != "Succeeded":
            raise NotificationNotSent(f"send ended {status}: {(result or {}).get('error')}")

    def _pause(self, attempt: int, exc: HttpResponseError | None) -> None:
        if attempt + 1 >= self.send_attempts:
            return
        retry_after = None
        if exc is not None and exc.response is not None:
            header = exc.response.headers.get("Retry-After")
            retry_after = float(header) if header and header.replace(".", "", 1).isdigit() else None
        delay = retry_after if retry_after is not None else self.base_backoff * 2**attempt * random.uniform(0.8, 1.2)
        time.sleep(min(delay, MAX_BACKOFF))

    def _reject(self, body: bytes, ledger_id: str, kind: str, reason: str) -> str:
        now = self.clock()
        created = self.ledger.create(
            LedgerEntry(
                notification_id=ledger_id,
                kind=kind,
                status=LedgerStatus.REJECTED,
                last_error=reason,
                deliveries=1,
                created_at=now,
                updated_at=now,
            )
        )
        if created:
            self.queue.dead_letter(body, reason)
        telemetry.count("emails", outcome="rejected", kind="malformed" if kind == "malformed" else kind)
        telemetry.event(log, "email.rejected", logging.ERROR, reason=reason)
        return "rejected"


def _count_attempt(entry: LedgerEntry) -> LedgerEntry:
    return entry.model_copy(update={"send_attempts": entry.send_attempts + 1})


def _fields(exc: ValidationError) -> str:
    names = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors(include_input=False)})
    return "invalid " + ", ".join(names)[:200]
