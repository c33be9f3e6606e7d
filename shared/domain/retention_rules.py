"""When each row of a subject partition falls due, and when its partition must be looked at next
(docs/retention.md). Pure functions: the sweep reads, these decide, the sweep deletes and files."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from shared.domain.policy import SubjectStatus
from shared.domain.records import Subject

COVER_MARGIN = timedelta(minutes=10)  # a check filed this close to now may already be running
ATTEMPT_HOURS_KEPT = 100  # hours with attempts a subject row remembers (72 are enough by default)


def bucket_of(at: datetime) -> datetime:
    """`at` rounded up to the UTC hour: checks are filed, and attempts remembered, by the hour."""
    return datetime.fromtimestamp(math.ceil(at.timestamp() / 3600) * 3600, UTC)


def with_attempt_hour(hours: tuple[datetime, ...], recorded_at: datetime) -> tuple[datetime, ...]:
    """A subject's attempt hours after recording an attempt at `recorded_at` (the latest kept)."""
    hour = bucket_of(recorded_at)
    return hours if hour in hours else tuple(sorted((*hours, hour))[-ATTEMPT_HOURS_KEPT:])


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of data is kept (all from settings; published by GET /privacy)."""

    session_grace: timedelta = timedelta(hours=1)
    attempts: timedelta = timedelta(hours=72)
    idle_subject: timedelta = timedelta(days=30)
    tombstone: timedelta = timedelta(days=180)
    audit: timedelta = timedelta(days=365)
    feedback: timedelta = timedelta(days=180)
    ledger: timedelta = timedelta(days=30)
    rate_limits: timedelta = timedelta(days=1)
    review_stats: timedelta = timedelta(days=400)  # daily counts only: no GUID, IP or text


class SubjectFate(Enum):
    KEEP = "keep"
    IDLE = "idle"  # an active subject unused for the idle period: its row goes
    EXPIRED = "expired"  # a tombstone or gate past its time: the whole partition goes
    COMPACT = "compact"  # decided long enough ago that its attempt history goes


def fate_of(subject: Subject, now: datetime, policy: RetentionPolicy) -> SubjectFate:
    """What the sweep does with a subject row now."""
    if subject.gate_until is not None:
        return SubjectFate.EXPIRED if subject.gate_until < now else SubjectFate.KEEP
    status = subject.state.status
    if status is SubjectStatus.ACTIVE:
        return SubjectFate.IDLE if subject.last_activity_at < now - policy.idle_subject else SubjectFate.KEEP
    if status in (SubjectStatus.BLOCKED, SubjectStatus.RETIRED) and subject.decided_at is not None:
        if subject.decided_at < now - policy.tombstone:
            return SubjectFate.EXPIRED
        if subject.decided_at < now - policy.attempts:
            return SubjectFate.COMPACT
    return SubjectFate.KEEP


def next_check(
    subject: Subject | None,
    sessions_left: list[datetime],
    now: datetime,
    policy: RetentionPolicy,
    settled: bool = False,
) -> datetime | None:
    """When the partition must be looked at again: the earliest moment anything left in it falls
    due (None when nothing is left); `sessions_left` are the expiries of the session rows left.
    Attempts are known by the hours the subject row remembers
    recording them in; `settled` means this check itself recorded some just now."""
    moments = [expires_at + policy.session_grace for expires_at in sessions_left]
    if settled:
        moments.append(now + policy.attempts)
    if subject is not None:
        moments += [hour + policy.attempts for hour in subject.attempt_hours if hour + policy.attempts > now]
        moments.append(_subject_due(subject, now, policy))
    return min(moments) if moments else None


def _subject_due(subject: Subject, now: datetime, policy: RetentionPolicy) -> datetime:
    if subject.gate_until is not None:
        return subject.gate_until
    status = subject.state.status
    if status is SubjectStatus.ACTIVE:
        return subject.last_activity_at + policy.idle_subject
    if status in (SubjectStatus.BLOCKED, SubjectStatus.RETIRED) and subject.decided_at is not None:
        compacted = subject.decided_at + policy.attempts
        return compacted if compacted > now else subject.decided_at + policy.tombstone
    return now  # flagged: a human decides; look again at the next hour (a check is never filed before it)


def needs_check(scheduled: datetime | None, due: datetime, now: datetime) -> bool:
    """Whether a new row due at `due` needs its own check filed, given the partition already has
    one at `scheduled` (a check reads every session row and files the next for what it leaves)."""
    return scheduled is None or scheduled < now + COVER_MARGIN or scheduled > bucket_of(due)
