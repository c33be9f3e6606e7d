"""The operator's repair after an incident (`POST /manage/repair`): finish what interrupted
decisions left, everywhere at once."""

from __future__ import annotations

import logging
from typing import Any

from shared.domain.policy import SubjectStatus
from shared.services.review import ReviewService

log = logging.getLogger(__name__)


def repair(review: ReviewService) -> dict[str, Any]:
    """Finish what an interrupted decision left, everywhere at once: queue outbox rows, create
    successors never created, relay audit entries. An operator's call after an incident (it reads
    whole tables); the retention sweep finishes the same per partition as each check comes up.
    One subject that cannot be repaired does not stop the others."""
    flushed = failed = 0
    for partition in review.subjects.outbox_partitions():
        try:
            flushed += review.flush_outbox(*partition.split("_", 1))
        except Exception:
            log.exception("repair could not flush an outbox; the others go on")
            failed += 1
    successors = sum(
        1
        for old in review.subjects.with_status(SubjectStatus.RETIRED.value)
        if old.replaced_by and not old.successor_created and review.ensure_successor(old)
    )
    if failed:
        log.warning("repair left %d outbox partitions for next time", failed)
    return {"notificationsQueued": flushed, "successorsCreated": successors, "auditRelayed": review.audit.relay_all()}
