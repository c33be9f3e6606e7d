"""What reviewers read (docs/api.md, "Review"): subjects listed by review status, and one subject
with its retained timeline and the GUIDs Face saw the same face under."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.adapters.face_ledger import FaceSessionLedger
from shared.adapters.review_index import ReviewIndex
from shared.adapters.subject_store import SubjectStore
from shared.domain.clock import Clock
from shared.domain.gate import GateView, gate_view
from shared.domain.keys import Keyring
from shared.domain.records import Attempt, Session, Subject
from shared.errors import NotFound
from shared.services.review import STATUS_OF_INDEX, check_address


@dataclass(frozen=True)
class FaceMatch:
    """Face v1.3 flagged one of the subject's attempts: the customer's other GUIDs the same face was seen under."""

    session_id: str
    attempt_id: int
    at: datetime
    correlation_ids: tuple[str, ...]  # other GUIDs of the same customer this app knows
    unlinked: int  # flagged sessions not (or no longer) known here, or another customer's: counted only
    lineage: bool = False  # every session named was the subject's own lineage: kept, not flagged


@dataclass(frozen=True)
class SubjectDetail:
    subject: Subject
    sessions: list[Session]
    attempts: list[Attempt]
    face_matches: list[FaceMatch] = field(default_factory=list)
    gate: GateView = field(default_factory=lambda: GateView(False, None, None))


@dataclass
class ReviewQueries:
    """The review queue and the subject view."""

    subjects: SubjectStore
    index: ReviewIndex
    face_ledger: FaceSessionLedger
    keys: Keyring
    clock: Clock

    def list_flags(
        self, index_status: str, size: int, token: dict[str, str] | None
    ) -> tuple[list[Subject], dict[str, str] | None]:
        """One page of subjects under a review status; stale index rows are dropped on the way."""
        expected = STATUS_OF_INDEX[index_status]
        entries, next_token = self.index.page(index_status, size, token)
        listed = []
        for entry in entries:
            found = self.subjects.get(entry.record.customer_id, entry.record.correlation_id)
            appealed = index_status == "pending" and found is not None and found.record.appeal is not None
            if found is None or (found.record.state.status is not expected and not appealed):
                self.index.remove(
                    index_status, entry.record.customer_id, entry.record.correlation_id, entry.etag, entry.partition
                )
                continue
            listed.append(found.record)
        return listed, next_token

    def pending_since(self) -> list[datetime]:
        """When each subject now pending review was flagged. Reads the pending listing whole, so its
        cost follows the number pending (and drops stale index rows on the way), not all subjects."""
        since, token = [], None
        while True:
            subjects, token = self.list_flags("pending", 1000, token)
            since += [s.appeal.opened_at if s.appeal else s.state.flagged_at or s.created_at for s in subjects]
            if token is None:
                return since

    def detail(self, customer_id: str, correlation_id: str) -> SubjectDetail:
        """The subject with its retained sessions and attempt decisions."""
        check_address(customer_id, correlation_id)
        subject, sessions, attempts = self.subjects.timeline(customer_id, correlation_id)
        if subject is None:
            raise NotFound("No such subject.")
        gate = self.subjects.gate_record(self.keys, customer_id, correlation_id) if subject.gated else None
        view = gate_view(subject, gate, self.clock())
        return SubjectDetail(subject, sessions, attempts, self._face_matches(subject), view)

    def _face_matches(self, subject: Subject) -> list[FaceMatch]:
        """Resolve Face's otherFlaggedSessions to this customer's GUIDs (another customer's stay unnamed)."""
        evidence = subject.state.face_evidence
        if not evidence:
            return []
        owners = self.face_ledger.owners(o.session_id for e in evidence for o in e.others)
        matches = []
        for e in evidence:
            linked = [owners.get(o.session_id) for o in e.others]
            guids = [g for c, g in filter(None, linked) if c == subject.customer_id and g != subject.correlation_id]
            own = sum(1 for x in linked if x == (subject.customer_id, subject.correlation_id))
            matches.append(
                FaceMatch(
                    session_id=e.session_id,
                    attempt_id=e.attempt_id,
                    at=e.at,
                    correlation_ids=tuple(dict.fromkeys(guids)),
                    unlinked=len(e.others) - len(guids) - own,
                    lineage=e.lineage,
                )
            )
        return matches
