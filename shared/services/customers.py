"""Customers: registration, api-key authentication, key rotation and reinstatement."""

from __future__ import annotations

from dataclasses import dataclass

from shared.adapters.audit_log import AuditLog
from shared.adapters.stores import CustomerStore, Versioned
from shared.adapters.tables import StaleWrite
from shared.domain.clock import Clock
from shared.domain.records import Customer, CustomerStatus
from shared.domain.secrets import api_key_customer, hash_secret, new_api_key, new_id, secret_matches
from shared.errors import Contended, NotFound, Unauthorized

MAX_RACES = 20


@dataclass
class CustomerService:
    store: CustomerStore
    audit: AuditLog
    clock: Clock

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
        self.store.create(customer)
        self.audit.append(at=now, actor=actor, action="customer.create", target=customer_id)
        return customer, api_key

    def authenticate(self, api_key: str | None) -> Customer:
        """The customer an `x-api-key` belongs to; Unauthorized for a missing or unknown key."""
        customer_id = api_key_customer(api_key or "")
        found = self.store.get(customer_id) if customer_id else None
        if found is None or not secret_matches(api_key or "", found.record.api_key_hash):
            raise Unauthorized("A valid x-api-key header is required.")
        return found.record

    def get(self, customer_id: str) -> Versioned[Customer]:
        found = self.store.get(customer_id) if _is_id(customer_id) else None
        if found is None:
            raise NotFound("No such customer.")
        return found

    def rotate_key(self, customer_id: str, actor: str) -> tuple[Customer, str]:
        """Issue a new api key; the old one stops working at once."""
        api_key = new_api_key(customer_id)
        customer = self._update(
            customer_id,
            lambda c, now: c.model_copy(update={"api_key_hash": hash_secret(api_key), "key_rotated_at": now}),
        )
        self.audit.append(at=self.clock(), actor=actor, action="customer.rotate_key", target=customer_id)
        return customer, api_key

    def reinstate(self, customer_id: str, actor: str, reason: str | None) -> Customer:
        """Lift a suspension (the customer returns to `active`, its confirmation count restarts)."""
        customer = self._update(
            customer_id,
            lambda c, now: c.model_copy(
                update={"status": CustomerStatus.ACTIVE, "suspended_at": None, "confirmations": ()}
            ),
        )
        self.audit.append(at=self.clock(), actor=actor, action="customer.reinstate", target=customer_id, reason=reason)
        return customer

    def _update(self, customer_id: str, change) -> Customer:
        for _ in range(MAX_RACES):
            current = self.get(customer_id)
            updated = change(current.record, self.clock())
            try:
                self.store.replace(updated, current.etag)
            except StaleWrite:
                continue
            return updated
        raise Contended("The customer is being changed concurrently; retry.", retry_after=1)


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(ch in "0123456789abcdef" for ch in value)
