"""Cold start: time and peak memory to import `function_app` in a fresh interpreter, against
importing `azure.functions` alone, measured side by side in one run (median of several).

    python -m bench.cold_start [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from bench.figures import print_figures
from devtools.stack import ROOT

PROBE = """
import json, resource, sys, time
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
print(json.dumps({{"seconds": elapsed, "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   "lazy": [m for m in ("azure.communication.email", "azure.identity") if m in sys.modules]}}))
"""
ENV = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "FACE_ENDPOINT": "http://127.0.0.1:7081",
    "SESSION_SEALING_KEY": "cold-start-probe-key-0123456789abcdef",
    "ACS_CONNECTION_STRING": "endpoint=https://127.0.0.1:7082/;accesskey=a2V5",
    "EMAIL_SENDER_ADDRESS": "DoNotReply@bench.test",
}


def probe(module: str) -> dict:
    env = {**os.environ, **ENV}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


FIRST_CALL = """
import json, time
import function_app
started = time.perf_counter()
from shared.bootstrap import build  # imported while indexing: nothing is left for the first request
print(json.dumps({{"seconds": time.perf_counter() - started}}))
"""


def first_call() -> float:
    """What the first request of an instance pays on top: importing its handler and the services."""
    env = {**os.environ, **ENV}
    out = subprocess.run([sys.executable, "-c", FIRST_CALL.format()], cwd=ROOT, env=env, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def run(runs: int) -> dict[str, float]:
    base, app, first = [], [], []
    for _ in range(runs):  # interleaved, so both see the same machine load
        base.append(probe("azure.functions"))
        app.append(probe("function_app"))
        first.append(first_call())
    result = {
        "base_seconds": statistics.median(p["seconds"] for p in base),
        "app_seconds": statistics.median(p["seconds"] for p in app),
        "base_rss_mb": statistics.median(p["max_rss_kb"] for p in base) / 1024,
        "app_rss_mb": statistics.median(p["max_rss_kb"] for p in app) / 1024,
    }
    result["time_ratio"] = result["app_seconds"] / result["base_seconds"]
    result["memory_ratio"] = result["app_rss_mb"] / result["base_rss_mb"]
    result["lazy_sdks_loaded"] = float(len(app[-1]["lazy"]))
    result["first_request_import_seconds"] = statistics.median(first)
    return result


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    r = run(args.runs)
    print(f"import azure.functions: {r['base_seconds'] * 1000:6.0f} ms, peak RSS {r['base_rss_mb']:5.1f} MB")
    print(f"import function_app:    {r['app_seconds'] * 1000:6.0f} ms, peak RSS {r['app_rss_mb']:5.1f} MB")
    print(f"ratio function_app/azure.functions: time {r['time_ratio']:.2f}x, memory {r['memory_ratio']:.2f}x")
    print(f"email/identity SDKs loaded at import: {int(r['lazy_sdks_loaded'])} (they load on first use)")
    deferred = r["first_request_import_seconds"] * 1000
    print(f"paid by the first request instead (its handler and the services): {deferred:.0f} ms")
    print_figures("cold_start", r)
    return r


if __name__ == "__main__":
    main()
