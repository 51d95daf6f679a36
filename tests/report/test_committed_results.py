"""The committed tables are what `bench report` makes from the committed records, byte for byte: a
change to the tables' code regenerates results/ in the same commit, and nothing there is edited by hand."""

from pathlib import Path

import pytest

from bench.report import page
from tests.conftest import ROOT

FOLDERS = sorted(p.parent for p in (ROOT / "results").rglob("records.jsonl") if (p.parent / "accuracy.md").exists())


@pytest.mark.parametrize("folder", FOLDERS, ids=[str(f.relative_to(ROOT)) for f in FOLDERS])
def test_tables_regenerate_byte_for_byte(folder: Path):
    df, extra = page.load(folder)
    figures = sorted((folder / "figures").glob("*.png"))
    made = page.page(df, extra, figures, page.command_for(folder))
    for name in ("accuracy.md", "throughput.md"):
        assert made[name] == (folder / name).read_text(), f"{folder / name} is not what `bench report` makes"


def test_there_are_committed_tables_to_check():
    assert {"results", "results/gate/baseline"} <= {str(f.relative_to(ROOT)) for f in FOLDERS}
