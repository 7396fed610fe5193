"""``disruptsim validate`` and ``disruptsim schema``: check scenario files, print the
scenario format's JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..conventions import DOMESTIC, EXIT_INPUT
from ..errors import ScenarioError
from ..safetext import terminal_markup, terminal_text
from ..scenario import Scenario, ScenarioFile, load_scenario
from .errors import print_input_error, print_warnings, reports_errors

__all__ = ["print_overview", "schema", "validate"]


@reports_errors
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(help="Scenario files (YAML).", metavar="FILE", show_default=False),
    ],
) -> None:
    """Check scenario files and print an overview of each valid one.

    Every problem is printed on stderr as ``file:line:col: key.path: message``;
    the exit status is 2 if any file is invalid.
    """
    console = Console(highlight=False, soft_wrap=True)
    invalid = 0
    for file in files:
        try:
            scenario = load_scenario(file)
            if scenario.situation is not None:
                from ..model.situation import scenario_situation

                scenario_situation(scenario)
        except (ScenarioError, OSError) as error:
            print_input_error(error)
            count = len(error.problems) if isinstance(error, ScenarioError) else 1
            message = f"{file}: invalid ({count} problem{'s' * (count != 1)})"
            typer.echo(terminal_text(message), err=True)
            invalid += 1
            continue
        print_warnings(scenario)
        print_overview(scenario, console)
    if invalid:
        raise typer.Exit(EXIT_INPUT)


def print_overview(scenario: Scenario, console: Console) -> None:
    """A short description of a valid scenario, a few lines per section."""
    world = scenario.baseline
    out = console.print
    out(f"[bold]{terminal_markup(scenario.path or scenario.name)}[/bold]: valid")
    about = f"{scenario.name}" + (f" - {scenario.description}" if scenario.description else "")
    out(f"  {terminal_markup(about)}")
    out(f"  horizon {scenario.horizon_days} days; home {terminal_markup(scenario.home)}")
    out(f"  products ({len(world.products)}):")
    for name, product in world.products.items():
        sources = ", ".join(
            f"{code} {source.share:.0%}" for code, source in product.sources.items()
        )
        line = f"    {name} ({product.unit})"
        if product.final_demand_per_day > 0:
            line += f": final demand {product.final_demand_per_day:g}/day"
        else:
            line += ": intermediate"
        line += f"; sources {sources}"
        if product.inputs:
            line += f"; inputs {', '.join(product.inputs)}"
        out(terminal_markup(line))
    out(f"  countries: {terminal_markup(', '.join(sorted(_countries(scenario))) or '-')}")
    out(f"  hazards ({len(world.hazards)}):")
    for h in world.hazards:
        out(
            terminal_markup(
                f"    {h.name}: {', '.join(h.countries)}, p={h.annual_probability:g} per year"
            )
        )
    out(f"  shocks ({len(world.shocks)}):")
    for i, s in enumerate(world.shocks):
        label = s.name or f"shocks[{i}]"
        out(
            terminal_markup(
                f"    {label}: {', '.join(s.countries)}, days {s.start_day}"
                f"-{s.start_day + s.duration_days - 1}, severity {s.severity:g}"
            )
        )
    names = ", ".join(scenario.strategy_names)
    out(f"  strategies ({len(scenario.strategies)}): {terminal_markup(names)}")


def _countries(scenario: Scenario) -> set[str]:
    """Every country or region named anywhere in any strategy ('domestic' excluded)."""
    codes: set[str] = set()
    for strategy in scenario.strategies.values():
        world = strategy.world
        for product in world.products.values():
            for code, source in product.sources.items():
                codes.add(code)
                codes.update(source.exposure or ())
            for option in (product.diversification, product.substitution):
                if option is not None:
                    codes.update(option.exposure or ())
        for event in (*world.hazards, *world.shocks):
            codes.update(event.countries)
    codes.discard(DOMESTIC)
    return codes


@reports_errors
def schema() -> None:
    """Print the JSON Schema of the scenario format."""
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **ScenarioFile.model_json_schema(by_alias=True),
        "title": "disruptsim scenario",
    }
    typer.echo(json.dumps(document, indent=2))
