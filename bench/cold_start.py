"""Cold start: a fresh host process, from its start to the first answered `POST /api/v1/sessions`
over real HTTP, for the app and for a minimal Functions app doing only the floor (bench/minimal_app:
one subject read, one Face create, one transaction, with the same SDKs), side by side in one run.

    python -m bench.cold_start [--runs 5]

Both start through the same local host (`python -m devtools.localhost`), against the same Azurite
and Face emulator, with a customer and a consented subject already stored, so the ratio is what
the app's imports, indexing, wiring and first request add to what any app must do. The app runs as
the Bicep deploys it, `STORAGE_CREATE_MISSING=false` (its tables and queues exist, and neither the
app nor the floor creates them); `app_creating_storage_seconds` is the same start with the local
default, which creates them on the first request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.figures import print_figures
from bench.harness import running_app
from devtools.stack import ROOT, free_port
from shared.settings_catalog import sample

MINIMAL = ROOT / "bench" / "minimal_app"


def first_response(script_root: Path, key: str, guid: str, create_missing: bool = False, timeout: float = 60) -> float:
    """Seconds from starting a host process until it answered the first session request with 201."""
    port = free_port()
    storage = {"STORAGE_CREATE_MISSING": "true" if create_missing else "false"}
    started = time.perf_counter()
    host = subprocess.Popen(
        [sys.executable, "-m", "devtools.localhost", "--script-root", str(script_root), "--port", str(port)],
        cwd=ROOT,
        # the sample's settings (the queue and schedule names its bindings reference), then this run's
        env={**sample()["Values"], **os.environ, **storage, "PYTHONDONTWRITEBYTECODE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < timeout:
            try:
                answer = requests.post(
                    f"http://127.0.0.1:{port}/api/v1/sessions",
                    json={"correlationId": guid},
                    headers={"x-api-key": key},
                    timeout=30,
                )
            except requests.ConnectionError:
                time.sleep(0.005)
                continue
            if answer.status_code != 201:
                raise RuntimeError(f"{script_root.name}: {answer.status_code} {answer.text[:300]}")
            return time.perf_counter() - started
        raise TimeoutError(f"{script_root} did not answer within {timeout} s")
    finally:
        host.kill()  # measured; nothing of it is kept
        host.wait(timeout=30)


def run(runs: int) -> dict[str, float]:
    app, floor, creating = [], [], []
    with running_app() as bench:
        key = bench.customer()
        for _ in range(runs):  # interleaved, so all see the same machine load
            app.append(first_response(ROOT, key, bench.consented(key)))
            floor.append(first_response(MINIMAL, key, bench.consented(key)))
            creating.append(first_response(ROOT, key, bench.consented(key), create_missing=True))
    result = {
        "app_seconds": statistics.median(app),
        "minimal_app_seconds": statistics.median(floor),
        "app_creating_storage_seconds": statistics.median(creating),
    }
    result["first_response_ratio"] = result["app_seconds"] / result["minimal_app_seconds"]
    return result


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    r = run(args.runs)
    print(f"runs: {args.runs} (median), each a fresh host process")
    print(f"app, start to first answered POST /sessions:         {r['app_seconds'] * 1000:6.0f} ms")
    print(f"minimal app (the floor), start to first answer:      {r['minimal_app_seconds'] * 1000:6.0f} ms")
    print(f"app creating its tables and queues (local default):  {r['app_creating_storage_seconds'] * 1000:6.0f} ms")
    print(f"first_response_ratio app/minimal: {r['first_response_ratio']:.2f}")
    print_figures("cold_start", r)
    return r


if __name__ == "__main__":
    main()
