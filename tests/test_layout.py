"""The house rules of the package layout (docs/architecture.md).

- no import circles among disruptsim's modules;
- loading a saved result does not import numba;
- ``disruptsim.__all__`` is exactly what docs/api.md documents.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import disruptsim
from disruptsim import conventions

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "disruptsim"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """Every import statement that runs (module level or in a function), skipping
    ``if TYPE_CHECKING:`` blocks, which never run."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    """Module -> the disruptsim modules it imports.

    Counted: every executed import, at module level or inside a function (a deferred
    import closes a circle as surely as a top-level one). Not counted: imports under
    ``if TYPE_CHECKING:`` and the implicit import of a module's parent packages.
    ``from package import name`` counts as importing ``package.name`` when that is a
    module, else ``package``.
    """
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(f): f for f in files}
    graph: dict[str, set[str]] = {}
    for name, file in modules.items():
        is_package = file.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _imports(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = here.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    origin = ".".join(base + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                targets = [
                    f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                    for alias in node.names
                ]
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_sees_the_packages():
    graph = import_graph()
    assert "disruptsim.results.io" in graph["disruptsim.results.result"]  # deferred import
    assert "disruptsim.conventions" in graph["disruptsim.model.kernel"]
    assert "disruptsim.results.result" not in graph["disruptsim.report.html"]  # TYPE_CHECKING


def test_find_cycle_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_conventions_needs_numpy_only():
    imported = {
        alias.name.split(".")[0] if isinstance(node, ast.Import) else (node.module or "")
        for node in _imports(ast.parse(Path(conventions.__file__).read_text(encoding="utf-8")))
        for alias in node.names
    }
    assert imported <= {"__future__", "dataclasses", "typing", "numpy"}, imported


def test_mitigation_parts_are_the_cost_parts_of_the_registry():
    parts = {m.name for m in conventions.METRIC_SPECS if m.role == "cost-part"}
    assert set(conventions.MITIGATION_PARTS) == parts
    assert len(set(conventions.METRICS)) == conventions.N_METRICS == len(conventions.METRIC_SPECS)
    for name in dir(conventions):
        if name.startswith("M_"):
            assert isinstance(getattr(conventions, name), int)  # numba constants


def test_loading_a_result_does_not_import_numba(tmp_path):
    import disruptsim as ds

    scenario = ds.load_scenario(ROOT / "scenarios" / "example-minimal.yaml")
    out = ds.simulate(scenario, runs=20, seed=3).save(tmp_path / "res", report=False)
    code = (
        "import sys\n"
        "from disruptsim.results.result import SimulationResult\n"
        f"r = SimulationResult.load({str(out)!r})\n"
        "r.summary(); r.runs(); r.timeseries()\n"
        f"r.save({str(tmp_path / 'again')!r}, report=False)\n"
        "assert 'numba' not in sys.modules, 'numba imported'\n"
        "assert 'disruptsim.model.kernel' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_all_matches_the_api_page():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^## `disruptsim\.(\w+)`", text, flags=re.MULTILINE))
    assert documented == set(disruptsim.__all__)
    for name in disruptsim.__all__:
        getattr(disruptsim, name)  # every documented name resolves


def test_kernel_cache_follows_conventions(tmp_path):
    # Numba re-validates the kernel's cache against kernel.py only; the kernel compiles in a
    # fingerprint of conventions.py and drops its cache when that file changed.
    import shutil

    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "disruptsim", ignore=shutil.ignore_patterns("__pycache__"))
    env = {
        **__import__("os").environ,
        "PYTHONPATH": str(src),
        "NUMBA_CACHE_DIR": str(tmp_path / "nc"),
    }
    probe = (
        "from disruptsim.model import kernel as k\n"
        "print(k._compiled_stamp() == k._CONVENTIONS_STAMP, k.STALE_CACHE_DROPPED)\n"
    )

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert run() == ["True", "False"]  # compiled and cached
    assert run() == ["True", "False"]  # loaded from the cache
    conventions_py = src / "disruptsim" / "conventions.py"
    conventions_py.write_text(conventions_py.read_text() + "\nTOL = 2e-9\n")
    assert run() == ["True", "True"]  # stale cache loaded, detected, dropped, recompiled
    assert run() == ["True", "False"]  # the new cache
