"""Screenshots of the exercise console for docs/exercise.md, from the real console.

Starts ``disruptsim exercise exercises/antibiotics-api.yaml`` on a free port, plays the
first turns through the facilitator's forms (advance, a decision, an early inject, a
look-ahead), then has headless chromium photograph both views:
docs/figures/exercise-facilitator.png and docs/figures/exercise-participants.png.

    python scripts/make_exercise_screenshots.py
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"


def post(url: str, fields: list[tuple[str, str]]) -> None:
    data = urllib.parse.urlencode(fields).encode()
    urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=300).read()


def main() -> None:
    chromium = shutil.which("chromium") or sys.exit("needs chromium")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "disruptsim",
                "exercise",
                "exercises/antibiotics-api.yaml",
                "--port",
                "0",
                "--out",
                tmp,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            urls = {}
            while len(urls) < 2:
                line = proc.stdout.readline()
                if not line:
                    sys.exit("the console did not start")
                if line.startswith(("Facilitator:", "Participants:")):
                    urls[line.split(":")[0]] = line.split()[1]
            facilitator, participants = urls["Facilitator"], urls["Participants"]
            base = facilitator.rsplit("/", 1)[0]
            page = urllib.request.urlopen(facilitator, timeout=60).read().decode()
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            post(f"{base}/facilitator/advance", [("csrf", csrf), ("turns", "1")])
            post(
                f"{base}/facilitator/decide",
                [
                    ("csrf", csrf),
                    ("id", "emergency_sourcing"),
                    ("note", "Start now: approval takes months"),
                ],
            )
            post(f"{base}/facilitator/advance", [("csrf", csrf), ("turns", "1")])
            post(f"{base}/facilitator/advance", [("csrf", csrf), ("turns", "1")])
            post(
                f"{base}/facilitator/note",
                [
                    ("csrf", csrf),
                    ("text", "Wholesalers' stock figures arrived a week late."),
                    ("author", "evaluator"),
                ],
            )
            options = [
                ("option", "ration_stock"),
                ("option", "joint_purchase"),
                ("option", "prescribing_guidance"),
            ]
            post(f"{base}/facilitator/lookahead", [("csrf", csrf), *options, ("runs", "2000")])
            FIGURES.mkdir(parents=True, exist_ok=True)
            for name, url, height in (
                ("facilitator", facilitator, 2300),
                ("participants", participants, 1500),
            ):
                out = FIGURES / f"exercise-{name}.png"
                with tempfile.TemporaryDirectory() as profile:
                    subprocess.run(
                        [
                            chromium,
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            "--no-first-run",
                            f"--user-data-dir={profile}",
                            "--hide-scrollbars",
                            f"--screenshot={out}",
                            f"--window-size=1280,{height}",
                            url,
                        ],
                        check=True,
                        capture_output=True,
                        timeout=120,
                    )
                print(f"wrote {out.relative_to(ROOT)}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
