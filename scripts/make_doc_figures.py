"""Regenerate the figures of docs/worked-example.md and docs/how-to-situation.md (docs/figures/*.png).

Usage (from anywhere)::

    python scripts/make_doc_figures.py                     # every page
    python scripts/make_doc_figures.py how-to-situation    # one page

Runs each page's Python examples in order from the repository root, exactly as
``tests/test_docs.py`` does in a scratch directory, so the committed figures are the ones
the documented code makes.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {name: ROOT / "docs" / f"{name}.md" for name in ("worked-example", "how-to-situation")}
FENCE = re.compile(r"^```python\s*$\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def main() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(ROOT)
    (ROOT / "docs" / "figures").mkdir(exist_ok=True)
    chosen = sys.argv[1:] or list(PAGES)
    unknown = [name for name in chosen if name not in PAGES]
    if unknown:
        sys.exit(f"unknown page {unknown[0]!r}; pages: {', '.join(PAGES)}")
    for prefix in chosen:
        page = PAGES[prefix]
        namespace: dict = {"__name__": prefix.replace("-", "_")}
        for number, match in enumerate(FENCE.finditer(page.read_text(encoding="utf-8")), start=1):
            exec(compile(match.group(1), f"{page.name} block {number}", "exec"), namespace)
        for png in sorted((ROOT / "docs" / "figures").glob(f"{prefix}-*.png")):
            print(f"wrote {png.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
