"""Four eyes on severe confirmations (docs/abuse-policy.md, "Humans in the loop"). A severe
confirmation suspends the customer at once, so with `REVIEW_FOUR_EYES` it waits (202) until a
second, different person agrees in `/review/second-reviews`; the subject stays flagged and the
customer unchanged meanwhile. A disagreement leaves it to an Administrator. Both people are named
in the confirmation's audit entry."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from shared.adapters.audit_log import AuditLog
from shared.adapters.review_index import ReviewIndex
from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import Versioned
from shared.domain.clock import Clock
from shared.domain.determinations import Severity
from shared.domain.keys import Keyring
from shared.domain.policy import SubjectStatus
from shared.domain.records import DecisionKind, ReviewIndexEntry, Subject
from shared.domain.review_people import Decider, SecondReview
from shared.domain.secrets import subject_ref
from shared.errors import Conflict, DomainError, InvalidRequest, NotFound
from shared.services.review import ReviewService, check_address
from shared.services.review_claims import refuse_if_claimed

if TYPE_CHECKING:
    from shared.services.second_opinions import SecondOpinions
from shared.unit_of_work import Listing, SubjectChange, SubjectKey, UnitOfWork

Change = Callable[[Subject, datetime], tuple[Subject, str]]  # the changed subject, and the audited action
LISTED = "second"  # the review-index status second reviews are listed under
_ID = re.compile(r"^([0-9a-f]{32})\.([0-9a-f-]{36}|erased-[0-9a-f.]{32,41})\.([0-9a-f]{32})$")


class SameReviewer(DomainError):
    """The person who asked for a severe confirmation cannot be its second reviewer."""

    status, code = 403, "four_eyes"


@dataclass(frozen=True)
class Pending:
    """A second review waiting, with the subject it is about."""

    subject: Subject
    review: SecondReview

    @property
    def review_id(self) -> str:
        return f"{self.subject.customer_id}.{self.subject.correlation_id}.{self.review.review_id}"


@dataclass
class SecondReviews:
    subjects: SubjectStore
    uow: UnitOfWork
    index: ReviewIndex
    review: ReviewService
    audit: AuditLog
    clock: Clock
    keys: Keyring
    opinions: SecondOpinions
    enabled: bool  # REVIEW_FOUR_EYES

    def decide(
        self,
        customer_id: str,
        correlation_id: str,
        decision: DecisionKind,
        reason: str,
        decider: Decider,
        severity: Severity,
        guideline_id: str | None,
    ) -> tuple[Subject, Pending | None]:
        """A decision as sent: a severe confirmation asks for a second person (unless four eyes are
        off, or an Administrator settles a disagreement); anything else is decided at once."""
        severe = decision is DecisionKind.CONFIRM and severity is Severity.SEVERE
        if severe and self.enabled and not self._settles_disagreement(customer_id, correlation_id, decider):
            pending = self.request(customer_id, correlation_id, reason, decider, guideline_id)
            return pending.subject, pending
        decided = self.review.decide(customer_id, correlation_id, decision, reason, decider, severity, guideline_id)
        if not severe:
            self.opinions.maybe_ask(decided)  # best kept: a failure here leaves the decision as it is
        return decided, None

    def _settles_disagreement(self, customer_id: str, correlation_id: str, decider: Decider) -> bool:
        found = self.subjects.get(customer_id, correlation_id) if decider.administrator else None
        return (
            found is not None
            and found.record.second_review is not None
            and bool(found.record.second_review.disagreed_by)
        )

    def request(
        self, customer_id: str, correlation_id: str, reason: str, decider: Decider, guideline_id: str | None
    ) -> Pending:
        """Ask for a second person: the subject stays flagged, the request is listed and audited."""
        check_address(customer_id, correlation_id)
        if guideline_id is not None and guideline_id not in {g.id for g in self.review.guidelines}:
            raise InvalidRequest("guidelineId is not one of GET /review/guidelines.")

        def change(subject: Subject, now: datetime) -> tuple[Subject, str]:
            if subject.state.status is not SubjectStatus.FLAGGED:
                raise Conflict("Only a pending flag can be confirmed.")
            if subject.second_review is not None:
                raise Conflict("A severe confirmation of this subject already awaits its second review.")
            refuse_if_claimed(subject, decider, now)
            asked = SecondReview(
                review_id=uuid.uuid4().hex,
                by=decider.actor,
                by_id=decider.object_id,
                reason=reason,
                guideline_id=guideline_id,
                at=now,
            )
            return subject.model_copy(update={"second_review": asked}), "subject.confirm_requested"

        subject = self._change(customer_id, correlation_id, decider, change, listed=True)
        assert subject.second_review is not None
        return Pending(subject, subject.second_review)

    def pending(self, size: int, token: dict[str, str] | None) -> tuple[list[Pending], dict[str, str] | None]:
        """One page of the four-eyes queue; stale index rows are dropped on the way."""
        rows, next_token = self.index.page(LISTED, size, token)
        found = []
        for row in rows:
            current = self.subjects.get(row.record.customer_id, row.record.correlation_id)
            if current is None or current.record.second_review is None:
                self.index.remove(LISTED, row.record.customer_id, row.record.correlation_id, row.etag, row.partition)
                continue
            found.append(Pending(current.record, current.record.second_review))
        return found, next_token

    def answer(self, review_id: str, decider: Decider, agree: bool, reason: str) -> Subject:
        """The second person's answer: agreeing applies the severe confirmation (both named in its
        audit entry); disagreeing leaves it to an Administrator. The first person cannot answer."""
        matched = _ID.match(review_id)
        if matched is None:
            raise NotFound("No such second review.")
        customer_id, correlation_id, the_id = matched.groups()
        current = self.subjects.get(customer_id, correlation_id)
        asked = current.record.second_review if current is not None else None
        if asked is None or asked.review_id != the_id:
            raise NotFound("No such second review.")
        if decider.same_person(asked.by_id):
            raise SameReviewer("A second, different person must agree to a severe confirmation.")
        if asked.disagreed_by:
            raise Conflict("This second review was answered; an Administrator decides the subject now.")
        if agree:
            first = asked.first()
            return self.review.confirm(
                customer_id, correlation_id, asked.reason, first, Severity.SEVERE, asked.guideline_id, decider
            )

        def change(subject: Subject, now: datetime) -> tuple[Subject, str]:
            pending = subject.second_review
            if pending is None or pending.review_id != the_id or pending.disagreed_by:
                raise Conflict("This second review was answered meanwhile.")
            disagreed = pending.model_copy(
                update={"disagreed_by": decider.actor, "disagreed_by_id": decider.object_id, "disagreed_reason": reason}
            )
            return subject.model_copy(update={"second_review": disagreed}), "subject.second_review_disagreed"

        return self._change(customer_id, correlation_id, decider, change)

    def _change(self, customer_id: str, correlation_id: str, decider: Decider, change, listed: bool = False) -> Subject:
        def attempt() -> Subject:
            current = self.subjects.get(customer_id, correlation_id)
            if current is None:
                raise NotFound("No such subject.")
            now = self.clock()
            updated, action = change(current.record, now)
            entry = self.audit.entry(
                at=now,
                actor=decider.actor,
                action=action,
                target=subject_ref(self.keys, customer_id, correlation_id),
                detail={"by": decider.object_id},
            )
            listing = ReviewIndexEntry.of(updated, now)
            self.uow.commit(
                SubjectChange(
                    SubjectKey(customer_id, correlation_id),
                    replace=(Versioned(updated, current.etag),),
                    create=(entry,),
                    listings=(Listing(LISTED, listing),) if listed else (),
                )
            )
            # into the log; its row beside the change goes
            self.audit.relay("subjects", SubjectKey(customer_id, correlation_id).partition, [entry])
            return updated

        return self.uow.run(attempt, "The subject")
