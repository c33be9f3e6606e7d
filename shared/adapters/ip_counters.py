"""The per end-user IP rule's state: one row per keyed hash of (customer, IP) in `ratelimits`.

The row is small and bounded (see `shared.domain.ip_policy`); it is written only when a session is
issued from the IP or a failed check or settled session is found, each write ETag-guarded. Many
parallel requests from one hot IP contend on this one row: each loser re-reads and re-applies its
change, so no count is lost. Its `window_end` column tells the retention sweep when it may go.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from azure.core.exceptions import ResourceNotFoundError

from shared.adapters.expiry_index import ExpiryIndex
from shared.adapters.tables import Tables, utc, write_if_unchanged
from shared.domain.clock import Clock
from shared.domain.ip_policy import IpPolicy, IpState, kept_until
from shared.domain.retention_rules import COVER_MARGIN
from shared.unit_of_work import until_committed

ROW = "ip"


class IpCounters:
    def __init__(
        self,
        tables: Tables,
        policy: IpPolicy,
        grace: timedelta,
        clock: Clock,
        expiry: ExpiryIndex | None = None,
        kept: timedelta = timedelta(days=1),
    ) -> None:
        self._table = tables.client("ratelimits")
        self._policy = policy
        self._grace = grace
        self._clock = clock
        self._expiry = expiry
        self._kept = kept

    def get(self, ref: str) -> IpState:
        """The rule's state for one (customer, IP) key; empty when it has none."""
        try:
            return _state(self._table.get_entity(_partition(ref), ROW))
        except ResourceNotFoundError:
            return IpState()

    def change(self, ref: str, apply: Callable[[IpState], IpState]) -> IpState:
        """Apply a change to one key's state, re-reading and re-applying after a lost race."""

        def attempt() -> IpState:
            try:
                entity = self._table.get_entity(_partition(ref), ROW)
            except ResourceNotFoundError:
                entity = None
            current = _state(entity) if entity is not None else IpState()
            updated = apply(current)
            if updated == current:
                return current  # nothing to write (and no empty row for an address never seen)
            window_end = utc(kept_until(updated, self._policy, self._grace) or self._clock())
            sweep_at = entity.get("sweep_at") if entity is not None else None
            if self._expiry is not None and (sweep_at is None or sweep_at < self._clock() + COVER_MARGIN):
                # no check pending: file one, ahead (the check files the next while the row lives on)
                sweep_at = self._expiry.schedule("ratelimits", _partition(ref), window_end + self._kept)
            row = {
                "PartitionKey": _partition(ref),
                "RowKey": ROW,
                "state": updated.model_dump_json(),
                "window_end": window_end,
                **({"sweep_at": sweep_at} if sweep_at is not None else {}),
            }
            write_if_unchanged(self._table, row, entity.metadata["etag"] if entity is not None else None)
            return updated

        return until_committed(attempt, "This end-user address", races=60)


def _partition(ref: str) -> str:
    return f"ip_{ref}"


def _state(entity: dict) -> IpState:
    return IpState.model_validate(json.loads(entity["state"]))
