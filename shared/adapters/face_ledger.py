"""The Face-side ledger: whose each Face session is, and which ones Face still owes us a deletion of.

Table `facesessions`, partition = the Face session id:
- `owner` rows map a session to its (customer, GUID), written when the session is issued and kept as
  long as attempt decisions are (72 hours by default), so a reviewer can see which of the customer's
  GUIDs the sessions in Face's `otherFlaggedSessions` belong to. Erasure removes a GUID's rows.
- `delete` rows name a Face session the app must still delete at Face because Face could not be
  reached when it tried (at erasure). They hold no GUID; the retention sweep retries them.
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

    def owe_deletion(self, session_id: str, at: datetime) -> None:
        """Note that Face still holds this session and must be asked again to delete it (the
        retention sweep's check, filed ahead, asks)."""
        if self._expiry is not None:
            self._expiry.schedule("facesessions", session_id, at)
        self._table.upsert_entity({"PartitionKey": session_id, "RowKey": OWED_ROW, "since": at})

    def paid(self, session_id: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self._table.delete_entity(session_id, OWED_ROW)
