"""Every code example in docs/*.md runs.

For each Markdown file: its ```python blocks run in order in one fresh namespace, and its
```bash blocks whose every command line starts with ``disruptsim `` run as subprocesses
(``python -m disruptsim ...``) and must exit with status 0, except commands that need a Dask
scheduler, benchmarks and runs of more than ``MAX_DOC_RUNS`` runs (too slow for the suite).
A block directly preceded by a ``<!-- no-test -->`` line is skipped. Blocks run in a scratch directory that links to the
repository's ``scenarios/``, so relative paths in the docs work as from the repository root
while any files the examples write (``out/``, figures) stay out of the repository.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIP_MARK = "<!-- no-test -->"
FENCE = re.compile(r"^```(\w*)\s*$")
COMMAND_TIMEOUT_S = 300


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int  # line number of the opening fence
    skipped: bool


def code_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, in order."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        start = i
        language = match.group(1)
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        previous = next(
            (lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), ""
        )
        blocks.append(Block(language, "\n".join(body) + "\n", start + 1, previous == SKIP_MARK))
        i += 1
    return blocks


def disruptsim_commands(block: Block) -> list[list[str]] | None:
    """The argument lists of a bash block made only of ``disruptsim`` commands, else None.

    Lines ending in a backslash continue on the next line.
    """
    commands = []
    joined = block.code.replace("\\\n", " ")
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("disruptsim "):
            return None
        commands.append(shlex.split(line, comments=True)[1:])
    return commands or None


MAX_DOC_RUNS = 5000
"""A documented ``disruptsim run`` with more runs than this is not run by the tests."""


def too_slow_or_remote(args: list[str]) -> str | None:
    """Why a documented command is not run here (None: run it)."""
    if args and args[0] == "bench":
        return "benchmarks are not run by the docs tests"
    if "--scheduler" in args:
        return "needs a Dask scheduler"
    for flag in ("--runs", "-n"):
        if flag in args:
            index = args.index(flag) + 1
            if index < len(args) and args[index].replace("_", "").isdigit():
                if int(args[index].replace("_", "")) > MAX_DOC_RUNS:
                    return f"more than {MAX_DOC_RUNS} runs"
    return None


def scratch_dir(tmp_path: Path) -> Path:
    """A working directory that looks like the repository root for reading scenarios."""
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    (tmp_path / "exercises").symlink_to(ROOT / "exercises", target_is_directory=True)
    (tmp_path / "docs" / "figures").mkdir(parents=True)
    return tmp_path


DOC_FILES = sorted(DOCS.glob("*.md"))


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: p.name)
def test_doc_examples_run(doc, tmp_path, monkeypatch):
    blocks = [b for b in code_blocks(doc.read_text(encoding="utf-8")) if not b.skipped]
    runnable = [
        b
        for b in blocks
        if b.language == "python" or (b.language == "bash" and disruptsim_commands(b))
    ]
    if not runnable:
        pytest.skip(f"{doc.name} has no runnable examples")
    if any("dask" in b.code for b in runnable):
        pytest.importorskip("distributed", reason=f"{doc.name}'s examples need disruptsim[dask]")
    work = scratch_dir(tmp_path)
    monkeypatch.chdir(work)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": f"docs_{doc.stem.replace('-', '_')}"}
    env = {**os.environ, "MPLBACKEND": "Agg"}
    for block in runnable:
        where = f"{doc.name}, block at line {block.line}"
        if block.language == "python":
            code = compile(block.code, f"{doc.name}:{block.line}", "exec")
            try:
                exec(code, namespace)
            except Exception as error:  # pragma: no cover - the failure message is the point
                raise AssertionError(f"{where} failed: {error!r}") from error
            continue
        for args in disruptsim_commands(block):
            if too_slow_or_remote(args):
                continue
            done = subprocess.run(
                [sys.executable, "-m", "disruptsim", *args],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
            )
            assert done.returncode == 0, (
                f"{where}: disruptsim {shlex.join(args)} exited with {done.returncode}\n{done.stderr}"
            )


def test_code_blocks_parser():
    text = "x\n```python\na = 1\n```\n\n<!-- no-test -->\n```bash\ndisruptsim run f.yaml\n```\n```bash\npip install .\n```\n"
    blocks = code_blocks(text)
    assert [(b.language, b.skipped) for b in blocks] == [
        ("python", False),
        ("bash", True),
        ("bash", False),
    ]
    assert blocks[0].code == "a = 1\n"
    assert disruptsim_commands(blocks[1]) == [["run", "f.yaml"]]
    assert disruptsim_commands(blocks[2]) is None
    continued = Block("bash", "disruptsim run a.yaml \\\n    --runs 1000000\n", 1, False)
    assert disruptsim_commands(continued) == [["run", "a.yaml", "--runs", "1000000"]]
    assert too_slow_or_remote(["run", "a.yaml", "--runs", "1000000"])
    assert too_slow_or_remote(["run", "a.yaml", "--scheduler", "tcp://h:8786"])
    assert too_slow_or_remote(["run", "a.yaml", "-n", "200"]) is None
