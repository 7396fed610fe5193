"""The HTML report of a result: matplotlib figures (Agg, no pyplot state) and a
self-contained ``report.html`` with the figures embedded and saved beside it as PNG.

matplotlib is imported only when a figure is drawn: :mod:`disruptsim.report.format`
(number formatting shared with the command line) does not need it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_figures", "render_html", "write_report"]


def __getattr__(name: str) -> Any:
    if name == "make_figures":
        from .figure_list import make_figures

        return make_figures
    if name in ("render_html", "write_report"):
        from . import html

        return getattr(html, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
