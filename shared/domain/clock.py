"""The one place that reads the wall clock (timezone-aware UTC); services take a Clock to stay testable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)
