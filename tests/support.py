"""Test helpers: the in-process client (from devtools) and a settable clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from devtools.inprocess import ApiClient, Response

__all__ = ["ApiClient", "FakeClock", "Response"]


class FakeClock:
    """A settable UTC clock, safe to read from many threads."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)
