"""Regenerate the figures of the docs (docs/figures/*.png): the only writer of that folder.

Usage (from anywhere)::

    python scripts/make_doc_figures.py                     # every page
    python scripts/make_doc_figures.py how-to-situation    # one page
    python scripts/make_doc_figures.py --reports           # also the report screenshots

Runs each page's Python examples in order from the repository root, exactly as
``tests/test_docs.py`` does in a scratch directory. A page writes its figures to a
temporary directory (its ``figures`` variable), never into the checkout; they are copied
from there into docs/figures/, so the committed figures are the ones the documented code
makes.

With ``--reports``, the tops of the HTML reports of two shipped scenarios are captured in
headless chromium (docs/figures/report-*.png, shown in docs/results.md).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    name: ROOT / "docs" / f"{name}.md"
    for name in ("worked-example", "how-to-situation", "design-the-response")
}
FENCE = re.compile(r"^```python\s*$\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
FIGURES = ROOT / "docs" / "figures"
REPORTS = {"solar-pv": 1, "russian-gas-2022": 1}
"""Shipped scenarios whose report tops are shown in docs/results.md, with their seeds."""
REPORT_RUNS = 5000
SCREEN = (1280, 1350)
"""Width and height (CSS pixels) of a report screenshot: the summary and the table."""


def page_figures(prefix: str) -> None:
    """Run one page's examples and copy the figures it made into docs/figures/."""
    page = PAGES[prefix]
    namespace: dict = {"__name__": prefix.replace("-", "_")}
    for number, match in enumerate(FENCE.finditer(page.read_text(encoding="utf-8")), start=1):
        exec(compile(match.group(1), f"{page.name} block {number}", "exec"), namespace)
    for png in sorted(Path(namespace["figures"]).glob(f"{prefix}-*.png")):
        shutil.copyfile(png, FIGURES / png.name)
        print(f"wrote {(FIGURES / png.name).relative_to(ROOT)}")


def report_screenshots() -> None:
    """The top of the report of each of :data:`REPORTS`, in headless chromium."""
    import disruptsim as ds

    with tempfile.TemporaryDirectory() as tmp:
        for name, seed in REPORTS.items():
            out = Path(tmp) / name
            ds.simulate(ds.examples.path(name), runs=REPORT_RUNS, seed=seed).save(out)
            target = FIGURES / f"report-{name}.png"
            subprocess.run(
                [
                    "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", f"--user-data-dir={Path(tmp) / 'profile'}",
                    f"--screenshot={target}", f"--window-size={SCREEN[0]},{SCREEN[1]}",
                    (out / "report.html").as_uri(),
                ],
                check=True,
                capture_output=True,
            )  # fmt: skip
            print(f"wrote {target.relative_to(ROOT)}")


def main() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(ROOT)
    FIGURES.mkdir(exist_ok=True)
    args = sys.argv[1:]
    reports = "--reports" in args
    chosen = [a for a in args if a != "--reports"] or list(PAGES)
    unknown = [name for name in chosen if name not in PAGES]
    if unknown:
        sys.exit(f"unknown page {unknown[0]!r}; pages: {', '.join(PAGES)}")
    for prefix in chosen:
        page_figures(prefix)
    if reports:
        report_screenshots()


if __name__ == "__main__":
    main()
