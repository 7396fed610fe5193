"""Warm look-ahead of the shipped exercise: 2,000 futures from the situation of a pause.

The facilitator runs a look-ahead while the room waits: it must answer in under 2 s.
Session: ``exercises/antibiotics-api.yaml`` played to the pause of day 28 (two turns,
the Chinese restriction in force with an unknown end, the iron stock drawn down), one
decision taken. Timed: :meth:`disruptsim.Exercise.lookahead` as the console calls it
(public situation, scenario with the options as strategies, checks, ``simulate`` of every
strategy over the same 2,000 futures with their daily trajectories for the fan charts,
summary with paired CIs, journal record), for 1, 2 and 4 options besides "as decided so
far" and "no decisions". "Warm": the first call (numba compilation, imports) is excluded;
the figure is the median of ``--repeat`` calls. The part spent in ``simulate`` is timed
separately from the same calls.

    python benchmarks/bench_lookahead.py            # 7 repeats
    python benchmarks/bench_lookahead.py --quick    # 3 repeats
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import _common

import disruptsim as ds
from disruptsim.run import bench

RUNS = 2_000
LIMIT_S = 2.0
EXERCISE = Path(__file__).resolve().parents[1] / "exercises" / "antibiotics-api.yaml"
OPTIONS = {
    1: ["ration_stock"],
    2: ["ration_stock", "joint_purchase"],
    4: ["ration_stock", "joint_purchase", "prescribing_guidance", "raise_stock_target"],
}


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

    exercise = ds.Exercise.from_file(EXERCISE)
    exercise.advance(2)
    exercise.decide("emergency_sourcing")

    simulate = ds.simulate
    spent: list[float] = []

    def timed_simulate(*a, **k):
        t0 = time.perf_counter()
        try:
            return simulate(*a, **k)
        finally:
            spent.append(time.perf_counter() - t0)

    ds.simulate = timed_simulate  # the look-ahead calls ds.simulate: time that part too
    try:
        t0 = time.perf_counter()
        exercise.lookahead(OPTIONS[2], runs=RUNS)
        cold = time.perf_counter() - t0
        cases = {}
        for n, options in OPTIONS.items():
            exercise.lookahead(options, runs=RUNS)  # warm this shape
            total, sim = [], []
            for _ in range(repeat):
                spent.clear()
                t0 = time.perf_counter()
                exercise.lookahead(options, runs=RUNS)
                total.append(time.perf_counter() - t0)
                sim.append(spent[-1])
            cases[n] = (total, sim)
    finally:
        ds.simulate = simulate

    rows = [
        [
            str(n),
            str(n + 2),
            f"{statistics.median(t):.3f}",
            f"{min(t):.3f}",
            f"{max(t):.3f}",
            f"{statistics.median(s):.3f}",
        ]
        for n, (t, s) in cases.items()
    ]
    out.print(
        _common.table(
            f"Warm look-ahead of {EXERCISE.name}, {RUNS:,d} futures from day {exercise.day} ({repeat} calls, seconds)",
            ["options", "strategies", "median", "min", "max", "of which simulate"],
            rows,
        )
    )
    for n, (t, _) in cases.items():
        med = statistics.median(t)
        out.print(
            f"{n} option(s): median {med:.3f} s, {'under' if med < LIMIT_S else 'OVER'} the {LIMIT_S:.0f} s target."
        )
    out.print(f"first (cold) look-ahead, numba compilation included: {cold:.2f} s")
    _common.write_json(
        "bench_lookahead",
        args,
        {
            "exercise": EXERCISE.name,
            "runs": RUNS,
            "day": exercise.day,
            "repeat": repeat,
            "cold_s": cold,
            "cases": [
                {
                    "options": n,
                    "strategies": n + 2,
                    "seconds": t,
                    "median_s": statistics.median(t),
                    "simulate_median_s": statistics.median(s),
                }
                for n, (t, s) in cases.items()
            ],
            "target_s": LIMIT_S,
            **_common.run_header(info, note),
        },
    )


if __name__ == "__main__":
    main()
