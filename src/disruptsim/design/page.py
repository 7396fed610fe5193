"""Self-contained HTML pages of design studies (sweep, sizing, sensitivity).

Every text from the scenario or the user (names, paths) is escaped; figures are inlined
as base64 PNG; the page is written atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from .._version import __version__
from ..report.html import _CSS

DPI = 110


def escape(text: object) -> str:
    """Text for HTML (quotes included)."""
    return html.escape(str(text), quote=True)


def figure_png(fig: Figure) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def figure_html(png: bytes, title: str, caption: str) -> str:
    """A figure element with the PNG inlined."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f"<figure><img alt='{escape(title)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def table_html(
    frame: pd.DataFrame,
    formats: dict[str, str] | None = None,
    highlight: Sequence[bool] | None = None,
) -> str:
    """A table of a frame, every cell escaped; ``formats`` maps a column to a format spec."""
    formats = formats or {}
    head = "".join(f"<th class=name>{escape(c)}</th>" for c in frame.columns)
    rows = []
    for k, (_, row) in enumerate(frame.iterrows()):
        cells = []
        for c in frame.columns:
            v = row[c]
            if c in formats and isinstance(v, int | float) and v == v:
                text = format(v, formats[c])
            else:
                text = "–" if isinstance(v, float) and v != v else str(v)
            cls = " class=name" if isinstance(v, str) else ""
            cells.append(f"<td{cls}>{escape(text)}</td>")
        mark = " class=best" if highlight is not None and highlight[k] else ""
        rows.append(f"<tr{mark}>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def page(title: str, meta: Sequence[tuple[str, object]], body: Sequence[str]) -> str:
    """A whole HTML document: a title, a table of facts about the study, then ``body``
    (already-escaped HTML fragments)."""
    meta = [
        *meta,
        ("disruptsim", __version__),
        ("Created", datetime.now(UTC).isoformat(timespec="seconds")),
    ]
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<table class=meta>"
        + "".join(f"<tr><th class=name>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in meta)
        + "</table>",
        *body,
        "</body></html>",
    ]
    return "\n".join(parts)


def write_atomic(path: str | Path, text: str, *, force: bool = False) -> Path:
    """Write a text file atomically; refuse to replace an existing file unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; choose another path or pass force=True (--force)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
