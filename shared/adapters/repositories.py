"""What the session services need of storage, as protocols: the Table Storage adapters implement
them, and so do the in-memory fakes of the fast unit tests (tests/fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from shared.adapters.tables import Versioned
from shared.domain.ip_policy import IpState
from shared.domain.keys import Keyring
from shared.domain.records import Session, Subject
from shared.unit_of_work import SubjectChange


class SubjectRepository(Protocol):
    """Subjects with their sessions and attempts, one partition each (`SubjectStore`)."""

    def get(self, customer_id: str, correlation_id: str) -> Versioned[Subject] | None: ...

    def gate_record(self, keys: Keyring, customer_id: str, correlation_id: str) -> Subject | None: ...

    def get_with_session(
        self, customer_id: str, correlation_id: str, session_id: str
    ) -> tuple[Versioned[Subject] | None, Versioned[Session] | None]: ...

    def get_with_sessions(
        self, customer_id: str, correlation_id: str
    ) -> tuple[Versioned[Subject] | None, list[Versioned[Session]]]: ...

    def recent_with_sessions(
        self, customer_id: str, correlation_id: str
    ) -> tuple[Versioned[Subject], list[Versioned[Session]]] | None: ...

    def create_subject(self, subject: Subject, first_check: datetime | None = None) -> bool: ...

    def commit(self, change: SubjectChange) -> None: ...

    def file_check(self, customer_id: str, correlation_id: str, at: datetime, new: bool = False) -> datetime | None: ...

    def mark_face_deleted(self, customer_id: str, correlation_id: str, session_id: str) -> None: ...

    def with_open_sessions(self, customer_id: str, since: datetime) -> list[str]: ...


class AddressCounters(Protocol):
    """The per end-user address rule's state, one row per (customer, address) key (`IpCounters`)."""

    def get(self, ref: str) -> IpState: ...

    def change(self, ref: str, apply: Callable[[IpState], IpState]) -> IpState: ...


class FaceSessionOwners(Protocol):
    """Which subject each Face session belongs to, and the Face deletions still owed (`FaceSessionLedger`)."""

    def record_owner(self, session_id: str, customer_id: str, correlation_id: str, at: datetime) -> None: ...

    def forget(self, session_ids: Iterable[str]) -> None: ...

    def owners(self, session_ids: Iterable[str]) -> dict[str, tuple[str, str]]: ...

    def owe_deletion(self, session_id: str, at: datetime, subject: tuple[str, str] | None = None) -> None: ...

    def owed_by(self, session_id: str) -> tuple[str, str] | None: ...

    def paid(self, session_id: str) -> None: ...


class ReviewCounts(Protocol):
    """What the review overview counts (`ReviewStats`)."""

    def record(self, kind: str, label: str, at: datetime, cause: str) -> bool: ...
