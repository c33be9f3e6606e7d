"""Timer triggers: six-field NCRONTAB schedules, `past_due` when a run was missed, never two runs at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.functions.timer import TimerRequest
from croniter import croniter

log = logging.getLogger("localhost.timer")
LATE_TOLERANCE = timedelta(seconds=2)


def next_after(schedule: str, moment: datetime) -> datetime:
    """The first NCRONTAB occurrence strictly after `moment` (seconds field first)."""
    return croniter(schedule, moment, second_at_beginning=True).get_next(datetime)


def last_at_or_before(schedule: str, moment: datetime) -> datetime:
    """The latest occurrence at or before `moment`."""
    return croniter(schedule, moment + timedelta(microseconds=1), second_at_beginning=True).get_prev(datetime)


def validate_schedule(schedule: str) -> None:
    """Refuse anything but a valid six-field NCRONTAB expression."""
    if len(schedule.split()) != 6 or not croniter.is_valid(schedule, second_at_beginning=True):
        raise ValueError(f"not a six-field NCRONTAB schedule: {schedule!r}")


@dataclass
class TimerFunction:
    name: str
    schedule: str
    run_on_startup: bool
    handler: Callable[..., Any]
    arg_name: str
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fire(self, past_due: bool) -> None:
        """Run once; waits for a run already in progress, so runs never overlap."""
        with self.lock:
            log.info("timer %s fired (past_due=%s)", self.name, past_due)
            try:
                self.handler(**{self.arg_name: TimerRequest(past_due=past_due)})
            except Exception:
                log.exception("timer %s failed", self.name)


class TimerRunner(threading.Thread):
    """Fires one timer function on its schedule until stopped."""

    def __init__(self, timer: TimerFunction, stop: threading.Event, clock: Callable[[], datetime]) -> None:
        super().__init__(name=f"timer-{timer.name}", daemon=True)
        self.timer, self.stop, self.clock = timer, stop, clock

    def run(self) -> None:
        if self.timer.run_on_startup:
            self.timer.fire(past_due=False)
        slot = next_after(self.timer.schedule, self.clock())
        missed = False
        while not self.stop.is_set():
            wait = (slot - self.clock()).total_seconds()
            if wait > 0 and self.stop.wait(wait):
                return
            self.timer.fire(past_due=missed or self.clock() - slot > LATE_TOLERANCE)
            done = self.clock()
            following = next_after(self.timer.schedule, slot)
            # Slots missed while this run lasted are coalesced into one immediate, past-due run.
            missed = following <= done
            slot = last_at_or_before(self.timer.schedule, done) if missed else following


def utcnow() -> datetime:
    return datetime.now(UTC)
