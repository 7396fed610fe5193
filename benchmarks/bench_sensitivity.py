"""Morris screening of 10 parameters (r = 20: 220 parameter sets) x 2,000 runs on a
50-product, 730-day synthetic scenario, every strategy (4) simulated for the ranking-flip
map: 880 (parameter set, strategy) arms over the same futures, as one stream of batches.

Prints the wall time of each stage (building and validating the variants, compiling
arrays, sampling shocks, the kernel, the SALib analysis) and checks that the numba
kernel was compiled once (its dispatcher holds one signature). The machine is shared:
the CPU time of the main thread (every serial stage plus its share of the parallel kernel)
is printed beside the wall time, as the time the study takes on otherwise idle cores. ``--quick``: r = 4 and 500
runs. Writes benchmarks/results/bench_sensitivity[-quick].json.
"""

from __future__ import annotations

import time

import _common
import numba

import disruptsim as ds
from disruptsim.model import kernel
from disruptsim.run import bench
from disruptsim.synthetic import synthetic_scenario


def parameters(sc: ds.Scenario) -> dict[str, list[float]]:
    """Ten uncertain parameters of the synthetic scenario: hazards, costs and levers."""
    data = sc.data
    stocked = [n for n, p in data["products"].items() if "stockpile" in p][:2]
    strategies = data["strategies"]
    div = next(iter(strategies["diversify"]["products"]))
    target, reshoring = next(iter(strategies["reshore"]["products"].items()))
    share = reshoring["reshoring"]["share"]
    return {
        "hazards.hazard_CHN.annual_probability": [0.02, 0.3],
        "hazards.hazard_IND.annual_probability": [0.02, 0.3],
        "hazards.hazard_TWN.annual_probability": [0.02, 0.3],
        "hazards.hazard_CHN.duration_days.median": [20.0, 180.0],
        "hazards.hazard_CHN.recovery_days": [0.0, 90.0],
        "defaults.shortage_cost_multiplier": [1.0, 6.0],
        "defaults.holding_cost_rate": [0.02, 0.2],
        f"products.{stocked[0]}.stockpile.initial_days": [0.0, 90.0],
        f"strategies.diversify.products.{div}.diversification.max_share": [0.1, 0.6],
        f"strategies.reshore.products.{target}.reshoring.share": [0.0, share],
    }


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument(
        "--strategies",
        default=None,
        help="comma-separated strategies to simulate (default: all four, for the ranking-flip map)",
    )
    args = p.parse_args()
    strategies = args.strategies.split(",") if args.strategies else None
    info = bench.system_info()
    note = _common.busy_note(info)
    r, runs = (4, 500) if args.quick else (20, 2000)
    sc = ds.load_scenario(synthetic_scenario(50, 15, 730))
    uncertain = parameters(sc)
    ds.simulate(sc, runs=8, seed=0)  # imports and the kernel's compilation (or cache load)
    t0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
    res = ds.sensitivity(
        sc,
        uncertain,
        outputs=["total_cost", "p_shortage", "ttr_days"],
        method="morris",
        runs=runs,
        seed=1,
        trajectories=r,
        strategies=strategies,
    )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    main_cpu = time.thread_time() - m0
    threads = numba.get_num_threads()
    n_sets = len(res.samples)
    n_strategies = len(strategies) if strategies else len(sc.strategies)
    signatures = len(kernel.run_batch.signatures)
    t = res.timings
    stages = [
        ["variants + compile (arrays)", t["compile"]],
        ["shock sampling", t["sampling"]],
        ["kernel", t["kernel"]],
        [
            "rest (validation of variants, statistics, SALib)",
            wall - t["compile"] - t["sampling"] - t["kernel"],
        ],
        ["total", wall],
    ]
    con = _common.console()
    con.print(
        _common.table(
            f"Morris r={r}: {n_sets} parameter sets x {n_strategies} strategies x {runs:,} runs, 50 products, 730 days",
            ["stage", "wall s"],
            stages,
        )
    )
    con.print(
        f"CPU time: {cpu:.0f} s in all threads, {main_cpu:.0f} s in the main thread (which runs "
        f"every serial stage and its share of the {threads}-thread kernel): about {main_cpu:.0f} s "
        f"of wall time on {threads} otherwise idle cores (wall {wall:.0f} s here, load average "
        f"{info['load_average'][0]:.1f} at the start)"
    )
    con.print(f"kernel signatures after the study: {signatures} (1: no recompilation per variant)")
    arms = int(t["arms_simulated"])  # distinct (parameter set, strategy) pairs simulated
    con.print(
        f"{arms} distinct (parameter set, strategy) arms simulated of {n_sets * n_strategies}"
    )
    product_days = arms * runs * 50 * 730
    con.print(
        f"{product_days:.3g} product-days in {t['kernel']:.1f} s of kernel: {product_days / t['kernel']:.3g} per s"
    )
    top = res.indices[res.indices.output == "total_cost"].sort_values("rank").head(3)
    con.print(
        "top of total_cost: "
        + ", ".join(f"{p} ({m:.3g})" for p, m in zip(top.parameter, top.mu_star, strict=True))
    )
    if note:
        con.print(f"[yellow]{note}[/yellow]")
    _common.write_json(
        "bench_sensitivity" + ("-" + "-".join(strategies) if strategies else ""),
        args,
        {
            **_common.run_header(info, note),
            "config": {
                "trajectories": r,
                "parameters": len(uncertain),
                "parameter_sets": n_sets,
                "strategies": n_strategies,
                "runs": runs,
                "products": 50,
                "horizon_days": 730,
            },
            "wall_s": wall,
            "cpu_s": cpu,
            "numba_threads": threads,
            "main_thread_cpu_s": main_cpu,
            "stages_s": {name: value for name, value in stages},
            "kernel_signatures": signatures,
            "arms_simulated": arms,
            "product_days_per_kernel_s": product_days / t["kernel"],
            "noise_share": dict(zip(res.noise.output, res.noise.noise_share, strict=True)),
        },
    )


if __name__ == "__main__":
    main()
