"""Peak memory of 10^6 runs of a 50-product scenario (target: under 2 GB).

Every measurement runs in a fresh Python process (peak RSS is a high-water mark of the
whole process, from ``getrusage`` ``ru_maxrss``):

(i)  the streamed kernel loop: :class:`disruptsim.run.engine.BatchPlan` and
     :func:`disruptsim.run.engine.simulate_batch`-like batches through the kernel, outputs
     discarded (what a distributed worker or a reducing consumer holds);
(ii) ``disruptsim.simulate(...)``, which keeps per-run metrics, when ``simulate`` has a
     ``keep=`` parameter (detected with ``inspect.signature``): ``keep="system"`` and
     ``"final"`` on the baseline, and the default ``keep="auto"`` with every strategy of the
     synthetic scenario (five); without ``keep``, the baseline at a run count that fits.

    python benchmarks/bench_memory.py --quick     # 20,000 runs
    python benchmarks/bench_memory.py             # 10^6 runs (most of an hour on 2 cores)
"""

from __future__ import annotations

import inspect

import _common

import disruptsim as ds
from disruptsim.conventions import N_METRICS
from disruptsim.run import bench

N_PRODUCTS = 50
TARGET_MB = 2e9 / 2**20  # 2 GB in MiB

SIMULATE_CHILD = """
import json, time
import disruptsim as ds
from disruptsim.run.bench import current_rss_mb, peak_rss_mb, reset_peak_rss, window_peak_rss_mb
from disruptsim.synthetic import synthetic_scenario
sc = ds.load_scenario(synthetic_scenario({n_products}, 15, 730, seed=0))
strategies = {strategies!r}
kw = {kw!r}
ds.simulate(sc, runs=64, strategies=strategies, **kw)  # imports and compilation
before = current_rss_mb()
reset = reset_peak_rss()
t0 = time.perf_counter()
result = ds.simulate(sc, runs={runs}, strategies=strategies, **kw)
wall = time.perf_counter() - t0
print(json.dumps({{"runs": {runs}, "strategies": list(result.strategies), "kwargs": kw,
    "rss_after_warm_up_mb": before, "peak_rss_mb": max(peak_rss_mb(), current_rss_mb()),
    "loop_peak_rss_mb": window_peak_rss_mb() if reset else None,
    "wall_s": wall}}))
"""


def metrics_mb(runs: int, rows: int, strategies: int = 1) -> float:
    """Size of the per-run metrics ``f8[runs, rows, N_METRICS]`` in MiB."""
    return runs * rows * N_METRICS * 8 * strategies / 2**20


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=None, help="runs (default 10^6; quick 20,000)")
    p.add_argument(
        "--keep",
        default="system,final,auto",
        help="keep= values of simulate() to measure (default system,final,auto): 'auto' with "
        "every strategy (what a user gets by default), the others on the baseline",
    )
    p.add_argument(
        "--all-strategies",
        action="store_true",
        help="also measure every --keep value with every strategy (slow)",
    )
    args = p.parse_args()
    runs = args.runs or (20_000 if args.quick else 1_000_000)
    out = _common.console()
    info = bench.system_info()
    note = _common.busy_note(info)
    if note:
        out.print(f"[yellow]note:[/yellow] {note}")
    rows: list[dict] = []

    out.print(f"(i) streamed kernel loop, {runs:,} runs of {N_PRODUCTS} products ...")
    code = (
        "import json; from disruptsim.run.bench import streamed_memory; "
        f"print(json.dumps(streamed_memory({N_PRODUCTS}, {runs}, 730, 4096)))"
    )
    streamed = _common.run_child(code)
    rows.append({"what": "streamed kernel loop", **streamed})

    keep_supported = "keep" in inspect.signature(ds.simulate).parameters
    simulate_rows: list[dict] = []

    def simulate(label: str, n: int, strategies: list[str] | None, kw: dict) -> None:
        out.print(f"(ii) simulate({label}), {n:,} runs ...")
        code = SIMULATE_CHILD.format(n_products=N_PRODUCTS, strategies=strategies, kw=kw, runs=n)
        try:
            row = {"what": f"simulate({label})", **_common.run_child(code)}
        except RuntimeError as error:  # e.g. out of memory
            row = {"what": f"simulate({label})", "runs": n, "error": str(error)[-1500:]}
        simulate_rows.append(row)

    if keep_supported:
        for keep in [k for k in args.keep.split(",") if k]:
            choices = [None] if keep == "auto" else [["baseline"]]
            if args.all_strategies and keep != "auto":
                choices.append(None)
            for strategies in choices:
                which = "baseline" if strategies else "all strategies"
                simulate(f"keep={keep!r}, {which}", runs, strategies, {"keep": keep})
    else:
        # Every product's row of every run: 10^6 runs would need metrics_mb(10^6, 51)
        # = 8.2 GiB per strategy, so measure at a run count that fits.
        simulate("baseline", min(runs, 20_000 if args.quick else 100_000), ["baseline"], {})
    rows += simulate_rows

    estimate = {
        "metrics_all_rows_mb": metrics_mb(runs, N_PRODUCTS + 1),
        "metrics_system_row_mb": metrics_mb(runs, 1),
        "traces_per_strategy_mb": 2 * 1000 * 730 * N_PRODUCTS * 4 / 2**20,
        "note": "per strategy; simulate() of all strategies multiplies these",
    }
    table_rows = []
    for r in rows:
        peak = r.get("peak_rss_mb")
        table_rows.append(
            [
                r["what"],
                r["runs"],
                r.get("rss_after_warm_up_mb"),
                r.get("loop_peak_rss_mb"),
                peak,
                None if peak is None else ("yes" if peak < TARGET_MB else "NO"),
                r.get("wall_s"),
                r.get("error", "")[-80:],
            ]
        )
    out.print(
        _common.table(
            f"Peak RSS, {N_PRODUCTS} products, 730 days (fresh process per row)",
            [
                "what",
                "runs",
                "after warm-up MiB",
                "peak in the run MiB",
                "process peak MiB",
                "< 2 GB",
                "wall s",
                "error",
            ],
            table_rows,
        )
    )
    out.print(
        f"per-run metrics of {runs:,} runs: all {N_PRODUCTS + 1} rows "
        f"{estimate['metrics_all_rows_mb']:,.0f} MiB, system row only "
        f"{estimate['metrics_system_row_mb']:,.0f} MiB per strategy; traces (1,000 runs) "
        f"{estimate['traces_per_strategy_mb']:,.0f} MiB per strategy"
    )
    if not keep_supported:
        out.print("simulate() has no 'keep' parameter yet: only the default was measured")
    _common.write_json(
        "bench_memory",
        args,
        {
            "system": info,
            "notes": [note] if note else [],
            "runs": runs,
            "n_products": N_PRODUCTS,
            "keep_supported": keep_supported,
            "target_mb": TARGET_MB,
            "rows": rows,
            "estimate": estimate,
        },
    )


if __name__ == "__main__":
    main()
