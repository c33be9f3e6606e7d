"""Seed every kind of row the retention sweep handles, on both sides of its limit.

Every seeded row carries `expect` = "keep" or "drop", so a test can check the end state exactly.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from shared.adapters.shards import day_partition
from shared.adapters.subject_rows import subject_partition
from shared.adapters.tables import MAX_BATCH, Tables, to_entity
from shared.domain.policy import SubjectState, SubjectStatus
from shared.domain.records import Subject
from shared.services.retention import RetentionPolicy

MARGIN = timedelta(minutes=5)


def _subject(customer_id: str, guid: str, now: datetime, **changes: Any) -> Subject:
    fields: dict[str, Any] = {
        "customer_id": customer_id,
        "correlation_id": guid,
        "consent_policy_version": "v1",
        "consent_granted_at": now - timedelta(days=400),
        "created_at": now - timedelta(days=400),
        "last_activity_at": now,
    }
    return Subject(**{**fields, **changes})


def _age(now: datetime, limit: timedelta, expired: bool) -> datetime:
    return now - limit - MARGIN if expired else now - limit + MARGIN


Key = tuple[str, str, str]


def seed(
    tables: Tables, now: datetime, policy: RetentionPolicy, partitions: int = 30, per_partition: int = 40
) -> dict[Key, str]:
    """Write the rows; returns each row's (table, PartitionKey, RowKey) with "keep" or "drop"."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    customer = uuid.uuid4().hex
    for p in range(partitions):
        guid = str(uuid.uuid4())
        pk = subject_partition(customer, guid)
        flagged = p % 10 == 0  # attempts of a subject under review wait for the decision
        idle = p % 7 == 1
        status = SubjectStatus.FLAGGED if flagged else SubjectStatus.ACTIVE
        subject = _subject(
            customer,
            guid,
            now,
            state=SubjectState(status=status, flagged_at=now if flagged else None),
            status=status.value,
            last_activity_at=_age(now, policy.idle_subject, expired=idle) if not flagged else now - timedelta(days=90),
        )
        rows[pk].append({**to_entity(subject, pk, "subject"), "expect": "drop" if idle and not flagged else "keep"})
        for i in range(per_partition):
            expired = i % 2 == 0
            if i % 4 < 2:
                rows[pk].append(
                    {
                        "PartitionKey": pk,
                        "RowKey": f"session_{uuid.uuid4()}",
                        "expires_at": _age(now, policy.session_grace, expired),
                        "settled": True,  # read to the end and deleted at Face already (tests of settling
                        "face_deleted": True,  # write real sessions)
                        "expect": "drop" if expired else "keep",
                    }
                )
            else:
                rows[pk].append(
                    {
                        "PartitionKey": pk,
                        "RowKey": f"attempt_{uuid.uuid4()}_{i:06d}",
                        "recorded_at": _age(now, policy.attempts, expired),
                        "liveness_decision": "realface",
                        "expect": "drop" if expired and not flagged else "keep",
                    }
                )
    for expired in (True, False):  # decided subjects: tombstone period on either side
        guid = str(uuid.uuid4())
        pk = subject_partition(customer, guid)
        decided_at = _age(now, policy.tombstone, expired)
        state = SubjectState(status=SubjectStatus.BLOCKED, flagged_at=decided_at, failures=(decided_at,))
        subject = _subject(customer, guid, now, state=state, status="blocked", decided_at=decided_at)
        rows[pk].append({**to_entity(subject, pk, "subject"), "expect": "drop" if expired else "keep"})
    simple = {
        "audit": ("at", policy.audit),
        "feedback": ("created_at", policy.feedback),
        "notifications": ("updated_at", policy.ledger),
        "ratelimits": ("window_end", policy.rate_limits),
    }
    written: dict[Key, str] = {}
    for table, (column, limit) in simple.items():
        batch: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for i in range(120):
            expired = i % 2 == 0
            at = _age(now, limit, expired)
            pk, rk = _keys(table, at, f"r{i:04d}", i)
            batch[pk].append({"PartitionKey": pk, "RowKey": rk, column: at, "expect": "drop" if expired else "keep"})
        written |= _write(tables, table, batch)
    return written | _write(tables, "subjects", rows)


def _keys(table: str, at: datetime, row_id: str, i: int) -> tuple[str, str]:
    """Where each kind's writer puts a row: day shards for the time-ordered tables, one partition
    per notification, one per rate-limit key (three windows each)."""
    if table in ("audit", "feedback"):
        return day_partition(at, row_id), f"{at.isoformat()}_{row_id}"
    if table == "notifications":
        return str(uuid.uuid4()), "ledger"
    return f"feedback_key{i % 40}", row_id


def _write(tables: Tables, table: str, rows: dict[str, list[dict[str, Any]]]) -> dict[Key, str]:
    client = tables.client(table)
    written: dict[Key, str] = {}
    for partition_rows in rows.values():
        for start in range(0, len(partition_rows), MAX_BATCH):
            chunk = partition_rows[start : start + MAX_BATCH]
            client.submit_transaction([("create", row) for row in chunk])
            written |= {(table, r["PartitionKey"], r["RowKey"]): r.pop("expect") for r in chunk}
    return written


def present(tables: Tables) -> set[Key]:
    """Every row now in the tables the sweep looks at."""
    return {
        (table, r["PartitionKey"], r["RowKey"])
        for table in ("subjects", "audit", "feedback", "notifications", "ratelimits")
        for r in tables.client(table).list_entities()
    }
