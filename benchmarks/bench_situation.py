"""Warm ``simulate`` from a situation: 2,000 futures of a 50-product, 730-day scenario.

The exercise's look-ahead runs thousands of futures from the state of the exercise at
each pause, so a simulation from a situation must take well under the 2 s an analyst (or
a facilitator) will wait. The scenario is :func:`disruptsim.synthetic.synthetic_scenario`
(50 products, 15 countries, 730 days, baseline and three strategies); the situation is day
240 of it, with two hazards in force (one of unknown severity and end, drawn per run from
the residual life of its duration), a dozen stocks drawn down and those products disrupted
since day 150. "Warm": numba's compilation and the first call are excluded; the wall
time of ``ds.simulate(..., situation=...)`` is the median of ``--repeat`` calls, every
strategy simulated, compared with the same call from day 0, for 1,000 traced runs (the
default: float32 trajectories of 2 x 1,000 x 730 x 50 values per strategy, whose memory
traffic dominates), 100 and none. CPU time (every thread of this process) is reported
beside the wall time: on a shared machine, CPU time divided by the threads estimates the
wall time on an idle one.

    python benchmarks/bench_situation.py            # 2,000 runs, 7 repeats
    python benchmarks/bench_situation.py --quick    # 2,000 runs, 3 repeats
"""

from __future__ import annotations

import statistics
import time

import _common
import numba

import disruptsim as ds
from disruptsim.model.compiler import compile_strategy
from disruptsim.run import bench
from disruptsim.synthetic import synthetic_scenario

RUNS = 2_000
DAY = 240
LIMIT_S = 2.0
TRACES = (1000, 100, 0)
"""Traced runs: the default (daily trajectories of 1,000 runs for the bands), a look-ahead's
fan chart (100), none (daily means only)."""


def situation_of(scenario: ds.Scenario) -> ds.Situation:
    """Day 240: two hazards in force, a dozen stocks at 40% of target, disrupted since 150."""
    model = compile_strategy(scenario)
    stocked = [p for i, p in enumerate(model.products) if model.arrays.stock_target[i] > 0][:12]
    hazards = [h.name for h in scenario.baseline.hazards]
    data = {
        "day": DAY,
        "events": [
            {"hazard": hazards[0], "started_day": 150},  # severity and end unknown
            {"hazard": hazards[1], "started_day": 200, "severity": 0.6, "ends_day": 300},
        ],
        "stocks": {},
        "disrupted_since": {p: 150 for p in stocked},
    }
    for p in stocked:
        # 40% of the smallest target over the strategies (a stock fits every strategy).
        i = model.products.index(p)
        data["stocks"][p] = {"units": 0.4 * float(model.arrays.stock_target[i])}
    return ds.load_situation(data, scenario)


def timed(fn, repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (this process, every thread) of ``repeat`` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=None, help="timed calls (default 7, quick 3)")
    args = p.parse_args()
    repeat = args.repeat or (3 if args.quick else 7)
    out = _common.console()
    info = bench.system_info()
    note = _common.busy_note(info)
    if note:
        out.print(f"[yellow]note:[/yellow] {note}")

    scenario = ds.load_scenario(synthetic_scenario(50, 15, 730, seed=0))
    situation = situation_of(scenario)
    t0 = time.perf_counter()
    situation_of(scenario)
    load_s = time.perf_counter() - t0

    n_strategies = len(scenario.strategy_names)
    cases = {}
    for trace in TRACES:
        for start, today in (("situation", situation), ("day 0", None)):

            def call(trace=trace, today=today):
                return ds.simulate(scenario, runs=RUNS, seed=1, situation=today, trace_runs=trace)

            call()  # compile and warm up
            cases[(trace, start)] = timed(call, repeat)
    threads = numba.get_num_threads()
    rows = []
    for (trace, start), (wall, cpu) in cases.items():
        med_cpu = statistics.median(cpu)
        rows.append(
            [
                f"{trace:,d}",
                start,
                f"{statistics.median(wall):.3f}",
                f"{min(wall):.3f}",
                f"{max(wall):.3f}",
                f"{med_cpu:.3f}",
                f"{med_cpu / threads:.3f}",
            ]
        )
    out.print(
        _common.table(
            f"Warm simulate, {RUNS:,d} runs x {n_strategies} strategies, 50 products, 730 days "
            f"({repeat} calls, seconds)",
            ["traced runs", "start", "wall median", "min", "max", "CPU median", f"CPU / {threads}"],
            rows,
        )
    )
    for trace in TRACES:
        wall, cpu = cases[(trace, "situation")]
        med_today, cpu_today = statistics.median(wall), statistics.median(cpu)
        med_day0 = statistics.median(cases[(trace, "day 0")][0])
        verdict = "under" if med_today < LIMIT_S else "OVER"
        out.print(
            f"trace_runs={trace}: from the situation median {med_today:.3f} s wall, {verdict} "
            f"the {LIMIT_S:.0f} s target ({med_today / med_day0:.2f}x the time from day 0); "
            f"{cpu_today:.3f} s CPU, {cpu_today / threads:.3f} s on {threads} idle threads "
            "if they scale perfectly."
        )
    out.print(f"load_situation (checks, compiles every strategy): {load_s:.3f} s.")
    _common.write_json(
        "bench_situation",
        args,
        {
            "runs": RUNS,
            "strategies": n_strategies,
            "products": 50,
            "horizon_days": 730,
            "situation_day": DAY,
            "repeat": repeat,
            "threads": threads,
            "cases": [
                {
                    "trace_runs": trace,
                    "start": start,
                    "wall_s": wall,
                    "cpu_s": cpu,
                    "median_wall_s": statistics.median(wall),
                    "median_cpu_s": statistics.median(cpu),
                }
                for (trace, start), (wall, cpu) in cases.items()
            ],
            "load_situation_s": load_s,
            "target_s": LIMIT_S,
            **_common.run_header(info, note),
        },
    )


if __name__ == "__main__":
    main()
