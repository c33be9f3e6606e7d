"""Claims on pending flags (docs/api.md, `/review/subjects/{customerId}/{correlationId}/claim`): a
reviewer works on a flag for `REVIEW_CLAIM_SECONDS` and nobody else decides it meanwhile; an
Administrator may take a claim over, audited. Claims hold under concurrency: the claim is written
on the subject row under its ETag, so of two reviewers claiming at once exactly one wins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.adapters.audit_log import AuditLog
from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import Versioned
from shared.domain.clock import Clock
from shared.domain.keys import Keyring
from shared.domain.policy import SubjectStatus
from shared.domain.records import Subject
from shared.domain.review_people import Claim, Decider, new_claim
from shared.domain.secrets import subject_ref
from shared.errors import Claimed, Conflict, Forbidden, NotFound
from shared.unit_of_work import SubjectChange, SubjectKey, UnitOfWork

ClaimChange = Callable[[Subject, datetime], tuple[Claim | None, str]]  # the new claim, and the audited action


def refuse_if_claimed(subject: Subject, decider: Decider, now: datetime) -> None:
    """409 `claimed` when another reviewer holds a live claim on the subject."""
    claim = subject.claim
    if claim is not None and claim.held_by_other(decider, now):
        raise Claimed(f"{claim.by} is working on this flag until {claim.until.isoformat()}; it is theirs to decide.")


def refuse_while_awaiting(subject: Subject, decider: Decider, answering: bool) -> None:
    """While a severe confirmation awaits its second person, only that answer (or an Administrator)
    decides the subject; after a disagreement, only an Administrator does."""
    pending = subject.second_review
    if pending is None or answering or decider.administrator:
        return
    if pending.disagreed_by:
        raise Forbidden("The second reviewer disagreed with this severe confirmation: an Administrator decides it.")
    raise Conflict("A severe confirmation of this subject awaits its second review (GET /review/second-reviews).")


@dataclass
class ReviewClaims:
    subjects: SubjectStore
    uow: UnitOfWork
    audit: AuditLog
    clock: Clock
    keys: Keyring
    lease: timedelta = timedelta(seconds=900)

    def claim(self, customer_id: str, correlation_id: str, decider: Decider, take_over: bool = False) -> Claim:
        """Claim a pending flag (or extend one's own claim); an Administrator with `take_over` takes
        another's claim. 409 `claimed` when someone else holds it, 409 when the flag is not pending."""

        def change(subject: Subject, now: datetime) -> tuple[Claim | None, str]:
            if subject.state.status is not SubjectStatus.FLAGGED:
                raise Conflict("Only a pending flag can be claimed.")
            held = subject.claim is not None and subject.claim.held_by_other(decider, now)
            if held and not (take_over and decider.administrator):
                refuse_if_claimed(subject, decider, now)
            return new_claim(decider, now, self.lease), "subject.claim_taken_over" if held else "subject.claim"

        found = self._change(customer_id, correlation_id, decider, change)
        assert found is not None
        return found

    def release(self, customer_id: str, correlation_id: str, decider: Decider) -> None:
        """Give a claim up (the holder, or an Administrator); nothing to do when none is held."""

        def change(subject: Subject, now: datetime) -> tuple[Claim | None, str]:
            if subject.claim is not None and subject.claim.held_by_other(decider, now) and not decider.administrator:
                refuse_if_claimed(subject, decider, now)
            return None, "subject.claim_released"

        self._change(customer_id, correlation_id, decider, change)

    def _change(self, customer_id: str, correlation_id: str, decider: Decider, change) -> Claim | None:
        def attempt() -> tuple[Claim | None, object]:
            current = self.subjects.get(customer_id, correlation_id)
            if current is None:
                raise NotFound("No such subject.")
            now = self.clock()
            claim, action = change(current.record, now)
            updated = current.record.model_copy(update={"claim": claim})
            entry = self.audit.entry(
                at=now,
                actor=decider.actor,
                action=action,
                target=subject_ref(self.keys, customer_id, correlation_id),
                detail={"by": decider.object_id, **({"until": claim.until.isoformat()} if claim else {})},
            )
            key = SubjectKey(customer_id, correlation_id)
            self.uow.commit(SubjectChange(key, replace=(Versioned(updated, current.etag),), create=(entry,)))
            return claim, entry

        claim, entry = self.uow.run(attempt, "The subject")
        # into the log; its row beside the change goes
        self.audit.relay("subjects", SubjectKey(customer_id, correlation_id).partition, [entry])
        return claim
