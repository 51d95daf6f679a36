"""Model plug-ins: any scikit-learn classifier, without forking bench.

Two ways to name one in ``--models``:
- ``package.module:factory``: an importable callable returning an unfitted classifier;
- a name that an installed package declares in the entry-point group ``bench.models``
  (``[project.entry-points."bench.models"] knn = "mypkg.models:make_knn"``).

The factory is called with ``seed=`` (or ``random_state=``) when it takes one; otherwise the
classifier's own ``random_state`` is set, if it has one, and ``n_jobs`` to bench's threads.
``--model-param KEY=VALUE`` goes to the classifier's ``set_params``. Plug-ins run on the CPU:
their cuda cells are recorded as skipped. In records and tables a plug-in is a family like any other,
under the name given.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cache
from importlib import metadata

import numpy as np

from models.base import BenchClassifier, FitTask

GROUP = "bench.models"


@cache
def entry_points() -> dict[str, metadata.EntryPoint]:
    """Installed plug-ins: entry-point name -> entry point (group ``bench.models``)."""
    return {ep.name: ep for ep in metadata.entry_points(group=GROUP)}


def is_plugin(name: str) -> bool:
    return ":" in name or name in entry_points()


def factory(name: str):
    """The callable behind a plug-in name; a bad name is a ValueError of one line."""
    if name in entry_points():
        try:
            return entry_points()[name].load()
        except Exception as exc:
            raise ValueError(
                f"plug-in {name!r} ({GROUP} entry point) fails to load: {type(exc).__name__}: {exc}"
            ) from None
    module_name, _, attr = name.partition(":")
    if not module_name or not attr:
        raise ValueError(f"plug-in {name!r}: expected package.module:factory")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ValueError(f"plug-in {name!r}: cannot import {module_name!r} ({type(exc).__name__}: {exc})") from None
    try:
        made = getattr(module, attr)
    except AttributeError:
        raise ValueError(f"plug-in {name!r}: module {module_name!r} has no {attr!r}") from None
    if not callable(made):
        raise ValueError(f"plug-in {name!r}: {attr!r} is not callable")
    return made


def build(name: str, seed: int, params: dict | None = None, n_threads: int | None = None):
    """A new classifier from the plug-in, seeded, with ``params`` set; checked to be a classifier."""
    make = factory(name)
    try:
        accepted = inspect.signature(make).parameters
    except (TypeError, ValueError):
        accepted = {}
    seeded = next((k for k in ("seed", "random_state") if k in accepted), None)
    try:
        est = make(**{seeded: seed}) if seeded else make()
    except (Exception, SystemExit) as exc:  # a factory that calls sys.exit does not end bench either
        raise ValueError(f"plug-in {name!r} failed when called: {type(exc).__name__}: {exc}") from None
    if isinstance(est, type):
        raise ValueError(
            f"plug-in {name!r} returned the class {est.__name__}, not an instance: return {est.__name__}(...)"
        )
    missing = [m for m in ("fit", "predict_proba", "get_params", "set_params") if not hasattr(est, m)]
    if missing:
        raise ValueError(
            f"plug-in {name!r} returned {type(est).__name__}, which lacks {', '.join(missing)}: "
            "not a scikit-learn classifier"
        )
    own = est.get_params()
    unknown = set(params or {}) - set(own)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)} for {name!r}; valid: {', '.join(sorted(own))}")
    if not seeded and "random_state" in own:
        est.set_params(random_state=seed)
    if n_threads and "n_jobs" in own:
        est.set_params(n_jobs=n_threads)
    return est.set_params(**(params or {}))


class PluginClassifier(BenchClassifier):
    """A plug-in's classifier behind bench's contract (validation, labels 0..K-1, timing by the runner)."""

    def __init__(
        self, *, plugin: str = "", params: dict | None = None, seed: int = 0, device: str = "auto", n_threads=None
    ):
        self.plugin = plugin
        self.params = params
        self.seed = seed
        self.device = device
        self.n_threads = n_threads

    def _fit(self, task: FitTask) -> None:
        self.estimator_ = build(self.plugin, self.seed, self.params, self.n_threads)
        self.estimator_.fit(task.X, task.y)

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        out = np.zeros((len(X), len(self.classes_)))
        out[:, np.asarray(self.estimator_.classes_, dtype=np.int64)] = proba  # a class it never saw stays 0
        return out

    def fit_info(self) -> dict:
        n_iter = getattr(self.estimator_, "n_iter_", None)
        return {"iterations": int(np.max(n_iter))} if n_iter is not None else {}
