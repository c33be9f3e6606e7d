"""Blind second opinions and calibration (docs/abuse-policy.md, "Calibration"): a stable share
`REVIEW_SECOND_OPINION_RATE` of decisions (standard confirmations and overrides) goes, without the
first decision, to a different reviewer; `/review/calibration` compares the two. A second opinion
never changes the first decision."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from shared.adapters.opinion_store import OpinionStore
from shared.adapters.review_index import ReviewIndex
from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import from_entity
from shared.domain.calibration import Calibration, Opinion, calibration, chosen
from shared.domain.clock import Clock
from shared.domain.keys import Keyring
from shared.domain.policy import SubjectStatus
from shared.domain.records import DecisionKind, ReviewIndexEntry, Subject
from shared.domain.review_people import Decider, decider_name
from shared.domain.secrets import subject_ref
from shared.errors import Conflict, NotFound
from shared.services.review_queries import ReviewQueries, SubjectDetail
from shared.services.second_reviews import SameReviewer
from shared.unit_of_work import Listing, SubjectChange, SubjectKey, UnitOfWork

LISTED = "opinion"  # the review-index status open opinions are listed under
ASKED = (DecisionKind.CONFIRM, DecisionKind.OVERRIDE)
_ID = re.compile(r"^([0-9a-f]{32})\.([0-9a-f-]{36})\.([0-9a-f]{32})$")


@dataclass(frozen=True)
class OpenOpinion:
    opinion: Opinion

    @property
    def opinion_id(self) -> str:
        o = self.opinion
        return f"{o.customer_id}.{o.correlation_id}.{o.opinion_id}"


@dataclass
class SecondOpinions:
    subjects: SubjectStore
    uow: UnitOfWork
    index: ReviewIndex
    queries: ReviewQueries
    store: OpinionStore
    clock: Clock
    keys: Keyring
    rate: float  # REVIEW_SECOND_OPINION_RATE

    def maybe_ask(self, decided: Subject) -> OpenOpinion | None:
        """After a decision: for a stable share of them, file a blind opinion beside the subject."""
        last = decided.decisions[-1] if decided.decisions else None
        if last is None or last.decision not in ASKED or decided.correlation_id.startswith("erased-"):
            return None
        basis = f"{decided.customer_id}|{decided.correlation_id}|{last.at.isoformat()}"
        if not chosen(basis, self.rate):
            return None
        opinion = Opinion(
            opinion_id=hashlib.sha256(basis.encode()).hexdigest()[:32],
            customer_id=decided.customer_id,
            correlation_id=decided.correlation_id,
            asked_at=self.clock(),
            first=last.decision,
            first_guideline=last.guideline_id,
            first_by=decider_name(last.by),
            first_by_id=last.by_id or decider_name(last.by),
        )
        listing = ReviewIndexEntry.of(decided, opinion.asked_at)
        change = SubjectChange(SubjectKey.of(decided), create=(opinion,), listings=(Listing(LISTED, listing),))
        self.uow.commit(change)
        return OpenOpinion(opinion)

    def open_for(
        self, decider: Decider, size: int, token: dict[str, str] | None
    ) -> tuple[list[OpenOpinion], dict | None]:
        """Open opinions this reviewer may give (never on their own decision)."""
        rows, next_token = self.index.page(LISTED, size, token)
        found = []
        for row in rows:
            opinions = self._open(row.record.customer_id, row.record.correlation_id)
            if not opinions:
                self.index.remove(LISTED, row.record.customer_id, row.record.correlation_id, row.etag, row.partition)
            found += [OpenOpinion(o) for o in opinions if not decider.same_person(o.first_by_id)]
        return found, next_token

    def blind(self, opinion_id: str, decider: Decider) -> SubjectDetail:
        """The subject as it was when flagged: its evidence, without the decision it got."""
        opinion = self._find(opinion_id, decider)
        detail = self.queries.detail(opinion.customer_id, opinion.correlation_id)
        subject = detail.subject
        as_flagged = subject.model_copy(
            update={
                "state": subject.state.model_copy(update={"status": SubjectStatus.FLAGGED}),
                "decisions": (),
                "decided_at": None,
                "replaced_by": None,
            }
        )
        return SubjectDetail(as_flagged, detail.sessions, detail.attempts, detail.face_matches, detail.gate)

    def answer(
        self, opinion_id: str, decider: Decider, decision: DecisionKind, guideline_id: str | None, reason: str
    ) -> Opinion:
        """Record the second opinion (kept under its day, the subject by pseudonym); the first
        decision stands whatever it says."""
        if decision not in ASKED:
            raise Conflict("A second opinion is confirm or override.")
        opinion = self._find(opinion_id, decider)
        answered = opinion.model_copy(
            update={
                "correlation_id": subject_ref(self.keys, opinion.customer_id, opinion.correlation_id),
                "second": decision,
                "second_guideline": guideline_id,
                "second_by": decider.name,
                "second_by_id": decider.object_id,
                "answered_at": self.clock(),
                "reason": reason,
            }
        )
        self.store.keep(answered)
        self.subjects.delete_rows(opinion.customer_id, opinion.correlation_id, [f"opinion_{opinion.opinion_id}"])
        return answered

    def calibration(self, days: int) -> Calibration:
        now = self.clock()
        since = now - timedelta(days=days - 1)
        return calibration(self.store.answered_since(since, now), since)

    def _find(self, opinion_id: str, decider: Decider) -> Opinion:
        matched = _ID.match(opinion_id)
        if matched is None:
            raise NotFound("No such second opinion.")
        customer_id, correlation_id, the_id = matched.groups()
        opinion = next((o for o in self._open(customer_id, correlation_id) if o.opinion_id == the_id), None)
        if opinion is None:
            raise NotFound("No such second opinion.")
        if decider.same_person(opinion.first_by_id):
            raise SameReviewer("A second opinion comes from a different reviewer than the first decision.")
        return opinion

    def _open(self, customer_id: str, correlation_id: str) -> list[Opinion]:
        return [from_entity(Opinion, r) for r in self.subjects.opinion_rows(customer_id, correlation_id)]
