"""The end user's appeal (docs/abuse-policy.md, "Humans in the loop"; GDPR Art. 22(3)): a
`false_rejection` report that names a GUID, sent with the customer's api key, reopens a blocked
subject in the pending review queue (reason `appeal`, the same SLA), decided like a flag: override
hands out a new GUID, confirm keeps it blocked with a reason the customer can pass on. Without an api
key nothing is linked: anyone could name any GUID."""

from __future__ import annotations

from dataclasses import dataclass

from shared.adapters.audit_log import AuditLog
from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import Versioned
from shared.domain.clock import Clock
from shared.domain.keys import Keyring
from shared.domain.policy import SubjectStatus
from shared.domain.records import ReviewIndexEntry
from shared.domain.review_people import APPEAL_REASON, Appeal
from shared.domain.secrets import subject_ref
from shared.unit_of_work import Listing, SubjectChange, SubjectKey, UnitOfWork


@dataclass
class Appeals:
    subjects: SubjectStore
    uow: UnitOfWork
    audit: AuditLog
    clock: Clock
    keys: Keyring

    def open(self, customer_id: str, correlation_id: str, feedback_id: str) -> bool:
        """Reopen a blocked subject for review; False (nothing done) for any other subject, or one
        whose appeal is already open."""

        def attempt() -> bool:
            current = self.subjects.get(customer_id, correlation_id)
            if current is None or current.record.state.status is not SubjectStatus.BLOCKED or current.record.appeal:
                return False
            now = self.clock()
            appealed = current.record.model_copy(update={"appeal": Appeal(feedback_id=feedback_id, opened_at=now)})
            entry = self.audit.entry(
                at=now,
                actor=f"customer:{customer_id}",
                action="subject.appeal_opened",
                target=subject_ref(self.keys, customer_id, correlation_id),
                detail={"feedback": feedback_id},
            )
            listing = ReviewIndexEntry(
                customer_id=customer_id, correlation_id=correlation_id, since=now, reason=APPEAL_REASON
            )
            change = SubjectChange(
                SubjectKey(customer_id, correlation_id),
                replace=(Versioned(appealed, current.etag),),
                create=(entry,),
                listings=(Listing("pending", listing),),
            )
            self.uow.commit(change)
            # into the log; its row beside the change goes
            self.audit.relay("subjects", SubjectKey(customer_id, correlation_id).partition, [entry])
            return True

        return self.uow.run(attempt, "The subject")
