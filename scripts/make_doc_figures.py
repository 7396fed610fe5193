"""Regenerate the figures of the documentation pages that draw them (docs/figures/*.png).

Usage (from anywhere)::

    python scripts/make_doc_figures.py                      # every page below
    python scripts/make_doc_figures.py design-the-response  # one page

Runs each page's Python examples in order from the repository root, exactly as
``tests/test_docs.py`` does in a scratch directory, so the committed figures are the ones
the documented code makes (pages: docs/worked-example.md, docs/design-the-response.md;
files the examples write besides figures go to out/, which git ignores).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"worked-example": "worked-example-", "design-the-response": "design-"}
"""Pages whose examples draw figures, and the prefix of their figures' names."""
FENCE = re.compile(r"^```python\s*$\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def main() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(ROOT)
    (ROOT / "docs" / "figures").mkdir(exist_ok=True)
    names = sys.argv[1:] or list(PAGES)
    for name in names:
        if name not in PAGES:
            sys.exit(f"unknown page {name!r}; expected one of: {', '.join(PAGES)}")
        page = ROOT / "docs" / f"{name}.md"
        namespace: dict = {"__name__": name.replace("-", "_")}
        for number, match in enumerate(FENCE.finditer(page.read_text(encoding="utf-8")), start=1):
            exec(compile(match.group(1), f"{page.name} block {number}", "exec"), namespace)
        for png in sorted((ROOT / "docs" / "figures").glob(f"{PAGES[name]}*.png")):
            print(f"wrote {png.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
