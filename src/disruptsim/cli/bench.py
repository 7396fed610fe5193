"""``disruptsim bench``: run :func:`disruptsim.run.bench.run_bench` and print its report
as two tables (throughputs, then targets), optionally saved as JSON."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .errors import reports_errors

if TYPE_CHECKING:  # pragma: no cover
    from ..run.bench import BenchReport

__all__ = ["bench", "bench_command", "render"]


@reports_errors
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="A short run (a few seconds).")] = False,
    json_file: Annotated[
        Path | None,
        typer.Option(
            "--json", help="Also write the figures to this JSON file.", show_default=False
        ),
    ] = None,
) -> None:
    """Time the numba kernel against the SimPy reference engine and print the ratios.

    A synthetic 50-product scenario over 730 days; compilation and shock sampling are
    excluded. The fuller benchmarks are the scripts in benchmarks/.
    """
    bench_command(quick=quick, json_path=json_file)


def render(report: BenchReport, console) -> None:
    """Print the report as two rich tables: throughputs, then targets."""
    from rich.table import Table

    from ..run.bench import COUNTRIES

    table = Table(title="Throughput in product-days (pd) per second of engine time")
    columns = ("engine", "threads", "runs", "wall s", "pd/s", "pd/CPU-s", "vs best", "agrees")
    for col in columns:
        table.add_column(col, justify="left" if col == "engine" else "right")
    best = max((t for t in report.timings if t.engine == "numba kernel"), key=lambda t: t.rate)
    for t in report.timings:
        agrees = t.extra.get("agree")
        table.add_row(
            t.engine,
            str(t.threads),
            f"{t.runs:,}",
            f"{t.wall_s:.3f}",
            f"{t.rate:.3g}",
            f"{t.rate_cpu:.3g}",
            "1" if t is best else f"1/{best.rate / t.rate:,.1f}",
            "" if agrees is None else ("yes" if agrees else "[red]NO[/red]"),
        )
    console.print(table)
    targets = Table(title="Targets")
    for col in ("measure", "how", "measured", "from CPU times", "target", "met"):
        targets.add_column(col, justify="left" if col in ("measure", "how") else "right")
    for row in report.targets:
        targets.add_row(
            row["name"],
            row["how"],
            f"{row['measured']:.3g}",
            "" if row["measured_cpu"] is None else f"{row['measured_cpu']:.3g}",
            f">= {row['target']:.3g}",
            "[green]yes[/green]" if row["met"] else "[red]no[/red]",
        )
    console.print(targets)
    s = report.sizes
    console.print(
        "pd/s: per second of wall time; pd/CPU-s: per CPU-second of all threads (steadier "
        "on a busy machine). Compilation and shock sampling are excluded."
    )
    console.print(
        f"synthetic scenario: {s.n_products} products, {COUNTRIES} countries, {s.horizon_days} days; "
        f"numba {report.info['numba']}, threading layer {report.info.get('threading_layer')}"
    )
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}")


def bench_command(
    quick: bool = False, json_path: str | os.PathLike[str] | None = None
) -> BenchReport:
    """What ``disruptsim bench [--quick] [--json FILE]`` does: run, print tables, save JSON."""
    import json

    from rich.console import Console

    from ..run.bench import BenchSizes, run_bench

    console = Console(highlight=False)
    sizes = BenchSizes.quick() if quick else BenchSizes()
    with console.status("benchmarking") as status:
        report = run_bench(sizes, say=lambda message: status.update(message))
    render(report, console)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    return report
