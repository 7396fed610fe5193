"""Shared plumbing of the benchmark scripts: arguments, JSON output, tables."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def parser(description: str) -> argparse.ArgumentParser:
    """Arguments every script takes: ``--quick`` and ``--out``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes: seconds to a minute")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON output (default: benchmarks/results/<script>[-quick].json)",
    )
    return p


def write_json(name: str, args: argparse.Namespace, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus the command line and the time) to the results folder."""
    path = args.out or RESULTS / f"{name}{'-quick' if args.quick else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "quick": bool(args.quick),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **payload,
    }
    path.write_text(json.dumps(document, indent=2, default=_plain) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return path


def run_header(info: dict[str, Any], note: str | None) -> dict[str, Any]:
    """The ``system``, ``load_average_end`` and ``notes`` entries of a results file.

    ``info`` is ``bench.system_info()`` from the start of the run; the threading layer
    and the load average are read again at the end (numba picks its layer on first use).
    """
    from disruptsim.run import bench

    end = bench.system_info()
    return {
        "system": {**info, "threading_layer": end["threading_layer"]},
        "load_average_end": end["load_average"],
        "notes": [note] if note else [],
    }


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def console():
    """A rich console, wide enough for the tables when the output is not a terminal."""
    from rich.console import Console

    c = Console(highlight=False)
    return c if c.is_terminal else Console(highlight=False, width=160)


def table(title: str, columns: list[str], rows: list[list[Any]]):
    """A rich table; numbers right-aligned."""
    from rich.table import Table

    t = Table(title=title)
    for k, col in enumerate(columns):
        t.add_column(col, justify="left" if k == 0 else "right")
    for row in rows:
        t.add_row(*[_cell(v) for v in row])
    return t


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def run_child(
    code: str, env: dict[str, str] | None = None, timeout: float = 3600
) -> dict[str, Any]:
    """Run Python ``code`` in a fresh interpreter; it must print one JSON object last."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def busy_note(info: dict[str, Any]) -> str | None:
    """A warning when the load average says the machine was busy."""
    load = info.get("load_average")
    cpus = info.get("cpu_count") or 1
    if load and load[0] > 0.5 * cpus:
        return (
            f"load average {load[0]:.1f} on {cpus} CPUs when this started: the machine was busy, "
            "absolute figures are noisy; compare ratios measured within one run"
        )
    return None
