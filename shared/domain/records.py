"""What Liveness Guard stores, as typed records (one record = one table row; see docs/storage.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import AwareDatetime

from shared.domain.policy import LivenessDecision, SubjectState
from shared.domain.review_people import Appeal, Claim, SecondReview
from shared.domain.secrets import ERASED_PREFIX
from shared.domain.values import Value


class Record(Value):
    """A model stored as one table row; `json_fields` are stored as JSON text columns."""

    json_fields: ClassVar[frozenset[str]] = frozenset()


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    WARNED = "warned"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"  # permanent: its api keys grant nothing, reinstating is refused


class DecisionKind(StrEnum):
    """What a reviewer decided about a subject."""

    CONFIRM = "confirm"  # abuse: blocked, the customer told
    OVERRIDE = "override"  # the flag was wrong: retired with a new GUID
    RESET = "reset"  # retired with a new GUID, flagged or not


class LedgerStatus(StrEnum):
    """Where one email or webhook delivery stands in its ledger."""

    SENDING = "sending"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"
    REJECTED = "rejected"


class Confirmation(Value):
    """One confirmed abuse determination counted against a customer (the subject by its pseudonym)."""

    subject: str
    at: AwareDatetime


class ReviewDecision(Value):
    """A reviewer's decision on a subject (kept on the subject and in the audit log)."""

    decision: DecisionKind
    reason: str
    by: str
    at: AwareDatetime
    by_id: str | None = None  # the decider's object id (`administrator key` for the key); absent on older decisions
    new_correlation_id: str | None = None
    notification_id: str | None = None  # the email it caused (erasure scrubs the GUID from its ledger entry)
    guideline_id: str | None = None  # the reviewer guideline it followed


class Customer(Record):
    """A client application registered with Liveness Guard."""

    json_fields: ClassVar[frozenset[str]] = frozenset({"confirmations"})

    customer_id: str
    name: str
    contact_email: str
    status: CustomerStatus = CustomerStatus.ACTIVE
    api_key_hash: str
    created_at: AwareDatetime
    key_rotated_at: AwareDatetime | None = None
    suspended_at: AwareDatetime | None = None
    terminated_at: AwareDatetime | None = None
    confirmations: tuple[Confirmation, ...] = ()


class Subject(Record):
    """One correlation GUID under one customer: consent, policy state and links."""

    json_fields: ClassVar[frozenset[str]] = frozenset(
        {"state", "decisions", "attempt_hours", "claim", "second_review", "appeal"}
    )

    customer_id: str
    correlation_id: str
    consent_policy_version: str
    consent_purpose: str | None = None
    consent_granted_at: AwareDatetime
    state: SubjectState = SubjectState()
    status: str = "active"  # mirror of state.status, as a column the retention sweep and review can filter on
    created_at: AwareDatetime
    last_activity_at: AwareDatetime
    sessions_total: int = 0
    attempts_total: int = 0
    replaces: str | None = None
    replaced_by: str | None = None
    successor_created: bool = False  # the replaced_by subject was created once: repair never recreates it
    decisions: tuple[ReviewDecision, ...] = ()
    decided_at: AwareDatetime | None = None  # when it became blocked or retired
    gated: bool = False  # consented again after an erasure that left a gate record: read it before a session
    erasing: bool = False  # an erasure began: no session may be issued, consent waits until it is done
    gate_until: AwareDatetime | None = None  # on a gate record (`erased-<pseudonym>`): when it lets the GUID go
    sweep_at: AwareDatetime | None = None  # the hour a retention check of this partition was filed for
    attempt_hours: tuple[AwareDatetime, ...] = ()  # hours attempt decisions were recorded in (when they fall due)
    claim: Claim | None = None  # a reviewer working on the flag (docs/abuse-policy.md, "Claims")
    second_review: SecondReview | None = None  # a severe confirmation awaiting its second person (four eyes)
    appeal: Appeal | None = None  # the end user contests the block: reopened for review

    @property
    def erased(self) -> bool:
        """A gate record left by erasure: keyed by pseudonym, no GUID, no consent."""
        return self.correlation_id.startswith(ERASED_PREFIX)


class Session(Record):
    """One liveness session: its token hash, budget and the attempts already recorded."""

    json_fields: ClassVar[frozenset[str]] = frozenset({"recorded_attempts"})

    session_id: str
    customer_id: str
    correlation_id: str
    token_hash: str
    sealed_face_token: str
    client_request_id: str | None = None
    operation_mode: str
    created_at: AwareDatetime
    expires_at: AwareDatetime
    calls_allowed: int
    calls_used: int = 0
    recorded_attempts: tuple[int, ...] = ()
    face_status: str | None = None
    last_decision: LivenessDecision | None = None
    last_digest: str | None = None  # Face's digest of the newest final attempt (the device's is checked against it)
    settled: bool = False  # read after its expiry with every attempt final (or gone at Face): nothing more to count
    ip_ref: str | None = None  # keyed hash of (customer, end-user IP) the session was issued for
    attempts_allowed: int = 1  # attempts the device may make in this session (FACE_CLIENT_ATTEMPTS)
    finished: bool = False  # its result is final and recorded: no attempt can follow, Face may forget it
    face_deleted: bool = False  # Face confirmed the session deleted (or already gone)
    revoked: bool = False  # revoked (docs/abuse-policy.md, "Revocation"): its token answers 401 token_revoked


class Attempt(Record):
    """One attempt decision fetched from Face (the raw liveness result; short retention)."""

    session_id: str
    attempt_id: int
    attempt_status: str | None = None
    liveness_decision: LivenessDecision | None = None
    recorded_at: AwareDatetime
    abuse_detected: bool = False  # Face v1.3 abuse monitoring flagged this attempt
    ip_mismatch: bool = False  # v1.3: attempted from outside the address expected (evidence, no raw IP)


class OutboxEntry(Record):
    """A notification committed with the decision that caused it, until it is queued."""

    json_fields: ClassVar[frozenset[str]] = frozenset({"message"})

    notification_id: str
    message: dict
    created_at: AwareDatetime


class AuditEntry(Record):
    """An audit-log entry. Written as an `audit_<id>` row in the same transaction as the change it
    records, then relayed to the audit log (the same id, so relaying twice writes it once)."""

    json_fields: ClassVar[frozenset[str]] = frozenset({"detail"})

    entry_id: str
    at: AwareDatetime
    actor: str
    action: str
    target: str | None = None
    reason: str | None = None
    outcome: str = "ok"
    detail: dict[str, Any] | None = None


class ReviewIndexEntry(Record):
    """One row of the review index: a subject listed under its review status."""

    customer_id: str
    correlation_id: str
    since: AwareDatetime
    reason: str | None = None

    @classmethod
    def of(cls, subject: Subject, since: datetime) -> ReviewIndexEntry:
        """The row listing a subject since `since`, for its flag reason."""
        return cls(
            customer_id=subject.customer_id,
            correlation_id=subject.correlation_id,
            since=since,
            reason=subject.state.flag_reason,
        )


class LedgerEntry(Record):
    """The notification ledger: one row per notification id, so a re-delivered message sends nothing."""

    notification_id: str
    kind: str
    customer_id: str | None = None
    correlation_id: str | None = None
    status: LedgerStatus
    send_attempts: int = 0
    deliveries: int = 0
    last_error: str | None = None
    operation_id: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    sent_at: AwareDatetime | None = None


class FeedbackCategory(StrEnum):
    FALSE_REJECTION = "false_rejection"
    ACCESSIBILITY = "accessibility"
    PRIVACY = "privacy"
    OTHER = "other"


class Feedback(Record):
    """A report from the feedback channel (kept for the feedback retention period)."""

    feedback_id: str
    category: FeedbackCategory
    message: str
    correlation_id: str | None = None
    customer_id: str | None = None
    contact: str | None = None
    created_at: AwareDatetime
