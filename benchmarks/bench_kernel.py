"""Kernel throughput (product-days per second) and memory of a streamed loop.

Synthetic scenarios (random bill-of-materials DAGs, 15 countries, a hazard on every
country, 730 days) of 5, 50 and 500 products. Throughput is runs x products x days over
the wall time of the kernel alone (:func:`disruptsim.run.bench.time_kernel`: the outputs of
each batch are discarded; compilation is excluded by a warm-up call, shock sampling is
timed apart). Curves: in runs, in products, in threads (``numba.set_num_threads``).

Memory: each configuration runs in a fresh Python process that streams batches through
the kernel and discards the outputs; its peak RSS (``getrusage`` ``ru_maxrss``) and its
growth over the RSS after the warm-up are reported, against days and against runs.

    python benchmarks/bench_kernel.py --quick     # about a minute
    python benchmarks/bench_kernel.py             # full: up to 10^6 runs (an hour or so)
"""

from __future__ import annotations

import _common

from disruptsim.run import bench

FULL = {
    "products": [5, 50, 500],
    "runs": [1_000, 10_000, 100_000, 1_000_000],
    "max_product_days": 4e10,  # skips 10^6 runs of 500 products (3.65e11)
    "products_runs": 20_000,
    "threads_runs": 100_000,
    "memory_days": [365, 730, 1460, 2920],
    "memory_days_runs": 10_000,
    "memory_runs": [1_000, 10_000, 100_000],
}
QUICK = {
    "products": [5, 50, 500],
    "runs": [1_000, 4_000, 16_000],
    "max_product_days": 6e8,
    "products_runs": 1_000,
    "threads_runs": 8_000,
    "memory_days": [365, 730, 1460],
    "memory_days_runs": 2_000,
    "memory_runs": [1_000, 8_000],
}
MEMORY_PRODUCTS = 50


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    args = p.parse_args()
    cfg = QUICK if args.quick else FULL
    out = _common.console()
    info = bench.system_info()
    note = _common.busy_note(info)
    if note:
        out.print(f"[yellow]note:[/yellow] {note}")

    plans = {n: bench.synthetic_plan(n) for n in cfg["products"]}
    warm = {n: bench.warm_up(plan) for n, plan in plans.items()}
    top = bench.max_threads()
    rows: list[dict] = []

    def measure(curve: str, n_products: int, runs: int, threads: int) -> None:
        t = bench.time_kernel(plans[n_products], runs, threads=threads)
        row = {"curve": curve, **t.as_dict()}
        rows.append(row)
        out.print(
            f"  {curve:8s} P={n_products:4d} runs={runs:>9,} threads={t.threads}: "
            f"{t.rate:.3g} product-days/s ({t.wall_s:.2f} s kernel, {t.extra['sampling_s']:.2f} s sampling)"
        )

    out.print("[bold]runs[/bold] (all threads)")
    for n in cfg["products"]:
        for runs in cfg["runs"]:
            if runs * n * 730 <= cfg["max_product_days"]:
                measure("runs", n, runs, top)
    out.print("[bold]products[/bold] (all threads)")
    for n in cfg["products"]:
        measure("products", n, cfg["products_runs"], top)
    out.print("[bold]threads[/bold] (50 products)")
    for threads in bench.thread_counts():
        measure("threads", 50, cfg["threads_runs"], threads)

    out.print(
        _common.table(
            "Kernel throughput (product-days per second of kernel wall time)",
            ["curve", "products", "runs", "threads", "kernel s", "pd/s", "pd/CPU-s"],
            [
                [r["curve"], r["n_products"], r["runs"], r["threads"], r["wall_s"],
                 r["product_days_per_s"], r["product_days_per_cpu_s"]]
                for r in rows
            ],
        )
    )  # fmt: skip
    threads_rows = [r for r in rows if r["curve"] == "threads"]
    speedup = {
        r["threads"]: threads_rows[0]["wall_s"] / r["wall_s"] for r in threads_rows if r["wall_s"]
    }
    out.print(f"thread speed-up over 1 thread (50 products): {speedup}")

    memory: list[dict] = []
    if not args.no_memory:
        configs = [
            ("days", MEMORY_PRODUCTS, cfg["memory_days_runs"], d) for d in cfg["memory_days"]
        ]
        configs += [("runs", MEMORY_PRODUCTS, r, 730) for r in cfg["memory_runs"]]
        for curve, n, runs, days in configs:
            code = (
                "import json; from disruptsim.run.bench import streamed_memory; "
                f"print(json.dumps(streamed_memory({n}, {runs}, {days}, 4096)))"
            )
            row = {"curve": curve, **_common.run_child(code)}
            memory.append(row)
            out.print(
                f"  memory {curve}: P={n} runs={runs:,} days={days}: loop peak "
                f"{row['loop_peak_rss_mb'] or float('nan'):.0f} MiB, process peak {row['peak_rss_mb']:.0f} MiB"
            )
        out.print(
            _common.table(
                "Peak RSS of a streamed loop (fresh process per row; outputs discarded)",
                ["curve", "products", "runs", "days", "after warm-up MiB", "loop peak MiB", "loop growth MiB", "process peak MiB"],
                [
                    [r["curve"], r["n_products"], r["runs"], r["horizon_days"],
                     r["rss_after_warm_up_mb"], r["loop_peak_rss_mb"], r["loop_growth_mb"], r["peak_rss_mb"]]
                    for r in memory
                ],
            )
        )  # fmt: skip

    _common.write_json(
        "bench_kernel",
        args,
        {
            **_common.run_header(info, note),
            "config": cfg,
            "warm_up_s": warm,
            "throughput": rows,
            "thread_speedup": speedup,
            "memory": memory,
        },
    )


if __name__ == "__main__":
    main()
