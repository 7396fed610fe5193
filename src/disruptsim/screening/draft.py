"""``disruptsim.draft_scenario``: a first scenario YAML for chosen products, from trade data.

What the data give is written as numbers with their derivation in a comment (sources and
exposure from trade shares, unit values from value over tonnes, demand from imports or
apparent consumption); what they cannot give (hazards, strategies, the exchange rate) is
written as a placeholder marked ``ASSUMPTION`` in a comment. See ``docs/screening.md``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import Problem, ScenarioError
from ..scenario.bounds import MAX_MAGNITUDE
from .countries import ARGUMENTS, CountryTable, bloc_members
from .indicators import KEY_BASE, foreign_content, supplier_shares, world_exports
from .output import write_all
from .readers import TradeData, read_trade
from .screen import country_table

__all__ = ["draft_scenario"]

DAYS_PER_YEAR = 365.0
_ROUND = 4  # digits of shares and exposure weights


def _error(path: str, message: str) -> ScenarioError:
    return ScenarioError(Problem(ARGUMENTS, None, None, path, message))


def _hs6(code: object) -> int:
    text = str(code).strip()
    if not re.fullmatch(r"[0-9]{1,6}", text):
        raise _error("products", f"expected HS6 product codes such as 280461, found {code!r}")
    return int(text)


@dataclass
class _Product:
    """What the draft says of one product."""

    code: str
    name: str
    unit_value: float
    demand_per_day: float
    sources: dict[str, float]
    exposure: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    top_country: str | None = None


def _rounded(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights rounded to :data:`_ROUND` digits, summing to 1 (the largest takes the
    rounding); zero weights dropped."""
    out = {k: round(v, _ROUND) for k, v in weights.items()}
    largest = max(out, key=lambda k: (out[k], k))
    out[largest] = round(out[largest] + 1.0 - sum(out.values()), _ROUND)
    return {k: v for k, v in out.items() if v > 0}


def _merged(
    weights: Mapping[str, float], min_share: float, codes: CountryTable, keep: Iterable[str] = ()
) -> dict[str, float]:
    """Entries below ``min_share`` or not ISO countries merged into ``ROW``."""
    out: dict[str, float] = {}
    for name, weight in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
        kept = name in keep or (weight >= min_share and codes.is_iso(name))
        target = name if kept else "ROW"
        out[target] = out.get(target, 0.0) + weight
    return out


def _product(
    data: TradeData,
    importer: str,
    year: int,
    code: int,
    name: str,
    production: float | None,
    min_share: float,
    eur_per_usd: float,
    codes: CountryTable,
) -> _Product:
    hs6 = f"{code:06d}"
    where = f"products.{hs6}"
    shares = supplier_shares(data, importer)
    rows = shares[(shares["year"] == year) & (shares["product"] == code)]
    if rows.empty:
        raise _error(where, f"no imports of {hs6} into {importer} from outside it in {year}")
    value = rows["value"].sum()
    measured = rows["tonnes"].notna() & (rows["tonnes"] > 0)
    if not measured.any():
        raise _error(
            where,
            f"the trade data give no quantity (tonnes) for the imports of {hs6} in {year}: unit value and demand cannot be derived",
        )
    usd_per_tonne = rows.loc[measured, "value"].sum() * 1000.0 / rows.loc[measured, "tonnes"].sum()
    tonnes = value * 1000.0 / usd_per_tonne  # suppliers without tonnes at the others' unit value
    by_quantity = bool(measured.all())
    basis = rows["tonnes"] if by_quantity else rows["value"]
    import_weights = dict(zip(rows["supplier"], basis / basis.sum(), strict=True))
    notes = [
        f"imports from outside {importer}, {year}: {value:,.0f} thousand USD, {tonnes:,.1f} t "
        f"from {len(rows)} suppliers; source shares by {'tonnes' if by_quantity else 'value'}"
    ]
    if not by_quantity:
        missing = rows.loc[~measured, "value"].sum() / value
        notes.append(
            f"{missing:.0%} of the value has no tonnes: its tonnes estimated at the unit value of the rest"
        )
    if production is None:
        consumption, domestic = tonnes, 0.0
        notes.append(
            "demand = imports from outside the importer (no production given); no domestic source"
        )
    else:
        exported = _exports_tonnes(data, importer, year, code)
        consumption = production + tonnes - exported
        if consumption <= 0:
            raise _error(
                where,
                f"apparent consumption production + imports - exports = {production:g} + {tonnes:g} - {exported:g} t is not positive",
            )
        domestic = production / (production + tonnes)
        notes.append(
            f"demand = apparent consumption {production:g} + {tonnes:,.1f} - {exported:,.1f} t (production + imports - exports); domestic share = production / (production + imports)"
        )
    sources = {
        k: v * (1.0 - domestic) for k, v in _merged(import_weights, min_share, codes).items()
    }
    if domestic > 0:
        sources["domestic"] = domestic
    sources = _rounded(sources)
    product = _Product(
        code=hs6,
        name=name,
        unit_value=round(usd_per_tonne * eur_per_usd, 2),
        demand_per_day=round(consumption / DAYS_PER_YEAR, 6),
        sources=sources,
        notes=notes,
    )
    product.exposure = _exposures(data, importer, rows, sources, min_share, codes)
    named = [k for k in sources if codes.is_iso(k)]
    product.top_country = max(named, key=lambda k: (sources[k], k)) if named else None
    return product


def _exports_tonnes(data: TradeData, importer: str, year: int, code: int) -> float:
    members = bloc_members(importer)
    inside = np.array([c in members for c in data.countries])
    mask = (
        inside[data.exporter]
        & ~inside[data.importer]
        & (data.year == year)
        & (data.product == code)
    )
    q = data.quantity[mask]
    if np.isnan(q).any():
        raise _error(
            f"production.{code:06d}",
            "the importer's exports lack quantities; apparent consumption cannot be derived",
        )
    return float(q.sum())


def _exposures(data, importer, rows, sources, min_share, codes) -> dict[str, dict[str, float]]:
    """Exposure of each named source, one step back through its own imports."""
    keyed = rows[rows["supplier"].isin([k for k in sources if k not in ("ROW", "domestic")])]
    if keyed.empty:
        return {}
    mask = (data.year == int(rows["year"].iloc[0])) & (data.product == int(rows["product"].iloc[0]))
    content = foreign_content(data, importer, keyed["key"].to_numpy(), world_exports(data, mask))
    labels = np.asarray([*data.countries, importer], dtype=object)
    out = {}
    for key, part in content.groupby("key"):
        supplier = data.countries[int(key) % KEY_BASE]
        weights = dict(zip(labels[part["origin"].to_numpy()], part["weight"], strict=True))
        if weights.get(supplier, 0.0) >= 1.0 - 0.5 * 10**-_ROUND:
            continue
        merged = _merged(weights, min_share, codes, keep=(supplier, importer))
        out[supplier] = _rounded(merged)
    return out


def _n(value: float) -> str:
    """A number as YAML reads it back exactly."""
    return repr(float(value))


def _comment(text: str) -> str:
    """Text safe inside a YAML comment (one line, no control characters)."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", text)


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _yaml(
    products: list[_Product],
    importer: str,
    year: int,
    files: tuple[str, ...],
    name: str,
    horizon_days: int,
    eur_per_usd: float,
) -> str:
    out = [
        f"# Drafted by disruptsim draft from trade data ({_comment(', '.join(files))}), year {year}.",
        "# Numbers derived from the data say how in a comment; every line marked ASSUMPTION is a",
        "# placeholder to replace with a sourced figure before the results are shown to anyone.",
        "# See docs/screening.md (from a screening table to a scenario) and docs/scenario-reference.md.",
        "schema_version: 1",
        f"name: {_q(name)}",
        f"description: {_q(f'Drafted from trade data ({year}) for ' + ', '.join(p.code for p in products))}",
        f"home: {importer}",
        f"horizon_days: {horizon_days}",
        "defaults:",
        "  shortage_cost_multiplier: 3.0  # ASSUMPTION: shortage cost = 3 x unit value; replace",
        "  holding_cost_rate: 0.10        # ASSUMPTION: 10% a year of the stock's value; replace",
        "hazards:",
    ]
    by_country: dict[str, list[str]] = {}
    for p in products:
        if p.top_country is not None:
            by_country.setdefault(p.top_country, []).append(p.name)
    for country, names in sorted(by_country.items()):
        out += [
            f"  - name: {country.lower()}_supply_disruption  # ASSUMPTION: the kind of event to study; replace",
            f"    countries: [{country}]  # the largest named supplier of {_comment(', '.join(names))}",
            f"    products: [{', '.join(_q(n) for n in names)}]",
            "    annual_probability: 0.05  # ASSUMPTION: replace with a sourced estimate",
            "    severity: {dist: beta, mean: 0.5, sd: 0.2}  # ASSUMPTION: fraction of supply lost",
            "    duration_days: {dist: lognormal, median: 90, p95: 365}  # ASSUMPTION",
            "    recovery_days: 30  # ASSUMPTION",
        ]
    if not by_country:
        out[-1] = "hazards: []  # ASSUMPTION: no named supplier country; add hazards"
    out.append("products:")
    for p in products:
        out.append(f"  {_q(p.name)}:")
        out.append(f"    description: {_q('HS6 ' + p.code)}")
        out += [f"    # {_comment(note)}" for note in p.notes]
        out.append("    unit: t")
        out.append(
            f"    unit_value: {_n(p.unit_value)}  # EUR per tonne: value / tonnes of imports x {eur_per_usd:g} EUR per USD (ASSUMPTION: exchange rate; use the year's average)"
        )
        out.append(
            f"    final_demand_per_day: {_n(p.demand_per_day)}  # tonnes a year / 365; treated as final demand (ASSUMPTION: no bill of materials)"
        )
        out.append("    sources:")
        for code, share in p.sources.items():
            exposure = p.exposure.get(code)
            if exposure:
                weights = ", ".join(f"{k}: {_n(v)}" for k, v in exposure.items())
                out.append(
                    f"      {code}: {{share: {_n(share)}, exposure: {{{weights}}}}}  # exposure: its own imports of the product, one step back"
                )
            else:
                out.append(f"      {code}: {_n(share)}")
    out += [
        "strategies:",
        "  baseline: {}",
        "  stockpile_90d:  # ASSUMPTION: a placeholder strategy; write the ones to compare",
        '    description: "Placeholder: a strategic stock of 90 days of demand of each product"',
        "    products:",
    ]
    for p in products:
        out.append(
            f"      {_q(p.name)}: {{stockpile: {{initial_days: 90, refill_days_per_day: 0.05, fixed_cost: 0}}}}  # ASSUMPTION: size, refill rate and cost to replace"
        )
    return "\n".join(out) + "\n"


def _validated(text: str) -> None:
    """Load the draft as a user would. Trade values or options so large that the draft
    leaves the model's bounds (``docs/scenario-reference.md``, "Bounds") are bad input:
    a ScenarioError naming the arguments, then each problem of the draft."""
    from ..scenario import load_scenario

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "draft.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_scenario(path)
        except ScenarioError as error:
            head = Problem(
                ARGUMENTS,
                None,
                None,
                "",
                "the trade rows and options give a scenario that does not validate (check "
                "the units and sizes of the trade values, --production and --eur-per-usd):",
            )
            drafted = [
                Problem("<draft>", p.line, p.column, p.path, p.message) for p in error.problems
            ]
            raise ScenarioError([head, *drafted]) from None


def draft_scenario(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    products: Iterable[str | int],
    *,
    importer: str = "EU27",
    year: int | None = None,
    production: Mapping[str | int, float] | None = None,
    names: Mapping[str | int, str] | None = None,
    min_share: float = 0.02,
    eur_per_usd: float = 1.0,
    horizon_days: int = 365,
    name: str = "drafted-from-trade",
    layout: str = "auto",
    country_codes: str | os.PathLike[str] | CountryTable | None = None,
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> str:
    """Draft a scenario YAML for chosen HS6 products from bilateral trade data.

    Parameters
    ----------
    paths : path or iterable of paths
        Trade files, as for :func:`disruptsim.screen`.
    products : iterable of str or int
        HS6 codes, e.g. ``["280461", "854140"]``.
    importer : str
        Home of the scenario: ``"EU27"`` or an ISO alpha-3 code.
    year : int, optional
        Year of the data used; default the latest year in the files.
    production : mapping HS6 -> tonnes a year, optional
        Home production; with it, demand is apparent consumption (production + imports -
        exports) and a ``domestic`` source gets production / (production + imports).
    names : mapping HS6 -> str, optional
        Product names in the scenario (default ``hs`` + the code).
    min_share : float
        Suppliers (and exposure origins) below this share are merged into ``ROW``.
    eur_per_usd : float
        Exchange rate for unit values (BACI values are in USD); the default 1.0 is marked as
        an assumption in the file.
    horizon_days : int
        Simulated days.
    name : str
        The scenario's name.
    layout, country_codes
        As for :func:`disruptsim.screen`.
    out : path, optional
        Write the YAML there (atomically; an existing file only with ``force``).

    Returns
    -------
    str
        The scenario YAML; it validates with :func:`disruptsim.load_scenario`.

    Raises
    ------
    ScenarioError
        A malformed trade file, an unknown importer, a product without imports, without
        quantities, or with a non-positive apparent consumption; an existing ``out``.
    """
    bloc_members(importer)
    codes = [_hs6(c) for c in products]
    if not codes:
        raise _error("products", "no products given")
    if not 0 <= min_share < 1:
        raise _error("min_share", f"expected a share in [0, 1), found {min_share!r}")
    if not 0 < eur_per_usd <= MAX_MAGNITUDE:
        raise _error("eur_per_usd", f"expected a positive exchange rate, found {eur_per_usd!r}")
    made = {_hs6(k): float(v) for k, v in (production or {}).items()}
    if any(not 0 <= v <= MAX_MAGNITUDE for v in made.values()):
        raise _error(
            "production", f"expected non-negative tonnes a year, at most {MAX_MAGNITUDE:g}"
        )
    labels = {_hs6(k): str(v) for k, v in (names or {}).items()}
    table = country_table(country_codes)
    data = read_trade(
        paths,
        years=None if year is None else [year],
        products=codes,
        layout=layout,
        country_codes=table,
    )
    if len(data) == 0:
        raise _error(
            "products",
            f"no trade rows for {', '.join(f'{c:06d}' for c in codes)}"
            + (f" in {year}" if year else ""),
        )
    chosen = int(data.year.max()) if year is None else year
    drafted = [
        _product(
            data,
            importer,
            chosen,
            c,
            labels.get(c, f"hs{c:06d}"),
            made.get(c),
            min_share,
            eur_per_usd,
            table,
        )
        for c in codes
    ]
    text = _yaml(drafted, importer, chosen, data.files, name, horizon_days, eur_per_usd)
    _validated(text)
    if out is not None:
        write_all({Path(out): lambda path: path.write_text(text, encoding="utf-8")}, force=force)
    return text
