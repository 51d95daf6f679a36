"""Base for the PyTorch families: data preparation, candidate selection, batched fits over seeds."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data
from torch import nn

from models.base import BenchClassifier, resolve_device, standard_scale
from models.trainer import EVAL_CHUNK, Member, TrainConfig, probabilities, train_members


class NeuralClassifier(BenchClassifier):
    """A torch module trained by the shared trainer.

    Subclasses set the hyperparameters in ``__init__`` and write ``_build(d, n_classes, X, y,
    candidate)``; ``_candidates()`` lists hyperparameter settings to try (the best on validation
    wins, all trained as one batched model); ``_train_config()`` says how to train.
    """

    batchable = True  # members can be stacked with models.ensemble (False: fitted one at a time)
    standardize = True  # inputs scaled by training mean and std (a linear map keeps periodicity)

    # --- hooks -------------------------------------------------------------------------------
    def _candidates(self) -> list[dict]:
        return [{}]

    def _build(self, d: int, n_classes: int, X: np.ndarray, y: np.ndarray, candidate: dict) -> nn.Module:
        raise NotImplementedError

    def _train_config(self) -> TrainConfig:
        return TrainConfig(
            lr=self.lr,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            patience=self.patience,
        )

    # --- sklearn API -------------------------------------------------------------------------
    def fit(self, X, y, X_val=None, y_val=None, *, monitor=None):
        """Fit; ``monitor=(X_test, y_test)`` records a held-out accuracy curve (never used to select)."""
        fit_group([self], [(X, y, X_val, y_val, monitor)])
        return self

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        device = torch.device(self.device_)
        module = self.module_.eval()
        Xt = self._to_tensor(X)
        outs = []
        with torch.no_grad():
            for i in range(0, len(Xt), EVAL_CHUNK):
                out = module(Xt[i : i + EVAL_CHUNK]).unsqueeze(0)
                outs.append(probabilities(out, self._train_config().outputs_probabilities)[0])
        proba = torch.cat(outs).to(torch.float64)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        proba = proba.cpu().numpy()
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
        }
        if r.monitor_curve:
            info["monitor_curve"] = [(round(t + self.prep_seconds_, 4), a) for t, a in r.monitor_curve]
        return info

    # --- internals ---------------------------------------------------------------------------
    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        if self.standardize:
            X = (X - self.mean_) / self.scale_
        return torch.as_tensor(X, dtype=torch.float32, device=self.device_)

    def _prepare(self, X, y, X_val, y_val, monitor) -> dict:
        """Validate, encode, carve validation, scale; returns numpy arrays for this estimator."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, y = np.unique(y, return_inverse=True)
        self.device_ = resolve_device(self.device)
        if X_val is not None:
            X_val, y_val = self._encode_val(X_val, y_val)
        elif self.patience is not None and len(y) >= 10:
            X, X_val, y, y_val = _split(X, y, self.val_fraction, self.seed)
        if self.standardize:
            self.mean_, self.scale_ = standard_scale(X)
        else:
            self.mean_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        data = {"X": X, "y": y.astype(np.int64), "X_val": X_val, "y_val": y_val, "monitor": None}
        if monitor is not None:
            Xm = validate_data(self, monitor[0], reset=False, dtype=np.float64)
            ym = np.asarray(monitor[1])
            keep = np.isin(ym, self.classes_)  # rows of classes unseen in training can't be scored
            data["monitor"] = (Xm[keep], np.searchsorted(self.classes_, ym[keep]))
        return data


def _split(X, y, fraction: float, seed: int):
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    return train_test_split(X, y, test_size=fraction, random_state=seed, stratify=stratify)


def _members_for(est: NeuralClassifier, data: dict) -> tuple[list[Member], list[dict]]:
    if est.n_threads:
        torch.set_num_threads(int(est.n_threads))
    n_classes = len(est.classes_)
    X_scaled = (data["X"] - est.mean_) / est.scale_
    torch.manual_seed(int(est.seed))  # init depends only on the seed: batched == separate
    np_rng = np.random.default_rng(int(est.seed))
    candidates = est._candidates()
    members = []
    for cand in candidates:
        module = est._build(X_scaled.shape[1], n_classes, X_scaled, data["y"], cand | {"rng": np_rng})
        tensor = est._to_tensor
        member = Member(
            module=module.to(est.device_),
            X=tensor(data["X"]),
            y=torch.as_tensor(data["y"], device=est.device_),
            seed=int(est.seed),
        )
        if data["X_val"] is not None:
            member.X_val = tensor(data["X_val"])
            member.y_val = torch.as_tensor(data["y_val"], device=est.device_)
        if data["monitor"] is not None:
            member.X_monitor = tensor(data["monitor"][0])
            member.y_monitor = torch.as_tensor(data["monitor"][1], device=est.device_)
        members.append(member)
    return members, candidates


def _shape_key(m: Member) -> tuple:
    return tuple(None if t is None else tuple(t.shape) for t in (m.X, m.X_val, m.X_monitor)) + (str(m.X.device),)


def fit_group(estimators: list[NeuralClassifier], tasks: list[tuple]) -> list[NeuralClassifier]:
    """Fit several estimators of one class (e.g. one per seed) as one batched model.

    ``tasks[i] = (X, y, X_val, y_val, monitor)`` for ``estimators[i]``. Members whose data shapes
    differ, or whose family is not batchable, are trained in separate groups.
    """
    import time

    prepared = []
    for est, (X, y, X_val, y_val, monitor) in zip(estimators, tasks):
        t0 = time.perf_counter()
        data = est._prepare(X, y, X_val, y_val, monitor)
        members, candidates = _members_for(est, data)
        est.prep_seconds_ = time.perf_counter() - t0
        prepared.append((est, members, candidates))

    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for i, (est, members, _) in enumerate(prepared):
        for j, m in enumerate(members):
            key = (_shape_key(m), est._train_config()) if est.batchable else (i, j)
            groups[str(key)].append((i, j, m))
    results: dict[tuple[int, int], object] = {}
    for group in groups.values():
        cfg = prepared[group[0][0]][0]._train_config()
        for (i, j, _), r in zip(group, train_members([m for _, _, m in group], cfg)):
            results[i, j] = r
    for i, (est, members, candidates) in enumerate(prepared):
        scores = [(results[i, j].best_val_acc, -results[i, j].best_val_loss) for j in range(len(members))]
        best = max(range(len(members)), key=lambda j: tuple(-np.inf if np.isnan(s) else s for s in scores[j]))
        est.module_ = members[best].module
        est.result_ = results[i, best]
        est.candidate_ = {k: v for k, v in candidates[best].items() if k != "rng"}
        est.group_size_ = len(estimators) if est.batchable else 1
    return estimators
