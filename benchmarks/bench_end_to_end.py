"""End to end: ``disruptsim run`` of every shipped scenario, CLI start-up, cold first run.

For each scenario in ``scenarios/``: ``disruptsim run FILE --runs N --out <fresh dir>`` in a
subprocess, its wall time split with the timings the run records in ``manifest.json``
(``compile``: building the strategies' arrays; ``sampling``; ``kernel``, which includes
loading the compiled kernel from numba's cache on the first call; ``save``: summary,
run and time-series files, report) and the elapsed time the command prints. The report's
share is the difference with a second run with ``--no-report``. Numba's cache load is
also measured apart, in a fresh process.

Targets: a warm CLI start (``disruptsim --version``, ``disruptsim validate``) under 2 s;
a cold first run (numba cache in an empty ``NUMBA_CACHE_DIR``) under 30 s.

    python benchmarks/bench_end_to_end.py --quick     # 1,000 runs per scenario
    python benchmarks/bench_end_to_end.py             # 10,000 runs per scenario
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common

from disruptsim.run import bench

WARM_START_TARGET_S = 2.0
COLD_RUN_TARGET_S = 30.0
COLD_SCENARIO = "example-minimal.yaml"


def cli() -> list[str]:
    """The ``disruptsim`` console script beside this interpreter, else ``python -m``."""
    script = Path(sys.executable).with_name("disruptsim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "disruptsim"]


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    args: list[str], env: dict[str, str] | None = None
) -> tuple[float, subprocess.CompletedProcess, float]:
    """Wall time, the finished process, and its CPU time (user + system, all threads)."""
    c0 = _children_cpu_s()
    t0 = time.perf_counter()
    proc = subprocess.run(
        args, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=_common.ROOT
    )
    return time.perf_counter() - t0, proc, _children_cpu_s() - c0


def run_scenario(path: Path, runs: int, workdir: Path, report: bool, env=None) -> dict[str, Any]:
    out = workdir / f"{path.stem}{'' if report else '-no-report'}"
    args = [*cli(), "run", str(path), "--runs", str(runs), "--seed", "0", "--out", str(out)]
    if not report:
        args.append("--no-report")
    wall, proc, cpu = timed(args, env)
    row: dict[str, Any] = {
        "scenario": path.stem,
        "runs": runs,
        "report": report,
        "wall_s": wall,
        "cpu_s": cpu,
    }
    if proc.returncode != 0:
        row["error"] = (proc.stderr or proc.stdout)[-2000:]
        return row
    found = re.search(r"in ([0-9.]+) s\.", proc.stdout)
    manifest = json.loads((out / "manifest.json").read_text())
    t = manifest.get("timings", {})
    row["timings"] = t
    row["strategies"] = len(manifest.get("strategies", {}))
    row["horizon_days"] = manifest.get("scenario", {}).get("horizon_days")
    row["products"] = max((len(s["products"]) for s in manifest["strategies"].values()), default=0)
    if found:
        elapsed = float(found.group(1))  # printed with 0.1 s resolution
        row["in_process_s"] = elapsed
        row["startup_s"] = wall - elapsed
        sim = t.get("wall_simulation")
        if sim is not None:
            row["load_and_plan_s"] = sim - t.get("sampling", 0.0) - t.get("kernel", 0.0)
            row["summary_and_table_s"] = elapsed - sim - t.get("save", 0.0)
    shutil.rmtree(out, ignore_errors=True)
    return row


def kernel_cache_load_s(env: dict[str, str] | None = None) -> float:
    """Seconds of the first kernel call in a fresh process (numba cache load or compile)."""
    code = (
        "import json; from disruptsim.run import bench; p = bench.synthetic_plan(5, 30); "
        "print(json.dumps({'s': bench.warm_up(p)}))"
    )
    return _common.run_child(code, env=env)["s"]


def main() -> None:
    args = _common.parser(__doc__.splitlines()[0]).parse_args()
    runs = 1000 if args.quick else 10_000
    repeats = 3
    out = _common.console()
    info = bench.system_info()
    note = _common.busy_note(info)
    if note:
        out.print(f"[yellow]note:[/yellow] {note}")
    scenarios = sorted((_common.ROOT / "scenarios").glob("*.yaml"))
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="disruptsim-e2e-") as tmp:
        work = Path(tmp)
        # Warm start (compile cache present: one run first makes sure of it).
        run_scenario(_common.ROOT / "scenarios" / COLD_SCENARIO, 100, work, report=False)
        version_runs = [timed([*cli(), "--version"]) for _ in range(repeats)]
        validate_runs = [timed([*cli(), "validate", str(scenarios[0])]) for _ in range(repeats)]
        version = [r[0] for r in version_runs]
        validate = [r[0] for r in validate_runs]
        version_cpu = [r[2] for r in version_runs]
        validate_cpu = [r[2] for r in validate_runs]
        cache_load = kernel_cache_load_s()
        out.print(
            f"warm start: --version {min(version):.2f} s, validate {min(validate):.2f} s; "
            f"first kernel call (cache load) {cache_load:.2f} s"
        )

        for path in scenarios:
            for report in (True, False):
                row = run_scenario(path, runs, work, report)
                rows.append(row)
                state = row.get("error", "ok")[:200]
                out.print(
                    f"  {path.stem} ({'report' if report else 'no report'}): {row['wall_s']:.1f} s {state}"
                )

        # Cold first run: an empty numba cache.
        cache = work / "numba-cache"
        cache.mkdir()
        env = {"NUMBA_CACHE_DIR": str(cache)}
        cold = run_scenario(_common.ROOT / "scenarios" / COLD_SCENARIO, 1000, work, True, env)
        cold_compile = kernel_cache_load_s(env={"NUMBA_CACHE_DIR": str(work / "numba-cache-2")})
        out.print(
            f"cold first run ({COLD_SCENARIO}, 1,000 runs): {cold['wall_s']:.1f} s "
            f"({cold.get('cpu_s', float('nan')):.1f} CPU-s); kernel compile alone {cold_compile:.1f} s"
        )

    by_key = {(r["scenario"], r["report"]): r for r in rows}
    table_rows = []
    for path in scenarios:
        r = by_key[(path.stem, True)]
        nr = by_key[(path.stem, False)]
        t = r.get("timings", {})
        report_s = None
        if "timings" in r and "timings" in nr:
            report_s = t.get("save", 0.0) - nr["timings"].get("save", 0.0)
        table_rows.append(
            [path.stem, r.get("products"), r.get("strategies"), r["wall_s"], r.get("cpu_s"), r.get("startup_s"),
             r.get("load_and_plan_s"), t.get("sampling"), t.get("kernel"), r.get("summary_and_table_s"),
             None if report_s is None else t.get("save", 0.0) - report_s, report_s]
        )  # fmt: skip
    out.print(
        _common.table(
            f"disruptsim run --runs {runs:,} (seconds; every strategy of the scenario)",
            ["scenario", "products", "strategies", "wall", "CPU", "start-up", "load+plan",
             "sampling", "kernel", "summary+table", "save w/o report", "report"],
            table_rows,
        )
    )  # fmt: skip
    targets = [
        {"name": "warm `disruptsim --version` < 2 s", "measured_s": min(version), "cpu_s": min(version_cpu), "met": min(version) < WARM_START_TARGET_S},
        {"name": "warm `disruptsim validate` < 2 s", "measured_s": min(validate), "cpu_s": min(validate_cpu), "met": min(validate) < WARM_START_TARGET_S},
        {"name": "cold first run < 30 s", "measured_s": cold["wall_s"], "cpu_s": cold.get("cpu_s"), "met": "error" not in cold and cold["wall_s"] < COLD_RUN_TARGET_S},
    ]  # fmt: skip
    out.print(
        _common.table(
            "Targets",
            ["target", "wall s", "CPU s", "met"],
            [
                [t["name"], t["measured_s"], t["cpu_s"], "yes" if t["met"] else "NO"]
                for t in targets
            ],
        )
    )
    _common.write_json(
        "bench_end_to_end",
        args,
        {
            **_common.run_header(info, note),
            "cli": cli(),
            "runs": runs,
            "warm_version_s": version,
            "warm_validate_s": validate,
            "kernel_cache_load_s": cache_load,
            "cold_kernel_compile_s": cold_compile,
            "cold_first_run": cold,
            "scenarios": rows,
            "targets": targets,
            "splits": "start-up = wall - elapsed printed by the command (0.1 s resolution); "
            "load+plan = wall_simulation - sampling - kernel; kernel includes the first "
            "call's cache load; report = save(report) - save(--no-report), two runs",
        },
    )


if __name__ == "__main__":
    main()
