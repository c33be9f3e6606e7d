"""Customers as this instance last read them, for at most `CUSTOMER_CACHE_SECONDS`.

Every client call authenticates its api key against the customer row; reading that row each time
is a third storage round trip on `POST /sessions`. The cache keeps each customer (or the fact that
there is no such customer: a flood of made-up keys costs one read per id, then none) for a bounded
time, so a suspension or a key rotation made on another instance takes effect here within that
bound; one made on this instance evicts the entry at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from cachetools import TTLCache

from shared.adapters.tables import Versioned
from shared.domain.clock import Clock
from shared.domain.records import Customer

MAX_ENTRIES = 10_000


class CustomerCache:
    """A thread-safe, size- and time-bounded map from customer id to its row (or its absence)."""

    def __init__(self, ttl_seconds: float, clock: Clock, max_entries: int = MAX_ENTRIES) -> None:
        self._enabled = ttl_seconds > 0
        self._entries: TTLCache[str, Customer | None] = TTLCache(
            maxsize=max_entries, ttl=max(ttl_seconds, 1), timer=lambda: clock().timestamp()
        )
        self._lock = threading.Lock()

    def get(self, customer_id: str, read: Callable[[str], Versioned[Customer] | None]) -> Customer | None:
        """The customer (None when there is none), read through `read` when not cached or stale."""
        if self._enabled:
            with self._lock:
                if customer_id in self._entries:
                    return self._entries[customer_id]
        found = read(customer_id)
        record = found.record if found is not None else None  # absence is cached too
        if self._enabled:
            with self._lock:
                self._entries[customer_id] = record
        return record

    def forget(self, customer_id: str) -> None:
        """Drop an entry after this instance changed the customer (it is read again next time)."""
        with self._lock:
            self._entries.pop(customer_id, None)
