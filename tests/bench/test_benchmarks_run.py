"""Benchmarks are not timed tests: here each only has to run, on a small size, and print its ratio."""

import subprocess
import sys

import pytest

from bench import sweep_throughput
from devtools.stack import ROOT


def run_module(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_sweep_throughput_benchmark_runs_on_a_small_size(capsys):
    sweep_throughput.main(["--rows", "200", "--partitions", "4"])
    out = capsys.readouterr().out
    assert "ratio batched/naive:" in out and "rows/s" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("bench.round_trips",), '"post_sessions_round_trips": 2'),
        (("bench.session_throughput", "--sessions", "5"), "ratio handlers/floor:"),
        (("bench.cold_start", "--runs", "1"), "ratio function_app/azure.functions:"),
        (("bench.concurrency", "--clients", "3", "--rounds", "1"), "errors (5xx or no answer): 0"),
    ],
    ids=["round_trips", "session_throughput", "cold_start", "concurrency"],
)
def test_benchmark_runs_on_a_small_size(args, expected):
    assert expected in run_module(*args)
