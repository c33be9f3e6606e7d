"""Session issuance throughput through the real handlers, as a ratio to the bare storage floor.

    python -m bench.session_throughput [--sessions 200]

Both run in one process against the same Azurite and Face emulator: the handler path (api-key
check, policy, Face create, sealing, ETag-guarded transaction) and the floor (bench/floor.py):
one subject read, one Face create, one transaction with the same SDKs (the api key's customer
row comes from the per-instance cache, so the floor has no read for it).

Each measured session is the next of a visit (the end user's previous session was read to the
end). `ratio` is for a request that lands on the instance that served the visit's last one (it
knows the subject rows it wrote and skips the read; the write stays ETag-guarded);
`ratio_other_instance` for one that lands anywhere else (it reads, as the floor does).
"""

from __future__ import annotations

import argparse
import time

from bench.figures import print_figures
from bench.floor import Floor
from bench.harness import running_app


def handler_path(bench, key: str, guids: list[str], other_instance: bool = False) -> float:
    """Seconds the handlers take to issue one session for each GUID."""
    from shared.bootstrap import services

    subjects = services().sessions.subjects
    started = time.perf_counter()
    for guid in guids:
        if other_instance:  # the request lands on an instance that did not serve the visit's last one
            subjects.forget_recent()
        response = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key})
        assert response.status == 201, response.body
    return time.perf_counter() - started


def bare_floor(floor: Floor, customer_id: str, guids: list[str]) -> float:
    """Seconds the floor takes for the same."""
    started = time.perf_counter()
    for guid in guids:
        floor.session(f"{customer_id}_{guid}", guid)
    return time.perf_counter() - started


def _finished_session(bench, key: str, guid: str) -> None:
    """One session read to the end, so the measured one is the next of the same visit (steady state)."""
    import requests

    first = bench.api.post("/api/v1/sessions", json={"correlationId": guid}, headers={"x-api-key": key}).json
    requests.post(
        f"{bench.face.endpoint}/face/v1.2/detectLiveness-sessions/{first['sessionId']}/attempts",
        json={"livenessDecision": "realface"},
        headers={"Authorization": f"Bearer {first['faceAuthToken']}"},
        timeout=10,
    )
    bench.api.get(
        f"/api/v1/sessions/{first['sessionId']}/result", headers={"Authorization": f"Bearer {first['sessionToken']}"}
    )


def run(sessions: int, rounds: int = 4) -> dict[str, float]:
    """Sessions per second of each path; the three take turns in `rounds`, so all see the same machine."""
    rounds = max(1, min(rounds, sessions))
    with running_app() as bench:
        key = bench.customer()
        customer_id = key.split(".")[1]
        floor = bench.floor()
        paths = {"floor": [], "handler": [], "handler_other_instance": []}
        for guids in paths.values():
            guids.extend(bench.consented(key) for _ in range(sessions))
        for guid in paths["handler_other_instance"]:
            _finished_session(bench, key, guid)  # each end user's first session of the visit files its check
        spent = dict.fromkeys(paths, 0.0)
        for r in range(rounds):
            part = {name: guids[r::rounds] for name, guids in paths.items()}
            for guid in part["handler"]:  # just before, so this instance still knows what it wrote for them
                _finished_session(bench, key, guid)
            spent["floor"] += bare_floor(floor, customer_id, part["floor"])
            spent["handler"] += handler_path(bench, key, part["handler"])
            spent["handler_other_instance"] += handler_path(bench, key, part["handler_other_instance"], True)
    result = {name: sessions / seconds for name, seconds in spent.items()}
    result["ratio"] = result["handler"] / result["floor"]
    result["ratio_other_instance"] = result["handler_other_instance"] / result["floor"]
    return result


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    args = parser.parse_args(argv)
    result = run(args.sessions)
    print(f"sessions: {args.sessions} per path, one at a time, the paths taking turns in 4 rounds")
    print(f"floor (read, Face create, commit):   {result['floor']:7.1f} sessions/s")
    print(f"handlers (+ Face, policy, sealing):  {result['handler']:7.1f} sessions/s")
    print(f"handlers, on another instance:       {result['handler_other_instance']:7.1f} sessions/s")
    print(f"ratio handlers/floor: {result['ratio']:.2f} (another instance: {result['ratio_other_instance']:.2f})")
    print_figures("session_throughput", result)
    return result


if __name__ == "__main__":
    main()
