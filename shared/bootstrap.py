"""The one place where settings and real adapters are wired into services.

Built lazily on the first request of a worker process (so importing `function_app` stays cheap)
and reused afterwards; tests call `reset()` after changing the environment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.adapters.audit_log import AuditLog
from shared.adapters.clients import Storage, email_client, face_client, storage
from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.face import FaceClient
from shared.adapters.feedback_store import FeedbackStore
from shared.adapters.ip_counters import IpCounters
from shared.adapters.ledger import NotificationLedger
from shared.adapters.opinion_store import OpinionStore
from shared.adapters.outbox import Outbox, WebhookRegistrations
from shared.adapters.rate_limit import RateLimiter
from shared.adapters.repositories import AddressCounters, FaceSessionOwners, ReviewCounts, SubjectRepository
from shared.adapters.retention_rows import RetentionRows
from shared.adapters.tables import Tables
from shared.api.auth import StaffAuth
from shared.domain.clock import Clock, utcnow
from shared.domain.ip_policy import IpPolicy
from shared.domain.keys import Keyring
from shared.domain.secrets import subject_ref
from shared.services.address_rule import AddressRule
from shared.services.appeals import Appeals
from shared.services.consent import ConsentService
from shared.services.customers import CustomerService
from shared.services.determinations import DeterminationService
from shared.services.erasure import ErasureService
from shared.services.escalation import CustomerEscalation, escalation_policy
from shared.services.face_cleanup import FaceCleanup
from shared.services.face_reads import FaceReads
from shared.services.face_settings import FaceSettingsService
from shared.services.feedback import FeedbackService
from shared.services.lineage import Lineage
from shared.services.notifier import Notifier
from shared.services.operations import Operations
from shared.services.retention import RetentionSweep, retention_from
from shared.services.review import ReviewService
from shared.services.review_claims import ReviewClaims
from shared.services.review_overview import ReviewOverviewService
from shared.services.review_queries import ReviewQueries
from shared.services.second_opinions import SecondOpinions
from shared.services.second_reviews import SecondReviews
from shared.services.session_endings import SessionEndings
from shared.services.session_issuing import SessionIssuer
from shared.services.session_results import SessionResults
from shared.services.session_tokens import SessionTokens
from shared.services.sessions import RevokeReason, SessionService
from shared.services.subject_access import SubjectAccess
from shared.services.subject_commits import SubjectCommits
from shared.services.subject_names import SubjectNames
from shared.services.subject_retention import SubjectRetention
from shared.services.webhooks import WebhookService
from shared.settings import Settings, load_settings
from shared.unit_of_work import UnitOfWork


@dataclass
class Services:
    settings: Settings
    tables: Tables
    audit: AuditLog
    staff: StaffAuth
    customers: CustomerService
    consent: ConsentService
    sessions: SessionService
    review: ReviewService
    review_queries: ReviewQueries
    claims: ReviewClaims
    second_reviews: SecondReviews
    second_opinions: SecondOpinions
    appeals: Appeals
    feedback: FeedbackService
    erasure: ErasureService
    retention: RetentionSweep
    face_settings: FaceSettingsService
    subject_access: SubjectAccess
    escalation: CustomerEscalation
    determinations: DeterminationService
    names: SubjectNames
    keys: Keyring
    webhooks: WebhookService
    overview: ReviewOverviewService
    operations: Operations
    clock: Clock
    _notifier: Notifier | None = None

    def notifier(self) -> Notifier:
        """The email notifier, built on first use (it alone needs the ACS Email SDK)."""
        if self._notifier is None:
            self._notifier = Notifier(
                ledger=NotificationLedger(
                    self.tables, ExpiryIndex(self.tables, self.keys), self.retention.policy.ledger
                ),
                customers=self.customers.store,
                queue=self.review.queue,
                email=email_client(self.settings),
                clock=self.clock,
                sender_address=self.settings.email_sender,
                support_contact=self.settings.support_contact,
                window_days=max(1, self.settings.customer_window_seconds // 86400),
                send_attempts=self.settings.email_send_attempts,
                poll_interval=self.settings.email_poll_interval_seconds,
                max_dequeue=self.settings.notification_max_dequeue,
                escalation=self.escalation,
                stats=self.overview.stats,
                names=self.names,
            )
        return self._notifier


def ip_policy_from(settings: Settings) -> IpPolicy:
    """The per end-user IP rule as the settings configure it."""
    return IpPolicy(
        failed_checks_limit=settings.ip_failed_checks_limit,
        window=timedelta(seconds=settings.ip_window_seconds),
        timeout=timedelta(seconds=settings.ip_timeout_seconds),
    )


def build(settings: Settings, clock: Clock = utcnow, storage_hook: Callable[[Any], None] | None = None) -> Services:
    """Wire real adapters for the given settings (tables are created if missing).

    `storage_hook` sees every storage request (benchmarks count round trips with it)."""
    return wire(settings, storage(settings, clock, storage_hook), face_client(settings), clock)


def webhook_service(settings: Settings, st: Storage, keys: Keyring, clock: Clock) -> WebhookService:
    """Registration, publishing after a commit, and delivery of webhook events."""
    return WebhookService(
        registrations=WebhookRegistrations(st.tables),
        outbox=Outbox(st.tables),
        keys=keys,
        clock=clock,
        queue=st.webhook_queue,
        ledger=NotificationLedger(st.tables, st.expiry, retention_from(settings).ledger),
        allow_loopback=settings.webhook_allow_loopback,
        retry_for=timedelta(seconds=settings.webhook_retry_seconds),
        backoff_seconds=settings.webhook_backoff_seconds,
        timeout_seconds=settings.webhook_timeout_seconds,
    )


def unit_of_work(st: Storage, publisher: WebhookService) -> UnitOfWork:
    """The one unit of work every partition change goes through."""
    return UnitOfWork(
        subjects=st.subjects,
        customers=st.customers,
        determinations=st.determination_store,
        listings=st.index,
        determination_listings=st.determination_index,
        publisher=publisher,
    )


def visit_check_after(settings: Settings) -> timedelta:
    """How long after its issue a session needs its partition checked: its lifetime and the grace
    for pulling its results (the session issuer files for the same moment)."""
    return timedelta(seconds=settings.session_ttl_seconds + settings.retention_session_grace_seconds)


def session_service(
    settings: Settings,
    subjects: SubjectRepository,
    uow: UnitOfWork,
    face: FaceClient,
    ip_counters: AddressCounters,
    face_ledger: FaceSessionOwners,
    stats: ReviewCounts,
    clock: Clock,
    refuse_customer: Callable[[str], None],
) -> SessionService:
    """Sessions, results and revocation, from the settings and the adapters they run on."""
    grace, keys, policy = (
        timedelta(seconds=settings.retention_session_grace_seconds),
        settings.keyring(),
        settings.abuse_policy(),
    )
    reads = FaceReads(face)
    address = AddressRule(ip_counters, ip_policy_from(settings), reads, settings.face_pull_limit, grace)
    cleanup = FaceCleanup(face, subjects, face_ledger, clock)
    commits = SubjectCommits(uow, keys, stats)
    lineage = Lineage(subjects, face_ledger)
    endings = SessionEndings(
        subjects, uow, commits, reads, address, face_ledger, cleanup, lineage, clock, keys, policy, grace
    )
    ttl = timedelta(seconds=settings.session_ttl_seconds)
    tokens = SessionTokens(subjects, uow, keys, ttl, settings.session_call_budget, settings.face_client_attempts)
    issuer = SessionIssuer(
        subjects=subjects,
        uow=uow,
        face=face,
        reads=reads,
        address=address,
        tokens=tokens,
        endings=endings,
        ledger=face_ledger,
        cleanup=cleanup,
        policy=policy,
        clock=clock,
        keys=keys,
        session_ttl=ttl,
        default_mode=settings.liveness_operation_mode,
        client_attempts=settings.face_client_attempts,
        pull_limit=settings.face_pull_limit,
        pull_grace=grace,
    )
    results = SessionResults(subjects, uow, reads, address, endings, policy, clock, refuse_customer)
    return SessionService(issuer, results, endings)


def _customer_side(settings: Settings, st: Storage, uow: UnitOfWork, keys: Keyring, clock: Clock) -> dict[str, Any]:
    """Customers, determinations and the escalation a confirmation runs."""
    respond_within = timedelta(days=settings.remediation_response_days)
    kept = timedelta(seconds=settings.retention_determination_seconds)
    escalation = CustomerEscalation(
        determinations=st.determination_store,
        uow=uow,
        audit=st.audit,
        queue=st.queue,
        clock=clock,
        policy=escalation_policy(settings.customer_suspend_after, settings.customer_window_seconds),
        ref=lambda customer_id, correlation_id: subject_ref(keys, customer_id, correlation_id),
        expiry=st.expiry,
        respond_within=respond_within,
        kept=kept,
    )
    determinations = DeterminationService(
        store=st.determination_store,
        index=st.determination_index,
        uow=uow,
        audit=st.audit,
        queue=st.queue,
        clock=clock,
        expiry=st.expiry,
        kept=kept,
    )
    customers = CustomerService(st.customers, uow, st.audit, clock)
    return {"escalation": escalation, "determinations": determinations, "customers": customers}


def _review(
    settings: Settings, st: Storage, uow: UnitOfWork, escalation: CustomerEscalation, clock: Clock
) -> ReviewService:
    return ReviewService(
        subjects=st.subjects,
        uow=uow,
        index=st.index,
        queue=st.queue,
        audit=st.audit,
        clock=clock,
        keys=settings.keyring(),
        tombstone=timedelta(seconds=settings.retention_tombstone_seconds),
        escalation=escalation,
        respond_within=timedelta(days=settings.remediation_response_days),
        guidelines=settings.guidelines(),
        stats=st.stats,
    )


def _feedback(settings: Settings, st: Storage, clock: Clock) -> FeedbackService:
    limiter = RateLimiter(
        st.tables,
        settings.feedback_rate_limit,
        timedelta(seconds=settings.feedback_rate_window_seconds),
        st.expiry,
        retention_from(settings).rate_limits,
    )
    return FeedbackService(
        store=FeedbackStore(st.tables), limiter=limiter, clock=clock, keys=settings.keyring(), stats=st.stats
    )


def _erasure(settings: Settings, st: Storage, uow: UnitOfWork, parts: dict[str, Any], clock: Clock) -> ErasureService:
    sessions: SessionService = parts["sessions"]
    return ErasureService(
        subjects=st.subjects,
        uow=uow,
        index=st.index,
        review=parts["review"],
        ledger=NotificationLedger(st.tables, st.expiry, retention_from(settings).ledger),
        feedback=parts["feedback"],
        audit=st.audit,
        clock=clock,
        keys=settings.keyring(),
        tombstone=timedelta(seconds=settings.retention_tombstone_seconds),
        sessions=sessions,
        face_ledger=st.face_ledger,
        cleanup=sessions.cleanup,
        names=parts["names"],
        policy=settings.abuse_policy(),
    )


def _retention(settings: Settings, st: Storage, uow: UnitOfWork, parts: dict[str, Any], clock: Clock) -> RetentionSweep:
    sessions: SessionService = parts["sessions"]
    policy = retention_from(settings)
    checks = SubjectRetention(
        subjects=st.subjects,
        uow=uow,
        index=st.index,
        review=parts["review"],
        audit=st.audit,
        expiry=st.expiry,
        policy=policy,
        settle=sessions.settle,
        revoke=lambda customer_id, guid: sessions.revoke_after(customer_id, guid, RevokeReason.DECIDED),
        face_ledger=st.face_ledger,
        webhooks=parts["webhooks"],
    )
    return RetentionSweep(
        rows=RetentionRows(st.tables, settings.retention_page_size),
        expiry=st.expiry,
        subject_checks=checks,
        audit=st.audit,
        clock=clock,
        policy=policy,
        delete_owed=sessions.delete_owed,
        sweep_determinations=parts["determinations"].sweep,
        publish_events=parts["webhooks"].publish_left,
        review_stats=st.stats,
    )


def wire(settings: Settings, st: Storage, face: FaceClient, clock: Clock = utcnow) -> Services:
    """Every service, wired with the given adapters and Face client."""
    keys = settings.keyring()
    webhooks = webhook_service(settings, st, keys, clock)
    uow = unit_of_work(st, webhooks)
    parts = _customer_side(settings, st, uow, keys, clock)
    parts |= {"webhooks": webhooks, "review": _review(settings, st, uow, parts["escalation"], clock)}
    ip_policy, grace = ip_policy_from(settings), timedelta(seconds=settings.retention_session_grace_seconds)
    ip_counters = IpCounters(st.tables, ip_policy, grace, clock, st.expiry, retention_from(settings).rate_limits)
    refuse = parts["customers"].refuse_unserved_id
    sessions = session_service(settings, st.subjects, uow, face, ip_counters, st.face_ledger, st.stats, clock, refuse)
    parts |= {"sessions": sessions, "feedback": _feedback(settings, st, clock)}
    parts["names"] = SubjectNames(st.subjects, st.determination_store, uow, keys)
    webhooks.names = parts["names"].current
    # revocation (docs/abuse-policy.md): wired after the session service, which performs it
    parts["review"].revoke = lambda customer_id, guid: sessions.revoke_after(customer_id, guid, RevokeReason.DECIDED)
    for suspender in (parts["customers"], parts["escalation"], parts["determinations"]):
        suspender.revoke_customer = sessions.revoke_customer
    sla = timedelta(seconds=settings.review_sla_seconds)
    queries = ReviewQueries(st.subjects, st.index, st.face_ledger, keys, clock)
    opinions = SecondOpinions(
        st.subjects, uow, st.index, queries, OpinionStore(st.tables), clock, keys, settings.review_second_opinion_rate
    )
    queues = {"notifications": st.queue, "webhooks": st.webhook_queue}
    return Services(
        settings=settings,
        tables=st.tables,
        audit=st.audit,
        staff=StaffAuth(settings.admin_api_key, settings.easy_auth_enabled, st.audit, clock, keys),
        consent=ConsentService(st.subjects, uow, clock, keys, visit_check_after=visit_check_after(settings)),
        erasure=_erasure(settings, st, uow, parts, clock),
        retention=_retention(settings, st, uow, parts, clock),
        face_settings=FaceSettingsService(face=face, audit=st.audit, clock=clock),
        subject_access=SubjectAccess(st.subjects, keys, clock),
        keys=keys,
        review_queries=queries,
        second_reviews=SecondReviews(
            st.subjects, uow, st.index, parts["review"], st.audit, clock, keys, opinions, settings.four_eyes
        ),
        second_opinions=opinions,
        appeals=Appeals(st.subjects, uow, st.audit, clock, keys),
        claims=ReviewClaims(st.subjects, uow, st.audit, clock, keys, timedelta(seconds=settings.review_claim_seconds)),
        overview=ReviewOverviewService(st.stats, queries, clock, sla),
        operations=Operations(queries, queues, clock, sla),
        clock=clock,
        **parts,
    )


_lock = threading.Lock()
_services: Services | None = None
_clock: Clock = utcnow
_hook: Callable[[Any], None] | None = None


def services() -> Services:
    """The process-wide services, built from the environment on first use."""
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build(load_settings(), _clock, _hook)
    return _services


def reset(clock: Clock = utcnow, storage_hook: Callable[[Any], None] | None = None) -> None:
    """Forget the wired services so the next call rebuilds them (tests and benchmarks: new settings,
    clock or storage hook)."""
    global _services, _clock, _hook
    with _lock:
        _services = None
        _clock = clock
        _hook = storage_hook
