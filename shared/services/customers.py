"""Customers: registration, api-key authentication, key rotation, reinstatement and termination."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.adapters.audit_log import AuditLog
from shared.adapters.customer_store import CustomerStore
from shared.adapters.tables import Versioned
from shared.domain.clock import Clock
from shared.domain.records import AuditEntry, Customer, CustomerStatus
from shared.domain.secrets import api_key_customer, hash_secret, new_api_key, new_id, secret_matches
from shared.domain.webhook_events import customer_event
from shared.errors import Conflict, CustomerSuspended, CustomerTerminated, NotFound, Unauthorized
from shared.unit_of_work import CustomerChange, UnitOfWork


def no_revocation(*_ids: str) -> int:
    """The default until bootstrap wires the session service's revocation: nothing revoked."""
    return 0


@dataclass
class CustomerService:
    store: CustomerStore
    uow: UnitOfWork
    audit: AuditLog
    clock: Clock
    revoke_customer: Callable[[str], int] = no_revocation  # a terminated customer's open sessions go at once

    def register(self, name: str, contact_email: str, actor: str) -> tuple[Customer, str]:
        """Create a customer; returns it with its api key (shown this once, stored as a hash)."""
        customer_id = new_id()
        api_key = new_api_key(customer_id)
        now = self.clock()
        customer = Customer(
            customer_id=customer_id,
            name=name,
            contact_email=contact_email,
            api_key_hash=hash_secret(api_key),
            created_at=now,
        )
        entry = self.audit.entry(at=now, actor=actor, action="customer.create", target=customer_id)
        self.store.create(customer, entry)
        self.audit.relay("customers", customer_id, [entry])
        return customer, api_key

    def authenticate(self, api_key: str | None) -> Customer:
        """The customer an `x-api-key` belongs to; Unauthorized for a missing or unknown key."""
        customer_id = api_key_customer(api_key or "")
        found = self.store.get_recent(customer_id) if customer_id else None
        if found is None or not secret_matches(api_key or "", found.api_key_hash):
            raise Unauthorized("A valid x-api-key header is required.")
        refuse_terminated(found)
        return found

    def refuse_unserved_id(self, customer_id: str) -> None:
        """403 `customer_suspended` or `customer_terminated` for a customer that may not be served
        (session-token calls: its sessions are revoked, and until then refused)."""
        found = self.store.get_recent(customer_id) if _is_id(customer_id) else None
        if found is None:
            return
        refuse_terminated(found)
        if found.status is CustomerStatus.SUSPENDED:
            raise CustomerSuspended("This customer is suspended; contact the operator.")

    def get(self, customer_id: str) -> Versioned[Customer]:
        found = self.store.get(customer_id) if _is_id(customer_id) else None
        if found is None:
            raise NotFound("No such customer.")
        return found

    def rotate_key(self, customer_id: str, actor: str) -> tuple[Customer, str]:
        """Issue a new api key; the old one stops working at once (the same transaction records it)."""
        api_key = new_api_key(customer_id)
        customer = self._update(
            customer_id,
            lambda c, now: _not_terminated(c).model_copy(
                update={"api_key_hash": hash_secret(api_key), "key_rotated_at": now}
            ),
            actor=actor,
            action="customer.rotate_key",
        )
        return customer, api_key

    def reinstate(self, customer_id: str, actor: str, reason: str | None) -> Customer:
        """Lift a suspension (the customer returns to `active`, its confirmation count restarts); 409
        for a customer that is not suspended (a warned one keeps its open determinations' weight)."""
        return self._update(
            customer_id,
            lambda c, now: _suspended(c).model_copy(
                update={"status": CustomerStatus.ACTIVE, "suspended_at": None, "confirmations": ()}
            ),
            actor=actor,
            action="customer.reinstate",
            reason=reason,
            announce=True,
        )

    def terminate(self, customer_id: str, actor: str, reason: str) -> Customer:
        """End a customer for good: its api keys and session tokens grant nothing from now on (every
        client call answers 403 `customer_terminated`), no key can be issued, reinstating is refused."""
        return self._update(
            customer_id,
            lambda c, now: _not_terminated(c).model_copy(
                update={"status": CustomerStatus.TERMINATED, "terminated_at": now, "suspended_at": None}
            ),
            actor=actor,
            action="customer.terminate",
            reason=reason,
            announce=True,
            revoke=True,
        )

    def _update(
        self,
        customer_id: str,
        change: Callable[[Customer, datetime], Customer],
        *,
        actor: str,
        action: str,
        reason: str | None = None,
        announce: bool = False,
        revoke: bool = False,
    ) -> Customer:
        """Change one customer under its ETag, with its audit entry (and, when `announce`, its
        `customer.<status>` webhook event) in the same transaction."""

        def attempt() -> tuple[Customer, AuditEntry]:
            current = self.get(customer_id)
            now = self.clock()
            updated = change(current.record, now)
            entry = self.audit.entry(at=now, actor=actor, action=action, target=customer_id, reason=reason)
            events = [customer_event(updated, now)] if announce else []
            self.uow.commit_customer(CustomerChange(Versioned(updated, current.etag), entry, tuple(events)))
            return updated, entry

        updated, entry = self.uow.run(attempt, "The customer")
        self.audit.relay("customers", customer_id, [entry])
        if revoke:
            self.revoke_customer(customer_id)
        return updated


def refuse_terminated(customer: Customer) -> None:
    if customer.status is CustomerStatus.TERMINATED:
        raise CustomerTerminated("This customer was terminated; its keys and tokens no longer work.")


def _not_terminated(customer: Customer) -> Customer:
    if customer.status is CustomerStatus.TERMINATED:
        raise Conflict("This customer was terminated; that is permanent.")
    return customer


def _suspended(customer: Customer) -> Customer:
    _not_terminated(customer)
    if customer.status is not CustomerStatus.SUSPENDED:
        raise Conflict(f"This customer is {customer.status.value}, not suspended; there is nothing to reinstate.")
    return customer


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(ch in "0123456789abcdef" for ch in value)
