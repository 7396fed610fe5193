"""Screening trade data for risky dependencies, and drafting scenarios from it.

``screen`` reads bilateral trade (BACI layout or UN Comtrade bulk files) and returns the
dependency indicators of an importer per product and year; ``draft_scenario`` writes a
scenario YAML for chosen products from the same data. See ``docs/screening.md``.
"""

from __future__ import annotations

from pathlib import Path

from .countries import BLOCS, COMTRADE_EXCEPTIONS, EU27, CountryTable, read_country_codes
from .draft import draft_scenario
from .readers import TradeData, read_trade
from .screen import screen

__all__ = [
    "BLOCS",
    "COMTRADE_EXCEPTIONS",
    "EU27",
    "SAMPLE_TRADE_FILE",
    "CountryTable",
    "TradeData",
    "draft_scenario",
    "read_country_codes",
    "read_trade",
    "screen",
]

SAMPLE_TRADE_FILE = Path(__file__).resolve().parent / "data" / "baci_synthetic.csv"
"""A small synthetic trade file in the BACI layout, installed with the package (for examples
and tests; its numbers are made up, see ``docs/screening.md``)."""
