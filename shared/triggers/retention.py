"""Timer trigger: the retention sweep on the schedule of the RETENTION_SCHEDULE app setting."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.bootstrap import services

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.timer_trigger(schedule="%RETENTION_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
def retention_sweep(timer: func.TimerRequest) -> None:
    """Delete everything past its retention period (and finish interrupted decisions first)."""
    counts = services().retention.run()
    log.info("retention sweep%s: %s", " (past due)" if timer.past_due else "", counts)
