"""Benchmarks are not timed tests: here they only have to run on a small size."""

from bench import sweep_throughput


def test_sweep_throughput_benchmark_runs_on_a_small_size(capsys):
    sweep_throughput.main(["--rows", "200", "--partitions", "4"])
    out = capsys.readouterr().out
    assert "ratio batched/naive:" in out and "rows/s" in out
