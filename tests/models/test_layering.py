"""Imports point one way: models/ and datasets/ never import bench, and `import models` stays light."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOWER_PACKAGES = ("models", "datasets")
FORBIDDEN = "bench"


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in ``source``, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def forbidden(module: str) -> bool:
    return module == FORBIDDEN or module.startswith(FORBIDDEN + ".")


def test_the_check_sees_every_kind_of_import():
    source = textwrap.dedent(
        """
        import bench
        import benchmarks
        def f():
            from bench.records import store
            import bench.cli as c
        """
    )
    assert [m for _, m in imported_modules(source) if forbidden(m)] == ["bench", "bench.records", "bench.cli"]


@pytest.mark.parametrize("package", LOWER_PACKAGES)
def test_lower_packages_never_import_bench(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found under {package}/"
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in files
        for line, module in imported_modules(path.read_text())
        if forbidden(module)
    ]
    assert not offences, "models/ and datasets/ must not import bench:\n" + "\n".join(offences)


def test_importing_the_registries_loads_no_heavy_library():
    heavy = ["torch", "catboost", "xgboost", "tabm", "rtdl_num_embeddings"]
    code = f"import sys, models, datasets; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
