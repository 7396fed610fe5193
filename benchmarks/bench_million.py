"""10^6 futures of the hazard-heavy 50-product, 730-day scenario with ``simulate(keep=...)``.

The issue #17 target: 10^6 runs in under 5 minutes with a peak memory under 2 GB. One
fresh process runs ``disruptsim.simulate(hazard_heavy_scenario(), runs, keep=KEEP)`` (the
baseline, default batches and traced runs) after a small warm-up call (imports and
loading the compiled kernel); reported: wall and CPU time of the call, peak RSS of the
process (``ru_maxrss``) and during the call, and the load average before and after
(the development machine is shared: a busy machine stretches wall time, not CPU time).

    python benchmarks/bench_million.py --quick     # 20,000 runs
    python benchmarks/bench_million.py             # 10^6 runs (minutes)
"""

from __future__ import annotations

import _common

from disruptsim.run import bench

CHILD = """
import json, os, time
import disruptsim as ds
from disruptsim.run.bench import current_rss_mb, peak_rss_mb, reset_peak_rss, window_peak_rss_mb
from disruptsim.synthetic import hazard_heavy_scenario
sc = ds.load_scenario(hazard_heavy_scenario(50, 15, 730, seed=0))
ds.simulate(sc, runs=64, keep={keep!r})  # imports and the compiled kernel
before = current_rss_mb()
reset = reset_peak_rss()
load0 = os.getloadavg()
t0, c0 = time.perf_counter(), time.process_time()
result = ds.simulate(sc, runs={runs}, keep={keep!r})
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({{"runs": {runs}, "keep": {keep!r}, "wall_s": wall, "cpu_s": cpu,
    "rss_after_warm_up_mb": before, "peak_rss_mb": max(peak_rss_mb(), current_rss_mb()),
    "call_peak_rss_mb": window_peak_rss_mb() if reset else None,
    "load_average_before": load0, "load_average_after": os.getloadavg()}}))
"""


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=None, help="runs (default 10^6; quick 20,000)")
    p.add_argument("--keep", default="system", help="keep= of simulate (default system)")
    args = p.parse_args()
    runs = args.runs or (20_000 if args.quick else 1_000_000)
    out = _common.console()
    info = bench.system_info()
    note = _common.busy_note(info)
    if note:
        out.print(f"[yellow]note:[/yellow] {note}")
    row = _common.run_child(CHILD.format(runs=runs, keep=args.keep))
    out.print(
        f"{runs:,} runs, keep={args.keep!r}: wall {row['wall_s']:.1f} s, CPU {row['cpu_s']:.1f} s, "
        f"process peak RSS {row['peak_rss_mb']:.0f} MiB; load average "
        f"{row['load_average_before'][0]:.1f} -> {row['load_average_after'][0]:.1f} "
        f"on {info.get('cpu_count')} CPUs"
    )
    _common.write_json("bench_million", args, {**_common.run_header(info, note), "result": row})


if __name__ == "__main__":
    main()
