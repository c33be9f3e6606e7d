"""How long the live policy evaluation takes to answer, first and cached, against its 2 s budget.

    python -m bench.policy_evaluation [--runs 3]

The first answer for a settings fingerprint replays the whole synthetic population through the
policy functions (docs/abuse-policy.md, "What the policy does"); later ones come from the cache.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.figures import print_figures
from shared.services.policy_evaluation import evaluation, lab_settings
from shared.settings import load_settings
from shared.settings_catalog import sample

BUDGET_SECONDS = 2.0


def run(runs: int) -> dict[str, float]:
    lab = lab_settings(load_settings(sample()["Values"]))
    first, cached = [], []
    for seed in range(1, runs + 1):  # a new seed is a new cache entry: each first answer is computed
        started = time.perf_counter()
        evaluation(lab, seed)
        first.append(time.perf_counter() - started)
        started = time.perf_counter()
        evaluation(lab, seed)
        cached.append(time.perf_counter() - started)
    seconds = statistics.median(first)
    return {
        "first_answer_seconds": seconds,
        "cached_answer_seconds": statistics.median(cached),
        "budget_ratio": seconds / BUDGET_SECONDS,
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    r = run(args.runs)
    print(f"first answer: {r['first_answer_seconds']:.2f} s (budget {BUDGET_SECONDS:g} s: {r['budget_ratio']:.2f}x)")
    print(f"cached answer: {r['cached_answer_seconds'] * 1e6:.0f} µs")
    print_figures("policy_evaluation", r)
    return r


if __name__ == "__main__":
    main()
