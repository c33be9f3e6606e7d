"""Per-customer escalation (docs/abuse-policy.md), as a pure function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.records import Confirmation, Customer, CustomerStatus


@dataclass(frozen=True)
class EscalationPolicy:
    suspend_after: int = 5
    window: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class Escalation:
    customer: Customer
    changed: bool
    suspended_now: bool
    in_window: int


def escalate(customer: Customer, subject: str, at: datetime, now: datetime, policy: EscalationPolicy) -> Escalation:
    """Count one confirmed determination (once per subject) and suspend at the threshold.

    A customer with confirmations in the window is `warned`; reaching `suspend_after` of them
    within the window suspends it. Counting the same subject twice changes nothing.
    """
    if customer.status is CustomerStatus.TERMINATED:  # the end of the road already: nothing to count
        return Escalation(customer, changed=False, suspended_now=False, in_window=len(customer.confirmations))
    recent = tuple(c for c in customer.confirmations if c.at > now - policy.window)
    if any(c.subject == subject for c in recent):
        return Escalation(customer, changed=False, suspended_now=False, in_window=len(recent))
    recent = (*recent, Confirmation(subject=subject, at=at))
    status, suspended_at, suspended_now = customer.status, customer.suspended_at, False
    if status is not CustomerStatus.SUSPENDED:
        if len(recent) >= policy.suspend_after:
            status, suspended_at, suspended_now = CustomerStatus.SUSPENDED, now, True
        else:
            status = CustomerStatus.WARNED
    updated = customer.model_copy(update={"confirmations": recent, "status": status, "suspended_at": suspended_at})
    return Escalation(updated, changed=True, suspended_now=suspended_now, in_window=len(recent))


def suspend_now(result: Escalation, now: datetime) -> Escalation:
    """The same escalation, with the customer suspended at once (a severe confirmation)."""
    customer = result.customer
    if customer.status in (CustomerStatus.SUSPENDED, CustomerStatus.TERMINATED):
        return result
    suspended = customer.model_copy(update={"status": CustomerStatus.SUSPENDED, "suspended_at": now})
    return Escalation(suspended, changed=True, suspended_now=True, in_window=result.in_window)
