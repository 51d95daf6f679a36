"""The layers import one way: cli -> run | gate -> report -> records -> (models, datasets); studies
is a leaf nothing imports; models/ and datasets/ import nothing from bench; no import circle.
Read from the code's own imports (every ``import``, also inside functions)."""

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Each layer, and the layers it may import (beside itself and the top-level models/datasets).
ALLOWED = {
    "bench.cli": {"bench.run", "bench.gate", "bench.report", "bench.records"},
    "bench.run": {"bench.records"},
    "bench.gate": {"bench.report", "bench.records"},
    "bench.report": {"bench.records"},
    "bench.records": set(),
    "bench.studies": {"bench.cli", "bench.run", "bench.gate", "bench.report", "bench.records"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for top in ("bench", "models", "datasets"):
        for f in (ROOT / top).rglob("*.py"):
            name = ".".join(f.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = f
    return out


MODULES = _modules()


def imports(name: str, path: Path) -> set[str]:
    """Modules of this repository that ``name`` imports (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found |= {base} | {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> str | None:
    return next((layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")), None)


@pytest.mark.parametrize("name", sorted(m for m in MODULES if _layer(m)))
def test_bench_layers_import_one_way(name):
    layer = _layer(name)
    upward = [m for m in GRAPH[name] if _layer(m) not in (None, layer) and _layer(m) not in ALLOWED[layer]]
    assert not upward, f"{name} ({layer}) imports {upward}: a lower layer must not import a higher one"


def test_nothing_outside_studies_imports_studies():
    offenders = {n: [m for m in deps if m.startswith("bench.studies")] for n, deps in GRAPH.items()}
    offenders = {n: m for n, m in offenders.items() if m and not n.startswith("bench.studies")}
    assert not offenders, f"studies is a leaf: {offenders}"


def test_models_and_datasets_import_nothing_from_bench():
    offenders = {
        n: sorted(m for m in d if m.split(".")[0] == "bench") for n, d in GRAPH.items() if n.split(".")[0] != "bench"
    }
    assert not {n: m for n, m in offenders.items() if m}


def test_no_import_circle():
    """Between modules (a package and its own modules aside), no module reaches itself again."""

    def edges(n):
        return {m for m in GRAPH[n] if not m.startswith(n + ".") and not n.startswith(m + ".")}

    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(n, path):
        state[n] = 1
        for m in edges(n):
            if state.get(m) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path[path.index(m) :], m]))
            if m not in state:
                visit(m, [*path, m])
        state[n] = 2

    for n in sorted(GRAPH):
        if n not in state:
            visit(n, [n])


def test_the_rules_can_fail(tmp_path):
    """The walker sees an upward import written inside a function (as lazy imports are)."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from bench.cli import main\n    from ..report import page\n")
    found = imports("bench.records.probe", probe)
    assert {"bench.cli", "bench.report.page"} <= found
    assert _layer("bench.cli") not in ALLOWED[_layer("bench.records.probe")]
