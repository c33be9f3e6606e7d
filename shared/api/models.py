"""Request and response bodies of the HTTP API, validated with pydantic (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel

from shared.domain.determinations import Severity
from shared.domain.ip_policy import normalise_ip
from shared.domain.policy import LivenessDecision, SubjectStatus
from shared.domain.records import CustomerStatus, DecisionKind, FeedbackCategory

# Portable (ECMA-262 and Python alike): no inline flags; either case is accepted, stored lower case.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
CorrelationId = Annotated[str, StringConstraints(pattern=UUID_PATTERN), AfterValidator(str.lower)]
ClientRequestId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
EndUserIp = Annotated[
    str,
    StringConstraints(min_length=2, max_length=64),
    AfterValidator(normalise_ip),
    WithJsonSchema({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}], "maxLength": 64}),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$"),
]


T = TypeVar("T")


class ApiModel(BaseModel):
    """camelCase on the wire, unknown fields refused, strict types (no "5" for 5)."""

    model_config = ConfigDict(
        defer_build=True, alias_generator=to_camel, populate_by_name=True, extra="forbid", strict=True
    )


class Page(ApiModel, Generic[T]):
    """One page of a listing; pass continuationToken back for the next (absent on the last page)."""

    items: list[T]
    continuation_token: str | None = None


class ConsentRequest(ApiModel):
    correlation_id: CorrelationId
    policy_version: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    purpose: Text | None = None


class ConsentResponse(ApiModel):
    correlation_id: str
    policy_version: str
    granted_at: datetime


class SessionRequest(ApiModel):
    correlation_id: CorrelationId
    liveness_operation_mode: Literal["Passive", "PassiveActive"] | None = None
    client_request_id: ClientRequestId | None = None
    end_user_ip: EndUserIp | None = Field(
        None,
        description="The end user's IPv4 or IPv6 address as the client app sees it; counted (as a keyed hash, "
        "IPv6 by its /64) by the per-IP rule across all of this customer's GUIDs.",
    )


class SessionResponse(ApiModel):
    session_id: str
    face_auth_token: str
    session_token: str
    expires_at: datetime
    calls_allowed: int = Field(description="Calls the session token may still make.")


class ResultResponse(ApiModel):
    session_id: str
    status: str
    liveness_decision: LivenessDecision | None
    attempts: int
    subject_status: SubjectStatus = Field(
        description="The subject's status after this call: `flagged` when this call's own attempt flagged it "
        "(its decision is shown once; every later call is refused)"
    )


class CustomerCreateRequest(ApiModel):
    name: Text
    contact_email: Email


class ReasonRequest(ApiModel):
    reason: Reason | None = None


class TerminateRequest(ApiModel):
    reason: Reason


class CustomerView(ApiModel):
    customer_id: str
    name: str
    contact_email: str
    status: CustomerStatus
    created_at: datetime
    key_rotated_at: datetime | None = None
    suspended_at: datetime | None = None
    terminated_at: datetime | None = None


class CustomerKeyResponse(ApiModel):
    customer_id: str
    api_key: str


class HealthResponse(ApiModel):
    status: Literal["ok", "unavailable"]
    storage: Literal["ok", "unreachable", "incomplete"] = Field(
        description="`incomplete`: storage answers but lacks tables the app uses (the deployment did not create them)"
    )
    version: str
    face_api_version: str | None = None
    face_abuse_monitoring: Literal["on", "off", "unknown"] | None = Field(
        None, description="Face v1.3 only: whether the resource's liveness abuse monitoring is on"
    )


class AbuseMonitoringSetting(ApiModel):
    enabled: bool


class FaceSettingsView(ApiModel):
    """The Face resource's liveness settings (Face v1.3-preview.1)."""

    api_version: str
    liveness_abuse_monitoring: AbuseMonitoringSetting


class FaceSettingsUpdate(ApiModel):
    liveness_abuse_monitoring: AbuseMonitoringSetting
    reason: Reason | None = None


class DecisionRequest(ApiModel):
    decision: Literal[DecisionKind.CONFIRM, DecisionKind.OVERRIDE]
    reason: Reason
    guideline_id: Annotated[str, StringConstraints(min_length=1, max_length=63)]  # one of GET /review/guidelines
    severity: Severity | None = None  # confirm only; standard when absent

    @model_validator(mode="after")
    def _severity_with_confirm(self) -> DecisionRequest:
        if self.severity is not None and self.decision is not DecisionKind.CONFIRM:
            raise ValueError("severity goes only with decision=confirm")
        return self


class ResetRequest(ApiModel):
    reason: Reason


class Counters(ApiModel):
    failed_checks_in_window: int
    spoofface_in_window: int
    timeouts_in_window: int
    sessions_in_window: int
    sessions_total: int
    attempts_total: int
    timed_out_until: datetime | None = None


class FlagItem(ApiModel):
    customer_id: str
    correlation_id: str
    status: SubjectStatus
    flagged_at: datetime | None = None
    reason: str | None = None
    decided_at: datetime | None = None
    counters: Counters
    claimed_by: str | None = Field(None, description="Who is working on this flag (a live claim)")
    claimed_until: datetime | None = None


class SecondReviewView(ApiModel):
    """A severe confirmation waiting for a second, different person (four eyes)."""

    review_id: str
    customer_id: str
    correlation_id: str
    requested_by: str
    requested_by_id: str
    requested_at: datetime
    reason: str
    guideline_id: str | None = None
    disagreed_by: str | None = Field(None, description="The second person disagreed: an Administrator decides")


class SecondReviewAnswer(ApiModel):
    agree: bool
    reason: Reason


class OpinionItem(ApiModel):
    """A decision waiting for your blind second opinion (the decision itself is not shown)."""

    opinion_id: str
    customer_id: str
    correlation_id: str
    asked_at: datetime


class OpinionAnswer(ApiModel):
    decision: DecisionKind
    guideline_id: str
    reason: Reason


class AgreementView(ApiModel):
    key: str = Field(description="The guideline, the reviewer, or `all`")
    pairs: int
    agreement: float | None
    kappa: float | None = Field(description="Cohen's kappa; null when undefined (no pairs, or one label only)")


class DisagreementView(ApiModel):
    customer_id: str
    subject: str = Field(description="The subject's pseudonym")
    first: DecisionKind
    first_by: str
    first_guideline: str | None = None
    second: DecisionKind
    second_by: str
    reason: str | None = None
    answered_at: datetime


class CalibrationView(ApiModel):
    """How well reviewers agree: blind second opinions against the first decisions."""

    since: datetime
    overall: AgreementView
    by_guideline: list[AgreementView]
    by_reviewer: list[AgreementView]
    disagreements: list[DisagreementView] | None = Field(None, description="For Administrators only")


class ClaimRequest(ApiModel):
    """`takeOver`: an Administrator takes another reviewer's claim (audited)."""

    take_over: bool = False


class ClaimView(ApiModel):
    """Who holds the claim on a pending flag, and until when."""

    claimed_by: str
    claimed_until: datetime


class TimelineEvent(ApiModel):
    at: datetime
    kind: Literal["session", "attempt", "timeout", "flag", "decision"]
    session_id: str | None = None
    attempt_id: int | None = None
    decision: str | None = None
    detail: str | None = None


class DecisionView(ApiModel):
    decision: DecisionKind
    reason: str
    by: str
    at: datetime
    by_id: str | None = Field(None, description="The decider's Entra object id, or `administrator key`")
    new_correlation_id: str | None = None
    guideline_id: str | None = None


class GuidelineView(ApiModel):
    id: str
    title: str
    text: str


class FaceMatchView(ApiModel):
    """Face v1.3 abuse monitoring flagged an attempt: the same face was seen under these GUIDs."""

    session_id: str
    attempt_id: int
    at: datetime
    same_face_correlation_ids: list[str] = Field(description="Other GUIDs of this customer the face was seen under")
    other_flagged_sessions_unlinked: int = Field(
        description="Flagged sessions this app no longer knows, or of another customer (never named)"
    )
    lineage_match: bool = Field(
        False, description="Every session Face named is this subject's own lineage (reset or override): no flag"
    )


class SubjectDetailView(FlagItem):
    consent_policy_version: str
    consent_granted_at: datetime
    replaces: str | None = None
    replaced_by: str | None = None
    decisions: list[DecisionView]
    timeline: list[TimelineEvent]
    face_evidence: list[FaceMatchView] = []
    customer_status: CustomerStatus | None = None
    gate: GateState
    second_review: SecondReviewView | None = Field(None, description="A severe confirmation awaiting its second person")


class GateState(ApiModel):
    """Whether the subject is refused sessions now, why and until when (a status alone can say
    `active` for a GUID an erased, flagged record still gates)."""

    gated: bool
    reason: str | None = Field(
        None, description="flagged, blocked, retired, timed_out, erasing, or erased_<status>: a gate an erasure kept"
    )
    until: datetime | None = Field(None, description="When the gate lets go (none: until a reviewer decides)")


class DecisionResponse(ApiModel):
    customer_id: str
    correlation_id: str
    status: SubjectStatus
    new_correlation_id: str | None = None


class AuditEntry(ApiModel):
    model_config = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, extra="allow")

    at: datetime
    actor: str
    action: str
    outcome: Literal["ok", "refused"]
    target: str | None = None
    reason: str | None = None


class RepairResponse(ApiModel):
    notifications_queued: int
    successors_created: int
    audit_relayed: int = Field(description="audit entries committed with their change and moved to the log now")


class FeedbackRequest(ApiModel):
    category: FeedbackCategory
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    correlation_id: CorrelationId | None = None
    contact: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)] | None = None


class FeedbackAccepted(ApiModel):
    feedback_id: str
    appeal_opened: bool = Field(
        False,
        description="A false_rejection naming a blocked GUID, sent with its customer's api key, reopened it",
    )


class FeedbackView(ApiModel):
    feedback_id: str
    category: FeedbackCategory
    message: str
    correlation_id: str | None = None
    customer_id: str | None = None
    contact: str | None = None
    created_at: datetime
