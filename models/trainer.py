"""One PyTorch training loop for every neural family.

Data lives on the device as (K, n, d) tensors (K members: seeds x candidates), batches are
slices of a per-member ``randperm`` (no DataLoader), the loss is cross-entropy on logits, and each
member early-stops on its own validation split with best-epoch restore. The inner loop never
reads a value back to the host; one sync per epoch reads the validation scores.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models import ensemble
from models.base import synchronize

EVAL_CHUNK = 16384  # rows per forward pass at evaluation: bounds memory at 1M rows


@dataclass(frozen=True)
class TrainConfig:
    """How to train; one config is shared by all members trained together (hashable: a group key)."""

    optimizer: str = "adamw"  # "adamw" | "sgd"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9  # sgd only
    batch_size: int = 256
    max_epochs: int = 200
    patience: int | None = 20  # epochs without validation improvement; None: train all epochs
    shuffle: bool = True
    outputs_probabilities: bool = False  # the seed's bug: softmax fed to cross_entropy


@dataclass
class Member:
    """One model to train: its module, its data (tensors on the device) and its seed."""

    module: nn.Module
    X: Tensor
    y: Tensor
    seed: int
    X_val: Tensor | None = None
    y_val: Tensor | None = None
    X_monitor: Tensor | None = None  # optional held-out set, only read for time-to-accuracy curves
    y_monitor: Tensor | None = None


@dataclass
class MemberResult:
    epochs: int = 0
    best_epoch: int = 0
    samples_seen: int = 0
    best_val_acc: float = float("nan")
    best_val_loss: float = float("nan")
    loss_curve: list[float] = field(default_factory=list)  # mean training loss per epoch
    last_loss_curve: list[float] = field(default_factory=list)  # loss of the epoch's last batch
    val_acc_curve: list[float] = field(default_factory=list)
    monitor_curve: list[tuple[float, float]] = field(default_factory=list)  # (train seconds, acc)


def _make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    # A parameter may carry ``lr_scale`` (e.g. frequencies found by a search need small steps).
    scales: dict[float, list] = {}
    for p in params:
        scales.setdefault(float(getattr(p, "lr_scale", 1.0)), []).append(p)
    params = [{"params": ps, "lr": cfg.lr * s} for s, ps in scales.items()]
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    raise ValueError(f"optimizer must be 'adamw' or 'sgd', got {cfg.optimizer!r}")


def member_losses(out: Tensor, y: Tensor) -> Tensor:
    """Mean cross-entropy per member. out: (K, B, C) or (K, B, H, C) with H heads; y: (K, B).

    Always log_softmax of ``out``: for a family whose outputs are already probabilities (the
    seed's softmax before CrossEntropyLoss) that is the seed's bug, reproduced.
    """
    if out.ndim == 4:
        y = y[:, :, None].expand(-1, -1, out.shape[2])
    losses = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), reduction="none")
    return losses.view(out.shape[0], -1).mean(1)


def probabilities(out: Tensor, outputs_probabilities: bool = False) -> Tensor:
    """(K, B, [H,] C) outputs -> (K, B, C) probabilities, averaged over heads."""
    proba = out if outputs_probabilities else out.softmax(-1)
    return proba.mean(2) if proba.ndim == 4 else proba


@torch.no_grad()
def evaluate(net: nn.Module, X: Tensor, y: Tensor, outputs_probabilities: bool) -> tuple[Tensor, Tensor]:
    """Per-member (accuracy, loss) on (K, n, d) data, in chunks."""
    net.eval()
    correct = torch.zeros(X.shape[0], device=X.device)
    loss = torch.zeros(X.shape[0], device=X.device)
    for i in range(0, X.shape[1], EVAL_CHUNK):
        out = net(X[:, i : i + EVAL_CHUNK])
        yb = y[:, i : i + EVAL_CHUNK]
        loss += member_losses(out, yb) * yb.shape[1]
        correct += (probabilities(out, outputs_probabilities).argmax(-1) == yb).sum(1)
    return correct / X.shape[1], loss / X.shape[1]


def train_members(members: list[Member], cfg: TrainConfig) -> list[MemberResult]:
    """Train all members together; on return each member's module holds its best weights."""
    X = torch.stack([m.X for m in members])
    y = torch.stack([m.y for m in members])
    device = X.device
    has_val = members[0].X_val is not None and cfg.patience is not None
    has_monitor = members[0].X_monitor is not None
    if has_val:
        X_val, y_val = torch.stack([m.X_val for m in members]), torch.stack([m.y_val for m in members])
    if has_monitor:
        X_mon, y_mon = torch.stack([m.X_monitor for m in members]), torch.stack([m.y_monitor for m in members])

    torch.set_flush_denormal(True)  # denormal floats in near-converged nets slow CPUs many-fold
    net = ensemble.stack([m.module for m in members]).to(device)
    opt = _make_optimizer(net.parameters(), cfg)
    state = ensemble.member_tensors(net)
    best_state = [t.clone() for t in state]

    k, n = y.shape
    batch = max(1, min(cfg.batch_size, n))
    n_steps = math.ceil(n / batch)
    rows = torch.arange(k, device=device)[:, None]
    gens = [torch.Generator(device=device).manual_seed(int(m.seed)) for m in members]
    results = [MemberResult() for _ in members]
    best_acc = np.full(k, -np.inf)
    best_loss = np.full(k, np.inf)
    bad_epochs = np.zeros(k, dtype=int)
    frozen = np.zeros(k, dtype=bool)
    order = torch.arange(n, device=device).expand(k, n)
    step_losses = torch.empty(n_steps, k, device=device)
    # Partial last batch: weight step means by batch size for an exact epoch mean.
    sizes = torch.full((n_steps, 1), float(batch), device=device)
    sizes[-1] = n - batch * (n_steps - 1)
    train_seconds = 0.0

    for epoch in range(1, cfg.max_epochs + 1):
        synchronize(device)
        t0 = time.perf_counter()
        net.train()
        if cfg.shuffle:
            order = torch.stack([torch.randperm(n, generator=g, device=device) for g in gens])
        for step in range(n_steps):
            idx = order[:, step * batch : (step + 1) * batch]
            loss = member_losses(net(X[rows, idx]), y[rows, idx])
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            step_losses[step] = loss.detach()
        stats = [(step_losses * sizes).sum(0) / n, step_losses[-1]]
        if has_val:
            stats += evaluate(net, X_val, y_val, cfg.outputs_probabilities)
        values = torch.stack(stats).tolist()  # the epoch's one read back to the host
        epoch_loss, last_loss = values[0], values[1]
        if has_val:
            val_acc, val_loss = values[2], values[3]
        train_seconds += time.perf_counter() - t0
        if has_monitor:
            mon_acc, _ = evaluate(net, X_mon, y_mon, cfg.outputs_probabilities)
            mon_acc = mon_acc.tolist()

        improved = np.zeros(k, dtype=bool)
        for j, r in enumerate(results):
            if frozen[j]:
                continue
            r.epochs = epoch
            r.samples_seen += n
            r.loss_curve.append(epoch_loss[j])
            r.last_loss_curve.append(last_loss[j])
            if has_monitor:
                r.monitor_curve.append((train_seconds, mon_acc[j]))
            if not has_val:
                r.best_epoch = epoch
                continue
            r.val_acc_curve.append(val_acc[j])
            if val_acc[j] > best_acc[j] or (val_acc[j] == best_acc[j] and val_loss[j] < best_loss[j]):
                best_acc[j], best_loss[j] = val_acc[j], val_loss[j]
                r.best_epoch, r.best_val_acc, r.best_val_loss = epoch, val_acc[j], val_loss[j]
                improved[j] = True
                bad_epochs[j] = 0
            else:
                bad_epochs[j] += 1
                frozen[j] = bad_epochs[j] >= cfg.patience
        if has_val and improved.any():
            # torch.where, not boolean indexing: indexing by a mask syncs with the GPU.
            mask = torch.as_tensor(improved, device=device)
            for t, b in zip(state, best_state):
                b.copy_(torch.where(mask.view(-1, *[1] * (t.ndim - 1)), t, b))
        if frozen.all():
            break

    if has_val:
        with torch.no_grad():
            for t, b in zip(state, best_state):
                t.copy_(b)
    ensemble.write_back(net)
    return results
