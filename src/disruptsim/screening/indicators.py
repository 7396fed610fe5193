"""Dependency indicators of one importer (a country or a bloc), per product and year.

Pure functions of :class:`~disruptsim.screening.readers.TradeData`; the method, its sources
and its limits are in ``docs/screening.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .countries import bloc_members
from .readers import TradeData

__all__ = [
    "COLUMNS",
    "CRMA_MAX_SHARE",
    "EXTRA_SHARE_THRESHOLD",
    "HHI_THRESHOLD",
    "KEY_BASE",
    "NO_EXPORTS_RATIO",
    "RATIO_THRESHOLD",
    "indicators",
    "foreign_content",
    "supplier_shares",
    "world_exports",
]

HHI_THRESHOLD = 0.4
"""HHI above which imports (or world exports) are concentrated: SWD(2021) 352, CEPII GeoDep."""
RATIO_THRESHOLD = 1.0
"""Imports over exports above which domestic supply cannot substitute (both methods)."""
EXTRA_SHARE_THRESHOLD = 0.5
"""Extra-bloc share of imports above which the EU method counts a product dependent."""
CRMA_MAX_SHARE = 0.65
"""Critical Raw Materials Act (Regulation 2024/1252): no third country above 65%."""
NO_EXPORTS_RATIO = 9999.0
"""Imports-over-exports ratio written when the importer exports nothing (CEPII's rule)."""

COLUMNS = (
    "year",
    "product",
    "extra_imports",
    "intra_imports",
    "extra_exports",
    "extra_import_tonnes",
    "suppliers",
    "hhi_extra",
    "import_export_ratio",
    "extra_share",
    "top_supplier",
    "top_share",
    "world_export_hhi",
    "effective_top_supplier",
    "effective_top_share",
    "effective_hhi",
    "geodep_criteria",
    "flag_eu2021",
    "flag_geodep",
    "flag_crma65",
)
"""Columns of the screening table, in order (see ``docs/screening.md``)."""

KEY_BASE = 1024
"""Keys of (year, product, country) are ``(year * 10**6 + product) * KEY_BASE + country``
(country indices are below it: a code table has at most a few hundred labels)."""


def _sum_by(keys: np.ndarray, values: np.ndarray) -> pd.Series:
    """Sums of ``values`` by integer key, sorted by key."""
    return pd.Series(values).groupby(keys, sort=True).sum()


def _hhi_and_top(tk: np.ndarray, who: np.ndarray, value: np.ndarray) -> pd.DataFrame:
    """Per ``tk``: total, HHI of the shares of ``who``, the largest ``who`` and its share.

    Ties for the largest are broken by the lower index (the alphabetical label).
    """
    by_who = _sum_by(tk.astype(np.int64) * KEY_BASE + who, value)
    by_who = by_who[by_who > 0]
    key = by_who.index.to_numpy()
    amount = by_who.to_numpy()
    group = key // KEY_BASE
    total = _sum_by(group, amount)
    share = amount / total.reindex(group).to_numpy()
    hhi = _sum_by(group, share**2)
    # Sorted by (tk, who): the first maximum of a group is the lowest index among ties.
    top = pd.Series(amount, index=key).groupby(group, sort=True).idxmax().to_numpy()
    return pd.DataFrame(
        {
            "total": total,
            "hhi": hhi,
            "top": top % KEY_BASE,
            "top_share": by_who.reindex(top).to_numpy() / total.to_numpy(),
        },
        index=total.index,
    )


def supplier_shares(data: TradeData, importer: str) -> pd.DataFrame:
    """Extra-bloc imports of ``importer`` by (year, product, supplier).

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``product``, ``supplier`` (label), ``value`` (thousand USD),
        ``tonnes`` (NaN if any flow lacks a quantity), ``share`` of the product's
        extra-bloc imports that year and ``key`` (for :func:`foreign_content`).
    """
    inside = _inside(data, importer)
    mask = inside[data.importer] & ~inside[data.exporter]
    frame = pd.DataFrame(
        {
            "year": data.year[mask],
            "product": data.product[mask],
            "supplier": data.exporter[mask],
            "value": data.value[mask],
            "tonnes": data.quantity[mask],
        }
    )
    frame["missing"] = frame["tonnes"].isna()
    frame["tonnes"] = frame["tonnes"].fillna(0.0)
    grouped = frame.groupby(["year", "product", "supplier"], sort=True, as_index=False).sum()
    grouped["tonnes"] = grouped["tonnes"].where(grouped.pop("missing") == 0)
    grouped["share"] = grouped["value"] / grouped.groupby(["year", "product"])["value"].transform(
        "sum"
    )
    grouped["key"] = (
        grouped["year"].to_numpy(np.int64) * 1_000_000 + grouped["product"].to_numpy()
    ) * KEY_BASE + grouped["supplier"].to_numpy()
    grouped["supplier"] = np.asarray(data.countries, dtype=object)[grouped["supplier"].to_numpy()]
    return grouped


def _inside(data: TradeData, importer: str) -> np.ndarray:
    members = bloc_members(importer)
    return np.array([c in members for c in data.countries], dtype=bool)


def _keys(data: TradeData, mask: np.ndarray | slice) -> np.ndarray:
    return data.year[mask].astype(np.int64) * 1_000_000 + data.product[mask]


def foreign_content(
    data: TradeData, importer: str, suppliers: np.ndarray, world: pd.Series
) -> pd.DataFrame:
    """Where each supplier's shipments come from, one step back through its own imports.

    A supplier ``p`` that exports ``X_p`` and imports ``M_p`` of a product in a year is
    taken to ship a fraction ``a_p = min(1, M_p / X_p)`` of foreign content, spread over its
    own suppliers in proportion to its imports from them; the rest, ``1 - a_p``, is its own.
    Content from inside the importer (its bloc) gets the index ``len(data.countries)``.

    Parameters
    ----------
    suppliers : numpy.ndarray
        Keys ``(year * 1e6 + product) * 1024 + supplier`` of the suppliers to trace.
    world : Series
        Exports of every exporter, indexed by the same kind of key.

    Returns
    -------
    DataFrame
        Columns ``key`` (a supplier's key), ``origin`` (country index) and ``weight``; the
        weights of one key sum to 1.
    """
    inside = _inside(data, importer)
    rows = np.flatnonzero(~inside[data.importer])
    key = _keys(data, rows) * KEY_BASE + data.importer[rows]
    traced = np.isin(key, suppliers)
    rows, key = rows[traced], key[traced]
    origin = data.exporter[rows].astype(np.int64)
    origin = np.where(inside[origin], len(data.countries), origin)
    by_pair = _sum_by(key * KEY_BASE + origin, data.value[rows])
    by_pair = by_pair[by_pair > 0]
    pair, amount = by_pair.index.to_numpy(), by_pair.to_numpy()
    buyer = pair // KEY_BASE  # the supplier whose own imports these are
    imported = _sum_by(buyer, amount)
    foreign = pd.Series(
        np.minimum(1.0, imported.to_numpy() / world.reindex(imported.index).to_numpy()),
        index=imported.index,
    )
    a = foreign.reindex(suppliers, fill_value=0.0).to_numpy()
    weight = np.concatenate(
        [1.0 - a, foreign.reindex(buyer).to_numpy() * amount / imported.reindex(buyer).to_numpy()]
    )
    both = _sum_by(np.concatenate([suppliers * KEY_BASE + suppliers % KEY_BASE, pair]), weight)
    both_key = both.index.to_numpy()
    return pd.DataFrame(
        {"key": both_key // KEY_BASE, "origin": both_key % KEY_BASE, "weight": both.to_numpy()}
    )


def world_exports(data: TradeData, rows: np.ndarray | slice) -> pd.Series:
    """Exports by (year-product-exporter key) over ``rows``."""
    return _sum_by(_keys(data, rows) * KEY_BASE + data.exporter[rows], data.value[rows])


def indicators(data: TradeData, importer: str = "EU27") -> pd.DataFrame:
    """The screening table of ``importer``: one row per (year, product) it imports.

    Only products with imports from outside the importer (outside the bloc) that year have
    a row. Values are in thousand USD, as in BACI. Columns: :data:`COLUMNS`, described in
    ``docs/screening.md``.
    """
    inside = _inside(data, importer)
    label = np.asarray([*data.countries, importer], dtype=object)
    m_in, x_in = inside[data.importer], inside[data.exporter]
    extra_mask = m_in & ~x_in
    tk_extra = _keys(data, extra_mask)
    exporter = data.exporter[extra_mask].astype(np.int64)
    extra = _hhi_and_top(tk_extra, exporter, data.value[extra_mask])
    by_supplier = _sum_by(tk_extra * KEY_BASE + exporter, data.value[extra_mask])
    by_supplier = by_supplier[by_supplier > 0]
    totals = extra["total"].reindex(by_supplier.index.to_numpy() // KEY_BASE).to_numpy()
    by_supplier = pd.DataFrame({"share": by_supplier.to_numpy() / totals}, index=by_supplier.index)
    index = extra.index
    # Tonnes only where every flow has a quantity (a partial sum would understate).
    q = data.quantity[extra_mask]
    tonnes = _sum_by(tk_extra, np.nan_to_num(q)).where(_sum_by(tk_extra, np.isnan(q)) == 0)
    suppliers = pd.Series(exporter).groupby(tk_extra, sort=True).nunique()
    intra = _sum_by(_keys(data, m_in & x_in), data.value[m_in & x_in]).reindex(
        index, fill_value=0.0
    )
    out_mask = x_in & ~m_in
    exports = _sum_by(_keys(data, out_mask), data.value[out_mask]).reindex(index, fill_value=0.0)
    # World exports of the products imported, by exporting country.
    rows = np.flatnonzero(np.isin(_keys(data, slice(None)), index.to_numpy()))
    exported = world_exports(data, rows)
    by_exporter = exported.index.to_numpy()
    world = _hhi_and_top(by_exporter // KEY_BASE, by_exporter % KEY_BASE, exported.to_numpy())
    content = foreign_content(data, importer, by_supplier.index.to_numpy(), exported)
    weight = by_supplier["share"].reindex(content["key"]).to_numpy() * content["weight"].to_numpy()
    eff = _hhi_and_top(content["key"].to_numpy() // KEY_BASE, content["origin"].to_numpy(), weight)

    total = extra["total"]
    ratio = np.where(
        exports.to_numpy() > 0,
        total.to_numpy() / np.where(exports > 0, exports, 1.0),
        NO_EXPORTS_RATIO,
    )
    table = pd.DataFrame(
        {
            "year": (index.to_numpy() // 1_000_000).astype(np.int64),
            "product": [f"{k:06d}" for k in index.to_numpy() % 1_000_000],
            "extra_imports": total.to_numpy(),
            "intra_imports": intra.to_numpy(),
            "extra_exports": exports.to_numpy(),
            "extra_import_tonnes": tonnes.reindex(index).to_numpy(),
            "suppliers": suppliers.reindex(index).to_numpy().astype(np.int64),
            "hhi_extra": extra["hhi"].to_numpy(),
            "import_export_ratio": ratio,
            "extra_share": total.to_numpy() / (total.to_numpy() + intra.to_numpy()),
            "top_supplier": label[extra["top"].to_numpy().astype(np.int64)],
            "top_share": extra["top_share"].to_numpy(),
            "world_export_hhi": world["hhi"].reindex(index).to_numpy(),
            "effective_top_supplier": label[eff["top"].reindex(index).to_numpy().astype(np.int64)],
            "effective_top_share": eff["top_share"].reindex(index).to_numpy(),
            "effective_hhi": eff["hhi"].reindex(index).to_numpy(),
        }
    )
    table["geodep_criteria"] = (
        (table["hhi_extra"] > HHI_THRESHOLD)
        & (table["world_export_hhi"] > HHI_THRESHOLD)
        & (table["import_export_ratio"] > RATIO_THRESHOLD)
    )
    table["flag_eu2021"] = (
        (table["hhi_extra"] > HHI_THRESHOLD)
        & (table["import_export_ratio"] > RATIO_THRESHOLD)
        & (table["extra_share"] > EXTRA_SHARE_THRESHOLD)
    )
    table["flag_geodep"] = _two_of_three(table)
    table["flag_crma65"] = table["top_share"] > CRMA_MAX_SHARE
    return table.loc[:, list(COLUMNS)]


def _two_of_three(table: pd.DataFrame) -> pd.Series:
    """GeoDep's persistence rule: the criteria hold in at least 2 of the years t-2, t-1, t.

    A year absent from the data (or a product not imported that year) counts as not met.
    """
    met = table.set_index(["product", "year"])["geodep_criteria"]
    lookup = met.to_dict()
    counts = [
        sum(lookup.get((p, y - lag), False) for lag in (0, 1, 2))
        for p, y in zip(table["product"], table["year"], strict=True)
    ]
    return pd.Series(np.asarray(counts) >= 2, index=table.index)
