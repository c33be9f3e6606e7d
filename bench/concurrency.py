"""Latency under load: N concurrent clients against the local host over real HTTP.

    python -m bench.concurrency [--clients 50] [--rounds 4]

Each client, per round, records consent, creates a session and reads its result for a GUID of
its own (3 requests). Prints p50/p99 latency per request kind and the error count.
"""

from __future__ import annotations

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.figures import print_figures
from bench.harness import percentile
from devtools.run import LocalStack
from devtools.stack import ROOT


def client(api: str, key: str, rounds: int) -> list[tuple[str, float, int]]:
    """One client's rounds; returns (kind, seconds, status) per request."""
    http = requests.Session()
    samples: list[tuple[str, float, int]] = []

    def timed(kind: str, method: str, url: str, **kw) -> requests.Response:
        started = time.perf_counter()
        response = http.request(method, url, timeout=60, **kw)
        samples.append((kind, time.perf_counter() - started, response.status_code))
        return response

    for _ in range(rounds):
        guid, auth = str(uuid.uuid4()), {"x-api-key": key}
        timed("consent", "POST", f"{api}/consents", json={"correlationId": guid, "policyVersion": "v1"}, headers=auth)
        created = timed("session", "POST", f"{api}/sessions", json={"correlationId": guid}, headers=auth)
        if created.status_code == 201:
            body = created.json()
            bearer = {"Authorization": f"Bearer {body['sessionToken']}"}
            timed("result", "GET", f"{api}/sessions/{body['sessionId']}/result", headers=bearer)
    return samples


def run(clients: int, rounds: int) -> dict[str, float]:
    logs = ROOT / "test-artifacts" / "bench-concurrency"
    logs.mkdir(parents=True, exist_ok=True)
    stack = LocalStack.isolated(logs).start()
    try:
        api = f"{stack.base_url}/v1"
        key = stack.create_customer("Load", "l@contoso.example")["apiKey"]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            samples = [s for batch in pool.map(lambda _: client(api, key, rounds), range(clients)) for s in batch]
        elapsed = time.perf_counter() - started
    finally:
        stack.stop()
    result: dict[str, float] = {
        "requests": len(samples),
        "errors": sum(1 for _, _, status in samples if status >= 500 or status == 0),
        "refusals": sum(1 for _, _, status in samples if 400 <= status < 500),
        "throughput": len(samples) / elapsed,
    }
    for kind in ("consent", "session", "result"):
        latencies = [seconds for k, seconds, _ in samples if k == kind]
        result[f"{kind}_p50_ms"] = percentile(latencies, 50) * 1000
        result[f"{kind}_p99_ms"] = percentile(latencies, 99) * 1000
    return result


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    r = run(args.clients, args.rounds)
    print(f"{args.clients} concurrent clients, {int(r['requests'])} requests, {r['throughput']:.0f} requests/s")
    for kind in ("consent", "session", "result"):
        print(f"  {kind:8s} p50 {r[kind + '_p50_ms']:7.0f} ms   p99 {r[kind + '_p99_ms']:7.0f} ms")
    print(f"  errors (5xx or no answer): {int(r['errors'])}, refusals (4xx): {int(r['refusals'])}")
    print_figures("concurrency", r)
    return r


if __name__ == "__main__":
    main()
