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
from shared.adapters.customer_cache import CustomerCache
from shared.adapters.determination_store import DeterminationStore
from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.face import FaceRestClient
from shared.adapters.face_ledger import FaceSessionLedger
from shared.adapters.ip_counters import IpCounters
from shared.adapters.ledger import NotificationLedger
from shared.adapters.notification_queue import NotificationQueue, WebhookQueue
from shared.adapters.rate_limit import RateLimiter
from shared.adapters.recent_subjects import RecentSubjects
from shared.adapters.review_stats import ReviewStats
from shared.adapters.stores import CustomerStore, ReviewIndex, SubjectStore
from shared.adapters.tables import Tables
from shared.api.auth import StaffAuth
from shared.domain.clock import Clock, utcnow
from shared.domain.ip_policy import IpPolicy
from shared.domain.keys import Keyring
from shared.domain.secrets import subject_ref
from shared.services.consent import ConsentService
from shared.services.customers import CustomerService
from shared.services.determinations import DeterminationIndex, DeterminationService
from shared.services.erasure import ErasureService
from shared.services.escalation import CustomerEscalation, escalation_policy
from shared.services.face_cleanup import FaceCleanup
from shared.services.face_settings import FaceSettingsService
from shared.services.feedback import FeedbackService
from shared.services.notifier import Notifier
from shared.services.operations import Operations
from shared.services.retention import RetentionSweep, retention_from
from shared.services.review import ReviewService
from shared.services.review_overview import ReviewOverviewService
from shared.services.sessions import RevokeReason, SessionService
from shared.services.subject_access import SubjectAccess
from shared.services.subject_names import SubjectNames
from shared.services.subject_retention import SubjectRetention
from shared.services.webhooks import WebhookService
from shared.settings import Settings, load_settings


def _email_client(settings: Settings):
    from azure.communication.email import EmailClient  # only the notification function needs it

    options = {"retry_total": 0}  # the notifier retries itself, counting each attempt in its ledger
    if settings.email_ca_bundle:
        options["connection_verify"] = settings.email_ca_bundle
    if settings.acs_connection_string:
        return EmailClient.from_connection_string(settings.acs_connection_string, **options)
    from azure.identity import ManagedIdentityCredential

    return EmailClient(settings.acs_endpoint, ManagedIdentityCredential(client_id=settings.acs_client_id), **options)


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
                email=_email_client(self.settings),
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


def _face_client(settings: Settings) -> FaceRestClient:
    credential = None
    if not settings.face_api_key:
        from azure.identity import ManagedIdentityCredential  # only when running in Azure

        credential = ManagedIdentityCredential(client_id=settings.face_client_id)
    return FaceRestClient(
        settings.face_endpoint,
        api_key=settings.face_api_key,
        credential=credential,
        api_version=settings.face_api_version,
        timeout_seconds=settings.face_timeout_seconds,
        max_retries=settings.face_max_retries,
    )


def build(settings: Settings, clock: Clock = utcnow, storage_hook: Callable[[Any], None] | None = None) -> Services:
    """Wire real adapters for the given settings (tables are created if missing).

    `storage_hook` sees every storage request (benchmarks count round trips with it)."""
    tables = Tables.from_settings(settings, storage_hook)
    tables.ensure()
    queue = NotificationQueue.from_settings(settings, storage_hook)
    queue.ensure()
    webhook_queue = WebhookQueue.from_settings(settings, storage_hook)
    webhook_queue.ensure()
    audit = AuditLog(tables)
    keys = settings.keyring()
    grace = timedelta(seconds=settings.retention_session_grace_seconds)
    retention = retention_from(settings)
    expiry = ExpiryIndex(tables, keys)
    recent = RecentSubjects(seconds=settings.session_ttl_seconds + settings.retention_session_grace_seconds)
    subjects, index = SubjectStore(tables, expiry, retention.idle_subject, recent), ReviewIndex(tables)
    customers = CustomerStore(tables, CustomerCache(settings.customer_cache_seconds, clock), expiry)
    face_ledger = FaceSessionLedger(tables, expiry)
    stats = ReviewStats(tables)
    sla = timedelta(seconds=settings.review_sla_seconds)
    respond_within = timedelta(days=settings.remediation_response_days)
    kept_determinations = timedelta(seconds=settings.retention_determination_seconds)
    webhooks = WebhookService(
        tables=tables,
        keys=keys,
        clock=clock,
        queue=webhook_queue,
        ledger=NotificationLedger(tables, expiry, retention.ledger),
        allow_loopback=settings.webhook_allow_loopback,
        retry_for=timedelta(seconds=settings.webhook_retry_seconds),
        backoff_seconds=settings.webhook_backoff_seconds,
        timeout_seconds=settings.webhook_timeout_seconds,
    )
    determination_store, determination_index = DeterminationStore(tables, customers), DeterminationIndex(tables)
    escalation = CustomerEscalation(
        determinations=determination_store,
        audit=audit,
        queue=queue,
        clock=clock,
        policy=escalation_policy(settings.customer_suspend_after, settings.customer_window_seconds),
        ref=lambda customer_id, correlation_id: subject_ref(keys, customer_id, correlation_id),
        expiry=expiry,
        respond_within=respond_within,
        index=determination_index,
        webhooks=webhooks,
        kept=kept_determinations,
    )
    review = ReviewService(
        subjects=subjects,
        index=index,
        queue=queue,
        audit=audit,
        clock=clock,
        keys=keys,
        tombstone=timedelta(seconds=settings.retention_tombstone_seconds),
        face_ledger=face_ledger,
        escalation=escalation,
        respond_within=respond_within,
        webhooks=webhooks,
        guidelines=settings.guidelines(),
        stats=stats,
    )
    determinations = DeterminationService(
        store=determination_store,
        index=determination_index,
        audit=audit,
        queue=queue,
        clock=clock,
        webhooks=webhooks,
        expiry=expiry,
        kept=kept_determinations,
    )
    feedback = FeedbackService(
        tables=tables,
        limiter=RateLimiter(
            tables,
            settings.feedback_rate_limit,
            timedelta(seconds=settings.feedback_rate_window_seconds),
            expiry,
            retention.rate_limits,
        ),
        clock=clock,
        keys=keys,
        stats=stats,
    )
    ip_policy = ip_policy_from(settings)
    face = _face_client(settings)
    cleanup = FaceCleanup(face, subjects, face_ledger, clock)
    names = SubjectNames(subjects, determination_store, keys)
    webhooks.names = names.current
    customer_service = CustomerService(customers, audit, clock, webhooks)
    sessions = SessionService(
        subjects=subjects,
        index=index,
        face=face,
        policy=settings.abuse_policy(),
        clock=clock,
        keys=keys,
        session_ttl=timedelta(seconds=settings.session_ttl_seconds),
        call_budget=settings.session_call_budget,
        default_mode=settings.liveness_operation_mode,
        ip_counters=IpCounters(tables, ip_policy, grace, clock, expiry, retention.rate_limits),
        ledger=face_ledger,
        ip_policy=ip_policy,
        pull_limit=settings.face_pull_limit,
        pull_grace=grace,
        client_attempts=settings.face_client_attempts,
        refuse_customer=customer_service.refuse_unserved_id,
        webhooks=webhooks,
        stats=stats,
        cleanup=cleanup,
    )
    # revocation (docs/abuse-policy.md): wired after the session service, which performs it
    review.revoke = lambda customer_id, guid: sessions.revoke_after(customer_id, guid, RevokeReason.DECIDED)
    for suspender in (customer_service, escalation, determinations):
        suspender.revoke_customer = sessions.revoke_customer
    return Services(
        settings=settings,
        tables=tables,
        audit=audit,
        staff=StaffAuth(settings.admin_api_key, settings.easy_auth_enabled, audit, clock, keys),
        customers=customer_service,
        consent=ConsentService(subjects, clock, keys),
        sessions=sessions,
        review=review,
        feedback=feedback,
        erasure=ErasureService(
            tables=tables,
            subjects=subjects,
            index=index,
            review=review,
            ledger=NotificationLedger(tables, expiry, retention.ledger),
            feedback=feedback,
            audit=audit,
            clock=clock,
            keys=keys,
            tombstone=timedelta(seconds=settings.retention_tombstone_seconds),
            sessions=sessions,
            face_ledger=face_ledger,
            cleanup=cleanup,
            names=names,
            policy=settings.abuse_policy(),
        ),
        retention=RetentionSweep(
            tables=tables,
            expiry=expiry,
            subject_checks=SubjectRetention(
                tables=tables,
                subjects=subjects,
                index=index,
                review=review,
                audit=audit,
                expiry=expiry,
                policy=retention,
                settle=sessions.settle,
                revoke=lambda customer_id, guid: sessions.revoke_after(customer_id, guid, RevokeReason.DECIDED),
                face_ledger=face_ledger,
                webhooks=webhooks,
            ),
            audit=audit,
            clock=clock,
            policy=retention,
            page_size=settings.retention_page_size,
            delete_owed=sessions.delete_owed,
            sweep_determinations=determinations.sweep,
            publish_events=webhooks.publish_left,
            review_stats=stats,
        ),
        face_settings=FaceSettingsService(face=face, audit=audit, clock=clock),
        subject_access=SubjectAccess(subjects, keys, clock),
        escalation=escalation,
        determinations=determinations,
        names=names,
        keys=keys,
        webhooks=webhooks,
        overview=ReviewOverviewService(stats, review, clock, sla),
        operations=Operations(review, {"notifications": queue, "webhooks": webhook_queue}, clock, sla),
        clock=clock,
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
