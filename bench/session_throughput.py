"""Session issuance throughput through the real handlers, as a ratio to the bare storage floor.

    python -m bench.session_throughput [--sessions 200]

Both run in one process against the same Azurite: the handler path (api-key check, policy,
Face emulator call, ETag-guarded transaction) and a script doing only the minimal reads and
writes with the same SDK on the same rows: the 2-call floor of a session at steady state (subject
read, one transaction; the api key's customer row comes from the per-instance cache).
"""

from __future__ import annotations

import argparse
import time
import uuid

from azure.core import MatchConditions
from azure.data.tables import UpdateMode

from bench.figures import print_figures
from bench.harness import running_app


def handler_path(bench, key: str, guids: list[str]) -> float:
    started = time.perf_counter()
    for guid in guids:
        response = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key})
        assert response.status == 201, response.body
    return len(guids) / (time.perf_counter() - started)


def bare_floor(tables, customer_id: str, guids: list[str]) -> float:
    subjects = tables.client("subjects")
    started = time.perf_counter()
    for guid in guids:
        subject = subjects.get_entity(f"{customer_id}_{guid}", "subject")
        subject["sessions_total"] = subject.get("sessions_total", 0) + 1
        session = {"PartitionKey": subject["PartitionKey"], "RowKey": f"session_{uuid.uuid4()}", "token_hash": "x" * 64}
        subjects.submit_transaction(
            [
                (
                    "update",
                    subject,
                    {
                        "mode": UpdateMode.REPLACE,
                        "etag": subject.metadata["etag"],
                        "match_condition": MatchConditions.IfNotModified,
                    },
                ),
                ("create", session),
            ]
        )
    return len(guids) / (time.perf_counter() - started)


def run(sessions: int) -> dict[str, float]:
    with running_app() as bench:
        from shared.bootstrap import services

        key = bench.customer()
        customer_id = key.split(".")[1]
        handler_guids = [bench.consented(key) for _ in range(sessions)]
        floor_guids = [bench.consented(key) for _ in range(sessions)]
        floor = bare_floor(services().tables, customer_id, floor_guids)
        handler = handler_path(bench, key, handler_guids)
    return {"handler": handler, "floor": floor, "ratio": handler / floor}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    args = parser.parse_args(argv)
    result = run(args.sessions)
    print(f"sessions: {args.sessions}, one at a time")
    print(f"bare floor (2 storage calls):        {result['floor']:7.1f} sessions/s")
    print(f"handlers (+ Face, policy, sealing):  {result['handler']:7.1f} sessions/s")
    print(f"ratio handlers/floor: {result['ratio']:.2f}")
    print_figures("session_throughput", result)
    return result


if __name__ == "__main__":
    main()
