"""Records: schema round-trip, atomic appends, tolerant loading, latest-wins."""

import json

import pytest

from bench import records


def _record(key="k1", **kw):
    r = dict.fromkeys(records.REQUIRED)
    return (
        r
        | {"schema": records.SCHEMA_VERSION, "key": key, "status": "ok", "dataset_params": {}, "model_params": {}}
        | {"machine": {}, "versions": {}}
        | kw
    )


def test_round_trip(tmp_path):
    path = tmp_path / "records.jsonl"
    a = _record("a", test_acc=0.5, loss_curve=[1.0, 0.5])
    records.append(path, a)
    records.append(path, _record("b"))
    loaded = records.load(path)
    assert loaded[0] == a and len(loaded) == 2
    assert path.read_text().count("\n") == 2


def test_missing_fields_are_refused(tmp_path):
    with pytest.raises(ValueError, match="lacks"):
        records.append(tmp_path / "r.jsonl", {"key": "x"})


def test_torn_last_line_is_skipped_but_corruption_elsewhere_is_an_error(tmp_path):
    path = tmp_path / "records.jsonl"
    records.append(path, _record("a"))
    with path.open("a") as f:
        f.write('{"key": "b", "sta')
    assert [r["key"] for r in records.load(path)] == ["a"]
    path.write_text('{"bad\n' + json.dumps(_record("a")) + "\n")
    with pytest.raises(ValueError, match="records.jsonl:1: not a JSON record"):
        records.load(path)


@pytest.mark.parametrize(
    "line, message",
    [
        ("[1, 2, 3]", "a record is a JSON object"),
        ('{"foo": 1}', "record lacks schema, key"),
        (json.dumps(_record("a", machine=None)), "record field 'machine' must be an object"),
        (json.dumps({k: v for k, v in _record("a").items() if k != "key"}), "record lacks key"),
        (json.dumps(_record("a", status="great")), "record has a bad key or status"),
    ],
)
def test_lines_that_are_not_records_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(_record("ok")) + "\n" + line + "\n")
    with pytest.raises(ValueError, match=f"records.jsonl:2: not a bench record: {message}"):
        records.load(path)


def test_latest_wins_and_failed_cells_are_not_finished(tmp_path):
    path = tmp_path / "records.jsonl"
    records.append(path, _record("a", status="failed"))
    records.append(path, _record("b", status="ok"))
    assert records.finished_keys(path) == {"b"}
    records.append(path, _record("a", status="ok", test_acc=0.9))
    assert records.finished_keys(path) == {"a", "b"}
    assert {r["key"]: r["test_acc"] for r in records.latest(records.load(path))}["a"] == 0.9


def test_cell_key_is_stable_and_sensitive():
    k = records.cell_key("sum_mod", {}, 2000, "mlp", {}, "cpu", 0)
    assert k == records.cell_key("sum_mod", {}, 2000, "mlp", {}, "cpu", 0)
    assert k != records.cell_key("sum_mod", {}, 2000, "mlp", {}, "cpu", 1)
    assert k != records.cell_key("sum_mod", {"scale": 50.0}, 2000, "mlp", {}, "cpu", 0)


def test_resume_counts_only_records_made_by_this_commit_on_this_machine(tmp_path):
    path = tmp_path / "records.jsonl"
    here = records.machine(1)
    commit = records.git_commit()
    base = commit.removesuffix("-dirty")
    records.append(path, _record("same", status="ok", commit=base + "-dirty", machine=here))
    records.append(path, _record("old_commit", status="ok", commit="0123456789ab", machine=here))
    records.append(path, _record("elsewhere", status="ok", commit=commit, machine=here | {"cpu": "another CPU"}))
    records.append(path, _record("no_provenance", status="ok"))
    assert records.finished_keys(path) == {"same", "old_commit", "elsewhere", "no_provenance"}
    assert records.finished_keys(path, made_here=True) == ({"same"} if commit != "unknown" else set())


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
    monkeypatch.setattr(records, "ROOT", tmp_path)

    def commit():
        records.git_commit.cache_clear()
        return records.git_commit()

    try:
        assert not commit().endswith("-dirty")
        (tmp_path / "results" / "accuracy.md").write_text("new\n")
        assert not commit().endswith("-dirty")
        (tmp_path / "code.py").write_text("x = 2\n")
        assert commit().endswith("-dirty")
    finally:
        records.git_commit.cache_clear()
