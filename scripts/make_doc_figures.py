"""Regenerate the figures of the docs (docs/figures/*.png): the only writer of that folder.

Usage (from anywhere)::

    python scripts/make_doc_figures.py            # the worked example's figures
    python scripts/make_doc_figures.py --reports  # also the report screenshots (chromium)

Runs the Python examples of docs/worked-example.md in order from the repository root, as
``tests/test_docs.py`` does in a scratch directory; the page writes its figures to a
temporary directory (its ``figures`` variable), from which they are copied into
docs/figures/, so the committed figures are the ones the documented code makes.

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
PAGE = ROOT / "docs" / "worked-example.md"
FENCE = re.compile(r"^```python\s*$\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


FIGURES = ROOT / "docs" / "figures"
REPORTS = {"solar-pv": 1, "russian-gas-2022": 1}
"""Shipped scenarios whose report tops are shown in docs/results.md, with their seeds."""
REPORT_RUNS = 5000
SCREEN = (1280, 1350)
"""Width and height (CSS pixels) of a report screenshot: the summary and the table."""


def worked_example() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(ROOT)
    FIGURES.mkdir(exist_ok=True)
    namespace: dict = {"__name__": "worked_example"}
    for number, match in enumerate(FENCE.finditer(PAGE.read_text(encoding="utf-8")), start=1):
        exec(compile(match.group(1), f"{PAGE.name} block {number}", "exec"), namespace)
    for png in sorted(Path(namespace["figures"]).glob("worked-example-*.png")):
        shutil.copyfile(png, FIGURES / png.name)
        print(f"wrote {(FIGURES / png.name).relative_to(ROOT)}")


def report_screenshots() -> None:
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
    worked_example()
    if "--reports" in sys.argv[1:]:
        report_screenshots()


if __name__ == "__main__":
    main()
