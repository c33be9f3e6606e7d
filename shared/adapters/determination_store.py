"""A customer's determinations (docs/abuse-policy.md, "Determinations"), in its own partition of
`customers`: row `determination_<id>`, and `answer_<id>_<n>` for each earlier response, so a
determination, the customer's status and their audit entries change in one transaction."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.audit_log import audit_row
from shared.adapters.customer_store import CustomerStore
from shared.adapters.outbox import event_row
from shared.adapters.paging import read_page
from shared.adapters.shards import all_shards, merged_page, shard_of, shard_query
from shared.adapters.subject_rows import CUSTOMER_ROW, replace_op, split_rows
from shared.adapters.tables import Tables, Versioned, etag_of, from_entity, submit, to_entity
from shared.domain.determinations import CustomerResponse, Determination
from shared.domain.records import Customer

if TYPE_CHECKING:
    from shared.unit_of_work import DeterminationChange

DETERMINATION_PREFIX = "determination_"


def determination_row(determination_id: str) -> str:
    return f"{DETERMINATION_PREFIX}{determination_id}"


def answer_row(determination_id: str, n: int) -> str:
    """An earlier response to a determination, in its own row (the determination's row keeps the latest)."""
    return f"answer_{determination_id}_{n:04d}"


class DeterminationStore:
    """A customer's determinations, in its own partition of `customers` (row `determination_<id>`),
    so a determination, the customer's status and their audit entries change in one transaction."""

    def __init__(self, tables: Tables, customers: CustomerStore) -> None:
        self._table = tables.client("customers")
        self._customers = customers

    @property
    def table(self) -> Any:
        return self._table

    def with_customer(
        self, customer_id: str, determination_id: str
    ) -> tuple[Versioned[Customer] | None, Versioned[Determination] | None]:
        """The customer row and one determination in a single round trip."""
        rows = self._table.query_entities(
            "PartitionKey eq @pk and ( RowKey eq @customer or RowKey eq @row )",
            parameters={"pk": customer_id, "customer": CUSTOMER_ROW, "row": determination_row(determination_id)},
        )
        customer, found = split_rows(rows, CUSTOMER_ROW, Customer, Determination)
        return customer, found[0] if found else None

    def page(
        self, customer_id: str, status: str | None, size: int, token: dict[str, str] | None
    ) -> tuple[list[Determination], dict[str, str] | None]:
        """One page of a customer's determinations, oldest id first, optionally of one status."""
        query = "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi" + (" and status eq @status" if status else "")
        parameters = {"pk": customer_id, "lo": DETERMINATION_PREFIX, "hi": "determination`", "status": status or ""}
        rows, next_token = read_page(
            lambda n: self._table.query_entities(query, parameters=parameters, results_per_page=n), size, token
        )
        return [from_entity(Determination, row) for row in rows], next_token

    def overdue_candidates(self, customer_id: str, now: Any) -> list[Versioned[Determination]]:
        """The customer's determinations that may take a response and whose `respondBy` passed."""
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi and respond_by le @now"
            " and ( status eq @awaiting or status eq @rejected )",
            parameters={
                "pk": customer_id,
                "lo": DETERMINATION_PREFIX,
                "hi": "determination`",
                "now": now,
                "awaiting": "awaiting_response",
                "rejected": "response_rejected",
            },
        )
        return [Versioned(from_entity(Determination, row), etag_of(row)) for row in rows]

    def naming(self, customer_id: str, correlation_id: str) -> list[Versioned[Determination]]:
        """The customer's determinations that name this GUID (erasure replaces it by its pseudonym)."""
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi and correlation_id eq @guid",
            parameters={"pk": customer_id, "lo": DETERMINATION_PREFIX, "hi": "determination`", "guid": correlation_id},
        )
        return [Versioned(from_entity(Determination, row), etag_of(row)) for row in rows]

    def replace(self, determination: Versioned[Determination]) -> None:
        """Write a changed determination alone; StaleWrite when it changed since it was read."""
        d = determination.record
        row = to_entity(d, d.customer_id, determination_row(d.determination_id))
        submit(self._table, [replace_op(row, determination.etag)])

    def answers(self, customer_id: str, determination_id: str) -> list[CustomerResponse]:
        """The earlier responses to a determination, oldest first."""
        return [from_entity(CustomerResponse, row) for row in self._answers(customer_id, determination_id)]

    def answer_rows(self, customer_id: str, determination_id: str) -> list[dict[str, Any]]:
        """The keys of a determination's earlier responses (retention deletes them with it)."""
        return list(self._answers(customer_id, determination_id, ["PartitionKey", "RowKey"]))

    def _answers(self, customer_id: str, determination_id: str, select: list[str] | None = None) -> Any:
        prefix = f"answer_{determination_id}_"
        parameters = {"pk": customer_id, "lo": prefix, "hi": prefix[:-1] + "`"}
        query = "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi"
        return self._table.query_entities(query, parameters=parameters, select=select)

    def closed_before(self, customer_id: str, cutoff: Any) -> list[dict[str, Any]]:
        """The customer's determinations closed before `cutoff` (retention: they go, with their responses)."""
        return list(
            self._table.query_entities(
                "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi and closed_at lt @cutoff",
                parameters={"pk": customer_id, "lo": DETERMINATION_PREFIX, "hi": "determination`", "cutoff": cutoff},
            )
        )

    def commit(self, change: DeterminationChange) -> None:
        """Write a determination (new, or replacing the version read), the customer (when given), the
        audit entries and an outbox row per event, in one transaction; StaleWrite when either changed
        since it was read."""
        determination, customer = change.determination, change.customer
        d = determination.record if isinstance(determination, Versioned) else determination
        row = to_entity(d, d.customer_id, determination_row(d.determination_id))
        operations: list[tuple[Any, ...]] = [
            replace_op(row, determination.etag) if isinstance(determination, Versioned) else ("create", row)
        ]
        if customer is not None:
            operations.append(replace_op(to_entity(customer.record, d.customer_id, CUSTOMER_ROW), customer.etag))
        operations += [("create", to_entity(e, d.customer_id, audit_row(e.entry_id))) for e in change.entries]
        operations += [("upsert", event_row(e)) for e in change.events]  # queued after the commit
        operations += [
            ("create", to_entity(r, d.customer_id, answer_row(d.determination_id, n))) for n, r in change.answers
        ]
        try:
            submit(self._table, operations)
        finally:
            if customer is not None:
                self._customers.forget(d.customer_id)


class DeterminationIndex:
    """Determinations listed by status across customers (written ahead, checked on listing)."""

    def __init__(self, tables: Tables) -> None:
        self._table = tables.client("reviewindex")

    @staticmethod
    def _keys(status: str, customer_id: str, determination_id: str) -> tuple[str, str]:
        row = f"{customer_id}_{determination_id}"
        return f"determination-{status}-{shard_of(row)}", row

    def put(self, d: Determination) -> None:
        partition, row = self._keys(d.status.value, d.customer_id, d.determination_id)
        self._table.upsert_entity({"PartitionKey": partition, "RowKey": row}, mode=UpdateMode.REPLACE)

    def remove(self, status: str, customer_id: str, determination_id: str) -> None:
        partition, row = self._keys(status, customer_id, determination_id)
        with contextlib.suppress(ResourceNotFoundError, ResourceModifiedError):
            self._table.delete_entity(partition, row)

    def page(self, status: str, size: int, token: dict[str, str] | None) -> tuple[list[tuple[str, str]], dict | None]:
        """One page of (customerId, determinationId) listed under a status, across its shards."""
        queries = [
            shard_query(self._table, "PartitionKey eq @pk", {"pk": f"determination-{status}-{s}"}) for s in all_shards()
        ]
        rows, next_token = merged_page(queries, size, token)
        return [tuple(r["RowKey"].split("_", 1)) for r in rows], next_token  # type: ignore[misc]
