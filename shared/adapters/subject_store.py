"""Subjects with their sessions and attempts (shared/adapters/subject_rows.py names their rows)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.audit_log import AUDIT_ROW_PREFIX, audit_row
from shared.adapters.batch_delete import BatchDeleter
from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.outbox import EVENT_PREFIX, event_row
from shared.adapters.recent_subjects import RecentSubjects
from shared.adapters.subject_rows import (
    OPINION_PREFIX,
    SUBJECT_ROW,
    if_unchanged,
    replace_op,
    row_key_of,
    session_row,
    split_rows,
    subject_partition,
)
from shared.adapters.tables import Tables, Versioned, etag_of, from_entity, read_versioned, submit, to_entity
from shared.domain.keys import Keyring
from shared.domain.records import Attempt, AuditEntry, OutboxEntry, Session, Subject
from shared.domain.secrets import erased_ids

if TYPE_CHECKING:
    from shared.unit_of_work import SubjectChange


class SubjectStore:
    """Subjects, their sessions and attempts (partition = `<customerId>_<correlationId>`)."""

    def __init__(
        self,
        tables: Tables,
        expiry: ExpiryIndex,
        idle: timedelta,
        recent: RecentSubjects,
    ) -> None:
        self._table = tables.client("subjects")
        self._expiry = expiry
        self._idle = idle
        self._recent = recent

    def forget_recent(self) -> None:
        """Drop what this instance last wrote (benchmarks: a request landing on another instance)."""
        self._recent.clear()

    def file_check(self, customer_id: str, correlation_id: str, at: datetime, new: bool = False) -> datetime | None:
        """File a retention check of this subject's partition for the hour `at` falls due in
        (ahead of the rows it covers); returns the hour filed."""
        return self._expiry.schedule("subjects", subject_partition(customer_id, correlation_id), at, new=new)

    def forget_checks(self, customer_id: str, correlation_id: str) -> None:
        """Erasure: no retention check filed for this partition leads back to its GUID any more."""
        self._expiry.forget_name("subjects", subject_partition(customer_id, correlation_id))

    def get(self, customer_id: str, correlation_id: str) -> Versioned[Subject] | None:
        return read_versioned(self._table, Subject, subject_partition(customer_id, correlation_id), SUBJECT_ROW)

    def gate_record(self, keys: Keyring, customer_id: str, correlation_id: str) -> Subject | None:
        """The gate erasure left for this GUID, under the current key or one a rotation retired."""
        for gate_id in erased_ids(keys, customer_id, correlation_id):
            found = self.get(customer_id, gate_id)
            if found is not None:
                return found.record
        return None

    def get_with_session(
        self, customer_id: str, correlation_id: str, session_id: str
    ) -> tuple[Versioned[Subject] | None, Versioned[Session] | None]:
        """The subject row and one session row in a single round trip."""
        rows = self._table.query_entities(
            "PartitionKey eq @pk and ( RowKey eq @subject or RowKey eq @session )",
            parameters={
                "pk": subject_partition(customer_id, correlation_id),
                "subject": SUBJECT_ROW,
                "session": session_row(session_id),
            },
        )
        subject, sessions = split_rows(rows, SUBJECT_ROW, Subject, Session)
        return subject, sessions[0] if sessions else None

    def recent_with_sessions(
        self, customer_id: str, correlation_id: str
    ) -> tuple[Versioned[Subject], list[Versioned[Session]]] | None:
        """The subject and session rows as this instance last wrote them, if it did (no round trip)."""
        pk = subject_partition(customer_id, correlation_id)
        known = self._recent.get(pk)
        return (known[0], list(known[1])) if known is not None else None

    def get_with_sessions(
        self, customer_id: str, correlation_id: str
    ) -> tuple[Versioned[Subject] | None, list[Versioned[Session]]]:
        """The subject row and every retained session row in one round trip (`session_…` sorts before
        `subject`)."""
        pk = subject_partition(customer_id, correlation_id)
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey le @hi",
            parameters={"pk": pk, "lo": "session_", "hi": SUBJECT_ROW},
        )
        subject, sessions = split_rows(rows, SUBJECT_ROW, Subject, Session)
        if subject is not None:
            self._recent.put(pk, (subject, list(sessions)))
        return subject, sessions

    def create_subject(self, subject: Subject, first_check: datetime | None = None) -> bool:
        """Insert a new subject row, its first retention check filed ahead and noted on the row
        (`sweep_at`): at the subject's end, or at `first_check` when that comes sooner; False when
        it already exists."""
        kept_until = subject.gate_until or subject.last_activity_at + self._idle
        at = min(first_check, kept_until) if first_check is not None else kept_until
        filed = self.file_check(subject.customer_id, subject.correlation_id, at, new=True)
        row = subject.model_copy(update={"sweep_at": filed})
        try:
            self._table.create_entity(to_entity(row, self._pk(subject), SUBJECT_ROW))
        except ResourceExistsError:
            return False
        return True

    def commit(self, change: SubjectChange) -> None:
        """Apply a change to one subject atomically, with an outbox row per event; StaleWrite if any
        guarded row moved."""
        pk = change.key.partition
        operations: list[tuple[Any, ...]] = [
            replace_op(to_entity(v.record, pk, row_key_of(v.record)), v.etag) for v in change.replace
        ]
        operations += [("create", to_entity(record, pk, row_key_of(record))) for record in change.create]
        operations += [("upsert", event_row(e, pk)) for e in change.events]
        try:
            etags = submit(self._table, operations)
        except Exception:
            self._forget(pk)
            raise
        self._recent.after_write(pk, change, etags)

    def _forget(self, pk: str) -> None:
        self._recent.forget(pk)

    def delete_guarded(self, rows: list[dict[str, Any]], on_batch: Callable[[int], None] | None = None) -> int:
        """Delete rows as read, each guarded by its ETag, in batches; returns how many went (a row
        changed meanwhile stays, for the caller to read again)."""
        for pk in {r["PartitionKey"] for r in rows}:
            self._forget(pk)
        return BatchDeleter(self._table, on_batch).delete(rows)

    def due_rows(self, partition: str, attempts_before: datetime) -> list[dict[str, Any]]:
        """What a retention check reads of a partition: the subject and session rows, attempts
        recorded before `attempts_before`, and outbox, audit and webhook rows left behind."""
        return list(self._table.query_entities(_DUE_QUERY, parameters=_due_parameters(partition, attempts_before)))

    def reread(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """A row as it is now (None once gone)."""
        try:
            return self._table.get_entity(row["PartitionKey"], row["RowKey"])
        except ResourceNotFoundError:
            return None

    def delete_with_entry(self, row: Any, entry: AuditEntry) -> None:
        """Delete a subject row (as read, ETag-guarded) and record why, in one transaction."""
        self._forget(row["PartitionKey"])
        delete = ("delete", {"PartitionKey": row["PartitionKey"], "RowKey": row["RowKey"]}, if_unchanged(etag_of(row)))
        submit(self._table, [delete, ("create", to_entity(entry, row["PartitionKey"], audit_row(entry.entry_id)))])

    def partition(self, customer_id: str, correlation_id: str) -> list[dict[str, Any]]:
        """Every row of one subject (subject, sessions, attempts, outbox)."""
        return list(
            self._table.query_entities(
                "PartitionKey eq @pk", parameters={"pk": subject_partition(customer_id, correlation_id)}
            )
        )

    def timeline(self, customer_id: str, correlation_id: str) -> tuple[Subject | None, list[Session], list[Attempt]]:
        """A subject with its retained sessions and attempts (one partition query)."""
        subject, sessions, attempts = None, [], []
        for row in self.partition(customer_id, correlation_id):
            key = row["RowKey"]
            if key == SUBJECT_ROW:
                subject = from_entity(Subject, row)
            elif key.startswith("session_"):
                sessions.append(from_entity(Session, row))
            elif key.startswith("attempt_"):
                attempts.append(from_entity(Attempt, row))
        return subject, sessions, attempts

    def opinion_rows(self, customer_id: str, correlation_id: str) -> list[dict[str, Any]]:
        """The blind second opinions waiting beside a subject."""
        return [r for r in self.partition(customer_id, correlation_id) if r["RowKey"].startswith(OPINION_PREFIX)]

    def outbox(self, customer_id: str, correlation_id: str) -> list[OutboxEntry]:
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": subject_partition(customer_id, correlation_id), "lo": "outbox_", "hi": "outbox`"},
        )
        return [from_entity(OutboxEntry, row) for row in rows]

    def outbox_partitions(self) -> set[str]:
        """Subjects with an outbox row left (repair: re-send what a crash left behind; rows are
        read, and may fail to parse, one subject at a time)."""
        rows = self._table.query_entities(
            "RowKey ge @lo and RowKey lt @hi", parameters={"lo": "outbox_", "hi": "outbox`"}, select=["PartitionKey"]
        )
        return {row["PartitionKey"] for row in rows}

    def with_status(self, status: str) -> list[Subject]:
        """Subjects in a status (repair only: a filtered scan)."""
        rows = self._table.query_entities(
            "RowKey eq @row and status eq @status", parameters={"row": SUBJECT_ROW, "status": status}
        )
        return [from_entity(Subject, row) for row in rows]

    def with_open_sessions(self, customer_id: str, since: datetime) -> list[str]:
        """The GUIDs of a customer's subjects holding a session not yet revoked nor deleted at Face that
        expires after `since`: one range query over the customer's partitions (`<customerId>_…`)."""
        rows = self._table.query_entities(
            "PartitionKey ge @lo and PartitionKey lt @hi"
            " and RowKey ge @s_lo and RowKey lt @s_hi and expires_at gt @since",
            parameters={
                "lo": f"{customer_id}_",
                "hi": f"{customer_id}`",
                "s_lo": "session_",
                "s_hi": "session`",
                "since": since,
            },
            select=["PartitionKey", "revoked", "face_deleted"],
        )
        open_ = (r["PartitionKey"] for r in rows if not r.get("revoked") and not r.get("face_deleted"))
        return list(dict.fromkeys(pk.split("_", 1)[1] for pk in open_))

    def mark_face_deleted(self, customer_id: str, correlation_id: str, session_id: str) -> None:
        """Note on a session row that Face no longer holds it (a one-column merge: nothing else moves)."""
        pk = subject_partition(customer_id, correlation_id)
        try:
            written = self._table.update_entity(
                {"PartitionKey": pk, "RowKey": session_row(session_id), "face_deleted": True}, mode=UpdateMode.MERGE
            )
        except ResourceNotFoundError:
            self._forget(pk)
            return
        known = self._recent.get(pk)
        if known is not None:  # the same merge on what this instance knows
            sessions = [
                Versioned(s.record.model_copy(update={"face_deleted": True}), written.get("etag") or "")
                if s.record.session_id == session_id
                else s
                for s in known[1]
            ]
            self._recent.put(pk, (known[0], sessions))

    def mark_successor_created(self, customer_id: str, correlation_id: str) -> None:
        """Note on a retired subject that its successor was created (a one-column merge)."""
        self._forget(subject_partition(customer_id, correlation_id))
        with contextlib.suppress(ResourceNotFoundError):
            self._table.update_entity(
                {
                    "PartitionKey": subject_partition(customer_id, correlation_id),
                    "RowKey": SUBJECT_ROW,
                    "successor_created": True,
                },
                mode=UpdateMode.MERGE,
            )

    def delete_rows(self, customer_id: str, correlation_id: str, row_keys: list[str]) -> None:
        """Delete rows of one subject in one transaction; rows already gone are skipped."""
        if not row_keys:
            return
        pk = subject_partition(customer_id, correlation_id)
        try:
            submit(self._table, [("delete", {"PartitionKey": pk, "RowKey": key}) for key in row_keys])
        except HttpResponseError as exc:
            if exc.status_code != 404:
                raise
            for key in row_keys:  # one was gone already (another flush got there): the rest one by one
                with contextlib.suppress(ResourceNotFoundError):
                    self._table.delete_entity(pk, key)

    @staticmethod
    def _pk(subject: Subject) -> str:
        return subject_partition(subject.customer_id, subject.correlation_id)


_DUE_QUERY = (  # what a retention check of a subject partition reads
    "PartitionKey eq @pk and ( RowKey eq @subject"
    " or ( RowKey ge @s_lo and RowKey lt @s_hi )"
    " or ( RowKey ge @a_lo and RowKey lt @a_hi and recorded_at lt @cutoff )"
    " or ( RowKey ge @o_lo and RowKey lt @o_hi )"
    " or ( RowKey ge @u_lo and RowKey lt @u_hi )"
    " or ( RowKey ge @w_lo and RowKey lt @w_hi ) )"
)


def _due_parameters(partition: str, cutoff: datetime) -> dict[str, Any]:
    return {
        "pk": partition,
        "subject": SUBJECT_ROW,
        "s_lo": "session_",
        "s_hi": "session`",
        "a_lo": "attempt_",
        "a_hi": "attempt`",
        "cutoff": cutoff,
        "o_lo": "outbox_",
        "o_hi": "outbox`",
        "u_lo": AUDIT_ROW_PREFIX,
        "u_hi": "audit`",
        "w_lo": EVENT_PREFIX,
        "w_hi": "webhook`",
    }
