"""The real adapters for a set of settings: Table Storage and the queues, the Face and email clients
(shared/bootstrap.py wires services with them; tests wire the fakes in tests/fakes.py instead)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.adapters.audit_log import AuditLog
from shared.adapters.customer_cache import CustomerCache
from shared.adapters.customer_store import CustomerStore
from shared.adapters.determination_store import DeterminationIndex, DeterminationStore
from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.face import FaceRestClient
from shared.adapters.face_ledger import FaceSessionLedger
from shared.adapters.notification_queue import NotificationQueue, WebhookQueue
from shared.adapters.recent_subjects import RecentSubjects
from shared.adapters.review_index import ReviewIndex
from shared.adapters.review_stats import ReviewStats
from shared.adapters.subject_store import SubjectStore
from shared.adapters.tables import Tables
from shared.domain.clock import Clock
from shared.settings import Settings


def email_client(settings: Settings) -> Any:
    """The ACS Email client: a connection string locally, the managed identity in Azure."""
    from azure.communication.email import EmailClient  # only the notification function needs it

    options = {"retry_total": 0}  # the notifier retries itself, counting each attempt in its ledger
    if settings.email_ca_bundle:
        options["connection_verify"] = settings.email_ca_bundle
    if settings.acs_connection_string:
        return EmailClient.from_connection_string(settings.acs_connection_string, **options)
    from azure.identity import ManagedIdentityCredential

    return EmailClient(settings.acs_endpoint, ManagedIdentityCredential(client_id=settings.acs_client_id), **options)


def face_client(settings: Settings) -> FaceRestClient:
    """The Face REST client: an api key locally, the managed identity in Azure."""
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


@dataclass
class Storage:
    """The storage adapters the services are wired with (Table Storage and queues)."""

    tables: Tables
    queue: NotificationQueue
    webhook_queue: WebhookQueue
    audit: AuditLog
    expiry: ExpiryIndex
    subjects: SubjectStore
    index: ReviewIndex
    customers: CustomerStore
    face_ledger: FaceSessionLedger
    stats: ReviewStats
    determination_store: DeterminationStore
    determination_index: DeterminationIndex


def storage(settings: Settings, clock: Clock, storage_hook: Callable[[Any], None] | None = None) -> Storage:
    """The real adapters (tables and queues are created if missing, unless the deployment created
    them: `STORAGE_CREATE_MISSING=false`)."""
    tables = Tables.from_settings(settings, storage_hook)
    queue = NotificationQueue.from_settings(settings, storage_hook)
    webhook_queue = WebhookQueue.from_settings(settings, storage_hook)
    if settings.storage_create_missing:
        for ensure in (tables.ensure, queue.ensure, webhook_queue.ensure):
            ensure()
    keys = settings.keyring()
    expiry = ExpiryIndex(tables, keys)
    idle = timedelta(seconds=settings.retention_subject_idle_seconds)
    recent = RecentSubjects(seconds=settings.session_ttl_seconds + settings.retention_session_grace_seconds)
    customers = CustomerStore(tables, CustomerCache(settings.customer_cache_seconds, clock), expiry)
    return Storage(
        tables=tables,
        queue=queue,
        webhook_queue=webhook_queue,
        audit=AuditLog(tables),
        expiry=expiry,
        subjects=SubjectStore(tables, expiry, idle, recent),
        index=ReviewIndex(tables),
        customers=customers,
        face_ledger=FaceSessionLedger(tables, expiry),
        stats=ReviewStats(tables),
        determination_store=DeterminationStore(tables, customers),
        determination_index=DeterminationIndex(tables),
    )
