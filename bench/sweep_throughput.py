"""Retention sweep throughput: batched entity-group deletes against a naive one-delete-per-row loop.

    python -m bench.sweep_throughput [--rows 6000] [--partitions 30]

Both delete the same kind and number of expired rows from identical tables on one Azurite, in one
run, so the ratio says how much the batching buys regardless of how fast this machine is today.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta

from azure.data.tables import TableServiceClient

from bench.figures import print_figures
from devtools.stack import Azurite
from shared.adapters.batch_delete import BatchDeleter
from shared.adapters.tables import MAX_BATCH

QUERY = "RowKey ge @lo and RowKey lt @hi and expires_at lt @cutoff"


def _seed(service: TableServiceClient, table: str, rows: int, partitions: int) -> None:
    client = service.create_table(table)
    expired = datetime.now(UTC) - timedelta(days=1)
    per = rows // partitions
    for _ in range(partitions):
        pk = f"{uuid.uuid4().hex}_{uuid.uuid4()}"
        batch = [
            {"PartitionKey": pk, "RowKey": f"session_{uuid.uuid4()}", "expires_at": expired, "calls_used": 1}
            for _ in range(per)
        ]
        for start in range(0, len(batch), MAX_BATCH):
            client.submit_transaction([("create", r) for r in batch[start : start + MAX_BATCH]])


def _params() -> dict:
    return {"lo": "session_", "hi": "session`", "cutoff": datetime.now(UTC)}


def naive(service: TableServiceClient, table: str) -> int:
    client = service.get_table_client(table)
    removed = 0
    for row in list(client.query_entities(QUERY, parameters=_params())):
        client.delete_entity(row["PartitionKey"], row["RowKey"])
        removed += 1
    return removed


def batched(service: TableServiceClient, table: str) -> int:
    client = service.get_table_client(table)
    deleter, removed = BatchDeleter(client), 0
    for page in client.query_entities(QUERY, parameters=_params(), results_per_page=1000).by_page():
        removed += deleter.delete(list(page))
    return removed


def run(rows: int, partitions: int) -> dict[str, float]:
    """Measure both on fresh identical data; returns rows/s for each and the ratio."""
    azurite = Azurite().start()
    try:
        service = TableServiceClient.from_connection_string(azurite.connection_string)
        results = {}
        for name, sweep in (("naive", naive), ("batched", batched)):
            table = f"bench{name}{uuid.uuid4().hex[:8]}"
            _seed(service, table, rows, partitions)
            started = time.perf_counter()
            removed = sweep(service, table)
            elapsed = time.perf_counter() - started
            assert removed == rows // partitions * partitions, (name, removed)
            assert list(service.get_table_client(table).list_entities()) == []
            results[name] = removed / elapsed
        results["ratio"] = results["batched"] / results["naive"]
        return results
    finally:
        azurite.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--partitions", type=int, default=30)
    args = parser.parse_args(argv)
    result = run(args.rows, args.partitions)
    print(f"rows: {args.rows} in {args.partitions} partitions")
    print(f"naive   (one delete per row):       {result['naive']:8.0f} rows/s")
    print(f"batched (entity-group transactions): {result['batched']:8.0f} rows/s")
    print(f"ratio batched/naive: {result['ratio']:.1f}x")
    print_figures("sweep_throughput", result)


if __name__ == "__main__":
    main()
