"""The output directory of a result: may it receive one, and what is ours to remove.

Rules (``docs/cli.md``, "Output directory"):

- a directory that does not exist, or is empty, receives the result;
- with ``force``, a directory that holds a disruptsim result (its ``manifest.json``,
  and no file the manifest does not list) is replaced; anything else is refused and
  left untouched;
- a symbolic link is refused (the result is put in place by a rename, which would
  replace the link, not the directory it points to), and so is a file;
- before anything is simulated, the place is checked writable: the nearest existing
  parent must be a writable directory and every new name short enough;
- a result is written into a sibling ``.<name>.partial-<random>`` directory holding a
  :data:`PARTIAL_MARKER` file (process id and host); one left by a killed run (its
  process gone, same host) is removed by the next save into the same parent.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

__all__ = [
    "PARTIAL_MARKER",
    "OutputExistsError",
    "OutputWriteError",
    "check_output_dir",
    "check_writable",
    "clean_stale_partials",
    "make_partial",
]

PARTIAL_MARKER = ".disruptsim-partial"
"""File inside a result being written: JSON with the writer's ``pid`` and ``host``."""
_PARTIAL_NAME = re.compile(r"^\..{1,64}\.partial-[A-Za-z0-9_]+$", re.DOTALL)
_MANIFEST = "manifest.json"


class OutputExistsError(FileExistsError):
    """The output place holds something that is not ours to replace.

    ``force_hint`` says that ``force`` (``--force``) would replace it.
    """

    def __init__(self, path: str | Path, reason: str, *, force_hint: bool = False):
        super().__init__(errno.EEXIST, reason, str(path))
        self.force_hint = force_hint

    def __str__(self) -> str:
        hint = "; pass force=True to replace it" if self.force_hint else ""
        return f"{self.filename}: {self.strerror}{hint}"


class OutputWriteError(OSError):
    """The result cannot be written there (permissions, read-only, full, name too long)."""

    def __init__(self, path: str | Path, reason: str, code: int | None = None):
        super().__init__(code or errno.EIO, reason, str(path))

    def __str__(self) -> str:
        return f"{self.filename}: cannot write: {self.strerror}"


def _result_files(path: Path) -> set[str] | None:
    """Files of the disruptsim result in ``path`` (manifest included), None if not one."""
    try:
        manifest = json.loads((path / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != "disruptsim-result":
        return None
    files = manifest.get("files")
    return {_MANIFEST, *(files if isinstance(files, dict) else ())}


def check_output_dir(directory: str | Path, force: bool = False) -> None:
    """Raise unless ``directory`` may receive a result (see the module's rules).

    Raises
    ------
    OutputExistsError
        A file, a symbolic link, a non-empty directory (without ``force``) or, with
        ``force``, a directory that is not a disruptsim result. A ``FileExistsError``.
    """
    path = Path(directory)
    if path.is_symlink():
        raise OutputExistsError(
            path,
            f"is a symbolic link (to {os.readlink(path)}); a result is put in place by a "
            "rename, which would replace the link: give the directory itself",
        )
    if not path.exists():
        return
    if not path.is_dir():
        raise OutputExistsError(path, "exists and is not a directory")
    entries = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if not p.is_dir())
    if not entries and not any(path.iterdir()):
        return
    if not force:
        raise OutputExistsError(path, "output directory exists and is not empty", force_hint=True)
    ours = _result_files(path)
    if ours is None:
        raise OutputExistsError(
            path,
            "output directory is not empty and holds no disruptsim result (no manifest.json "
            "of one); only a previous result is replaced, so it is left untouched",
        )
    foreign = [e for e in entries if e not in ours and not e.startswith("figures/")]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise OutputExistsError(
            path,
            f"output directory holds a disruptsim result and other files ({shown}); "
            "only a result on its own is replaced, so it is left untouched",
        )


def check_writable(directory: str | Path) -> None:
    """Raise unless a result could be created at ``directory`` (nothing is created).

    Raises
    ------
    OutputWriteError
    """
    path = Path(os.path.abspath(directory))
    limit = _name_max()
    for name in path.parts[1:]:
        if len(os.fsencode(name)) > limit:
            raise OutputWriteError(
                directory,
                f"file name too long ({len(os.fsencode(name))} bytes; the limit is {limit})",
                errno.ENAMETOOLONG,
            )
    parent = path.parent  # the result is renamed into place there
    while not parent.exists() and not parent.is_symlink():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputWriteError(directory, f"{parent} is not a directory", errno.ENOTDIR)
    if not os.access(parent, os.W_OK | os.X_OK):
        reason = "read-only file system" if _read_only(parent) else "permission denied"
        raise OutputWriteError(directory, f"{parent}: {reason}", errno.EACCES)


def _name_max() -> int:
    try:
        return int(os.pathconf("/", "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no such limit
        return 255


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # pragma: no cover
        return False


def make_partial(target: Path) -> Path:
    """Create the temporary sibling directory a result is written into, with its marker."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name[:64]}.partial-", dir=target.parent))
    marker = {"pid": os.getpid(), "host": socket.gethostname()}
    (tmp / PARTIAL_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    return tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def clean_stale_partials(parent: str | Path) -> list[Path]:
    """Remove the partial results in ``parent`` left by killed runs; return them.

    Only directories named like ours, holding our marker, written on this host by a
    process that no longer exists are removed (never a link, never anything else).
    """
    removed = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return []
    host = socket.gethostname()
    for entry in entries:
        if not _PARTIAL_NAME.match(entry.name) or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            marker = json.loads((entry / PARTIAL_MARKER).read_text(encoding="utf-8"))
            pid, where = int(marker["pid"]), marker["host"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if where != host or _alive(pid):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            removed.append(entry)
    return removed
