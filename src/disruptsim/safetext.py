"""Text from input files made safe to show: in a terminal and in a CSV cell.

Names and descriptions come from scenario files, which may come from anyone. In a
terminal, control characters (escape sequences, carriage returns, bidirectional
overrides) could rewrite what the user sees: :func:`terminal_text` shows them as
``\\x1b``-style escapes instead. In a spreadsheet, a cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is read as a formula: :func:`csv_cell` prefixes
it with a single quote (the OWASP rule for CSV injection). HTML is escaped by the
report's templates.
"""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["CSV_FORMULA_STARTS", "csv_cell", "csv_frame", "terminal_markup", "terminal_text"]

CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""


def _shown(char: str) -> str:
    if unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp"):
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: Any) -> str:
    """``str(text)`` with every control or format character (category Cc, Cf, Zl, Zp)
    written as a visible escape: ``"a\\x1b[2Jb"`` -> ``'a\\\\x1b[2Jb'``."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(_shown(c) for c in text)


def terminal_markup(text: Any) -> str:
    """:func:`terminal_text`, with rich markup (``[bold]``) escaped too, for
    ``Console.print``."""
    from rich.markup import escape

    return escape(terminal_text(text))


def csv_cell(value: Any) -> Any:
    """A string that a spreadsheet would read as a formula, prefixed with ``'``; any
    other value unchanged."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS):
        return "'" + value
    return value


def csv_frame(frame):
    """A copy of a DataFrame with :func:`csv_cell` applied to its text cells and column
    names (numbers are unchanged: a negative number is not a formula)."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not (is_numeric_dtype(values) or is_bool_dtype(values)):
            out[column] = values.astype(object).map(csv_cell)
    out.columns = [csv_cell(c) for c in out.columns]
    return out
