"""This instance's last known version of the subject partitions it just wrote.

A retry within a visit (the next session for the same end user) usually lands on the instance
that served the last one. Its subject and session rows are then known exactly — this instance
wrote them, and the transaction returned their new ETags — so the request can skip reading them.
Nothing is trusted beyond that: the write that follows is guarded by the subject row's ETag, so if
any other writer (another instance, a reviewer, the sweep) changed the subject meanwhile, the write
fails and the request reads afresh. Only the path that issues a session uses it; a refusal is
always decided on a fresh read.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

from shared.adapters.tables import Versioned
from shared.domain.records import Session, Subject

if TYPE_CHECKING:
    from shared.unit_of_work import SubjectChange


class RecentSubjects:
    """Subject partitions as this instance last wrote or read them, for a bounded time."""

    def __init__(self, size: int = 10_000, seconds: float = 3600) -> None:
        self._entries: TTLCache[str, Any] = TTLCache(maxsize=size, ttl=seconds)
        self._lock = threading.Lock()

    def get(self, partition: str) -> Any | None:
        with self._lock:
            return self._entries.get(partition)

    def put(self, partition: str, value: Any) -> None:
        with self._lock:
            self._entries[partition] = value

    def forget(self, partition: str) -> None:
        with self._lock:
            self._entries.pop(partition, None)

    def clear(self) -> None:
        """Forget everything (what a different instance knows: nothing)."""
        with self._lock:
            self._entries.clear()

    def after_write(self, partition: str, change: SubjectChange, etags: list[str | None]) -> None:
        """Keep what a committed write made of the partition, when it started from what was known
        (else forget it: only a read may fill it)."""
        written = list(zip((*change.replace, *(Versioned(r, "") for r in change.create)), etags, strict=False))
        subject = next((Versioned(v.record, e) for v, e in written if isinstance(v.record, Subject) and e), None)
        known = self.get(partition)
        replaced = next((v.etag for v in change.replace if isinstance(v.record, Subject)), None)
        if subject is None or replaced is None or known is None or known[0].etag != replaced:
            self.forget(partition)
            return
        sessions = {s.record.session_id: s for s in known[1]}
        for v, etag in written:
            if isinstance(v.record, Session) and etag:
                sessions[v.record.session_id] = Versioned(v.record, etag)
        self.put(partition, (subject, list(sessions.values())))
