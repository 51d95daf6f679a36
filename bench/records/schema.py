"""The record format: one flat JSON object per finished cell, every field documented once here.

``check`` is the one validity rule (fields present, of their types, a known schema version);
``upgrade`` brings a record of an older version to this one; ``check_foreign`` is the lenient rule
for records that another commit's bench wrote (the A/B gate, history): only the fields they are
read for must be there and well typed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from numbers import Real

from bench.records import machine

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
    "versions": "library versions (bench.records.machine.LIBRARIES)",
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
    "budget_s": "failed cells that ran past their budget: the seconds per cell they had (--cell-timeout)",
    "phases_kept": "spectral families: phases the frequency search kept (0: none)",
    "phase": "spectral families: the first phase's largest terms",
    "phase_explained": "spectral families: share of H(y) the first phase accounts for on training rows",
    "phase_warp": "spectral families: the per-feature warps added to the first phase (None: none kept)",
    "gpu_peak_mb": "torch's peak GPU memory during the group's fit (cuda cells; GBDT libraries not counted)",
    # Probability scores of the held-out rows (bench.run.runner.probability_scores); records made
    # before they existed lack them, and the leaderboard falls back to 1 - test_acc there.
    "test_roc_auc": "binary tasks: held-out ROC AUC of predict_proba's second column (None: one class held out)",
    "test_log_loss": "held-out log loss, probabilities clipped to [1e-15, 1 - 1e-15]",
    "test_error": "the error the leaderboard ranks by (TabArena's): 1 - test_roc_auc (binary), test_log_loss (multiclass)",
    "test_error_metric": "which error test_error is: '1 - roc_auc' or 'log_loss'",
}
REQUIRED = tuple(FIELDS)
SCORES = ("test_roc_auc", "test_log_loss", "test_error", "test_error_metric")  # optional, type-checked when present
STATUSES = ("ok", "failed", "skipped")
DEVICES = ("cpu", "cuda")

# Field types, checked on load: a hand-edited "test_acc": "high" is an error naming file and line.
_STR = ("key", "dataset", "model", "device", "status")
_OPT_STR = ("tag", "error", "commit", "utc", "test_error_metric")
_DICT = ("dataset_params", "model_params", "machine", "versions")
_INT = ("n", "n_train", "n_test", "seed")
_OPT_INT = ("n_classes",)
_OPT_NUMBER = (
    "ceiling", "train_acc", "val_acc", "test_acc", "fit_s", "predict_s", "epochs", "train_samples_per_s",
    "fit_rows_per_s", "predict_rows_per_s", "calibration_s", "test_roc_auc", "test_log_loss", "test_error",
)  # fmt: skip
_OK_NUMBER = ("train_acc", "test_acc", "fit_s", "predict_s")  # measured in every ok record
# What the gate and history read from records another commit wrote.
FOREIGN_FIELDS = ("key", "dataset", "dataset_params", "n", "model", "model_params", "device", "seed", "status")
FOREIGN_OK_NUMBERS = ("test_acc", "fit_s", "predict_s")

# Upgrades, by the version they start from: each takes a record of that version to the next one.
UPGRADES: dict[int, Callable[[dict], dict]] = {}


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _type_error(record: dict, names: tuple[str, ...]) -> str | None:
    """The first field of ``names`` whose value has the wrong type, as a message (None if all fit)."""
    for name in names:
        if name not in record:
            continue
        value = record[name]
        if name in _STR and not isinstance(value, str):
            return f"field {name!r} must be a string, got {value!r}"
        if name in _OPT_STR and value is not None and not isinstance(value, str):
            return f"field {name!r} must be a string or null, got {value!r}"
        if name in _DICT and not isinstance(value, dict):
            return f"field {name!r} must be an object, got {value!r}"
        if name in _INT and not (isinstance(value, int) and not isinstance(value, bool)):
            return f"field {name!r} must be an integer, got {value!r}"
        if name in _OPT_INT and value is not None and not (isinstance(value, int) and not isinstance(value, bool)):
            return f"field {name!r} must be an integer or null, got {value!r}"
        if name in _OPT_NUMBER and value is not None and not _is_number(value):
            return f"field {name!r} must be a number or null, got {value!r}"
    if record.get("status") not in STATUSES:
        return f"field 'status' must be one of {', '.join(STATUSES)}, got {record.get('status')!r}"
    if "device" in names and record.get("device") not in DEVICES:
        return f"field 'device' must be one of {', '.join(DEVICES)}, got {record.get('device')!r}"
    if record["status"] == "ok":
        for name in (n for n in _OK_NUMBER if n in names):
            if not _is_number(record.get(name)):
                return f"an ok record needs a number in {name!r}, got {record.get(name)!r}"
    return None


def upgrade(record: dict) -> dict:
    """``record`` in this version's format; ValueError for a version this bench cannot read."""
    version = record.get("schema")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"field 'schema' must be a record format version (1 .. {SCHEMA_VERSION}), got {version!r}")
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"record format version {version} is newer than this bench reads ({SCHEMA_VERSION}): "
            "update bench (git pull) to read it"
        )
    while version < SCHEMA_VERSION:
        record = UPGRADES[version](record) | {"schema": version + 1}
        version += 1
    return record


def _check(record, required: tuple[str, ...], typed: tuple[str, ...]) -> dict:
    if not isinstance(record, dict):
        raise ValueError(f"a record is a JSON object, got {type(record).__name__}")
    missing = [k for k in required if k not in record]
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise ValueError(f"record lacks {shown}")
    record = upgrade(record)
    problem = _type_error(record, typed)
    if problem:
        raise ValueError(problem)
    return record


def check(record) -> dict:
    """``record`` upgraded to this version if it is a bench record; else ValueError saying why."""
    return _check(record, REQUIRED, REQUIRED + SCORES)


def check_foreign(record) -> dict:
    """A record another commit's bench wrote: upgraded (records before the version field count as
    version 1), and only the fields the gate reads checked."""
    if isinstance(record, dict) and "schema" not in record:
        record = record | {"schema": 1}
    return _check(record, FOREIGN_FIELDS, FOREIGN_FIELDS + FOREIGN_OK_NUMBERS)


def new(*, threads: int, **fields) -> dict:
    """A record with every schema field: provenance filled in, status 'failed' until set."""
    unknown = set(fields) - set(FIELDS) - set(OPTIONAL)
    if unknown:
        raise ValueError(f"not record fields: {sorted(unknown)}")
    provenance = {
        "schema": SCHEMA_VERSION,
        "status": "failed",
        "machine": machine.machine(threads),
        "versions": machine.versions(),
        "commit": machine.git_commit(),
        "utc": machine.utc_now(),
    }
    return dict.fromkeys(FIELDS) | provenance | fields


def cell_key(dataset: str, dataset_params: dict, n: int, model: str, model_params: dict, device: str, seed: int) -> str:
    """Stable id of a cell: what was run, not when or where."""
    blob = json.dumps([dataset, dataset_params, n, model, model_params, device, seed], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]
