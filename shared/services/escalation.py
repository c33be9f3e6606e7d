"""Per-customer escalation and the determination a confirmation opens (docs/abuse-policy.md).

A confirmed determination reaches the customer as an `abuse_confirmed` message on the queue; the
consumer runs this before it sends the email: in one transaction on the customer's partition it
creates the determination (its id is the message's), counts the confirmation against the customer
(warned, or suspended at the threshold) and records any suspension in the audit log. A message
delivered twice finds the determination there and changes nothing. A `severe` confirmation runs
it inside the reviewer's request, so the customer is suspended at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.adapters.audit_log import AuditLog
from shared.adapters.determination_store import DeterminationStore
from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.notification_queue import NotificationQueue
from shared.adapters.tables import Versioned
from shared.domain.clock import Clock
from shared.domain.determinations import Determination, Severity, determination_id, new_determination
from shared.domain.escalation import Escalation, EscalationPolicy, escalate, suspend_now
from shared.domain.notifications import Notification, customer_suspended
from shared.domain.records import AuditEntry, Customer, CustomerStatus
from shared.domain.webhook_events import WebhookEvent, customer_event, determination_created, subject_blocked
from shared.services.customers import no_revocation
from shared.unit_of_work import DeterminationChange, UnitOfWork


@dataclass
class CustomerEscalation:
    determinations: DeterminationStore
    uow: UnitOfWork
    audit: AuditLog
    queue: NotificationQueue
    clock: Clock
    policy: EscalationPolicy
    ref: Callable[[str, str], str]  # the subject's pseudonym (the customer row never holds a GUID)
    expiry: ExpiryIndex
    respond_within: timedelta = timedelta(days=14)
    kept: timedelta = timedelta(days=365)  # a closed determination's retention
    revoke_customer: Callable[[str], int] = no_revocation  # a suspended customer's open sessions go at once

    def confirmed(self, note: Notification) -> Customer | None:
        """Open the determination and count it against the customer; warn, or suspend (at the
        threshold, or at once when severe), audited, with the suspension email queued under an id
        fixed for that suspension."""
        severity = note.severity or Severity.STANDARD
        the_id = determination_id(note.customer_id, note.notification_id)

        def attempt() -> tuple[Customer, int, AuditEntry | None] | None:
            current, existing = self.determinations.with_customer(note.customer_id, the_id)
            if current is None:
                return None
            if existing is not None:  # a redelivery: done already
                return current.record, len(current.record.confirmations), None
            now = self.clock()
            subject = self.ref(note.customer_id, note.correlation_id or "")
            result = escalate(current.record, subject, note.determined_at, now, self.policy)
            if severity is Severity.SEVERE:
                result = suspend_now(result, now)
            determination = new_determination(
                the_id,
                note.customer_id,
                note.correlation_id or "",
                note.determined_at,
                note.reason or "abuse of liveness detection",
                severity,
                self.respond_within,
                note.guideline_id,
            )
            entry = self._suspension_entry(result, severity, now) if result.suspended_now else None
            self._file_checks(determination)
            changed = Versioned(result.customer, current.etag) if result.changed else None
            events = _events(determination, current.record, result.customer, now)
            self.uow.commit_determination(
                DeterminationChange(
                    determination, customer=changed, entries=(entry,) if entry else (), events=tuple(events)
                )
            )
            return result.customer, result.in_window, entry

        escalated = self.uow.run(attempt, "The customer")
        if escalated is None:
            return None
        self._after_commit(*escalated)
        return escalated[0]

    def _suspension_entry(self, result: Escalation, severity: Severity, now: datetime) -> AuditEntry:
        why = (
            "a severe confirmation"
            if severity is Severity.SEVERE
            else f"{result.in_window} confirmed determinations within the escalation window"
        )
        return self.audit.entry(
            at=now, actor="system", action="customer.suspend", target=result.customer.customer_id, reason=why
        )

    def _after_commit(self, customer: Customer, in_window: int, entry: AuditEntry | None) -> None:
        """A suspension is relayed to the audit log, revokes the customer's open sessions and queues its email."""
        if entry is not None:  # suspended by this confirmation
            self.audit.relay("customers", customer.customer_id, [entry])
            self.revoke_customer(customer.customer_id)
        if customer.status is CustomerStatus.SUSPENDED and customer.suspended_at is not None:
            # Same id every time for one suspension: a redelivered message cannot double-mail.
            self.queue.send(customer_suspended(customer.customer_id, customer.suspended_at, in_window))

    def _file_checks(self, determination: Determination) -> None:
        """Ahead of the write: the customer's partition is looked at when the response is due (and
        soon, to relay an audit entry a failed relay leaves behind)."""
        if determination.respond_by is not None:
            self.expiry.schedule("customers", determination.customer_id, determination.respond_by)
        if determination.closed_at is not None:  # a severe one is closed at once: when it goes (retention)
            self.expiry.schedule("customers", determination.customer_id, determination.closed_at + self.kept)
        self.expiry.schedule("customers", determination.customer_id, determination.determined_at)


def _events(d: Determination, before: Customer, after: Customer, now: datetime) -> list[WebhookEvent]:
    """The webhook events of a new determination and what it did to the customer."""
    events = [determination_created(d), subject_blocked(d)]
    if after.status is not before.status and after.status in (CustomerStatus.WARNED, CustomerStatus.SUSPENDED):
        events.append(customer_event(after, now))
    return events


def escalation_policy(suspend_after: int, window_seconds: int) -> EscalationPolicy:
    return EscalationPolicy(suspend_after=suspend_after, window=timedelta(seconds=window_seconds))
