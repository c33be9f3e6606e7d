"""CPU the app spends per full flow (consent → session → result), against the floor's, side by side.

    python -m bench.flow_cpu [--flows 100] [--profile]

Both run in this process against the same Azurite and Face emulator, so `time.process_time()`
counts only this process: the app's handlers in-process (the api-key check, parsing, policy,
sealing, telemetry, the storage and Face SDK calls), and the floor (bench/floor.py: the same SDK
calls and nothing else). The device's attempt at the emulator between session and result is not
counted for either. CPU time is what an instance pays per flow however loaded the machine is, so
the ratio is steadier on a shared machine than a throughput ratio. `--profile` adds where the
app's CPU goes, by kind of work (docs/scale.md, "Where the CPU goes").
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import requests

from bench.figures import print_figures
from bench.floor import Floor, partition_of
from bench.harness import Bench, running_app

ENTRY_POINTS = (  # (label, a substring of the file, the function): CPU spent in it and below
    *(
        ("storage calls (azure-data-tables, azure-core, HTTP, batch MIME)", "azure/data/tables/_table_client.py", name)
        for name in (
            "get_entity",
            "submit_transaction",
            "create_entity",
            "upsert_entity",
            "update_entity",
            "delete_entity",
        )
    ),
    ("storage calls (azure-data-tables, azure-core, HTTP, batch MIME)", "azure/data/tables/_models.py", "_get_next_cb"),
    (
        "storage calls (azure-data-tables, azure-core, HTTP, batch MIME)",
        "azure/data/tables/_models.py",
        "_extract_data_cb",
    ),
    (
        "storage calls (azure-data-tables, azure-core, HTTP, batch MIME)",
        "azure/storage/queue/_queue_client.py",
        "send_message",
    ),
    ("Face calls (azure-core, HTTP, parsing the answer)", "shared/adapters/face.py", "_call"),
    ("pydantic: rows and bodies to models and back", "shared/adapters/tables.py", "from_entity"),
    ("pydantic: rows and bodies to models and back", "shared/adapters/tables.py", "to_entity"),
    ("pydantic: rows and bodies to models and back", "shared/api/http.py", "parse_body"),
    ("pydantic: rows and bodies to models and back", "shared/api/http.py", "json_response"),
    ("telemetry: spans, metrics, log events, redaction", "shared/telemetry.py", "invocation"),
    ("telemetry: spans, metrics, log events, redaction", "shared/telemetry.py", "count"),
    ("telemetry: spans, metrics, log events, redaction", "shared/telemetry.py", "event"),
    ("keys: sealing, token hashes, pseudonyms", "shared/domain/keys.py", "seal"),
    ("keys: sealing, token hashes, pseudonyms", "shared/domain/keys.py", "unseal"),
    ("keys: sealing, token hashes, pseudonyms", "shared/domain/keys.py", "pseudonyms"),
    ("keys: sealing, token hashes, pseudonyms", "shared/domain/keys.py", "pseudonym"),
    ("keys: sealing, token hashes, pseudonyms", "shared/domain/secrets.py", "hash_secret"),
    ("keys: sealing, token hashes, pseudonyms", "shared/domain/secrets.py", "secret_matches"),
    ("the policy (pure functions)", "shared/domain/policy.py", "refuse_new_session"),
    ("the policy (pure functions)", "shared/domain/policy.py", "record_session"),
    ("the policy (pure functions)", "shared/domain/attempts.py", "absorb"),
)


def _attempt(bench: Bench, session_id: str, token: str) -> None:
    """The device's attempt at the emulator (not counted)."""
    requests.post(
        f"{bench.face.endpoint}/face/v1.2/detectLiveness-sessions/{session_id}/attempts",
        json={"livenessDecision": "realface"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def app_flows(bench: Bench, key: str, flows: int, profile: cProfile.Profile | None = None) -> float:
    """CPU seconds the handlers spend over `flows` full flows."""
    spent = 0.0
    for _ in range(flows):
        guid = partition_of("")[1]
        spent += _cpu(lambda g=guid: bench.consented(key, g), profile)
        issued = _cpu_value(
            lambda g=guid: bench.api.post("/api/v1/sessions", json={"correlationId": g}, headers={"x-api-key": key}),
            profile,
        )
        spent += issued[0]
        body = issued[1].json
        _attempt(bench, body["sessionId"], body["faceAuthToken"])
        auth = {"Authorization": f"Bearer {body['sessionToken']}"}
        spent += _cpu(
            lambda s=body["sessionId"], a=auth: bench.api.get(f"/api/v1/sessions/{s}/result", headers=a), profile
        )
    return spent


def floor_flows(bench: Bench, floor: Floor, customer_id: str, flows: int) -> float:
    """CPU seconds the floor spends over `flows` full flows."""
    spent = 0.0
    for _ in range(flows):
        partition, guid = partition_of(customer_id)
        spent += _cpu(lambda p=partition: floor.consent(p))
        created = _cpu_value(lambda p=partition, g=guid: floor.session(p, g))
        spent += created[0]
        _attempt(bench, created[1]["sessionId"], created[1]["authToken"])
        spent += _cpu(lambda p=partition, s=created[1]["sessionId"]: floor.result(p, s))
    return spent


def _cpu(step: Callable[[], Any], profile: cProfile.Profile | None = None) -> float:
    return _cpu_value(step, profile)[0]


def _cpu_value(step: Callable[[], Any], profile: cProfile.Profile | None = None) -> tuple[float, Any]:
    started = time.process_time()
    if profile is not None:
        profile.enable()
    value = step()
    if profile is not None:
        profile.disable()
    return time.process_time() - started, value


def where(profile: cProfile.Profile) -> dict[str, float]:
    """Shares of the profiled CPU spent in each kind of work (each entry point and what it calls;
    the storage calls include the SDK's own model work, so the rows barely overlap)."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = max(own for _, (_, _, own, cum, _) in stats.items() for own in [cum]) or 1.0
    spent: dict[str, float] = defaultdict(float)
    for (path, _, function), (_, _, _, cumulative, _) in stats.items():
        for label, part, name in ENTRY_POINTS:
            if part in path and function == name:
                spent[label] += cumulative
    spent["everything else (routing, the services' own code, the stdlib)"] = max(0.0, total - sum(spent.values()))
    return {label: seconds / total for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1])}


def run(flows: int, profile: bool = False) -> tuple[dict[str, float], dict[str, float]]:
    with running_app() as bench:
        key = bench.customer()
        customer_id = key.split(".")[1]
        floor = bench.floor()
        app_flows(bench, key, 3)  # warm: the first flow of an instance builds the services
        floor_flows(bench, floor, customer_id, 3)
        app, base = 0.0, 0.0
        for _ in range(2):  # interleaved halves, so both see the same machine
            app += app_flows(bench, key, flows // 2)
            base += floor_flows(bench, floor, customer_id, flows // 2)
        shares: dict[str, float] = {}
        if profile:
            profiler = cProfile.Profile(time.process_time)  # CPU, not wall time (waiting is not cost)
            app_flows(bench, key, max(10, flows // 4), profiler)
            shares = where(profiler)
    done = 2 * (flows // 2)
    figures = {"app_cpu_ms_per_flow": 1000 * app / done, "floor_cpu_ms_per_flow": 1000 * base / done}
    figures["cpu_ratio"] = figures["app_cpu_ms_per_flow"] / figures["floor_cpu_ms_per_flow"]
    return figures, shares


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="also show where the app's CPU goes")
    args = parser.parse_args(argv)
    figures, shares = run(max(2, args.flows), args.profile)
    print(f"flows: {args.flows} (consent, session, result), one at a time")
    print(f"app:   {figures['app_cpu_ms_per_flow']:6.1f} CPU ms per flow")
    print(f"floor: {figures['floor_cpu_ms_per_flow']:6.1f} CPU ms per flow")
    print(f"ratio app/floor: {figures['cpu_ratio']:.2f}")
    for label, share in shares.items():
        print(f"  {share:6.1%}  {label}")
    print_figures("flow_cpu", figures)
    return figures


if __name__ == "__main__":
    main()
