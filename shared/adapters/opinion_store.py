"""Answered blind second opinions (table `opinions`), by the UTC day they were answered (partition
`<day>`), so calibration reads only its window and the retention sweep drops whole old days. They
name the subject by its pseudonym only; an open opinion waits beside its subject (row `opinion_<id>`)."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from azure.core.exceptions import ResourceExistsError

from shared.adapters.tables import Tables, from_entity, to_entity
from shared.domain.calibration import Opinion


def _answered(day: datetime) -> str:
    return day.strftime("%Y-%m-%d")


class OpinionStore:
    def __init__(self, tables: Tables) -> None:
        self._table = tables.client("opinions")

    def keep(self, answered: Opinion) -> None:
        """Keep an answered opinion under its day (once: the id is the decision's own)."""
        assert answered.answered_at is not None
        with contextlib.suppress(ResourceExistsError):
            self._table.create_entity(to_entity(answered, _answered(answered.answered_at), answered.opinion_id))

    def answered_since(self, since: datetime, until: datetime) -> list[Opinion]:
        """Every opinion answered in [since, until]'s UTC days, one partition per day."""
        found, day = [], since
        while day.date() <= until.date():
            rows = self._table.query_entities("PartitionKey eq @pk", parameters={"pk": _answered(day)})
            found += [from_entity(Opinion, r) for r in rows]
            day += timedelta(days=1)
        return found
