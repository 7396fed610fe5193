"""Smoke test of the ``disruptsim bench`` code path (no assertion on timings)."""

from __future__ import annotations

import io
import json

from rich.console import Console

from disruptsim.cli.bench import render
from disruptsim.run import bench

TINY = bench.BenchSizes(n_products=4, horizon_days=60, kernel_runs=64, reference_runs=1)


def test_bench_runs_and_renders() -> None:
    messages: list[str] = []
    report = bench.run_bench(TINY, say=messages.append)
    assert messages
    engines = [t.engine for t in report.timings]
    assert engines[0] == "numba kernel"
    # The NumPy engine is a benchmark (benchmarks/compare.py), not part of the command.
    assert set(engines) == {"numba kernel", "SimPy reference"}
    assert {t.threads for t in report.timings if t.engine == "numba kernel"} >= {1}
    for t in report.timings:
        assert t.runs > 0 and t.wall_s > 0 and t.product_days == t.runs * 4 * 60
        assert t.extra.get("agree", True), t.extra
    assert {row["name"] for row in report.targets} >= {"kernel product-days/s"}
    json.dumps(report.as_dict())  # the report is JSON-serialisable

    buffer = io.StringIO()
    render(report, Console(file=buffer, width=160))
    text = buffer.getvalue()
    assert "numba kernel" in text and "Targets" in text


def test_thread_counts() -> None:
    counts = bench.thread_counts()
    assert counts[0] == 1 and counts[-1] == bench.max_threads()
    assert counts == sorted(set(counts))


def test_streamed_memory_reports_peak() -> None:
    row = bench.streamed_memory(n_products=3, runs=100, horizon_days=30, batch_runs=50)
    assert row["peak_rss_mb"] >= row["rss_after_warm_up_mb"] > 0
    assert row["runs"] == 100


def test_cli_bench_quick(monkeypatch, tmp_path) -> None:
    from typer.testing import CliRunner

    from disruptsim.cli import app

    monkeypatch.setattr(bench.BenchSizes, "quick", classmethod(lambda cls: TINY))
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "--quick", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Targets" in result.output
    assert json.loads(out.read_text())["sizes"]["n_products"] == TINY.n_products
