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
from typing import Any

from cachetools import TTLCache


class RecentSubjects:
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
