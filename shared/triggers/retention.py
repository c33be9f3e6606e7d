"""Timer trigger: the retention sweep on the schedule of the RETENTION_SCHEDULE app setting."""

from __future__ import annotations

import azure.functions as func

from shared.bootstrap import services
from shared.telemetry import context_id, invocation

bp = func.Blueprint()


@bp.timer_trigger(schedule="%RETENTION_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
def retention_sweep(timer: func.TimerRequest, context: func.Context) -> None:
    """Delete everything past its retention period (and finish interrupted decisions first), then
    report the sweep, the review backlog and the poison queues."""
    with invocation("retention_sweep", "timer", context_id(context)):
        s = services()
        try:
            counts = s.retention.run()
        except Exception as exc:
            s.operations.sweep_failed(exc)
            raise
        s.operations.sweep_finished(counts, bool(timer.past_due))
