"""The ``disruptsim screen`` and ``disruptsim draft`` commands: thin layers over
:func:`disruptsim.screen` and :func:`disruptsim.draft_scenario` (see ``docs/screening.md``).

The commands are registered on the application in :mod:`disruptsim.cli`; the heavy
imports (pandas, pyarrow) happen when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import Problem, ScenarioError
from ..safetext import terminal_markup
from .errors import reports_errors

__all__ = ["draft_command", "screen_command"]

Files = Annotated[
    list[Path],
    typer.Argument(
        help="Trade files: BACI layout (t,i,j,k,v,q; .csv, .csv.gz, .parquet) or UN Comtrade bulk.",
        metavar="FILES",
        show_default=False,
    ),
]
Importer = Annotated[
    str, typer.Option("--importer", help="Bloc (EU27) or ISO alpha-3 country screened as importer.")
]
Layout = Annotated[str, typer.Option("--layout", help="File layout: auto, baci or comtrade.")]
CountryCodes = Annotated[
    Path | None,
    typer.Option(
        "--country-codes",
        help="BACI's country_codes_V*.csv (default: ISO numeric plus UN Comtrade exceptions).",
        show_default=False,
    ),
]
Force = Annotated[bool, typer.Option("--force", help="Replace existing output files.")]

_SHOWN = (
    ("rank", "rank", "{:d}"),
    ("product", "HS6", "{}"),
    ("hhi_extra", "HHI", "{:.3f}"),
    ("import_export_ratio", "imp/exp", "{:.2f}"),
    ("extra_share", "extra", "{:.0%}"),
    ("top_supplier", "top", "{}"),
    ("top_share", "share", "{:.0%}"),
    ("effective_top_supplier", "eff. top", "{}"),
    ("effective_top_share", "eff. share", "{:.0%}"),
    ("flag_eu2021", "EU21", "{}"),
    ("flag_geodep", "GeoDep", "{}"),
    ("flag_crma65", "CRMA65", "{}"),
)


def _print_table(table, top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = max(console.width, 140)  # a pipe or a file: do not cut the columns
    if table.empty:
        console.print("no product imported from outside the importer in these files")
        return
    latest = int(table["year"].max())
    rows = table[table["year"] == latest].head(top)
    out = Table(
        title=f"{latest}: {int(table.loc[table['year'] == latest, 'flag_eu2021'].sum())} of "
        f"{int((table['year'] == latest).sum())} products flagged (EU 2021 criteria); top {len(rows)}"
    )
    for _, title, _ in _SHOWN:
        out.add_column(title, justify="right")
    for record in rows.to_dict("records"):
        cells = []
        for name, _, fmt in _SHOWN:
            value = record[name]
            text = (
                ("yes" if value else "")
                if isinstance(value, bool) or name.startswith("flag")
                else fmt.format(value)
            )
            cells.append(terminal_markup(text))  # names from trade files
        out.add_row(*cells)
    console.print(out)


@reports_errors
def screen_command(
    files: Files,
    importer: Importer = "EU27",
    years: Annotated[
        str | None,
        typer.Option(
            "--years",
            help="Years: 2023, 2021-2023 or 2019,2021 (default: all).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write the ranked table (.csv or .parquet).", show_default=False
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Write the screening page (self-contained HTML).", show_default=False
        ),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=0, help="Products shown in the terminal (latest year).")
    ] = 20,
    layout: Layout = "auto",
    country_codes: CountryCodes = None,
    force: Force = False,
) -> None:
    """Screen trade files for import dependencies: one row per product and year.

    Prints the highest-ranked products of the latest year; --out and --html write the whole ranked table and the page, atomically. Exit status: 0 ok, 2 bad input (the message names file, line and column).
    """
    from ..screening import screen

    table = screen(
        files,
        importer=importer,
        years=years,
        layout=layout,
        country_codes=country_codes,
        out=out,
        html=html,
        force=force,
    )
    _print_table(table, top)
    for path in (out, html):
        if path is not None:
            typer.echo(f"wrote {path}")


def _pairs(items: list[str] | None, option: str, number: bool) -> dict[str, float | str]:
    """``HS6=VALUE`` options as a mapping."""
    from ..screening.countries import ARGUMENTS

    out: dict[str, float | str] = {}
    for item in items or []:
        code, sep, value = item.partition("=")
        if not sep or not code.strip() or not value.strip():
            raise ScenarioError(
                Problem(ARGUMENTS, None, None, option, f"expected HS6=VALUE, found {item!r}")
            )
        if number:
            try:
                out[code.strip()] = float(value)
            except ValueError:
                raise ScenarioError(
                    Problem(
                        ARGUMENTS,
                        None,
                        None,
                        option,
                        f"expected a number of tonnes after '=', found {value!r}",
                    )
                ) from None
        else:
            out[code.strip()] = value.strip()
    return out


@reports_errors
def draft_command(
    files: Files,
    products: Annotated[
        list[str],
        typer.Option(
            "--product",
            "-p",
            help="HS6 code (repeat, or separate with commas).",
            show_default=False,
        ),
    ],
    importer: Importer = "EU27",
    year: Annotated[
        int | None,
        typer.Option("--year", help="Year of the data (default: latest).", show_default=False),
    ] = None,
    production: Annotated[
        list[str] | None,
        typer.Option(
            "--production", help="Home production, HS6=TONNES a year (repeat).", show_default=False
        ),
    ] = None,
    product_name: Annotated[
        list[str] | None,
        typer.Option(
            "--product-name", help="Name in the scenario, HS6=NAME (repeat).", show_default=False
        ),
    ] = None,
    min_share: Annotated[
        float, typer.Option("--min-share", help="Smaller suppliers are merged into ROW.")
    ] = 0.02,
    eur_per_usd: Annotated[
        float, typer.Option("--eur-per-usd", help="Exchange rate for unit values.")
    ] = 1.0,
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", min=1, help="Simulated days.")
    ] = 365,
    name: Annotated[
        str, typer.Option("--name", help="Name of the scenario.")
    ] = "drafted-from-trade",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write the YAML there (default: print it).", show_default=False
        ),
    ] = None,
    layout: Layout = "auto",
    country_codes: CountryCodes = None,
    force: Force = False,
) -> None:
    """Draft a scenario YAML for chosen products from trade files.

    Sources and exposure come from the trade shares, unit values from value over tonnes, demand from imports (or apparent consumption with --production); hazards and strategies are placeholders marked ASSUMPTION to replace. The draft validates as it is.
    """
    from ..screening import draft_scenario

    codes = [code.strip() for item in products for code in item.split(",") if code.strip()]
    text = draft_scenario(
        files,
        codes,
        importer=importer,
        year=year,
        production=_pairs(production, "--production", number=True),
        names=_pairs(product_name, "--product-name", number=False),
        min_share=min_share,
        eur_per_usd=eur_per_usd,
        horizon_days=horizon_days,
        name=name,
        layout=layout,
        country_codes=country_codes,
        out=out,
        force=force,
    )
    if out is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"wrote {out}")
