"""Run cells, record each as one line, resume where a previous run stopped."""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import threading
import traceback
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

import datasets
import models
from bench.records import schema, store
from bench.run.suites import Cell
from bench.run.timing import calibrate, pin_threads, timed
from models.base import FitTask

TEST_FRACTION = 0.2
MIN_PREDICT_S = 0.2  # predict is repeated until this much time is measured (launch latency averages out)
MAX_PREDICT_REPEATS = 50
WARM_UP_ROWS = 20_000  # the warm-up fit's rows at most (shapes otherwise as the timed group's)


def split(cell: Cell) -> tuple[np.ndarray, ...]:
    """The cell's data: generated (or drawn) from its seed, 20% held out (also by its seed);
    real data's split is stratified by class (generated labels are balanced by construction)."""
    X, y = datasets.generate(cell.dataset, n=cell.n, seed=cell.seed, **cell.dataset_params)
    real = _task_kinds(cell)["real"]
    return tuple(train_test_split(X, y, test_size=TEST_FRACTION, random_state=cell.seed, stratify=y if real else None))


def _task_kinds(cell: Cell) -> dict:
    """What the families' preprocessing reads beside the rows: the categorical columns, and
    whether the rows are a real table (a table has a size; a generator has none)."""
    return {
        "categorical": datasets.categorical(cell.dataset, **cell.dataset_params),
        "real": datasets.size(cell.dataset, **cell.dataset_params) is not None,
    }


def check_sizes(cells: list[Cell]) -> None:
    """Before any compute: every (dataset, n) of ``cells`` splits 80/20 with at least two training
    rows per class (stratified where the split is); else ValueError naming the dataset and n."""
    seen = set()
    for cell in cells:
        data = (cell.dataset, repr(cell.dataset_params), cell.n)
        if data in seen or cell.skip_reason:
            continue
        seen.add(data)
        try:
            _, _, y_train, y_test = split(dataclasses.replace(cell, seed=0))
        except ValueError as exc:
            raise ValueError(f"{cell.dataset} at n={cell.n} cannot be split 80/20: {exc}") from None
        classes = datasets.n_classes(cell.dataset, **cell.dataset_params) or len(np.unique(y_train))
        if len(y_train) < 2 * classes:
            raise ValueError(
                f"{cell.dataset} at n={cell.n}: {len(y_train)} training rows for {classes} classes "
                f"(at least {2 * classes} needed: two per class); choose a larger --n"
            )


def n_test(n: int) -> int:
    """Held-out rows of a cell of n rows (what train_test_split gives for TEST_FRACTION)."""
    return max(1, math.ceil(n * TEST_FRACTION))


def _accuracy(est, X, y) -> float:
    return float(np.mean(est.predict(X) == y))


def check_probabilities(proba, rows: int, classes: int) -> None:
    """Raise ValueError unless ``proba`` is a (rows, classes) array of probabilities: finite, in
    [0, 1] and each row summing to 1 (to 1e-4)."""
    proba = np.asarray(proba)
    if proba.shape != (rows, classes):
        raise ValueError(f"predict_proba returned shape {proba.shape}, expected ({rows}, {classes})")
    if not np.all(np.isfinite(proba)):
        raise ValueError("predict_proba returned non-finite values")
    if proba.min() < -1e-6 or proba.max() > 1 + 1e-6:
        raise ValueError(f"predict_proba returned values outside [0, 1] ({proba.min():.3g} .. {proba.max():.3g})")
    worst = float(np.abs(proba.sum(axis=1) - 1).max())
    if worst > 1e-4:
        raise ValueError(f"predict_proba rows do not sum to 1 (off by up to {worst:.3g})")


def new_record(cell: Cell, threads: int, calibration: float | None = None, **fields) -> dict:
    """The cell's record before it is measured (status 'failed' until :func:`_measure` runs)."""
    held_out = n_test(cell.n)
    names = datasets.class_names(cell.dataset, **cell.dataset_params)
    if names is not None:
        fields["class_names"] = list(names)
        fields["dataset_sha256"] = datasets.checksum(cell.dataset, **cell.dataset_params)
    return schema.new(
        threads=threads,
        key=cell.key,
        tag=cell.tag,
        dataset=cell.dataset,
        dataset_params=cell.dataset_params,
        n=cell.n,
        n_train=cell.n - held_out,
        n_test=held_out,
        n_classes=datasets.n_classes(cell.dataset, **cell.dataset_params),
        ceiling=datasets.ceiling(cell.dataset, **cell.dataset_params),
        model=cell.model,
        model_params=cell.model_params,
        device=cell.device,
        seed=cell.seed,
        calibration_s=calibration,
        **fields,
    )


@dataclass
class Fitted:
    """A fitted estimator with its cell, data and the timing of the fit it was part of."""

    cell: Cell
    est: object
    data: tuple[np.ndarray, ...]
    group_s: float
    group_size: int
    gpu_peak_mb: float | None = None

    @property
    def fit_s(self) -> float:
        return self.group_s / self.group_size


LOG_LOSS_CLIP = 1e-15  # probabilities are clipped to [LOG_LOSS_CLIP, 1 - LOG_LOSS_CLIP] before the log


def probability_scores(y: np.ndarray, proba: np.ndarray, classes: np.ndarray, n_classes: int | None = None) -> dict:
    """Held-out ROC AUC (binary tasks), log loss (every task) and the error TabArena ranks by:
    1 - ROC AUC on binary tasks, log loss on multiclass ones. ``proba``'s columns are ``classes``;
    a held-out label the estimator never saw gets probability 0 (then clipped). ROC AUC is None
    when the held-out rows hold one class only."""
    y, proba, classes = np.asarray(y), np.asarray(proba, dtype=float), np.asarray(classes)
    binary = (n_classes or len(classes)) == 2
    column = {c: i for i, c in enumerate(classes.tolist())}
    picked = np.array([proba[i, column[v]] if v in column else 0.0 for i, v in enumerate(y.tolist())])
    log_loss = float(-np.mean(np.log(np.clip(picked, LOG_LOSS_CLIP, 1 - LOG_LOSS_CLIP))))
    auc = None
    if binary and len(classes) == 2 and len(np.unique(y)) == 2:
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score(y == classes[1], proba[:, 1]))
    if binary:
        return {
            "test_roc_auc": auc,
            "test_log_loss": log_loss,
            "test_error": None if auc is None else 1.0 - auc,
            "test_error_metric": "1 - roc_auc",
        }
    return {"test_roc_auc": None, "test_log_loss": log_loss, "test_error": log_loss, "test_error_metric": "log_loss"}


def _measure(record: dict, fitted: Fitted) -> dict:
    """Predict, score and fill the record of a fitted cell."""
    X_train, X_test, y_train, y_test = fitted.data
    est = fitted.est
    repeats, predict_s = 0, 0.0
    while repeats < MAX_PREDICT_REPEATS and (repeats == 0 or predict_s < MIN_PREDICT_S):
        with timed(fitted.cell.device) as t:
            proba = est.predict_proba(X_test)
        repeats, predict_s = repeats + 1, predict_s + t["seconds"]
    predict_s /= repeats
    check_probabilities(proba, len(y_test), len(est.classes_))
    info = est.fit_info()
    if getattr(est, "prep_", None) is not None:
        info["preprocessing"] = est.prep_.describe()
    epochs = info.pop("epochs", None) or info.get("iterations")
    samples = info.get("samples_seen")
    record.update(
        status="ok",
        train_acc=_accuracy(est, X_train, y_train),
        val_acc=info.pop("val_acc", None),
        test_acc=float(np.mean(est.classes_[proba.argmax(1)] == y_test)),
        fit_s=fitted.fit_s,
        fit_group_s=fitted.group_s,
        group_size=fitted.group_size,
        predict_s=predict_s,
        predict_repeats=repeats,
        epochs=epochs,
        train_samples_per_s=samples / fitted.fit_s if samples else None,
        fit_rows_per_s=len(y_train) / fitted.fit_s,
        predict_rows_per_s=len(y_test) / predict_s if predict_s > 0 else None,
        gpu_peak_mb=fitted.gpu_peak_mb,
        **probability_scores(y_test, proba, est.classes_, record.get("n_classes")),
        **info,
    )
    return record


def _warm_up(group: list[Cell], threads: int) -> None:
    """A fit outside the clock with the timed fits' shapes (members batched together, rows up to
    WARM_UP_ROWS, features; one epoch): imports, allocator growth and kernel choice happen here."""
    head = group[0]
    n = min(head.n - n_test(head.n), WARM_UP_ROWS)  # the training rows
    X, y = datasets.generate(head.dataset, n=max(n, 2), seed=12345, **head.dataset_params)
    ests = [
        models.create(head.model, seed=i, device=head.device, n_threads=threads, **head.model_params)
        for i in range(len(group))
    ]
    ests = [ests[i] for i in models.batch_plan(ests)[0]]  # one timed fit's members
    for est in ests:
        if "max_epochs" in est.get_params():
            est.set_params(max_epochs=1)
    models.fit_batch(ests, [FitTask(X, y, **_task_kinds(head))] * len(ests))
    ests[0].predict_proba(X[: n_test(head.n)])


def _fit_cells(cells: list[Cell], threads: int, batch: bool) -> list[Fitted]:
    """Fit the cells' estimators, batched as ``models.batch_plan`` says (or one by one), each batch timed."""
    data = [split(c) for c in cells]
    ests = [models.create(c.model, seed=c.seed, device=c.device, n_threads=threads, **c.model_params) for c in cells]
    kinds = [_task_kinds(c) for c in cells]
    tasks = [
        FitTask(X_tr, y_tr, X_monitor=X_te, y_monitor=y_te, **k) if c.tag == "tta" else FitTask(X_tr, y_tr, **k)
        for c, k, (X_tr, X_te, y_tr, y_te) in zip(cells, kinds, data)
    ]
    plan = models.batch_plan(ests) if batch else [[i] for i in range(len(cells))]
    out = []
    for group in plan:
        device = cells[group[0]].device
        _reset_gpu_peak(device)
        with timed(device) as t:
            models.fit_batch([ests[i] for i in group], [tasks[i] for i in group])
        peak = _gpu_peak_mb(device)
        out += [Fitted(cells[i], ests[i], data[i], t["seconds"], len(group), peak) for i in group]
    return out


def _reset_gpu_peak(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()


def _gpu_peak_mb(device: str) -> float | None:
    if device != "cuda":
        return None
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def group_records(group: list[Cell], threads: int, batch_seeds: bool, warmed: set | None = None) -> list[dict]:
    """Fit one group of cells and return their records (failures included); writes nothing."""
    head = group[0]
    if head.skip_reason:
        return [new_record(c, threads, status="skipped", error=c.skip_reason) for c in group]
    too_wide = _too_wide(head)
    if too_wide:
        return [new_record(c, threads, status="skipped", error=too_wide) for c in group]
    out: list[dict] = []
    calib = None
    warmed = set() if warmed is None else warmed
    try:
        shape = (head.model, head.device, repr(head.model_params), head.n, len(group) if batch_seeds else 1)
        if shape not in warmed:
            _warm_up(group if batch_seeds else group[:1], threads)
            warmed.add(shape)
        # Machine speed right now: a shared machine has slow spells, so measure next to the fits.
        calib = calibrate(repeats=3)
        fitted = _fit_cells(group, threads, batch_seeds)
    except (Exception, SystemExit):  # a family that calls sys.exit fails its cells, not the run
        fitted = []
        if len(group) == 1:
            out.append(_failure(head, threads, calib))
        for c in group if len(group) > 1 else []:  # retry one by one to name the cells that fail
            try:
                fitted += _fit_cells([c], threads, batch=False)
            except (Exception, SystemExit):
                out.append(_failure(c, threads, calib))
    for f in fitted:
        try:
            out.append(_measure(new_record(f.cell, threads, calib), f))
        except (Exception, SystemExit):
            out.append(_failure(f.cell, threads, calib))
    return out


@dataclass(frozen=True)
class RunOptions:
    """How the runner runs cells (what runs is the cells' business).

    ``batch_seeds=False`` fits each seed on its own, so every seed is an independent timing sample
    (what the regression gate's rank test needs). ``isolate=True`` runs each group in a fresh
    child process: its peak memory is recorded, and a crash (out of memory) fails only that group.
    ``cell_timeout`` (seconds per cell; implies ``isolate``) kills a group's child that runs
    longer than that times its cells, and records them as failed."""

    threads: int = 1
    force: bool = False
    progress: bool = True
    batch_seeds: bool = True
    isolate: bool = False
    cell_timeout: float | None = None

    def __post_init__(self) -> None:
        if self.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {self.threads}")
        if self.cell_timeout is not None and not (0 < self.cell_timeout < math.inf):
            raise ValueError(f"--cell-timeout must be a positive number of seconds, got {self.cell_timeout}")


def run(cells: list[Cell], out: Path, options: RunOptions, executor=None) -> int:
    """Run every unfinished cell, appending a record for each; returns the number that failed.

    Finished means: a record made by this commit on this machine (an interrupted run resumes; a
    new commit or another machine measures again, and its records replace the older ones), ok,
    skipped, or over a budget at least as large as this run's (a failed cell is retried; one that
    ran past its budget only with ``force`` or a larger ``cell_timeout``).
    On Ctrl-C every record already written stays; the progress bar is closed and the
    KeyboardInterrupt goes on. ``executor`` (e.g. :class:`bench.run.ray_executor.RayExecutor`)
    runs the groups elsewhere; this function still decides what runs and writes every record.
    """
    out = Path(out)
    path = out / "records.jsonl"
    store.set_aside_torn(path)
    done = set() if options.force else store.finished_keys(path, True, executor is not None, options.cell_timeout)
    todo = [c for c in cells if c.key not in done]
    groups: dict[tuple, list[Cell]] = defaultdict(list)
    for c in todo:
        groups[c.group].append(c)
    failed = 0
    where = executor.describe() if executor else ""
    bar = _progress(len(todo), len(cells) - len(todo), options.progress, where)
    try:
        for group, recs in _results(list(groups.values()), options, executor):
            for r in recs:
                store.append(path, r)
                failed += r["status"] == "failed"
            bar.update(len(group))
            head = group[0]
            bar.set_postfix_str(f"{head.model} {head.dataset} n={head.n} {head.device}")
    finally:
        bar.close()
    return failed


def _results(groups: list[list[Cell]], options: RunOptions, executor):
    """(group, records) for every group: here, in child processes, or on the executor (skipped
    groups are recorded here, never submitted)."""
    threads, batch_seeds = options.threads, options.batch_seeds
    skipped = [g for g in groups if g[0].skip_reason]
    work = [g for g in groups if not g[0].skip_reason]
    for group in skipped:
        yield group, group_records(group, threads, batch_seeds)
    if executor is not None:
        yield from executor.run(work, threads, batch_seeds, options.cell_timeout)
        return
    warmed: set[tuple] = set()
    for group in work:
        # Plug-ins always run in a child: one that calls os._exit ends the child, not the run.
        if options.isolate or options.cell_timeout or _is_plugin(group[0].model):
            yield group, run_isolated(group, threads, batch_seeds, options.cell_timeout)
        else:
            yield group, group_records(group, threads, batch_seeds, warmed)


def _too_wide(cell: Cell) -> str:
    """Why the cell's family does not run on its table ('' when it does): more columns than its cap."""
    from models.base import too_wide

    cap = models.max_features(cell.model)
    if cap is None:
        return ""
    X, _ = datasets.generate(cell.dataset, n=min(cell.n, 20), seed=cell.seed, **cell.dataset_params)
    return too_wide(cell.model, X.shape[1], cap) if X.shape[1] > cap else ""


def _is_plugin(model: str) -> bool:
    from models import plugins

    return plugins.is_plugin(model)


def run_isolated(group: list[Cell], threads: int, batch_seeds: bool, timeout: float | None) -> list[dict]:
    """The group in a fresh child process (spawned: no inherited threads or state), killed after
    ``timeout`` seconds per cell (None: no limit); a killed or dead child fails the group with why."""
    import multiprocessing as mp

    context = mp.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_isolated_group, args=(send, group, threads, batch_seeds, os.getpid()))
    # The child starts with Ctrl-C ignored (a disposition it inherits): the parent handles Ctrl-C and
    # ends the child, so the terminal shows bench's one line, not the child's traceback.
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
    try:
        child.start()
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous)
    send.close()
    limit = None if timeout is None else timeout * len(group)
    budget = {}
    try:
        if receive.poll(limit):
            return receive.recv()
        if child.is_alive():  # still running: over its time
            error = f"{store.TIMED_OUT} after {limit:g} s ({timeout:g} s per cell)"
            budget = {"budget_s": timeout}
        else:
            error = "worker process died (killed, or out of memory)"
    except EOFError:  # the child closed the pipe without a result: it died
        error = "worker process died (killed, or out of memory)"
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    return [new_record(c, threads, error=error, **budget) for c in group]


def _isolated_group(conn, group: list[Cell], threads: int, batch_seeds: bool, parent: int) -> None:
    """Child-process entry: run a group, stamp each record with the child's peak memory, send them."""
    import resource

    _exit_with(parent)
    pin_threads(threads)
    recs = group_records(group, threads, batch_seeds, set())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send([r | {"peak_rss_mb": round(peak_mb, 1)} for r in recs])
    conn.close()


def _exit_with(parent: int) -> None:
    """Exit as soon as ``parent`` is gone (a kill -9 of the run leaves no orphan)."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _failure(cell: Cell, threads: int, calibration: float | None = None) -> dict:
    return new_record(cell, threads, calibration, error=traceback.format_exc(limit=3).strip().splitlines()[-1])


def _progress(total: int, skipped: int, enabled: bool, where: str = ""):
    from tqdm import tqdm

    desc = f"cells ({skipped} already done)" if skipped else "cells"
    desc += f" on {where}" if where else ""
    return tqdm(total=total, desc=desc, unit="cell", disable=not enabled, dynamic_ncols=True)
