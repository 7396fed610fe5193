"""Number formatting shared by the HTML report and the command line."""

from __future__ import annotations

import math

__all__ = [
    "EURO_SCALES",
    "euro_scale",
    "format_days",
    "format_euros",
    "format_interval",
    "format_percent",
    "format_ratio",
    "format_runs",
]

EURO_SCALES = ((1e9, "bn", "billion"), (1e6, "m", "million"), (1e3, "k", "thousand"))
"""Scales of euro amounts: divisor, short and long name."""


def euro_scale(top: float) -> tuple[float, str, str]:
    """The scale of amounts up to ``top`` in absolute value: divisor, short and long
    name (``(1e6, "m", "million")``; ``(1.0, "", "")`` below a thousand). The one scale
    rule of the tables (terminal, HTML) and the figures."""
    for div, short, long in EURO_SCALES:
        if abs(top) >= div:
            return div, short, long
    return 1.0, "", ""


def format_euros(value: float, scale_of: float | None = None, digits: int = 3) -> str:
    """``€1.23 m``: euros with about ``digits`` significant figures.

    ``scale_of`` picks the scale (k, m, bn) from another value, so that an interval
    prints on one scale: ``format_euros(low, scale_of=high)``.
    """
    if value is None or math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    div, suffix, _ = euro_scale(value if scale_of is None or math.isnan(scale_of) else scale_of)
    x = value / div
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(x))))) if x != 0 else 0
    if scale_of is not None and not math.isnan(scale_of) and scale_of != 0:
        ref = abs(scale_of) / div
        decimals = max(0, digits - 1 - int(math.floor(math.log10(ref))))
    sign = "−" if x < 0 else ""
    text = f"{abs(x):,.{decimals}f}"
    return f"{sign}€{text}" + (f"\u00a0{suffix}" if suffix else "")  # no line break inside


def format_interval(low: float, high: float, kind: str = "euros") -> str:
    """``[€1.2 m, €3.4 m]`` (``kind``: euros, days, percent)."""
    if any(v is None or math.isnan(v) for v in (low, high)):
        return "–"
    if kind == "euros":
        ref = max(abs(low), abs(high))
        return f"[{format_euros(low, ref)}, {format_euros(high, ref)}]"
    if kind == "percent":
        return f"[{format_percent(low)}, {format_percent(high)}]"
    return f"[{format_days(low)}, {format_days(high)}]"


def format_percent(p: float) -> str:
    """A probability as a percentage with sensible precision (``7.9%``, ``0.05%``)."""
    if p is None or math.isnan(p):
        return "–"
    x = 100.0 * p
    if x == 0 or x == 100 or abs(x) >= 10:
        return f"{x:.0f}%" if x in (0.0, 100.0) else f"{x:.1f}%"
    if abs(x) >= 0.1:
        return f"{x:.2g}%" if abs(x) < 1 else f"{x:.1f}%"
    return f"{x:.1g}%"


def format_days(d: float) -> str:
    """Days with one decimal below 100 (``12.3 d``), whole days above."""
    if d is None or math.isnan(d):
        return "–"
    return f"{d:.1f} d" if abs(d) < 100 else f"{d:,.0f} d"


def format_ratio(r: float) -> str:
    """A benefit-cost ratio (``3.2``, ``∞``, ``–`` for undefined)."""
    if r is None or math.isnan(r):
        return "–"
    if math.isinf(r):
        return "∞" if r > 0 else "−∞"
    if r == 0 or abs(r) >= 10:
        return f"{r:,.0f}"
    return f"{r:.2f}" if abs(r) >= 1 else f"{r:.2g}"


def format_runs(n: float) -> str:
    """A run count, rounded up to two significant figures (``≈ 12,000``)."""
    if n is None or math.isnan(n):
        return "–"
    if math.isinf(n):
        return "no finite number"
    n = int(n)
    if n < 100:
        return f"{n:,d}"
    mag = 10 ** (len(str(n)) - 2)
    return f"{-(-n // mag) * mag:,d}"
