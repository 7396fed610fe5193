"""Regenerate the figures of docs/worked-example.md (docs/figures/*.png).

Usage (from anywhere)::

    python scripts/make_doc_figures.py

Runs the page's Python examples in order from the repository root, exactly as
``tests/test_docs.py`` does in a scratch directory, so the committed figures are the ones
the documented code makes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "worked-example.md"
FENCE = re.compile(r"^```python\s*$\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def main() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(ROOT)
    (ROOT / "docs" / "figures").mkdir(exist_ok=True)
    namespace: dict = {"__name__": "worked_example"}
    for number, match in enumerate(FENCE.finditer(PAGE.read_text(encoding="utf-8")), start=1):
        exec(compile(match.group(1), f"{PAGE.name} block {number}", "exec"), namespace)
    for png in sorted((ROOT / "docs" / "figures").glob("worked-example-*.png")):
        print(f"wrote {png.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
