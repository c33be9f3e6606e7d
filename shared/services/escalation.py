"""Per-customer escalation (SPEC section 5), run by the notification consumer.

A confirmed determination reaches the customer as an `abuse_confirmed` message on the queue; the
consumer counts it against the customer before sending the email. Counting is idempotent (one
subject counts once), so a message delivered twice changes nothing the second time, and the
reviewer's confirmation costs no customer read or write (SPEC's outbox guarantees hold: the
message is committed with the decision, and escalation follows it at least once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from shared.adapters.audit_log import AuditLog
from shared.adapters.notification_queue import NotificationQueue
from shared.adapters.stores import CustomerStore
from shared.domain.clock import Clock
from shared.domain.escalation import EscalationPolicy, escalate
from shared.domain.notifications import Notification, customer_suspended
from shared.domain.records import AuditEntry, Customer, CustomerStatus
from shared.unit_of_work import until_committed


@dataclass
class CustomerEscalation:
    customers: CustomerStore
    audit: AuditLog
    queue: NotificationQueue
    clock: Clock
    policy: EscalationPolicy
    ref: Callable[[str, str], str]  # the subject's pseudonym (the customer row never holds a GUID)

    def confirmed(self, note: Notification) -> Customer | None:
        """Count one confirmed determination; warn, or suspend at the threshold (audited, and the
        suspension email queued under an id fixed for that suspension)."""

        def attempt() -> tuple[Customer, int, AuditEntry | None] | None:
            current = self.customers.get(note.customer_id)
            if current is None:
                return None
            now = self.clock()
            subject = self.ref(note.customer_id, note.correlation_id or "")
            result = escalate(current.record, subject, note.determined_at, now, self.policy)
            entry = None
            if result.suspended_now:
                entry = self.audit.entry(
                    at=now,
                    actor="system",
                    action="customer.suspend",
                    target=result.customer.customer_id,
                    reason=f"{result.in_window} confirmed determinations within the escalation window",
                )
            if result.changed:
                self.customers.replace(result.customer, current.etag, entry)
            return result.customer, result.in_window, entry

        escalated = until_committed(attempt, "The customer")
        if escalated is None:
            return None
        customer, in_window, entry = escalated
        if entry is not None:
            self.audit.relay("customers", customer.customer_id, [entry])
        if customer.status is CustomerStatus.SUSPENDED and customer.suspended_at is not None:
            # Same id every time for one suspension: a redelivered message cannot double-mail.
            self.queue.send(customer_suspended(customer.customer_id, customer.suspended_at, in_window))
        return customer


def escalation_policy(suspend_after: int, window_seconds: int) -> EscalationPolicy:
    return EscalationPolicy(suspend_after=suspend_after, window=timedelta(seconds=window_seconds))
