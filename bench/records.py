"""One flat JSON line per finished cell, appended atomically to ``records.jsonl``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

from bench import ROOT

SCHEMA_VERSION = 1
REQUIRED = (
    "schema", "key", "dataset", "dataset_params", "n", "n_train", "n_test", "model", "model_params",
    "device", "seed", "status", "error", "train_acc", "val_acc", "test_acc", "fit_s", "predict_s",
    "epochs", "train_samples_per_s", "fit_rows_per_s", "predict_rows_per_s", "machine", "versions",
    "commit", "utc",
)  # fmt: skip
LIBRARIES = ("torch", "numpy", "scikit-learn", "catboost", "xgboost", "tabm", "rtdl_num_embeddings", "pandas")


def cell_key(dataset: str, dataset_params: dict, n: int, model: str, model_params: dict, device: str, seed: int) -> str:
    """Stable id of a cell: what was run, not when or where."""
    blob = json.dumps([dataset, dataset_params, n, model, model_params, device, seed], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def append(path: Path, record: dict) -> None:
    """Append one record as one ``write`` of one line: a kill leaves the file whole."""
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise ValueError(f"record lacks {missing}")
    line = (json.dumps(record, sort_keys=True, allow_nan=False, default=_jsonable) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def load(path: Path) -> list[dict]:
    """All records of a file; a torn last line (a crash mid-write elsewhere) is skipped."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no records file at {path}")
    records = []
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if i == len(lines) - 1:
                continue
            raise ValueError(f"{path}:{i + 1}: not a JSON record ({exc.msg})") from None
    return records


def latest(records: list[dict]) -> list[dict]:
    """The newest record of each cell key (a rerun replaces an earlier result)."""
    by_key: dict[str, dict] = {}
    for r in records:
        by_key[r["key"]] = r
    return list(by_key.values())


def finished_keys(path: Path, made_here: bool = False) -> set[str]:
    """Keys of cells whose latest record is ok or skipped (failed cells are retried).

    ``made_here``: only records made by this commit (``-dirty`` or not) on this machine count, so
    a fresh clone or a new commit measures again instead of reusing someone else's numbers.
    """
    if not Path(path).exists():
        return set()
    done = [r for r in latest(load(path)) if r.get("status") in ("ok", "skipped")]
    if made_here:
        done = [r for r in done if _made_here(r)]
    return {r["key"] for r in done}


def _base_commit(commit: str | None) -> str:
    return (commit or "unknown").removesuffix("-dirty")


def _fingerprint(m: dict | None) -> tuple:
    m = m or {}
    return tuple(m.get(k) for k in ("cpu", "cores", "host", "gpu"))


def _made_here(record: dict) -> bool:
    commit = _base_commit(record.get("commit"))
    return (
        commit != "unknown"
        and commit == _base_commit(git_commit())
        and (_fingerprint(record.get("machine")) == _fingerprint(_static_machine()))
    )


@cache
def git_commit() -> str:
    """HEAD of the checkout, with ``-dirty`` when tracked files differ from it."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "-uno"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    if sha.returncode != 0:
        return "unknown"
    return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cache
def _static_machine() -> dict:
    import torch

    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "host": platform.node(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpu": None,
        "cuda": None,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True
            )
            info["driver"] = out.stdout.strip().splitlines()[0] if out.returncode == 0 else None
        except (OSError, IndexError):
            info["driver"] = None
    return info


def machine(threads: int) -> dict:
    """Where a record was made: CPU, cores, threads used, GPU and driver."""
    return _static_machine() | {"threads": threads}


@cache
def versions() -> dict:
    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
