"""Where a subject's rows live: one partition `<customerId>_<correlationId>` holds the subject row,
its sessions, attempts, outbox and audit rows, so every change to a subject is one entity-group
transaction guarded by the rows' ETags; and the guarded operations those transactions are made of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from azure.core import MatchConditions
from azure.data.tables import UpdateMode

from shared.adapters.audit_log import audit_row
from shared.adapters.tables import Versioned, etag_of, from_entity
from shared.domain.calibration import Opinion
from shared.domain.records import Attempt, AuditEntry, OutboxEntry, Record, Session, Subject

if TYPE_CHECKING:
    pass

R = TypeVar("R", bound=Record)

CUSTOMER_ROW = "customer"
OPINION_PREFIX = "opinion_"
SUBJECT_ROW = "subject"


def subject_partition(customer_id: str, correlation_id: str) -> str:
    return f"{customer_id}_{correlation_id}"


def session_row(session_id: str) -> str:
    return f"session_{session_id}"


def attempt_row(session_id: str, attempt_id: int) -> str:
    return f"attempt_{session_id}_{attempt_id:06d}"


def outbox_row(notification_id: str) -> str:
    return f"outbox_{notification_id}"


def row_key_of(record: Record) -> str:
    """The row key a record is stored under within its subject partition."""
    if isinstance(record, Subject):
        return SUBJECT_ROW
    if isinstance(record, Session):
        return session_row(record.session_id)
    if isinstance(record, Attempt):
        return attempt_row(record.session_id, record.attempt_id)
    if isinstance(record, OutboxEntry):
        return outbox_row(record.notification_id)
    if isinstance(record, AuditEntry):
        return audit_row(record.entry_id)
    if isinstance(record, Opinion):  # a blind second opinion waiting beside its subject
        return f"{OPINION_PREFIX}{record.opinion_id}"
    raise TypeError(f"{type(record).__name__} is not stored in a subject partition")


H = TypeVar("H", bound=Record)
Rest = TypeVar("Rest", bound=Record)


def split_rows(
    rows: Any, head_row: str, head: type[H], other: type[Rest]
) -> tuple[Versioned[H] | None, list[Versioned[Rest]]]:
    """One query's rows of a partition as its head row (subject, customer) and the others."""
    found: Versioned[H] | None = None
    others: list[Versioned[Rest]] = []
    for row in rows:
        if row["RowKey"] == head_row:
            found = Versioned(from_entity(head, row), etag_of(row))
        else:
            others.append(Versioned(from_entity(other, row), etag_of(row)))
    return found, others


def if_unchanged(etag: str) -> dict[str, Any]:
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def replace_op(entity: dict[str, Any], etag: str) -> tuple[Any, ...]:
    """A transaction operation replacing a row only if it is unchanged since it was read."""
    return ("update", entity, {"mode": UpdateMode.REPLACE, **if_unchanged(etag)})
