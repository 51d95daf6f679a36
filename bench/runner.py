"""Run cells, record each as one line, resume where a previous run stopped."""

from __future__ import annotations

import math
import os
import traceback
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

import datasets
import models
from bench import records
from bench.suites import Cell
from bench.timing import calibrate, timed

TEST_FRACTION = 0.2


def split(cell: Cell) -> tuple[np.ndarray, ...]:
    """The cell's data: generated from its seed, 20% held out (also by its seed)."""
    X, y = datasets.generate(cell.dataset, n=cell.n, seed=cell.seed, **cell.dataset_params)
    return tuple(train_test_split(X, y, test_size=TEST_FRACTION, random_state=cell.seed))


def _accuracy(est, X, y) -> float:
    return float(np.mean(est.predict(X) == y))


def _base_record(cell: Cell, threads: int, calibration: float | None = None) -> dict:
    n_test = max(1, math.ceil(cell.n * TEST_FRACTION))
    return {
        "schema": records.SCHEMA_VERSION,
        "key": cell.key,
        "tag": cell.tag,
        "dataset": cell.dataset,
        "dataset_params": cell.dataset_params,
        "n": cell.n,
        "n_train": cell.n - n_test,
        "n_test": n_test,
        "n_classes": datasets.n_classes(cell.dataset, **cell.dataset_params),
        "ceiling": datasets.ceiling(cell.dataset, **cell.dataset_params),
        "model": cell.model,
        "model_params": cell.model_params,
        "device": cell.device,
        "seed": cell.seed,
        "status": "failed",
        "error": None,
        "train_acc": None,
        "val_acc": None,
        "test_acc": None,
        "fit_s": None,
        "predict_s": None,
        "epochs": None,
        "train_samples_per_s": None,
        "fit_rows_per_s": None,
        "predict_rows_per_s": None,
        "machine": records.machine(threads),
        "versions": records.versions(),
        "commit": records.git_commit(),
        "utc": records.utc_now(),
        "calibration_s": calibration,  # bench.timing.calibrate() seconds, measured before the group
    }


def _finish(record: dict, cell: Cell, est, data, fit_s: float, group_s: float, group_size: int) -> dict:
    X_train, X_test, y_train, y_test = data
    with timed(cell.device) as t:
        proba = est.predict_proba(X_test)
    if not np.all(np.isfinite(proba)):
        raise FloatingPointError("non-finite predicted probabilities")
    info = est.fit_info()
    epochs = info.pop("epochs", None) or info.get("iterations")
    samples = info.get("samples_seen")
    record.update(
        status="ok",
        train_acc=_accuracy(est, X_train, y_train),
        val_acc=info.pop("val_acc", None),
        test_acc=float(np.mean(est.classes_[proba.argmax(1)] == y_test)),
        fit_s=fit_s,
        fit_group_s=group_s,
        group_size=group_size,
        predict_s=t["seconds"],
        epochs=epochs,
        train_samples_per_s=samples / fit_s if samples else None,
        fit_rows_per_s=len(y_train) / fit_s,
        predict_rows_per_s=len(y_test) / t["seconds"] if t["seconds"] > 0 else None,
        **info,
    )
    return record


def _warm_up(cell: Cell, threads: int) -> None:
    """One tiny fit outside the clock: imports, allocator and kernel warm-up."""
    est = models.create(cell.model, seed=0, device=cell.device, n_threads=threads, **cell.model_params)
    if "max_epochs" in est.get_params():
        est.set_params(max_epochs=1)
    X, y = datasets.generate(cell.dataset, n=64, seed=12345, **cell.dataset_params)
    est.fit(X, y).predict_proba(X[:8])


def _fit_group(cells: list[Cell], threads: int) -> list[tuple]:
    """Fit the group's estimators; returns (cell, est, data, fit_s, group_s, group_size) per cell."""
    data = [split(c) for c in cells]
    ests = [models.create(c.model, seed=c.seed, device=c.device, n_threads=threads, **c.model_params) for c in cells]
    monitor = [c.tag == "tta" for c in cells]
    if models.batchable(ests[0]) and len(cells) > 1:
        tasks = [(d[0], d[2], None, None, (d[1], d[3]) if m else None) for d, m in zip(data, monitor)]
        with timed(cells[0].device) as t:
            models.fit_batch(ests, tasks)
        share = t["seconds"] / len(cells)
        return [(c, e, d, share, t["seconds"], len(cells)) for c, e, d in zip(cells, ests, data)]
    out = []
    for c, e, d, m in zip(cells, ests, data, monitor):
        task = [(d[0], d[2], None, None, (d[1], d[3]) if m else None)]
        with timed(c.device) as t:
            models.fit_batch([e], task)
        out.append((c, e, d, t["seconds"], t["seconds"], 1))
    return out


def _group_records(group: list[Cell], threads: int, batch_seeds: bool, warmed: set) -> list[dict]:
    """Fit one group of cells and return their records (failures included); writes nothing."""
    head = group[0]
    out: list[dict] = []
    if head.skip_reason:
        return [_base_record(c, threads) | {"status": "skipped", "error": c.skip_reason} for c in group]
    calib = None
    try:
        if (head.model, head.device, repr(head.model_params)) not in warmed:
            _warm_up(head, threads)
            warmed.add((head.model, head.device, repr(head.model_params)))
        # Machine speed right now: a shared machine has slow spells, so measure next to the fits.
        calib = calibrate(repeats=3)
        fitted = _fit_group(group if batch_seeds else group[:1], threads)
        for c in [] if batch_seeds else group[1:]:
            fitted += _fit_group([c], threads)
    except Exception:
        fitted = []
        if len(group) == 1:
            out.append(_failure(head, threads, calib))
        for c in group if len(group) > 1 else []:  # retry one by one to name the cells that fail
            try:
                fitted += _fit_group([c], threads)
            except Exception:
                out.append(_failure(c, threads, calib))
    for cell, est, data, fit_s, group_s, size in fitted:
        try:
            out.append(_finish(_base_record(cell, threads, calib), cell, est, data, fit_s, group_s, size))
        except Exception:
            out.append(_failure(cell, threads, calib))
    return out


def _isolated_group(group: list[Cell], threads: int, batch_seeds: bool) -> list[dict]:
    """Child-process entry: run a group and stamp each record with the child's peak memory."""
    import resource

    from bench.timing import pin_threads

    pin_threads(threads)
    recs = _group_records(group, threads, batch_seeds, set())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [r | {"peak_rss_mb": round(peak_mb, 1)} for r in recs]


def run(
    cells: list[Cell],
    out: Path,
    *,
    threads: int,
    force: bool = False,
    progress: bool = True,
    batch_seeds: bool = True,
    isolate: bool = False,
) -> int:
    """Run every unfinished cell, appending a record for each; returns the number that failed.

    Finished means: a record made by this commit on this machine (an interrupted run resumes; a
    new commit or another machine measures again, and its records replace the older ones).

    ``batch_seeds=False`` fits each seed on its own, so every seed is an independent timing sample
    (what the regression gate's rank test needs). ``isolate=True`` runs each group in a fresh
    child process: its peak memory is recorded, and a crash (out of memory) fails only that group.
    """
    out = Path(out)
    path = out / "records.jsonl"
    done = set() if force else records.finished_keys(path, made_here=True)
    todo = [c for c in cells if c.key not in done]
    groups: dict[tuple, list[Cell]] = defaultdict(list)
    for c in todo:
        groups[c.group].append(c)
    failed = 0
    bar = _progress(len(todo), len(cells) - len(todo), progress)
    warmed: set[tuple] = set()
    for group in groups.values():
        head = group[0]
        bar.set_postfix_str(f"{head.model} {head.dataset} n={head.n} {head.device}")
        if isolate and not head.skip_reason:
            recs = _run_isolated(group, threads, batch_seeds)
        else:
            recs = _group_records(group, threads, batch_seeds, warmed)
        for r in recs:
            records.append(path, r)
            failed += r["status"] == "failed"
        bar.update(len(group))
    bar.close()
    return failed


def _run_isolated(group: list[Cell], threads: int, batch_seeds: bool) -> list[dict]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = mp.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_exit_with, initargs=(os.getpid(),)
    ) as pool:
        try:
            return pool.submit(_isolated_group, group, threads, batch_seeds).result()
        except BrokenProcessPool:
            return [
                _base_record(c, threads) | {"error": "worker process died (killed, or out of memory)"} for c in group
            ]


def _exit_with(parent: int) -> None:
    """Worker initializer: exit as soon as ``parent`` is gone (a kill -9 of the run leaves no orphan)."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _failure(cell: Cell, threads: int, calibration: float | None = None) -> dict:
    record = _base_record(cell, threads, calibration)
    record["error"] = traceback.format_exc(limit=3).strip().splitlines()[-1]
    return record


def _progress(total: int, skipped: int, enabled: bool):
    from tqdm import tqdm

    desc = f"cells ({skipped} already done)" if skipped else "cells"
    return tqdm(total=total, desc=desc, unit="cell", disable=not enabled, dynamic_ncols=True)
