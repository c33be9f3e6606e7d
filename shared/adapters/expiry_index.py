"""The expiry index: which partitions the retention sweep must look at, by the hour they fall due.

Table `expiry`, partition `<YYYYMMDDTHH>-s<n>` — the UTC hour from which the check is due, spread
over shards by a hash of the target — and row `<table>|<partition>`. An entry means "look at this
partition from this hour on". It is written *ahead* of the rows it covers, so a lost write leaves
an entry that finds nothing, never a row nobody looks at.

The sweep reads every entry whose hour has come with one partition-range query (paged), handles
the partition it names, writes that partition's next entry, and only then deletes the entry it
handled. The index is therefore its own progress: a sweep cut off half-way leaves exactly the
entries it had not finished, and the next run starts there.

A subject partition (`<customerId>_<GUID>`) is never named in an entry: the entry holds a keyed
pseudonym of it (`subjects|@<pseudonym>`), and one name row (partition `names-<shard>`, row the
pseudonym) maps it back. Erasure deletes the name row, so no entry left for later hours holds the
GUID; an entry whose name is gone finds nothing and is dropped (docs/retention.md, "Erasure"). An
instance remembers the name rows it wrote (a bounded set), so filing a subject's later checks costs
one write, not two; a name row is only ever written again, never changed.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.shards import shard_of
from shared.adapters.tables import Tables
from shared.domain.keys import SUBJECT, Keyring
from shared.domain.retention_rules import bucket_of
from shared.domain.secrets import ERASED_PREFIX

HOUR = timedelta(hours=1)
PROGRESS, BACKFILLED = "progress", "backfilled"  # the row noting partitions from before the index were filed
_FORMAT = "%Y%m%dT%H"


_NAME_PURPOSE = SUBJECT  # the subject pseudonym's key, over `expiry|<partition>`


def _name_partition(name: str) -> str:
    return f"names-{shard_of(name)}"


def _label(bucket: datetime) -> str:
    return bucket.strftime(_FORMAT)


@dataclass(frozen=True)
class Check:
    """One entry: look at `partition` of `table`."""

    table: str
    partition: str
    entry_partition: str
    entry_row: str


NAMED = "@"  # an entry's partition given as a pseudonym, resolved through its name row


class ExpiryIndex:
    def __init__(self, tables: Tables, keys: Keyring | None = None, remember: int = 10_000) -> None:
        self._table = tables.client("expiry")
        self._keys = keys
        self._written: OrderedDict[str, None] = OrderedDict()  # names this instance wrote (newest last)
        self._remember = remember
        self._lock = threading.Lock()

    def _name(self, partition: str) -> str:
        assert self._keys is not None
        return self._keys.pseudonym(_NAME_PURPOSE, f"expiry|{partition}")

    def _named(self, table: str, partition: str) -> bool:
        return self._keys is not None and table == "subjects" and ERASED_PREFIX not in partition

    def schedule(
        self, table: str, partition: str, at: datetime, now: datetime | None = None, new: bool = False
    ) -> datetime:
        """File a check of `table`/`partition` for the hour `at` falls due in (at the earliest the
        next hour after `now`, so a sweep never re-reads what it just filed: `at=now` means "at the
        next run"); returns that hour. `new`: the partition was (re)created just now, so its name row
        is written whatever this instance remembers (an erasure elsewhere may have removed it)."""
        bucket = bucket_of(at)
        if now is not None and bucket <= now:
            bucket = bucket_of(now + timedelta(seconds=1))
        if self._named(table, partition):  # the name row first: an entry never points at nothing it needs
            name = self._name(partition)
            if new or not self._wrote(name):
                self._table.upsert_entity(
                    {"PartitionKey": _name_partition(name), "RowKey": name, "partition": partition},
                    mode=UpdateMode.REPLACE,
                )
                self._note(name)
            partition = NAMED + name
        row = f"{table}|{partition}"
        self._table.upsert_entity(
            {"PartitionKey": f"{_label(bucket)}-{shard_of(row)}", "RowKey": row}, mode=UpdateMode.REPLACE
        )
        return bucket

    def due(self, now: datetime, page_size: int = 1000) -> Iterator[Check]:
        """Every entry whose hour has come, oldest hour first (one partition-range query, paged)."""
        ceiling = bucket_of(now)
        upper = f"{_label(ceiling if ceiling == now else ceiling - HOUR)}-t"  # every shard of every hour <= now
        pager = self._table.query_entities(
            "PartitionKey lt @upper", parameters={"upper": upper}, results_per_page=page_size
        )
        for page in pager.by_page():
            for row in list(page):
                table, _, partition = row["RowKey"].partition("|")
                if partition.startswith(NAMED):
                    partition = self._resolve(partition.removeprefix(NAMED))
                yield Check(table, partition, row["PartitionKey"], row["RowKey"])

    def _resolve(self, name: str) -> str:
        """The partition a name row maps a pseudonym to; "" once erasure removed it (nothing to check)."""
        try:
            return self._table.get_entity(_name_partition(name), name)["partition"]
        except ResourceNotFoundError:
            return ""

    def _wrote(self, name: str) -> bool:
        with self._lock:
            return name in self._written

    def _note(self, name: str) -> None:
        with self._lock:
            self._written[name] = None
            while len(self._written) > self._remember:
                self._written.popitem(last=False)

    def forget_name(self, table: str, partition: str) -> None:
        """Erasure: drop the name rows of a subject partition (under every key it may have been
        filed with), so no later entry leads back to the GUID."""
        if not self._named(table, partition):
            return
        assert self._keys is not None
        for name in self._keys.pseudonyms(_NAME_PURPOSE, f"expiry|{partition}"):
            with self._lock:
                self._written.pop(name, None)
            with contextlib.suppress(ResourceNotFoundError):
                self._table.delete_entity(_name_partition(name), name)

    def done(self, check: Check) -> None:
        """Delete a handled entry (after the partition's next one is filed)."""
        with contextlib.suppress(ResourceNotFoundError):
            self._table.delete_entity(check.entry_partition, check.entry_row)
