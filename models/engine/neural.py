"""Base for the PyTorch families: data preparation, candidate selection, batched fits over seeds."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections import defaultdict

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from models.base import BenchClassifier, FitTask, resolve_device, standard_scale, synchronize
from models.engine.trainer import EVAL_CHUNK, Member, MemberResult, TrainConfig, probabilities, train_members

FLOAT32_MAX = float(np.finfo(np.float32).max)


class NeuralClassifier(BenchClassifier):
    """A torch module trained by the shared trainer.

    Subclasses set the hyperparameters in ``__init__`` and write ``_build(d, n_classes, X, y,
    candidate)``; ``_candidates()`` lists hyperparameter settings to try (the best on validation
    wins, all trained as one batched model); ``_train_config()`` says how to train.
    """

    preprocessing = "quantile"  # models/preprocessing.py: PLR / TabM style
    batchable = True  # members can be stacked with trainer.stack (False: trained one at a time)
    standardize = True  # inputs scaled by training mean and std (a linear map keeps periodicity)
    select_after: int | None = None  # families with candidates take it as a hyperparameter

    # --- hooks -------------------------------------------------------------------------------
    def _candidates(self) -> list[dict]:
        return [{}]

    @abstractmethod
    def _build(self, d: int, n_classes: int, X: np.ndarray, y: np.ndarray, candidate: dict) -> nn.Module:
        """A fresh module mapping (B, d) scaled rows to (B, [heads,] n_classes) outputs."""

    def _train_config(self) -> TrainConfig:
        return TrainConfig(
            lr=self.lr,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            patience=self.patience,
            select_after=self.select_after,
        )

    # --- the contract ------------------------------------------------------------------------
    def _fit(self, task: FitTask) -> None:
        fit_together([self], [task])

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        module = self.module_.eval()
        Xt = self._to_tensor(X)
        outputs_probabilities = self._train_config().outputs_probabilities
        with torch.no_grad():
            chunks = [module(Xt[i : i + EVAL_CHUNK]).unsqueeze(0) for i in range(0, len(Xt), EVAL_CHUNK)]
            proba = torch.cat([probabilities(c, outputs_probabilities)[0] for c in chunks]).to(torch.float64)
        synchronize(self.device_)
        proba = proba.cpu().numpy()
        if not np.all(np.isfinite(proba)):
            raise ValueError("the network's outputs are not finite for these inputs (overflow)")
        return proba / proba.sum(1, keepdims=True)

    def fit_info(self) -> dict:
        r = self.result_
        info = {
            "epochs": r.epochs,
            "best_epoch": r.best_epoch,
            "samples_seen": r.samples_seen,
            "val_acc": None if np.isnan(r.best_val_acc) else r.best_val_acc,
            "loss_curve": [round(v, 5) for v in r.loss_curve],
            "last_loss_curve": [round(v, 5) for v in r.last_loss_curve],
            "candidate": self.candidate_,
            "prep_s": self.prep_seconds_,  # validation split, scaling, building (spectral: the search)
        }
        if r.monitor_curve:
            info["monitor_curve"] = [(round(t + self.prep_seconds_, 4), a) for t, a in r.monitor_curve]
        return info

    # --- internals ---------------------------------------------------------------------------
    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        if self.standardize:
            X = (X - self.mean_) / self.scale_
        if not np.all(np.abs(X) < FLOAT32_MAX):
            raise ValueError(
                f"inputs out of float32 range after scaling (max |x| {np.abs(X).max():.3g}); "
                "the network cannot represent them"
            )
        return torch.as_tensor(X, dtype=torch.float32, device=self.device_)

    def _members(self, task: FitTask) -> tuple[list[Member], list[dict]]:
        """One member per candidate: device, validation split, scaling, modules built under the seed."""
        self.device_ = resolve_device(self.device)
        X, y, X_val, y_val = task.X, task.y, task.X_val, task.y_val
        if X_val is None and self._validates(task):
            X, X_val, y, y_val = _split(X, y, self.val_fraction, self.seed)
        if self.standardize:
            self.mean_, self.scale_ = standard_scale(X)
        else:
            self.mean_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        if self.n_threads:
            torch.set_num_threads(int(self.n_threads))
        torch.manual_seed(int(self.seed))  # init depends only on the seed: batched == separate
        rng = np.random.default_rng(int(self.seed))
        X_scaled = (X - self.mean_) / self.scale_
        candidates = self._candidates()
        members = []
        for cand in candidates:
            module = self._build(X_scaled.shape[1], len(self.classes_), X_scaled, y, cand | {"rng": rng})
            member = Member(module.to(self.device_), self._to_tensor(X), self._label_tensor(y), seed=int(self.seed))
            if X_val is not None:
                member.X_val, member.y_val = self._to_tensor(X_val), self._label_tensor(y_val)
            if task.X_monitor is not None:
                member.X_monitor, member.y_monitor = self._to_tensor(task.X_monitor), self._label_tensor(task.y_monitor)
            members.append(member)
        return members, candidates

    def _validates(self, task: FitTask) -> bool:
        """Whether a fit on ``task`` has validation rows (given, or carved from the training rows)."""
        return task.X_val is not None or (self.patience is not None and len(task.y) >= 10)

    def _label_tensor(self, y: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(y, device=self.device_)

    def _adopt(self, members: list[Member], candidates: list[dict], results: list[MemberResult], group_size: int):
        """Keep the candidate :meth:`_choose` picks as the fitted model."""
        best = self._choose(members, candidates, results)
        self.module_ = members[best].module
        self.result_ = results[best]
        self.candidate_ = {k: v for k, v in candidates[best].items() if k != "rng"}
        self.candidate_scores_ = [
            ({k: v for k, v in c.items() if k != "rng"}, r.best_val_acc, r.best_val_loss)
            for c, r in zip(candidates, results)
        ]
        self.group_size_ = group_size

    def _choose(self, members: list[Member], candidates: list[dict], results: list[MemberResult]) -> int:
        """The candidate with the best validation accuracy (then loss)."""
        scores = [(r.best_val_acc, -r.best_val_loss) for r in results]
        return max(range(len(members)), key=lambda j: tuple(-np.inf if np.isnan(s) else s for s in scores[j]))


def _split(X, y, fraction: float, seed: int):
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    return train_test_split(X, y, test_size=fraction, random_state=seed, stratify=stratify)


def _shape_key(m: Member) -> tuple:
    """Members that can stack: same data shapes and device, and modules of the same structure
    (a search may shape one seed's module differently, e.g. spectral_mlp's lifted columns)."""
    data = tuple(None if t is None else tuple(t.shape) for t in (m.X, m.X_val, m.X_monitor)) + (str(m.X.device),)
    return data + tuple((name, tuple(t.shape)) for name, t in m.module.state_dict().items())


def fit_together(estimators: list[NeuralClassifier], tasks: list[FitTask]) -> None:
    """Fit estimators of one family (e.g. one per seed) on validated tasks as one batched model.

    Every candidate of every estimator is a member; members with the same data shapes and
    training config train together (families with ``batchable = False``: one at a time). Each
    estimator then keeps its best candidate.
    """
    prepared = []
    for est, task in zip(estimators, tasks):
        start = time.perf_counter()
        members, candidates = est._members(task)
        for m in members:
            m.group = len(prepared)
        prepared.append((members, candidates))
        est.prep_seconds_ = time.perf_counter() - start
    groups: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
    for i, (est, (members, _)) in enumerate(zip(estimators, prepared)):
        for j, m in enumerate(members):
            groups[(_shape_key(m), est._train_config()) if est.batchable else (i, j)].append((i, j))
    results: dict[tuple[int, int], MemberResult] = {}
    for index in groups.values():
        cfg = estimators[index[0][0]]._train_config()
        trained = train_members([prepared[i][0][j] for i, j in index], cfg)
        results.update(zip(index, trained))
    for i, (est, (members, candidates)) in enumerate(zip(estimators, prepared)):
        size = len(estimators) if est.batchable else 1
        est._adopt(members, candidates, [results[i, j] for j in range(len(members))], size)
