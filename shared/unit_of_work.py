"""The one way to retry a lost optimistic-concurrency race: read, decide, commit guarded by ETags.

Every change to a row someone else may change at the same moment is an *attempt* function that
reads what it needs, decides with pure functions and commits with the ETags it read. When the
commit loses (`StaleWrite`) or the attempt sees another writer's half-finished change
(`LostRace`), `until_committed` backs off a little and runs the attempt again from a fresh read;
after `races` losses the caller gets 429 `too_many_concurrent_requests` with `Retry-After`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from shared import telemetry
from shared.adapters.tables import StaleWrite
from shared.errors import Contended

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_RACES = 40


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
