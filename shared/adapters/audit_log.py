"""The append-only audit log: who did what, when (UTC) and why. Nothing secret goes in.

Rows are partitioned by shard and UTC day (`s<n>-yyyy-mm-dd`, see `shards`) with row keys
`<iso time>_<entry id>`, so a time range is one parameterised range query per shard, and entries
are only ever inserted, never updated.

An entry that records a change is committed in the change's own entity-group transaction, as an
`audit_<entry id>` row beside the changed row (docs/api.md: a change never persists without its
entry, nor an entry without its change), and relayed here right after; `relay_all` finishes what
a crash or an outage interrupted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.shards import day_partition, time_range_page
from shared.adapters.tables import Tables, decode_value, from_entity, utc, write_if_unchanged
from shared.domain.records import AuditEntry
from shared.domain.secrets import new_id
from shared.errors import Contended
from shared.unit_of_work import until_committed

log = logging.getLogger(__name__)
WITH_AUDIT_ROWS = ("customers", "subjects")  # tables whose changes carry their audit entry

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
MAX_FIELD = 500
REFUSAL_ROWS = 4  # rows one minute's refused calls of one kind spread over


def clean(text: str | None) -> str | None:
    """Neutralise log injection: control characters become spaces, length is capped."""
    if text is None:
        return None
    return _CONTROL.sub(" ", text)[:MAX_FIELD]


AUDIT_ROW_PREFIX = "audit_"  # an entry waiting, beside the change it records, to be relayed


def audit_row(entry_id: str) -> str:
    return f"{AUDIT_ROW_PREFIX}{entry_id}"


class AuditLog:
    """Appends audit entries; relays the ones committed together with their change."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        self._table = tables.client("audit")

    @staticmethod
    def entry(
        *,
        at: datetime,
        actor: str,
        action: str,
        target: str | None = None,
        reason: str | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """A new entry, cleaned of control characters and capped, to commit with its change."""
        cleaned = {k: v if isinstance(v, int | bool) else clean(str(v)) for k, v in (detail or {}).items()}
        return AuditEntry(
            entry_id=new_id(),
            at=utc(at),
            actor=clean(actor) or "",
            action=clean(action) or "",
            target=clean(target),
            reason=clean(reason),
            outcome=clean(outcome) or "ok",
            detail=cleaned or None,
        )

    def append(self, **fields: Any) -> None:
        """Write an entry that records no change of its own (a refused call, a sweep's counts)."""
        self.write(self.entry(**fields))

    def count_refusal(self, *, at: datetime, caller: str, **fields: Any) -> None:
        """Record a refused call, coalesced: one entry per (route, caller network, actor, reason,
        minute) — spread over a few rows so parallel callers do not queue on one — carrying a `count`,
        so a flood of refused calls adds a handful of rows a minute, not one per call. `caller` is a
        keyed pseudonym of the caller's network (never the address)."""
        minute = utc(at).replace(second=0, microsecond=0)
        identity = json.dumps([minute.isoformat(), caller, fields], sort_keys=True, default=str)
        spread = secrets.randbelow(REFUSAL_ROWS)
        entry_id = hashlib.sha256(f"{identity}|{spread}".encode()).hexdigest()[:32]
        fields["detail"] = {**(fields.get("detail") or {}), "caller": caller}
        entry = self.entry(at=minute, outcome="refused", **fields).model_copy(update={"entry_id": entry_id})
        entity = {**self._entity(entry), "count": 1}

        def attempt() -> None:
            try:
                self._table.create_entity(entity)
            except ResourceExistsError:
                found = self._table.get_entity(entity["PartitionKey"], entity["RowKey"])
                counted = {"PartitionKey": found["PartitionKey"], "RowKey": found["RowKey"]}
                write_if_unchanged(
                    self._table,
                    counted | {"count": found.get("count", 1) + 1},
                    found.metadata["etag"],
                    UpdateMode.MERGE,
                )

        try:
            until_committed(attempt, "The audit entry")
        except Contended:  # a flood this heavy is already on record; the call is refused either way
            log.warning("audit.refusal_not_counted")

    def write(self, entry: AuditEntry) -> None:
        """Put an entry in the log; writing the same entry again changes nothing."""
        with contextlib.suppress(ResourceExistsError):
            self._table.create_entity(self._entity(entry))

    @staticmethod
    def _entity(entry: AuditEntry) -> dict[str, Any]:
        entity: dict[str, Any] = {
            "PartitionKey": day_partition(entry.at, entry.entry_id),
            "RowKey": f"{entry.at.isoformat()}_{entry.entry_id}",
            "at": entry.at,
            "actor": entry.actor,
            "action": entry.action,
            "outcome": entry.outcome,
        }
        for key, value in (("target", entry.target), ("reason", entry.reason), *(entry.detail or {}).items()):
            if value is not None:
                entity[key] = value
        return entity

    def relay(self, table: str, partition: str, entries: Iterable[AuditEntry]) -> int:
        """Move entries committed beside their change into the log (best effort); returns how many.

        A failure leaves the `audit_` row where it is: `repair` (and the retention sweep) relays it."""
        source = self._tables.client(table)
        relayed = 0
        for entry in entries:
            if not self.try_write(entry):
                continue
            relayed += 1
            try:  # logged: a row left behind is only relayed again, which writes nothing new
                with contextlib.suppress(ResourceNotFoundError):
                    source.delete_entity(partition, audit_row(entry.entry_id))
            except Exception:
                log.warning("audit entry %s logged; its waiting row stays for repair", entry.action, exc_info=True)
        return relayed

    def try_write(self, entry: AuditEntry) -> bool:
        """Write an entry committed beside its change to the log; False (logged) when storage failed,
        so the caller keeps the `audit_` row for `repair` to relay."""
        try:
            self.write(entry)
        except Exception:
            log.warning("audit entry %s not relayed yet; repair will", entry.action, exc_info=True)
            return False
        return True

    def relay_all(self) -> int:
        """Relay every entry still waiting beside its change (after a crash or a storage outage)."""
        relayed = 0
        for table in WITH_AUDIT_ROWS:
            rows = self._tables.client(table).query_entities(
                "RowKey ge @lo and RowKey lt @hi", parameters={"lo": AUDIT_ROW_PREFIX, "hi": "audit`"}
            )
            for row in rows:
                relayed += self.relay(table, row["PartitionKey"], [from_entity(AuditEntry, row)])
        return relayed

    def page(
        self,
        start: datetime,
        end: datetime,
        size: int,
        token: dict[str, str] | None,
        targets: list[str] | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Entries with start <= at < end (UTC), oldest first, optionally for one target (known by any
        of `targets`: its pseudonyms under the current and previous keys), a page at a time."""
        condition, parameters = "", {}
        if targets:
            condition = " and ( " + " or ".join(f"target eq @t{i}" for i in range(len(targets))) + " )"
            parameters = {f"t{i}": t for i, t in enumerate(targets)}
        rows, next_token = time_range_page(self._table, utc(start), utc(end), size, token, condition, parameters)
        entries = [{k: decode_value(v) for k, v in row.items() if k not in ("PartitionKey", "RowKey")} for row in rows]
        return entries, next_token
