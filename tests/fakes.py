"""In-memory fakes of the repository protocols (shared/adapters/repositories.py) and of Face, for
fast unit tests of the service rules without Azurite. The Azurite suites test the real adapters;
these keep the same contract where the rules depend on it: ETag-guarded commits that raise
`StaleWrite`, creates that refuse an existing row, and a way to lose the Nth commit on purpose."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared import bootstrap
from shared.adapters.face import FaceSessionGone, FaceSessionResult, FaceSettings, NewFaceSession
from shared.adapters.subject_rows import row_key_of
from shared.adapters.tables import StaleWrite, Versioned
from shared.domain.clock import Clock
from shared.domain.ip_policy import IpState
from shared.domain.keys import Keyring
from shared.domain.records import Record, Session, Subject
from shared.domain.secrets import erased_ids
from shared.domain.subject_key import SubjectKey
from shared.domain.webhook_events import WebhookEvent
from shared.services.consent import ConsentService
from shared.services.sessions import SessionService
from shared.settings import Settings, load_settings
from shared.unit_of_work import CustomerChange, DeterminationChange, SubjectChange, UnitOfWork

_etags = itertools.count(1)


def _etag() -> str:
    return f'W/"{next(_etags)}"'


@dataclass
class MemorySubjects:
    """`SubjectRepository` in memory. `lose` holds the numbers (1-based) of the commits that lose
    their race on purpose, as if another writer had committed first."""

    rows: dict[str, dict[str, tuple[Record, str]]] = field(default_factory=dict)
    lose: set[int] = field(default_factory=set)
    commits: int = 0
    outbox: list[WebhookEvent] = field(default_factory=list)

    def _partition(self, customer_id: str, correlation_id: str) -> dict[str, tuple[Record, str]]:
        return self.rows.setdefault(SubjectKey(customer_id, correlation_id).partition, {})

    def get(self, customer_id: str, correlation_id: str) -> Versioned[Subject] | None:
        found = self._partition(customer_id, correlation_id).get("subject")
        return Versioned(found[0], found[1]) if found else None  # type: ignore[arg-type]

    def gate_record(self, keys: Keyring, customer_id: str, correlation_id: str) -> Subject | None:
        for gate_id in erased_ids(keys, customer_id, correlation_id):
            if (found := self.get(customer_id, gate_id)) is not None:
                return found.record
        return None

    def get_with_session(
        self, customer_id: str, correlation_id: str, session_id: str
    ) -> tuple[Versioned[Subject] | None, Versioned[Session] | None]:
        found = self._partition(customer_id, correlation_id).get(f"session_{session_id}")
        return self.get(customer_id, correlation_id), Versioned(found[0], found[1]) if found else None  # type: ignore[arg-type]

    def get_with_sessions(
        self, customer_id: str, correlation_id: str
    ) -> tuple[Versioned[Subject] | None, list[Versioned[Session]]]:
        partition = self._partition(customer_id, correlation_id)
        sessions = [Versioned(r, e) for k, (r, e) in sorted(partition.items()) if k.startswith("session_")]
        return self.get(customer_id, correlation_id), sessions  # type: ignore[return-value]

    def recent_with_sessions(self, customer_id: str, correlation_id: str) -> None:
        return None  # every request reads, as on an instance that wrote nothing yet

    def create_subject(self, subject: Subject, first_check: datetime | None = None) -> bool:
        partition = self._partition(subject.customer_id, subject.correlation_id)
        if "subject" in partition:
            return False
        filed = self.file_check(subject.customer_id, subject.correlation_id, first_check) if first_check else None
        partition["subject"] = (subject.model_copy(update={"sweep_at": filed}), _etag())
        return True

    def commit(self, change: SubjectChange) -> None:
        self.commits += 1
        if self.commits in self.lose:
            raise StaleWrite(f"commit {self.commits} lost its race on purpose")
        partition = self.rows.setdefault(change.key.partition, {})
        for v in change.replace:
            current = partition.get(row_key_of(v.record))
            if current is None or current[1] != v.etag:
                raise StaleWrite(f"{row_key_of(v.record)} changed since it was read")
        if any(row_key_of(r) in partition for r in change.create):
            raise StaleWrite("a row to create exists")
        for record in (*(v.record for v in change.replace), *change.create):
            partition[row_key_of(record)] = (record, _etag())
        self.outbox += change.events

    def file_check(self, customer_id: str, correlation_id: str, at: datetime, new: bool = False) -> datetime:
        return at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)

    def mark_face_deleted(self, customer_id: str, correlation_id: str, session_id: str) -> None:
        partition = self._partition(customer_id, correlation_id)
        if (found := partition.get(f"session_{session_id}")) is not None:
            partition[f"session_{session_id}"] = (found[0].model_copy(update={"face_deleted": True}), _etag())

    def with_open_sessions(self, customer_id: str, since: datetime) -> list[str]:
        guids = []
        for partition in self.rows.values():
            for record, _ in partition.values():
                mine = isinstance(record, Session) and record.customer_id == customer_id
                if mine and not record.revoked and not record.face_deleted and record.expires_at > since:
                    guids.append(record.correlation_id)
        return list(dict.fromkeys(guids))

    def sessions(self, customer_id: str, correlation_id: str) -> list[Session]:
        """Every session row of a subject (for assertions)."""
        return [v.record for v in self.get_with_sessions(customer_id, correlation_id)[1]]


@dataclass
class MemoryAddresses:
    """`AddressCounters` in memory."""

    states: dict[str, IpState] = field(default_factory=dict)

    def get(self, ref: str) -> IpState:
        return self.states.get(ref, IpState())

    def change(self, ref: str, apply: Callable[[IpState], IpState]) -> IpState:
        self.states[ref] = apply(self.get(ref))
        return self.states[ref]


@dataclass
class MemoryOwners:
    """`FaceSessionOwners` in memory."""

    by_session: dict[str, tuple[str, str]] = field(default_factory=dict)
    owed: dict[str, tuple[str, str] | None] = field(default_factory=dict)

    def record_owner(self, session_id: str, customer_id: str, correlation_id: str, at: datetime) -> None:
        self.by_session[session_id] = (customer_id, correlation_id)

    def forget(self, session_ids: Iterable[str]) -> None:
        for session_id in session_ids:
            self.by_session.pop(session_id, None)

    def owners(self, session_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        return {s: self.by_session[s] for s in session_ids if s in self.by_session}

    def owe_deletion(self, session_id: str, at: datetime, subject: tuple[str, str] | None = None) -> None:
        self.owed[session_id] = subject

    def owed_by(self, session_id: str) -> tuple[str, str] | None:
        return self.owed.get(session_id)

    def paid(self, session_id: str) -> None:
        self.owed.pop(session_id, None)


@dataclass
class MemoryCounts:
    """`ReviewCounts` in memory."""

    recorded: list[tuple[str, str]] = field(default_factory=list)

    def record(self, kind: str, label: str, at: datetime, cause: str) -> bool:
        self.recorded.append((kind, label))
        return True


@dataclass
class MemoryFace:
    """A Face liveness service in memory: sessions are created, read, deleted; a test completes
    attempts on them (`attempt`), or makes the service refuse (`down`)."""

    sessions: dict[str, dict] = field(default_factory=dict)
    created: int = 0
    deleted: list[str] = field(default_factory=list)
    reports_other_sessions: bool = False

    def create_session(self, spec: NewFaceSession) -> FaceSessionResult:
        self.created += 1
        session_id = str(uuid.uuid4())
        self.sessions[session_id] = {"sessionId": session_id, "authToken": f"face-{session_id}", "status": "NotStarted"}
        self.sessions[session_id]["results"] = {"attempts": []}
        return self.get_session(session_id)

    def get_session(self, session_id: str) -> FaceSessionResult:
        if session_id not in self.sessions:
            raise FaceSessionGone(session_id)
        return FaceSessionResult.model_validate(self.sessions[session_id])

    def delete_session(self, session_id: str) -> None:
        self.deleted.append(session_id)
        if self.sessions.pop(session_id, None) is None:
            raise FaceSessionGone(session_id)

    def get_settings(self) -> FaceSettings:
        return FaceSettings.model_validate({"livenessAbuseMonitoring": {"enabled": False}})

    def set_abuse_monitoring(self, enabled: bool) -> FaceSettings:
        return FaceSettings.model_validate({"livenessAbuseMonitoring": {"enabled": enabled}})

    def attempt(self, session_id: str, decision: str) -> None:
        """The device finished an attempt with this liveness decision (`realface`, `spoofface`, `uncertain`)."""
        attempts = self.sessions[session_id]["results"]["attempts"]
        rectangle = {"top": 1, "left": 1, "width": 1, "height": 1}
        attempts.append(
            {
                "attemptId": len(attempts) + 1,
                "attemptStatus": "Succeeded",
                "result": {
                    "livenessDecision": decision,
                    "targets": {"color": {"faceRectangle": rectangle}},
                    "digest": "d",
                },
            }
        )
        self.sessions[session_id]["status"] = "ResultAvailable"


@dataclass
class Unused:
    """A writer the test must not reach (customer or determination changes)."""

    def replace(self, change: CustomerChange) -> None:
        raise AssertionError("no customer change expected")

    def commit(self, change: DeterminationChange) -> None:
        raise AssertionError("no determination change expected")

    def put(self, *args: object) -> None:
        raise AssertionError("no determination listing expected")


@dataclass
class Published:
    """Listings written ahead and events published after commits."""

    listed: list[tuple[str, str]] = field(default_factory=list)
    events: list[WebhookEvent] = field(default_factory=list)

    def put(self, status: str, entry: object) -> None:
        self.listed.append((status, getattr(entry, "correlation_id", "")))

    def publish_soon(self, customer_id: str, events: list[WebhookEvent], table: str, partition: str) -> None:
        self.events += events


TEST_SETTINGS = {
    "FACE_ENDPOINT": "http://face.invalid",
    "EMAIL_SENDER_ADDRESS": "DoNotReply@fakes.test",
    "SESSION_SEALING_KEY": "fakes-sealing-key-0123456789abcdef-0123456789",
    "ACS_CONNECTION_STRING": "endpoint=https://email.invalid/;accesskey=a2V5",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
}


@dataclass
class Fakes:
    """A session service wired by the bootstrap on in-memory fakes."""

    settings: Settings
    clock: Clock
    subjects: MemorySubjects = field(default_factory=MemorySubjects)
    face: MemoryFace = field(default_factory=MemoryFace)
    addresses: MemoryAddresses = field(default_factory=MemoryAddresses)
    owners: MemoryOwners = field(default_factory=MemoryOwners)
    counts: MemoryCounts = field(default_factory=MemoryCounts)
    published: Published = field(default_factory=Published)
    refused_customers: set[str] = field(default_factory=set)

    def sessions(self) -> SessionService:
        unused = Unused()
        uow = UnitOfWork(self.subjects, unused, unused, self.published, unused, self.published)
        return bootstrap.session_service(
            self.settings,
            self.subjects,
            uow,
            self.face,
            self.addresses,
            self.owners,
            self.counts,
            self.clock,
            self._refuse,
        )

    def consent(self) -> ConsentService:
        unused = Unused()
        uow = UnitOfWork(self.subjects, unused, unused, self.published, unused, self.published)
        after = bootstrap.visit_check_after(self.settings)
        return ConsentService(self.subjects, uow, self.clock, self.settings.keyring(), visit_check_after=after)

    def _refuse(self, customer_id: str) -> None:
        from shared.errors import CustomerSuspended

        if customer_id in self.refused_customers:
            raise CustomerSuspended("This customer is suspended; contact the operator.")


def fakes(clock: Clock, **settings: str) -> Fakes:
    """Fakes with the default settings, changed by `settings` (setting name → value)."""
    return Fakes(load_settings({**TEST_SETTINGS, **settings}), clock)
