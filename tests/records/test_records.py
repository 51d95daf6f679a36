"""Records: schema round-trip, atomic appends, tolerant loading, latest-wins."""

import json

import pytest

from bench.records import machine, schema, store


def _record(key="k1", **kw):
    r = dict.fromkeys(schema.REQUIRED)
    return (
        r
        | {"schema": schema.SCHEMA_VERSION, "key": key, "status": "ok", "dataset_params": {}, "model_params": {}}
        | {"machine": {}, "versions": {}, "dataset": "d", "model": "m", "device": "cpu"}
        | {"n": 10, "n_train": 8, "n_test": 2, "seed": 0, "train_acc": 1.0, "test_acc": 0.5, "fit_s": 0.1}
        | {"predict_s": 0.01}
        | kw
    )


def test_round_trip(tmp_path):
    path = tmp_path / "records.jsonl"
    a = _record("a", test_acc=0.5, loss_curve=[1.0, 0.5])
    store.append(path, a)
    store.append(path, _record("b"))
    loaded = store.load(path)
    assert loaded[0] == a and len(loaded) == 2
    assert path.read_text().count("\n") == 2


def test_missing_fields_are_refused(tmp_path):
    with pytest.raises(ValueError, match="lacks"):
        store.append(tmp_path / "r.jsonl", {"key": "x"})


def test_torn_last_line_is_skipped_but_corruption_elsewhere_is_an_error(tmp_path):
    path = tmp_path / "records.jsonl"
    store.append(path, _record("a"))
    with path.open("a") as f:
        f.write('{"key": "b", "sta')
    assert [r["key"] for r in store.load(path)] == ["a"]
    path.write_text('{"bad\n' + json.dumps(_record("a")) + "\n")
    with pytest.raises(ValueError, match="records.jsonl:1: not a JSON record"):
        store.load(path)


@pytest.mark.parametrize(
    "line, message",
    [
        ("[1, 2, 3]", "a record is a JSON object"),
        ('{"foo": 1}', "record lacks schema, key"),
        (json.dumps(_record("a", machine=None)), "field 'machine' must be an object"),
        (json.dumps({k: v for k, v in _record("a").items() if k != "key"}), "record lacks key"),
        (json.dumps(_record("a", status="great")), "field 'status' must be one of ok, failed, skipped"),
    ],
)
def test_lines_that_are_not_records_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(_record("ok")) + "\n" + line + "\n")
    with pytest.raises(ValueError, match=f"records.jsonl:2: not a bench record: {message}"):
        store.load(path)


def test_latest_wins_and_failed_cells_are_not_finished(tmp_path):
    path = tmp_path / "records.jsonl"
    store.append(path, _record("a", status="failed"))
    store.append(path, _record("b", status="ok"))
    assert store.finished_keys(path) == {"b"}
    store.append(path, _record("a", status="ok", test_acc=0.9))
    assert store.finished_keys(path) == {"a", "b"}
    assert {r["key"]: r["test_acc"] for r in store.latest(store.load(path))}["a"] == 0.9


def test_a_cell_over_its_budget_is_finished_for_that_budget_or_less_not_for_more(tmp_path):
    path = tmp_path / "records.jsonl"
    store.append(path, _record("slow", status="failed", error="timed out after 240 s (120 s per cell)", budget_s=120.0))
    store.append(path, _record("crashed", status="failed", error="worker process died"))
    assert store.finished_keys(path) == set(), "no budget given: every failed cell is retried"
    assert store.finished_keys(path, budget=120.0) == store.finished_keys(path, budget=60.0) == {"slow"}
    assert store.finished_keys(path, budget=300.0) == set(), "a larger budget tries it again"


def test_cell_key_is_stable_and_sensitive():
    k = schema.cell_key("sum_mod", {}, 2000, "mlp", {}, "cpu", 0)
    assert k == schema.cell_key("sum_mod", {}, 2000, "mlp", {}, "cpu", 0)
    assert k != schema.cell_key("sum_mod", {}, 2000, "mlp", {}, "cpu", 1)
    assert k != schema.cell_key("sum_mod", {"scale": 50.0}, 2000, "mlp", {}, "cpu", 0)


def test_resume_counts_only_records_made_by_this_commit_on_this_machine(tmp_path):
    path = tmp_path / "records.jsonl"
    here = machine.machine(1)
    commit = machine.git_commit()
    base = commit.removesuffix("-dirty")
    store.append(path, _record("same", status="ok", commit=base + "-dirty", machine=here))
    store.append(path, _record("old_commit", status="ok", commit="0123456789ab", machine=here))
    store.append(path, _record("elsewhere", status="ok", commit=commit, machine=here | {"cpu": "another CPU"}))
    store.append(path, _record("no_provenance", status="ok"))
    assert store.finished_keys(path) == {"same", "old_commit", "elsewhere", "no_provenance"}
    assert store.finished_keys(path, made_here=True) == ({"same"} if commit != "unknown" else set())


def test_commit_is_dirty_for_changed_code_not_for_rewritten_results(tmp_path, monkeypatch):
    import subprocess

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "accuracy.md").write_text("old\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    monkeypatch.delenv("BENCH_COMMIT", raising=False)
    monkeypatch.setattr(machine, "ROOT", tmp_path)

    def commit():
        machine.git_commit.cache_clear()
        return machine.git_commit()

    try:
        assert not commit().endswith("-dirty")
        (tmp_path / "results" / "accuracy.md").write_text("new\n")
        assert not commit().endswith("-dirty")
        (tmp_path / "code.py").write_text("x = 2\n")
        assert commit().endswith("-dirty")
    finally:
        machine.git_commit.cache_clear()


@pytest.mark.parametrize("fault", ["short", "enospc"])
def test_a_failed_append_leaves_the_file_as_it_was(tmp_path, monkeypatch, fault):
    """Disk full: a short write or ENOSPC is cut back, so the next append starts on a line of its own."""
    path = tmp_path / "records.jsonl"
    store.append(path, _record("a"))
    before = path.read_bytes()
    real_write = store.os.write

    def broken(fd, data):
        if fault == "enospc":
            real_write(fd, data[:7])  # some bytes land, then the disk is full
            raise OSError(28, "No space left on device")
        return real_write(fd, data[: len(data) // 2])

    monkeypatch.setattr(store.os, "write", broken)
    with pytest.raises(OSError, match="could not append a line"):
        store.append(path, _record("b"))
    monkeypatch.setattr(store.os, "write", real_write)
    assert path.read_bytes() == before, "nothing of the failed line is left"
    store.append(path, _record("c"))
    assert [r["key"] for r in store.load(path)] == ["a", "c"]


def test_every_jsonl_bench_writes_goes_through_the_store():
    """history, power trials, speed runs: no hand-written JSON-lines writer or reader outside the store."""
    import re

    from tests.conftest import ROOT

    reader = re.compile(r"json\.loads\(\w+\)\s+for\s+\w+\s+in\s+[^\n]*splitlines")
    appender = re.compile(r"""open\([^)]*["']a["']""")
    offenders = []
    for f in (ROOT / "bench").rglob("*.py"):
        text = f.read_text()
        if f.name != "store.py" and (reader.search(text) or appender.search(text)):
            offenders.append(str(f.relative_to(ROOT)))
    assert not offenders, offenders


def test_a_torn_history_line_is_set_aside_and_the_page_still_builds(tmp_path):
    from bench.records import output
    from bench.report.page import write_report
    from tests.conftest import DATA

    out = tmp_path / "o"
    (out / "gate" / "history").mkdir(parents=True)
    (out / output.MARKER).write_text("")
    (out / "records.jsonl").write_text((DATA / "records_small.jsonl").read_text())
    recs = (DATA / "records_small.jsonl").read_text().splitlines()
    history = out / "gate" / "history" / "records.jsonl"
    history.write_text(
        "\n".join(json.dumps(json.loads(r) | {"history_sha": "a" * 40}) for r in recs[:3]) + '\n{"key": "to'
    )
    (out / "gate" / "history" / "commits.json").write_text(json.dumps([{"sha": "a" * 40, "subject": "s"}]))
    assert write_report(out), "the page was written"
    store.set_aside_torn(history, schema.check_foreign)
    assert history.read_text().endswith("\n") and (history.parent / "records.jsonl.torn").read_text() == '{"key": "to\n'
