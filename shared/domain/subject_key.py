"""Which subject a change is about: a customer's 128-bit correlation GUID (or its erasure gate id)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class _OfSubject(Protocol):
    customer_id: str
    correlation_id: str


@dataclass(frozen=True)
class SubjectKey:
    """(customer, GUID): one subject, stored in one partition with its sessions and attempts."""

    customer_id: str
    correlation_id: str

    @property
    def partition(self) -> str:
        """The partition holding the subject's row, sessions, attempts and outbox."""
        return f"{self.customer_id}_{self.correlation_id}"

    @classmethod
    def of(cls, record: _OfSubject) -> SubjectKey:
        """The key of a subject, session or attempt record."""
        return cls(record.customer_id, record.correlation_id)
