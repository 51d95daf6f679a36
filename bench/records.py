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
from bench.output import warn

SCHEMA_VERSION = 1
# The record schema, documented once: every record has these fields (None where not measured).
FIELDS: dict[str, str] = {
    "schema": "record format version (SCHEMA_VERSION)",
    "key": "cell id: hash of dataset, dataset_params, n, model, model_params (+ tag), device, seed",
    "tag": "'' for plain cells; 'tta' for cells that record a held-out accuracy curve",
    "dataset": "dataset name (datasets.NAMES, datasets.REAL, or a file's name)",
    "dataset_params": "generator parameters given (defaults omitted); a file's path, target and sha256",
    "n": "rows generated (or drawn from real data)",
    "n_train": "rows the model was fitted on (80%)",
    "n_test": "held-out rows (20%), never seen in fit",
    "n_classes": "classes the generator can emit (real data: classes in the label)",
    "ceiling": "best achievable expected held-out accuracy (label noise); None for real data",
    "model": "family name (models.NAMES)",
    "model_params": "hyperparameters given (defaults omitted)",
    "device": "cpu | cuda",
    "seed": "drives data, split, initialisation and batch order",
    "status": "ok | failed | skipped",
    "error": "last line of the exception (failed) or the reason (skipped)",
    "train_acc": "accuracy on the training rows",
    "val_acc": "best validation accuracy (families that early-stop), else None",
    "test_acc": "held-out accuracy",
    "fit_s": "seconds in fit; for seeds batched into one model, the batch's time / seeds",
    "predict_s": "seconds for predict_proba on the held-out rows",
    "epochs": "epochs (neural) or boosting iterations",
    "train_samples_per_s": "rows x epochs / fit_s (neural)",
    "fit_rows_per_s": "n_train / fit_s",
    "predict_rows_per_s": "n_test / predict_s",
    "machine": "cpu, cores, usable_cores, host, os, python, gpu, gpu_memory_mb, mig, cuda, driver, threads",
    "versions": "library versions (LIBRARIES)",
    "commit": "git commit of the code, -dirty when tracked files outside results/ differed",
    "utc": "when the record was made",
    "calibration_s": "bench.timing.calibrate() seconds, measured just before the cell's group",
}
# Present when they apply; documented here too.
OPTIONAL: dict[str, str] = {
    "fit_group_s": "seconds of the batched fit the cell was part of",
    "group_size": "cells fitted together in that batch",
    "best_epoch": "epoch whose weights were kept (early stopping restores them)",
    "samples_seen": "training rows x epochs",
    "iterations": "boosting rounds",
    "loss_curve": "mean training loss per epoch",
    "last_loss_curve": "loss of each epoch's last batch (what the seed printed)",
    "candidate": "hyperparameters chosen on validation (e.g. sigma)",
    "monitor_curve": "(train seconds, held-out accuracy) per epoch, tta cells only",
    "peak_rss_mb": "peak resident memory of the process that ran the group (isolated runs)",
    "prep_s": "seconds of fit spent before training on the host (split, scaling, frequency search)",
    "predict_device": "where predict_proba ran (cpu | cuda)",
    "predict_repeats": "predict_proba calls timed; predict_s is their mean",
    "node": "Ray node id that ran the cell (--executor ray)",
    "class_names": "real data: the label's original values, class k is class_names[k]",
    "dataset_sha256": "real data: SHA-256 (16 hex digits) of the table as loaded (a file: of its bytes)",
    "preprocessing": "the family's preprocessing rule and what it did (models/preprocessing.py)",
    "categorical_features": "columns CatBoost treated as categorical (cat_features)",
    "gpu_peak_mb": "torch's peak GPU memory during the group's fit (cuda cells; GBDT libraries not counted)",
}
REQUIRED = tuple(FIELDS)
STATUSES = ("ok", "failed", "skipped")
LIBRARIES = ("torch", "numpy", "scikit-learn", "catboost", "xgboost", "tabm", "rtdl_num_embeddings", "pandas")
LIBRARIES += ("lightgbm", "pytabkit")  # the real suite's peers


def new(*, threads: int, **fields) -> dict:
    """A record with every schema field: provenance filled in, status 'failed' until set."""
    unknown = set(fields) - set(FIELDS) - set(OPTIONAL)
    if unknown:
        raise ValueError(f"not record fields: {sorted(unknown)}")
    provenance = {
        "schema": SCHEMA_VERSION,
        "status": "failed",
        "machine": machine(threads),
        "versions": versions(),
        "commit": git_commit(),
        "utc": utc_now(),
    }
    return dict.fromkeys(FIELDS) | provenance | fields


def check(record) -> None:
    """Raise ValueError unless ``record`` is a bench record (a dict with the schema's fields)."""
    if not isinstance(record, dict):
        raise ValueError(f"a record is a JSON object, got {type(record).__name__}")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise ValueError(f"record lacks {shown}")
    if not isinstance(record["key"], str) or record["status"] not in STATUSES:
        raise ValueError(f"record has a bad key or status ({record['key']!r}, {record['status']!r})")
    for name in ("machine", "versions", "dataset_params", "model_params"):
        if not isinstance(record[name], dict):
            raise ValueError(f"record field {name!r} must be an object, got {record[name]!r}")


def cell_key(dataset: str, dataset_params: dict, n: int, model: str, model_params: dict, device: str, seed: int) -> str:
    """Stable id of a cell: what was run, not when or where."""
    blob = json.dumps([dataset, dataset_params, n, model, model_params, device, seed], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def append(path: Path, record: dict) -> None:
    """Append one record as one ``write`` of one line: a kill leaves the file whole."""
    check(record)
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
    """All records of a file, each checked against the schema.

    A last line without its newline that is not a record (a run killed mid-write) is ignored
    with a warning; any other line that is not a record is an error naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no records file at {path}")
    lines, torn = _lines(path)
    records = []
    for i, line in enumerate(lines, start=1):
        if line.strip():
            records.append(_parse(path, i, line))
    if torn is not None:
        warn(f"{path}:{len(lines) + 1}: incomplete last line (a run killed mid-write?) ignored")
    return records


def _lines(path: Path) -> tuple[list[str], str | None]:
    """Complete lines, and the torn tail (None if the file ends cleanly or with a whole record)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a records file (binary data)") from None
    lines = text.split("\n")
    tail = lines.pop()
    if not tail.strip():
        return lines, None
    try:
        check(json.loads(tail))
    except ValueError:  # JSONDecodeError is a ValueError
        return lines, tail
    return lines + [tail], None


def _parse(path: Path, number: int, line: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{number}: not a JSON record ({exc.msg})") from None
    try:
        check(record)
    except ValueError as exc:
        raise ValueError(f"{path}:{number}: not a bench record: {exc}") from None
    return record


def set_aside_torn(path: Path) -> None:
    """Before appending: move a torn last line to ``<path>.torn`` (kept, not deleted) and end
    the file on a newline, so the next record starts on a line of its own."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
    lines, torn = _lines(path)
    if torn is None:  # a whole record without its newline
        with path.open("ab") as f:
            f.write(b"\n")
        return
    with open(f"{path}.torn", "ab") as f:
        f.write(torn.encode() + b"\n")
    keep = sum(len(line.encode()) + 1 for line in lines)
    os.truncate(path, keep)
    warn(f"{path}: incomplete last line moved to {path}.torn")


def latest(records: list[dict]) -> list[dict]:
    """The newest record of each cell key (a rerun replaces an earlier result)."""
    by_key: dict[str, dict] = {}
    for r in records:
        by_key[r["key"]] = r
    return list(by_key.values())


def finished_keys(path: Path, made_here: bool = False, on_ray: bool = False) -> set[str]:
    """Keys of cells whose latest record is ok or skipped (failed cells are retried).

    ``made_here``: only records made by this commit (``-dirty`` or not) on this machine count, so
    a fresh clone or a new commit measures again instead of reusing someone else's numbers.
    ``on_ray``: records that a Ray node made (they name it) count as this machine's too.
    """
    if not Path(path).exists():
        return set()
    done = [r for r in latest(load(path)) if r.get("status") in ("ok", "skipped")]
    if made_here:
        done = [r for r in done if _made_here(r, on_ray)]
    return {r["key"] for r in done}


def _base_commit(commit: str | None) -> str:
    return (commit or "unknown").removesuffix("-dirty")


def fingerprint(m: dict | None) -> tuple:
    """What identifies a machine: CPU model, cores, host name and GPU (not the threads used)."""
    m = m or {}
    return tuple(m.get(k) for k in ("cpu", "cores", "host", "gpu"))


def _made_here(record: dict, on_ray: bool = False) -> bool:
    commit = _base_commit(record.get("commit"))
    return (
        commit != "unknown"
        and commit == _base_commit(git_commit())
        and (
            fingerprint(record.get("machine")) == fingerprint(_static_machine())
            or (on_ray and record.get("node") is not None)
        )
    )


@cache
def git_commit() -> str:
    """HEAD of the checkout, with ``-dirty`` when tracked files outside results/ differ from it
    (outputs a run rewrites do not change the code; ``$BENCH_COMMIT`` where the code runs as a
    copy without its git folder: a Ray worker)."""
    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"]
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "-uno", "--", ".", ":(exclude)results"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
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

    from bench.timing import usable_cores

    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "host": platform.node(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpu": None,
        "cuda": None,
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        info |= {"gpu": props.name, "gpu_memory_mb": round(props.total_memory / 2**20), "cuda": torch.version.cuda}
        info |= _nvidia_smi()
    return info


def _nvidia_smi() -> dict:
    """Driver version and MIG mode of the current GPU (None where nvidia-smi cannot say in 10 s)."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version,mig.mode.current", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        driver, mig = (v.strip() for v in out.stdout.splitlines()[0].split(","))
        return {"driver": driver, "mig": mig} if out.returncode == 0 else {"driver": None, "mig": None}
    except (OSError, IndexError, ValueError, subprocess.TimeoutExpired):
        return {"driver": None, "mig": None}


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
