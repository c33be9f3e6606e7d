"""The Face-side ledger: whose each Face session is, and which ones Face still owes us a deletion of.

Table `facesessions`, partition = the Face session id:
- `owner` rows map a session to its (customer, GUID), written when the session is issued and kept as
  long as attempt decisions are (72 hours by default), so a reviewer can see which of the customer's
  GUIDs the sessions in Face's `otherFlaggedSessions` belong to. Erasure removes a GUID's rows.
- `delete` rows name a Face session the app must still delete at Face because Face could not be
  reached when it tried (at erasure or revocation); the retention sweep retries them. One owed by a
  revocation names its subject, so the sweep counts the session's last attempts before deleting it;
  one owed by an erasure holds no GUID (erasure rewrites the rows it finds without it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.tables import Tables

OWNER_ROW = "owner"
OWED_ROW = "delete"


class FaceSessionLedger:
    def __init__(self, tables: Tables, expiry: ExpiryIndex | None = None) -> None:
        self._table = tables.client("facesessions")
        self._expiry = expiry

    def record_owner(self, session_id: str, customer_id: str, correlation_id: str, at: datetime) -> None:
        """Remember whose session this is (idempotent; written ahead of the subject commit)."""
        self._table.upsert_entity(
            {
                "PartitionKey": session_id,
                "RowKey": OWNER_ROW,
                "customer_id": customer_id,
                "correlation_id": correlation_id,
                "created_at": at,
            },
            mode=UpdateMode.REPLACE,
        )

    def owners(self, session_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(customerId, GUID) of each session this app issued and still remembers, by session id."""
        found: dict[str, tuple[str, str]] = {}
        for session_id in dict.fromkeys(session_ids):
            with contextlib.suppress(ResourceNotFoundError):
                row = self._table.get_entity(session_id, OWNER_ROW)
                found[session_id] = (row["customer_id"], row["correlation_id"])
        return found

    def forget(self, session_ids: Iterable[str]) -> None:
        """Drop the owner rows of these sessions (erasure: no row may keep the GUID)."""
        for session_id in session_ids:
            with contextlib.suppress(ResourceNotFoundError):
                self._table.delete_entity(session_id, OWNER_ROW)

    def owe_deletion(self, session_id: str, at: datetime, subject: tuple[str, str] | None = None) -> None:
        """Note that Face still holds this session and must be asked again to delete it (the
        retention sweep's check, filed ahead, asks). `subject` (customer, GUID): whose attempts to
        count first; without it the row holds no GUID (and replaces one that did)."""
        if self._expiry is not None:
            self._expiry.schedule("facesessions", session_id, at)
        row = {"PartitionKey": session_id, "RowKey": OWED_ROW, "since": at}
        if subject is not None:
            row |= {"customer_id": subject[0], "correlation_id": subject[1]}
        self._table.upsert_entity(row, mode=UpdateMode.REPLACE)

    def owed_by(self, session_id: str) -> tuple[str, str] | None:
        """The subject whose attempts to count before an owed deletion, if the row names one."""
        try:
            row = self._table.get_entity(session_id, OWED_ROW)
        except ResourceNotFoundError:
            return None
        if row.get("customer_id") and row.get("correlation_id"):
            return row["customer_id"], row["correlation_id"]
        return None

    def paid(self, session_id: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self._table.delete_entity(session_id, OWED_ROW)
