"""The unit of work: how every change to a partition is carried out (docs/storage.md, "A change").

A service *describes* a change — the rows it replaces (with the ETags it read), the rows it
creates, the review-index rows to list ahead of it and the webhook events it causes — and hands it
to `UnitOfWork.commit`. The unit of work then does, in this order and nowhere else:

1. the write-aheads (review-index listings), so a lost race leaves a stale row, never a missing one;
2. one entity-group transaction guarded by the ETags, carrying an outbox row per event;
3. after the commit, the events are queued and their outbox rows dropped (best effort: what a
   failure leaves, the partition's retention check queues).

`UnitOfWork.run` is the retry: an *attempt* reads, decides with pure functions and commits; when
the commit loses (`StaleWrite`) or the attempt sees another writer's half-finished change
(`LostRace`), it backs off a little and runs again from a fresh read; after `races` losses the
caller gets 429 `too_many_concurrent_requests` with `Retry-After`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from shared import telemetry
from shared.adapters.tables import StaleWrite, Versioned
from shared.domain.subject_key import SubjectKey
from shared.errors import Contended

if TYPE_CHECKING:
    from shared.domain.determinations import CustomerResponse, Determination
    from shared.domain.records import AuditEntry, Customer, Record, ReviewIndexEntry, Subject
    from shared.domain.webhook_events import WebhookEvent

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_RACES = 40

__all__ = ["SubjectKey"]  # re-exported: a change names its subject by key


class LostRace(Exception):
    """Raised inside an attempt to start it again from a fresh read."""


def backoff(race: int) -> None:
    """A short random pause before retrying a lost race, growing with each loss."""
    time.sleep(random.uniform(0, 0.004 * (race + 1)))


def until_committed(attempt: Callable[[], T], what: str = "This record", races: int = MAX_RACES) -> T:
    """Run `attempt` until it returns without losing a race; Contended after `races` losses."""
    for race in range(races):
        try:
            return attempt()
        except (StaleWrite, LostRace):
            telemetry.count("contention", what=_kind(what))
            backoff(race)
    telemetry.event(log, "contention.gave_up", logging.WARNING, what=_kind(what), races=races)
    raise Contended(f"{what} is being changed concurrently; retry.", retry_after=1)


def _kind(what: str) -> str:
    return what.lower().removeprefix("the ").removeprefix("this ").replace(" ", "_")


# --- what a service describes -----------------------------------------------------------------
@dataclass(frozen=True)
class Listing:
    """A subject listed in a review status, written ahead of the change that puts it there."""

    status: str
    entry: ReviewIndexEntry


@dataclass(frozen=True)
class SubjectChange:
    """One subject partition's change: replacements guarded by ETags, new rows, events, listings."""

    key: SubjectKey
    replace: tuple[Versioned[Record], ...] = ()
    create: tuple[Record, ...] = ()
    events: tuple[WebhookEvent, ...] = ()
    listings: tuple[Listing, ...] = ()


@dataclass(frozen=True)
class CustomerChange:
    """A customer row replaced under its ETag, with its audit entry and the events it causes."""

    customer: Versioned[Customer]
    audit: AuditEntry | None = None
    events: tuple[WebhookEvent, ...] = ()


@dataclass(frozen=True)
class DeterminationChange:
    """A determination (new, or replacing the version read) in its customer's partition, the
    customer when it changes too, the audit entries, the events and archived answers."""

    determination: Versioned[Determination] | Determination
    customer: Versioned[Customer] | None = None
    entries: tuple[AuditEntry, ...] = ()
    events: tuple[WebhookEvent, ...] = ()
    answers: tuple[tuple[int, CustomerResponse], ...] = ()
    listed: bool = True  # listed ahead in the determination index under its new status


# --- where it goes ------------------------------------------------------------------------------
class SubjectWriter(Protocol):
    def commit(self, change: SubjectChange) -> None: ...

    def create_subject(self, subject: Subject) -> bool: ...


class CustomerWriter(Protocol):
    def replace(self, change: CustomerChange) -> None: ...


class DeterminationWriter(Protocol):
    def commit(self, change: DeterminationChange) -> None: ...


class Listings(Protocol):
    def put(self, status: str, entry: ReviewIndexEntry) -> None: ...


class DeterminationListings(Protocol):
    def put(self, determination: Determination) -> None: ...


class Publisher(Protocol):
    def publish_soon(self, customer_id: str, events: list[WebhookEvent], table: str, partition: str) -> None: ...


@dataclass
class UnitOfWork:
    """Carries out described changes (see the module docstring); one per app instance."""

    subjects: SubjectWriter
    customers: CustomerWriter
    determinations: DeterminationWriter
    listings: Listings
    determination_listings: DeterminationListings
    publisher: Publisher

    def run(self, attempt: Callable[[], T], what: str = "This record", races: int = MAX_RACES) -> T:
        """Run an attempt until it commits without losing a race (429 after `races` losses)."""
        return until_committed(attempt, what, races)

    def commit(self, change: SubjectChange) -> None:
        """Listings ahead, the subject's transaction with its outbox rows, then its events queued."""
        for listing in change.listings:
            self.listings.put(listing.status, listing.entry)
        self.subjects.commit(change)
        if change.events:
            self.publisher.publish_soon(change.key.customer_id, list(change.events), "subjects", change.key.partition)

    def create(self, subject: Subject, listings: tuple[Listing, ...] = ()) -> bool:
        """Listings ahead, then a new subject row; False when the subject already exists."""
        for listing in listings:
            self.listings.put(listing.status, listing.entry)
        return self.subjects.create_subject(subject)

    def commit_customer(self, change: CustomerChange) -> None:
        """The customer's transaction with its audit entry and outbox rows, then its events queued."""
        self.customers.replace(change)
        if change.events:
            self.publisher.publish_soon(change.customer.record.customer_id, list(change.events), "customers", "")

    def commit_determination(self, change: DeterminationChange) -> None:
        """The determination listed ahead, the customer partition's transaction, then its events queued."""
        d = change.determination.record if isinstance(change.determination, Versioned) else change.determination
        if change.listed:
            self.determination_listings.put(d)
        self.determinations.commit(change)
        if change.events:
            self.publisher.publish_soon(d.customer_id, list(change.events), "customers", "")
