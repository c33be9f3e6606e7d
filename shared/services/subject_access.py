"""Subject access (docs/api.md, `GET /subjects/{correlationId}`; GDPR Art. 15): everything
Liveness Guard holds about one of the caller's own subjects, so a customer can answer its end
user's request. One partition query; nothing secret leaves (no token hashes, sealed Face tokens,
address hashes or key material), and reviewers appear by role, not by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.adapters.subject_rows import SUBJECT_ROW
from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import from_entity
from shared.domain.clock import Clock
from shared.domain.gate import GateView, gate_view
from shared.domain.keys import Keyring
from shared.domain.records import Attempt, Session, Subject
from shared.errors import NotFound


@dataclass(frozen=True)
class SubjectRecords:
    """The rows held for one subject, as records, and what the gate says of it now."""

    subject: Subject
    sessions: list[Session]
    attempts: list[Attempt]
    gate: GateView


@dataclass
class SubjectAccess:
    subjects: SubjectStore
    keys: Keyring
    clock: Clock

    def held(self, customer_id: str, correlation_id: str) -> SubjectRecords:
        """Everything stored for the caller's own subject; 404 for an unknown GUID (or another
        customer's: the same GUID under another customer is another subject)."""
        rows = self.subjects.partition(customer_id, correlation_id)
        subject_row = next((r for r in rows if r["RowKey"] == SUBJECT_ROW), None)
        if subject_row is None:
            raise NotFound("No such subject.")
        subject = from_entity(Subject, subject_row)
        gate = self.subjects.gate_record(self.keys, customer_id, correlation_id) if subject.gated else None
        return SubjectRecords(
            subject=subject,
            gate=gate_view(subject, gate, self.clock()),
            sessions=sorted(_records(rows, "session_", Session), key=lambda s: s.created_at),
            attempts=sorted(_records(rows, "attempt_", Attempt), key=lambda a: a.recorded_at),
        )


def _records(rows: list[dict[str, Any]], prefix: str, model: type[Any]) -> list[Any]:
    return [from_entity(model, r) for r in rows if r["RowKey"].startswith(prefix)]
