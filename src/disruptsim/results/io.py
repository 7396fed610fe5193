"""Files of a result: the atomic directory writing of
:meth:`disruptsim.results.result.SimulationResult.save` and the reading of
:meth:`disruptsim.results.result.SimulationResult.load`.

A result directory holds ``summary.csv``, ``runs.parquet``, ``timeseries.parquet``,
``traces.npz``, ``scenario.resolved.yaml``, ``manifest.json`` and, optionally,
``report.html`` with ``figures/`` (see ``docs/results.md``). It is written into a
temporary sibling directory that replaces the target by a rename, so an interrupted
save leaves no half-written result.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import platform
import secrets
import shutil
import signal
import sys
import threading
import time
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..conventions import METRICS, SYSTEM
from ..safetext import csv_frame
from .outdir import (
    PARTIAL_MARKER,
    OutputWriteError,
    check_output_dir,
    check_writable,
    clean_stale_partials,
    make_partial,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.model import Scenario
    from .result import SimulationResult

__all__ = ["FORMAT_VERSION", "check_output_dir", "machine_info", "read_result", "save_result"]
# check_output_dir lives in .outdir; it is imported here for the callers that know it here.

FORMAT_VERSION = 1
"""Version of the result directory's layout (in ``manifest.json``)."""
_ARRAYS = (
    "trace_fulfilment",
    "trace_stock",
    "mean_fulfilment",
    "mean_stock",
    "shortage_probability",
    "stock_target",
    "final_demand",
    "unit_value",
)


@contextmanager
def _signals_blocked():
    """Hold SIGINT/SIGTERM while the result directory is swapped (main thread only)."""
    can = (
        hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    )
    if not can:
        yield
        return
    sigs = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace_dir(tmp: Path, target: Path, force: bool) -> None:
    """Put the finished ``tmp`` directory at ``target`` by renames."""
    old: Path | None = None
    with _signals_blocked():
        if target.exists() and any(target.iterdir()):
            if not force:  # appeared while we were writing
                check_output_dir(target, force)
            old = target.parent / f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(target, old)
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(old, target)
                raise
        else:
            os.replace(tmp, target)  # onto nothing or an empty directory
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _plain(value: Any) -> Any:
    """Plain YAML-safe data: mappings to dicts, sequences to lists, NumPy scalars to Python."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _yaml_text(result: SimulationResult) -> str:
    text = getattr(result, "_resolved_yaml", None)
    if result.scenario is None and text is not None:
        return text
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    yaml.width = 4096
    buf = io.StringIO()
    data = _plain(result.scenario.data) if result.scenario is not None else {}
    yaml.dump(data, buf)
    return buf.getvalue()


def machine_info() -> dict[str, Any]:
    """Where a result was computed: platform, CPUs, Python and library versions.

    numba is not imported for this (saving a loaded result does not need the kernel):
    its version comes from the package metadata, its thread count only when it is loaded.
    """
    from importlib.metadata import version

    numba = sys.modules.get("numba")
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": version("numba"),
        "pandas": pd.__version__,
        "numba_threads": numba.get_num_threads() if numba is not None else None,
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like :func:`numpy.savez_compressed`, with fast compression (zlib level 1)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for key, value in arrays.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(value), allow_pickle=False)


def _write_runs(result: SimulationResult, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for name in result.strategies:
            frame = result.runs(name)
            frame["product"] = frame["product"].astype(str)
            frame.insert(0, "strategy", name)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _write_files(result: SimulationResult, d: Path, report: bool) -> None:
    t0 = time.perf_counter()
    summary = result.summary()
    csv_frame(summary).to_csv(d / "summary.csv", index=False)  # names: no formulas
    _write_runs(result, d / "runs.parquet")
    timeseries = result.timeseries()
    timeseries.to_parquet(d / "timeseries.parquet", index=False, compression="zstd")
    arrays = {
        f"s{k}.{a}": np.asarray(getattr(s, a))
        for k, s in enumerate(result.strategies.values())
        for a in _ARRAYS
        if getattr(s, a) is not None
    }
    _write_npz(d / "traces.npz", arrays)
    (d / "scenario.resolved.yaml").write_text(_yaml_text(result), encoding="utf-8")
    if report:
        from ..report import write_report

        write_report(result, d, summary=summary, timeseries=timeseries)
    sc = result.scenario
    manifest = {
        "format": "disruptsim-result",
        "format_version": FORMAT_VERSION,
        "disruptsim_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": {
            "name": result.scenario_name,
            "description": sc.description
            if sc is not None
            else result.info.get("scenario_description", ""),
            "path": str(sc.path)
            if sc is not None and sc.path is not None
            else result.info.get("scenario_path"),
            "sha256": sc.sha256 if sc is not None else result.info.get("scenario_sha256"),
            "horizon_days": next(iter(result.strategies.values())).horizon_days,
        },
        "seed": result.seed,
        "generator": result.generator,
        "runs": result.n_runs,
        "strategies": {
            name: {
                "products": list(s.products),
                "row_labels": list(s.row_labels),
                "trace_runs": int(s.trace_fulfilment.shape[0]),
            }
            for name, s in result.strategies.items()
        },
        "units": result.product_units(),
        "timings": {**result.timings, "save": time.perf_counter() - t0},
        "machine": machine_info(),
        "info": result.info,
    }
    manifest["files"] = {
        str(p.relative_to(d)): _sha256(p)
        for p in sorted(d.rglob("*"))
        if p.is_file() and p.name != PARTIAL_MARKER
    }
    text = json.dumps(manifest, indent=2, default=str)
    (d / "manifest.json").write_text(text + "\n", encoding="utf-8")


def save_result(
    result: SimulationResult, directory: str | Path, *, force: bool = False, report: bool = True
) -> Path:
    """Write ``result`` to ``directory`` atomically.

    The implementation of :meth:`SimulationResult.save
    <disruptsim.results.result.SimulationResult.save>`, which documents the parameters, the
    files and the errors. Returns ``directory`` as a Path.
    """
    target = Path(directory)
    check_writable(target)
    check_output_dir(target, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in clean_stale_partials(target.parent):
            warnings.warn(f"removed {stale}, left by a stopped run", stacklevel=3)
        tmp = make_partial(target)
    except OSError as error:
        raise _write_error(target, error) from error
    try:
        _write_files(result, tmp, report)
        os.chmod(tmp, 0o777 & ~_umask())
        (tmp / PARTIAL_MARKER).unlink()
        _replace_dir(tmp, target, force)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(error, FileExistsError | OutputWriteError):
            raise
        raise _write_error(target, error) from error
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write_error(target: Path, error: OSError) -> OutputWriteError:
    reason = error.strerror or str(error)
    if error.filename is not None and error.filename != str(target):
        reason = f"{error.filename}: {reason}"
    return OutputWriteError(target, reason, error.errno)


def _read_scenario(d: Path, manifest: dict[str, Any]) -> Scenario | None:
    try:
        from ..scenario import load_scenario

        scenario = load_scenario(d / "scenario.resolved.yaml")
    except Exception as error:  # a result stays readable when its scenario is not
        warnings.warn(
            f"{d / 'scenario.resolved.yaml'}: scenario not restored: {error}", stacklevel=3
        )
        return None
    meta = manifest["scenario"]
    path = Path(meta["path"]) if meta.get("path") else None
    return replace(scenario, path=path, sha256=meta.get("sha256"))


def read_result(directory: str | Path) -> dict[str, Any]:
    """Read the parts of a result written by :func:`save_result`.

    :meth:`SimulationResult.load <disruptsim.results.result.SimulationResult.load>`
    builds the result from them (this module imports no result class).

    Parameters
    ----------
    directory : str or Path

    Returns
    -------
    dict
        The keyword arguments of ``SimulationResult`` (``strategies``: a mapping of
        strategy name to the keyword arguments of ``StrategyResult``) and
        ``resolved_yaml``, the text of ``scenario.resolved.yaml``.

    Raises
    ------
    FileNotFoundError
        ``directory`` has no ``manifest.json``.
    ValueError
        The manifest is of another format or format version.
    """
    import pyarrow.parquet as pq

    d = Path(directory)

    manifest_path = d / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(errno.ENOENT, "not a disruptsim result (no manifest.json)", str(d))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if (
        manifest.get("format") != "disruptsim-result"
        or manifest.get("format_version") != FORMAT_VERSION
    ):
        raise ValueError(
            f"{manifest_path}: unsupported result format {manifest.get('format_version')!r}"
        )
    runs = int(manifest["runs"])
    table = pq.read_table(d / "runs.parquet").to_pandas()
    strategies: dict[str, dict[str, Any]] = {}
    with np.load(d / "traces.npz") as npz:
        for k, (name, meta) in enumerate(manifest["strategies"].items()):
            products = tuple(meta["products"])
            labels = tuple(meta.get("row_labels") or (*products, SYSTEM))
            sub = table[table["strategy"] == name]
            code = pd.Categorical(sub["product"], categories=labels).codes
            order = np.lexsort((code, sub["run"].to_numpy()))
            values = sub[list(METRICS)].to_numpy(dtype=np.float64)[order]
            arrays = {a: npz[f"s{k}.{a}"] if f"s{k}.{a}" in npz.files else None for a in _ARRAYS}
            strategies[name] = {
                "products": products,
                "metrics": values.reshape(runs, len(labels), len(METRICS)),
                "row_labels": labels,
                **arrays,
            }
    info = dict(manifest.get("info") or {})
    info.setdefault("units", manifest.get("units", {}))
    meta = manifest["scenario"]
    info.setdefault("scenario_name", meta.get("name"))
    info.setdefault("scenario_description", meta.get("description", ""))
    info.setdefault("scenario_path", meta.get("path"))
    info.setdefault("scenario_sha256", meta.get("sha256"))
    timings = {k: v for k, v in manifest.get("timings", {}).items() if k != "save"}
    return {
        "scenario": _read_scenario(d, manifest),
        "seed": int(manifest["seed"]),
        "n_runs": runs,
        "strategies": strategies,
        "generator": manifest["generator"],
        "timings": timings,
        "info": info,
        "resolved_yaml": (d / "scenario.resolved.yaml").read_text(encoding="utf-8"),
    }
