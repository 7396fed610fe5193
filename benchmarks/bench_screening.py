"""Screening a full BACI year: wall time and peak memory of ``disruptsim.screen``.

Generates a synthetic BACI-layout CSV of about 11 million rows (a real year: ~200 exporters,
~200 importers, ~5,000 HS6 products, sparse: each product traded by a skewed subset of
countries), then screens it for the EU27 in a child process and reports the child's wall
time, CPU time (less sensitive to a shared machine's load) and peak resident memory
(``ru_maxrss``), so generation does not count. The targets
are under 60 s and under 4 GB. The generated file goes to a temporary folder (or
``--data``) and is never written into the repository.

    python benchmarks/bench_screening.py            # ~11 million rows
    python benchmarks/bench_screening.py --quick    # ~1 million rows
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, run_header, write_json  # noqa: E402

COUNTRIES = 220
PRODUCTS = 5_000
TARGET_SECONDS, TARGET_BYTES = 60.0, 4 * 1024**3


def country_codes() -> np.ndarray:
    """Numeric codes of ~220 countries as BACI writes them (UN Comtrade exceptions included)."""
    from disruptsim.screening.countries import CountryTable

    table = CountryTable.default()
    known = np.flatnonzero(table.index >= 0)
    # One numeric code per label, preferring the Comtrade spelling (842 over 840, ...).
    chosen: dict[int, int] = {}
    for code in known[::-1]:
        chosen.setdefault(int(table.index[code]), int(code))
    codes = np.array(sorted(chosen.values()))
    rng = np.random.default_rng(7)
    eu = [276, 251, 380, 724, 528, 56, 40, 616, 752, 208, 246, 372, 620, 300, 203, 348]
    rest = rng.choice(np.setdiff1d(codes, eu), COUNTRIES - len(eu), replace=False)
    return np.concatenate([eu, rest])


def generate(path: Path, rows: int, seed: int = 1) -> int:
    """Write a synthetic BACI year with about ``rows`` distinct flows; return the count."""
    rng = np.random.default_rng(seed)
    codes = country_codes()
    n = len(codes)
    # Skewed activity: a few countries trade almost everything, most trade little.
    exporter_weight = 1.0 / np.arange(1, n + 1) ** 0.8
    importer_weight = 1.0 / np.arange(1, n + 1) ** 0.5
    rng.shuffle(importer_weight)
    product_weight = rng.lognormal(0.0, 0.6, PRODUCTS)
    draw = int(rows * 1.25)
    i = rng.choice(n, draw, p=exporter_weight / exporter_weight.sum())
    j = rng.choice(n, draw, p=importer_weight / importer_weight.sum())
    k = rng.choice(PRODUCTS, draw, p=product_weight / product_weight.sum())
    key = np.unique((k.astype(np.int64) * n + i) * n + j)
    key = key[(key % n) != ((key // n) % n)]  # no trade with oneself
    key = rng.permutation(key)[:rows]
    key.sort()
    j, rest = key % n, key // n
    i, k = rest % n, rest // n
    hs6 = np.sort(rng.choice(np.arange(10_000, 970_000), PRODUCTS, replace=False))
    value = np.round(rng.lognormal(3.0, 2.5, len(key)), 3)
    tonnes = np.round(value * rng.lognormal(-1.0, 1.5, len(key)), 3)
    q = pa.array(np.char.mod("%.3f", tonnes))
    missing = rng.random(len(key)) < 0.03
    q = pa.array(np.where(missing, "         NA", q.to_numpy(zero_copy_only=False)))
    table = pa.table(
        {
            "t": pa.array(np.full(len(key), 2023, dtype=np.int32)),
            "i": pa.array(codes[i].astype(np.int32)),
            "j": pa.array(codes[j].astype(np.int32)),
            "k": pa.array(np.char.zfill(hs6[k].astype(str), 6)),
            "v": pa.array(value),
            "q": q,
        }
    )
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="none"))
    return len(key)


CHILD = """
import json, resource, sys, time
start = time.perf_counter()
import disruptsim as ds
table = ds.screen([sys.argv[1]], importer="EU27", out=sys.argv[2], html=sys.argv[3])
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
peak = usage.ru_maxrss * 1024
print(json.dumps({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "peak_bytes": peak, "rows_out": len(table),
                  "flagged_eu2021": int(table["flag_eu2021"].sum())}))
"""


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None, help="reuse or keep the generated CSV here")
    args = p.parse_args()
    rows = 1_000_000 if args.quick else 11_000_000
    from disruptsim.run import bench

    info = bench.system_info()
    with tempfile.TemporaryDirectory() as scratch:
        data = args.data or Path(scratch) / "baci_synthetic_year.csv"
        if not data.exists():
            t0 = time.perf_counter()
            written = generate(data, rows)
            print(f"generated {written:,} rows in {time.perf_counter() - t0:.1f} s: {data}")
        size = data.stat().st_size
        out, page = Path(scratch) / "screening.csv", Path(scratch) / "screening.html"
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(data), str(out), str(page)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(
        f"screened {rows:,} rows ({size / 1e6:.0f} MB of CSV) in {figures['wall_s']:.1f} s wall, "
        f"{figures['cpu_s']:.1f} s CPU "
        f"(target < {TARGET_SECONDS:.0f} s), peak RSS {figures['peak_bytes'] / 1024**3:.2f} GiB "
        f"(target < {TARGET_BYTES / 1024**3:.0f} GiB); {figures['rows_out']:,} product rows, "
        f"{figures['flagged_eu2021']:,} flagged (EU 2021 criteria)"
    )
    within = figures["wall_s"] < TARGET_SECONDS and figures["peak_bytes"] < TARGET_BYTES
    print("within targets" if within else "OUTSIDE TARGETS")
    write_json(
        "bench_screening",
        args,
        {
            "rows": rows,
            "csv_bytes": size,
            **figures,
            "peak_bytes_children": children,
            "within_targets": within,
            **run_header(
                info,
                "wall time includes Python start, imports, reading, indicators, CSV and HTML output",
            ),
        },
    )


if __name__ == "__main__":
    main()
