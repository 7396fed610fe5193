"""Atomic writing of screening outputs: every file is complete or absent, never half written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from ..errors import Problem, ScenarioError
from ..safetext import csv_frame

__all__ = ["csv_safe", "table_writer", "write_all"]


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot be read as formulas by a spreadsheet (``'`` prefix);
    :func:`disruptsim.safetext.csv_frame`, the rule of every CSV disruptsim writes."""
    return csv_frame(frame)


def table_writer(frame: pd.DataFrame, target: Path) -> Callable[[Path], None]:
    """A writer of ``frame`` in the format of ``target``'s suffix: Parquet for ``.parquet``
    or ``.pq``, else CSV (text cells made safe for spreadsheets)."""
    if target.suffix.lower() in (".parquet", ".pq"):
        return lambda path: frame.to_parquet(path, index=False)
    return lambda path: csv_safe(frame).to_csv(path, index=False)


def _check_targets(targets: Mapping[Path, Callable[[Path], None]], force: bool) -> None:
    problems = []
    for path in targets:
        if path.is_dir():
            problems.append(
                Problem(str(path), None, None, "", "is a directory; expected a file name")
            )
        elif path.exists() and not force:
            problems.append(
                Problem(str(path), None, None, "", "exists; use --force (force=True) to replace it")
            )
        elif not path.parent.is_dir():
            problems.append(Problem(str(path), None, None, "", "its folder does not exist"))
    if problems:
        raise ScenarioError(problems)


def write_all(targets: Mapping[Path, Callable[[Path], None]], force: bool = False) -> None:
    """Write every file of ``targets`` (path -> writer of a path), all or none.

    Each writer writes a temporary file beside its target; only when all succeeded are they
    renamed into place. An existing target is replaced only with ``force``.
    """
    targets = {Path(p): w for p, w in targets.items()}
    _check_targets(targets, force)
    written: list[tuple[Path, Path]] = []
    try:
        for path, writer in targets.items():
            handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(handle)
            written.append((Path(tmp), path))
            writer(Path(tmp))
        for tmp, path in written:
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        written.clear()
    finally:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
