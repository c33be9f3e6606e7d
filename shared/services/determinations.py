"""Determinations (docs/abuse-policy.md): a customer lists and answers its own; reviewers list them
across customers and resolve the responses; the sweep expires the overdue ones (which suspends
the customer, in the same transaction, with the audit entry).

Reviewers' listing by status reads an index (`reviewindex`, partitions `determination-<status>-s<n>`,
rows `<customerId>_<determinationId>`) written ahead of each change and checked against the
determination on every listing, like the review index of flags: stale rows are dropped, none is
ever missing. The determination itself lives in its customer's partition (`DeterminationStore`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.adapters.audit_log import AuditLog
from shared.adapters.batch_delete import BatchDeleter
from shared.adapters.determination_store import DeterminationIndex, DeterminationStore
from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.notification_queue import NotificationQueue
from shared.adapters.tables import Versioned
from shared.domain.clock import Clock
from shared.domain.determinations import (
    Determination,
    DeterminationStatus,
    archived,
    expire,
    is_overdue,
    resolve,
    respond,
)
from shared.domain.notifications import customer_suspended
from shared.domain.records import AuditEntry, Customer, CustomerStatus
from shared.domain.review_people import Decider
from shared.domain.webhook_events import customer_event, determination_resolved
from shared.errors import NotFound
from shared.services.customers import no_revocation
from shared.unit_of_work import DeterminationChange, UnitOfWork

RESOLVED = (DeterminationStatus.REMEDIATED, DeterminationStatus.RESPONSE_REJECTED, DeterminationStatus.EXPIRED)


@dataclass
class DeterminationService:
    store: DeterminationStore
    index: DeterminationIndex
    uow: UnitOfWork
    audit: AuditLog
    queue: NotificationQueue
    clock: Clock
    expiry: ExpiryIndex
    kept: timedelta = timedelta(days=365)  # after a determination closes (docs/retention.md)
    revoke_customer: Callable[[str], int] = no_revocation  # a suspended customer's open sessions go at once

    # --- the customer -------------------------------------------------------------------
    def own(self, customer_id: str, status: str | None, size: int, token: dict | None) -> tuple[list, dict | None]:
        return self.store.page(customer_id, status, size, token)

    def shown(self, d: Determination) -> Determination:
        """A determination as shown, with every response it got (the earlier ones read from their own
        rows; one query, only when there are any). For display only: never written back."""
        if not d.earlier_responses:
            return d
        earlier = tuple(self.store.answers(d.customer_id, d.determination_id))
        return d.model_copy(update={"responses": (*earlier, *d.responses)})

    def respond(self, customer: Customer, determination_id: str, explanation: str, remediation: str) -> Determination:
        """The customer's explanation and remediation (409 when one is pending or it is closed)."""
        return self._change(
            customer.customer_id,
            determination_id,
            lambda d, now: respond(d, explanation, remediation, now),
            actor=f"customer:{customer.customer_id}",
            action="determination.respond",
        )

    # --- reviewers ----------------------------------------------------------------------
    def listed(self, status: str, size: int, token: dict | None) -> tuple[list[Determination], dict | None]:
        """One page of determinations in a status across customers; stale index rows dropped."""
        keys, next_token = self.index.page(status, size, token)
        listed = []
        for customer_id, determination_id in keys:
            _, found = self.store.with_customer(customer_id, determination_id)
            if found is None or found.record.status.value != status:
                self.index.remove(status, customer_id, determination_id)
                continue
            listed.append(found.record)
        return listed, next_token

    def resolve(
        self, customer_id: str, determination_id: str, accepted: bool, reason: str, reviewer: Decider
    ) -> Determination:
        """Accept (remediated) or reject a received response; a rejection after respondBy expires it.
        The reviewer is recorded by name and object id."""
        return self._change(
            customer_id,
            determination_id,
            lambda d, now: resolve(d, accepted, reason, reviewer.actor, now, reviewer.object_id),
            actor=reviewer.actor,
            action="determination.resolve",
            reason=reason,
            decider_id=reviewer.object_id,
        )

    # --- the timer ----------------------------------------------------------------------
    def sweep(self, customer_id: str, now: datetime) -> dict[str, int]:
        """The customer's retention check: expire what is overdue, delete what closed long ago."""
        expired = self.expire_overdue(customer_id, now)
        old = self.store.closed_before(customer_id, now - self.kept)
        earlier = [row["determination_id"] for row in old if row.get("earlier_responses")]
        deleter = BatchDeleter(self.store.table)
        deleter.delete([a for the_id in earlier for a in self.store.answer_rows(customer_id, the_id)])  # first
        deleted = deleter.delete(old)
        for row in old:
            self.index.remove(row["status"], customer_id, row["determination_id"])
        return {"determinationsExpired": expired, "determinations": deleted}

    def expire_overdue(self, customer_id: str, now: datetime) -> int:
        """Expire the customer's determinations past respondBy without a response waiting (each
        suspends the customer, once); returns how many expired."""
        expired = 0
        for candidate in self.store.overdue_candidates(customer_id, now):
            if is_overdue(candidate.record, now):
                self._change(
                    customer_id,
                    candidate.record.determination_id,
                    lambda d, at: expire(d, at) if is_overdue(d, at) else d,
                    actor="system",
                    action="determination.expire",
                )
                expired += 1
        return expired

    # --- one change, with the customer when it suspends ---------------------------------
    def _change(
        self,
        customer_id: str,
        determination_id: str,
        change: Callable[[Determination, datetime], Determination],
        *,
        actor: str,
        action: str,
        reason: str | None = None,
        decider_id: str | None = None,
    ) -> Determination:
        def attempt() -> tuple[Determination, Customer | None, list[AuditEntry]]:
            customer, found = self.store.with_customer(customer_id, determination_id)
            if customer is None or found is None:
                raise NotFound("No such determination.")
            now = self.clock()
            before = found.record
            after = change(before, now)
            if after == before:
                return after, None, []
            detail = {"status": after.status.value, **({"deciderId": decider_id} if decider_id else {})}
            target = f"determination:{determination_id}"
            entries = [
                self.audit.entry(at=now, actor=actor, action=action, target=target, reason=reason, detail=detail)
            ]
            suspended = self._suspension(customer, after, now, entries)
            events = [determination_resolved(after, now)] if after.status in RESOLVED else []
            events += [customer_event(suspended.record, now)] if suspended else []
            if after.closed_at is not None:  # when it goes (retention), filed ahead
                self.expiry.schedule("customers", customer_id, after.closed_at + self.kept)
            self.uow.commit_determination(
                DeterminationChange(
                    Versioned(after, found.etag),
                    customer=suspended,
                    entries=tuple(entries),
                    events=tuple(events),
                    answers=tuple(archived(before, after)),
                )
            )
            if after.status is not before.status:
                self.index.remove(before.status.value, customer_id, determination_id)
            return after, suspended.record if suspended else None, entries

        after, suspended, entries = self.uow.run(attempt, "The determination")
        self._after_commit(customer_id, entries, suspended)
        return after

    def _suspension(
        self, customer: Versioned[Customer], after: Determination, now: datetime, entries: list[AuditEntry]
    ) -> Versioned[Customer] | None:
        """An expired determination suspends an active or warned customer (its audit entry added)."""
        if after.status is not DeterminationStatus.EXPIRED or customer.record.status not in (
            CustomerStatus.ACTIVE,
            CustomerStatus.WARNED,
        ):
            return None
        entries.append(
            self.audit.entry(
                at=now,
                actor="system",
                action="customer.suspend",
                target=customer.record.customer_id,
                reason="a determination expired without an accepted response",
            )
        )
        changed = customer.record.model_copy(update={"status": CustomerStatus.SUSPENDED, "suspended_at": now})
        return Versioned(changed, customer.etag)

    def _after_commit(self, customer_id: str, entries: list[AuditEntry], suspended: Customer | None) -> None:
        """Relay the audit entries and, when the change suspended the customer, revoke its open
        sessions and queue the suspension email."""
        if entries:
            self.audit.relay("customers", customer_id, entries)
        if suspended is not None:
            self.revoke_customer(customer_id)
            if suspended.suspended_at is not None:
                self.queue.send(customer_suspended(customer_id, suspended.suspended_at, len(suspended.confirmations)))
