"""Customers, one row each (partition = customer id), with their audit entries beside them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.adapters.audit_log import audit_row
from shared.adapters.customer_cache import CustomerCache
from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.outbox import event_row
from shared.adapters.paging import read_page
from shared.adapters.subject_rows import (
    CUSTOMER_ROW,
    replace_op,
)
from shared.adapters.tables import Tables, Versioned, from_entity, read_versioned, submit, to_entity
from shared.domain.records import AuditEntry, Customer

if TYPE_CHECKING:
    from shared.unit_of_work import CustomerChange


class CustomerStore:
    """Customers, one row each (partition = customer id)."""

    def __init__(self, tables: Tables, cache: CustomerCache | None = None, expiry: ExpiryIndex | None = None) -> None:
        self._table = tables.client("customers")
        self._cache = cache
        self._expiry = expiry

    def _file_relay_check(self, customer: Customer, audit: AuditEntry) -> None:
        """Ahead of a change carrying its audit entry: a retention check that relays the entry if
        the relay right after the change fails."""
        if self._expiry is not None:
            self._expiry.schedule("customers", customer.customer_id, audit.at)

    def get(self, customer_id: str) -> Versioned[Customer] | None:
        return read_versioned(self._table, Customer, customer_id, CUSTOMER_ROW)

    def get_recent(self, customer_id: str) -> Customer | None:
        """The customer as this instance read it at most CUSTOMER_CACHE_SECONDS ago (for authenticating
        api keys); a change this instance writes is seen at once, another instance's within the bound."""
        if self._cache is None:
            found = self.get(customer_id)
            return found.record if found else None
        return self._cache.get(customer_id, self.get)

    def forget(self, customer_id: str) -> None:
        """Drop this instance's cached copy (after a write elsewhere in the customer's partition)."""
        if self._cache is not None:
            self._cache.forget(customer_id)

    def create(self, customer: Customer, audit: AuditEntry) -> None:
        """Insert a new customer together with the audit entry recording it (one transaction)."""
        self._file_relay_check(customer, audit)
        submit(
            self._table, [("create", to_entity(customer, customer.customer_id, CUSTOMER_ROW)), _audit(customer, audit)]
        )

    def page(self, size: int, token: dict[str, str] | None) -> tuple[list[Customer], dict[str, str] | None]:
        """One page of customers in id order."""
        rows, next_token = read_page(
            lambda n: self._table.query_entities(
                "RowKey eq @row", parameters={"row": CUSTOMER_ROW}, results_per_page=n
            ),
            size,
            token,
        )
        return [from_entity(Customer, row) for row in rows], next_token

    def replace(self, change: CustomerChange) -> None:
        """Write a changed customer (and the audit entry recording the change, and the webhook events
        it causes, in the same transaction); StaleWrite when it changed since it was read."""
        customer, audit = change.customer.record, change.audit
        operations = [replace_op(to_entity(customer, customer.customer_id, CUSTOMER_ROW), change.customer.etag)]
        operations += [("upsert", event_row(e)) for e in change.events]
        if audit is not None:
            self._file_relay_check(customer, audit)
        try:
            submit(self._table, operations + ([_audit(customer, audit)] if audit else []))
        finally:
            if self._cache is not None:
                self._cache.forget(customer.customer_id)


def _audit(customer: Customer, entry: AuditEntry) -> tuple[Any, ...]:
    return ("create", to_entity(entry, customer.customer_id, audit_row(entry.entry_id)))
