"""One PyTorch training loop for every neural family.

Data lives on the device as (K, n, d) tensors (K members: seeds x candidates), batches are
slices of a per-member ``randperm`` (no DataLoader), the loss is cross-entropy on logits, and each
member early-stops on its own validation split with best-epoch restore. The inner loop never
reads a value back to the host; one sync per epoch reads the validation scores.

Stacking (the second half of this file) trains K copies of one architecture (seeds x
hyperparameter candidates) as a single batched model. Each member is an ordinary ``nn.Module`` built under its own seed, mapping (B, d) -> (B, [H,] C).
:func:`stack` turns K of them into one module mapping (K, B, d) -> (K, B, [H,] C):
``nn.Linear`` layers become one ``baddbmm`` (fastest on CPU), parameter-free layers are shared,
and any other layer (rtdl's PeriodicEmbeddings, ...) is run with ``torch.func.vmap``.
Since each member's loss is summed and AdamW/SGD are elementwise, each member learns what a
separate fit would (dropout masks aside), at a fraction of the per-step overhead.
"""

from __future__ import annotations

import copy
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from models.base import synchronize
from models.engine import manual_backward
from models.engine.flat_optim import FlatOptimizer, is_per_element

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
    select_after: int | None = None  # epochs after which each group keeps only its best candidate


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
    group: int = 0  # members of one group are candidates of one estimator (see select_after)


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


def member_losses(out: Tensor, y: Tensor) -> Tensor:
    """Mean cross-entropy per member. out: (K, B, C) or (K, B, H, C) with H heads; y: (K, B).

    Always log_softmax of ``out``: for a family whose outputs are already probabilities (the
    seed's softmax before CrossEntropyLoss) that is the seed's bug, reproduced.
    """
    if out.ndim == 4:  # heads: (K, C, B, H) against (K, B, H)
        return F.cross_entropy(
            out.permute(0, 3, 1, 2), y[:, :, None].expand(-1, -1, out.shape[2]), reduction="none"
        ).mean((1, 2))
    return F.cross_entropy(out.transpose(1, 2), y, reduction="none").mean(1)  # (K, C, B) against (K, B)


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


@torch.no_grad()
def right_answers(module: nn.Module, X: Tensor, y: Tensor, outputs_probabilities: bool = False) -> np.ndarray:
    """1 where one member's module predicts a row's label, 0 elsewhere (X: (n, d), in chunks)."""
    module.eval()
    hits = [
        probabilities(module(X[i : i + EVAL_CHUNK]).unsqueeze(0), outputs_probabilities)[0].argmax(-1)
        == y[i : i + EVAL_CHUNK]
        for i in range(0, len(X), EVAL_CHUNK)
    ]
    return torch.cat(hits).cpu().numpy().astype(np.int8)


def train_members(members: list[Member], cfg: TrainConfig) -> list[MemberResult]:
    """Train all members together; on return each member's module holds its best weights.

    A member that early-stops leaves the batched model (its weights, optimizer state and data are
    dropped from the stack), so the others no longer pay for it; with ``cfg.select_after`` each
    ``Member.group`` keeps only its best candidate after that many epochs.
    """
    X = torch.stack([m.X for m in members])
    y = torch.stack([m.y for m in members])
    device = X.device
    has_val = members[0].X_val is not None and cfg.patience is not None
    has_monitor = members[0].X_monitor is not None
    X_val = y_val = X_mon = y_mon = None
    if has_val:
        X_val, y_val = torch.stack([m.X_val for m in members]), torch.stack([m.y_val for m in members])
    if has_monitor:
        X_mon, y_mon = torch.stack([m.X_monitor for m in members]), torch.stack([m.y_monitor for m in members])

    torch.set_flush_denormal(True)  # denormal floats in near-converged nets slow CPUs many-fold
    net = stack([m.module for m in members]).to(device)
    opt = FlatOptimizer(net.parameters(), cfg)
    manual = manual_backward.applies(net, EnsembleLinear)
    best_state = [t.clone() for t in member_tensors(net)]

    k, n = y.shape
    batch = max(1, min(cfg.batch_size, n))
    n_steps = math.ceil(n / batch)
    gens = [torch.Generator(device=device).manual_seed(int(m.seed)) for m in members]
    groups = np.array([m.group for m in members])
    results = [MemberResult() for _ in members]
    best_acc = np.full(k, -np.inf)
    best_loss = np.full(k, np.inf)
    bad_epochs = np.zeros(k, dtype=int)
    frozen = np.zeros(k, dtype=bool)
    active = np.arange(k)  # original indices of the members still in the stack, in stack order
    step_losses = torch.empty(n_steps, k, device=device)
    # Partial last batch: weight step means by batch size for an exact epoch mean.
    sizes = torch.full((n_steps, 1), float(batch), device=device)
    sizes[-1] = n - batch * (n_steps - 1)
    train_seconds = 0.0

    for epoch in range(1, cfg.max_epochs + 1):
        synchronize(device)
        t0 = time.perf_counter()
        net.train()
        rows = torch.arange(len(active), device=device)[:, None]
        ones = torch.ones(len(active), device=device)
        if cfg.shuffle:
            order = torch.stack([torch.randperm(n, generator=gens[j], device=device) for j in active])
            Xe, ye = X[rows, order], y[rows, order]  # one gather per epoch; batches are then slices
        else:
            Xe, ye = X, y
        for step in range(n_steps):
            rows_of_step = slice(step * batch, (step + 1) * batch)
            if manual:  # plain MLPs: the gradients without autograd's per-node overhead
                loss = manual_backward.losses_and_grads(net, Xe[:, rows_of_step], ye[:, rows_of_step])
            else:
                loss = member_losses(net(Xe[:, rows_of_step]), ye[:, rows_of_step])
                opt.zero_grad()
                loss.backward(ones)  # each member's own loss: the gradient of their sum
            opt.step()
            step_losses[step, : len(active)] = loss.detach()
        losses = step_losses[:, : len(active)]
        stats = [(losses * sizes).sum(0) / n, losses[-1]]
        if has_val:
            stats += evaluate(net, X_val, y_val, cfg.outputs_probabilities)
        values = torch.stack(stats).tolist()  # the epoch's one read back to the host
        epoch_loss, last_loss = values[0], values[1]
        if has_val:
            val_acc, val_loss = values[2], values[3]
        train_seconds += time.perf_counter() - t0
        if has_monitor:
            mon_acc = evaluate(net, X_mon, y_mon, cfg.outputs_probabilities)[0].tolist()

        improved = np.zeros(len(active), dtype=bool)
        for a, j in enumerate(active):
            r = results[j]
            r.epochs = epoch
            r.samples_seen += n
            r.loss_curve.append(epoch_loss[a])
            r.last_loss_curve.append(last_loss[a])
            if has_monitor:
                r.monitor_curve.append((train_seconds, mon_acc[a]))
            if not has_val:
                r.best_epoch = epoch
                continue
            r.val_acc_curve.append(val_acc[a])
            if val_acc[a] > best_acc[j] or (val_acc[a] == best_acc[j] and val_loss[a] < best_loss[j]):
                best_acc[j], best_loss[j] = val_acc[a], val_loss[a]
                r.best_epoch, r.best_val_acc, r.best_val_loss = epoch, val_acc[a], val_loss[a]
                improved[a] = True
                bad_epochs[j] = 0
            else:
                bad_epochs[j] += 1
                frozen[j] = bad_epochs[j] >= cfg.patience
        if has_val and improved.any():
            # torch.where, not boolean indexing: indexing by a mask syncs with the GPU.
            mask = torch.as_tensor(improved, device=device)
            index = torch.as_tensor(active, device=device)
            for t, b in zip(member_tensors(net), best_state):
                b.index_copy_(0, index, torch.where(mask.view(-1, *[1] * (t.ndim - 1)), t, b[index]))
        if has_val and epoch == cfg.select_after:
            frozen |= ~_best_of_each_group(groups, best_acc, best_loss)
        if frozen.all():
            break
        if frozen[active].any():
            keep = torch.as_tensor(np.flatnonzero(~frozen[active]), device=device)
            opt = _keep_members(net, opt, keep, cfg)
            active = active[~frozen[active]]
            X, y = X[keep], y[keep]
            if has_val:
                X_val, y_val = X_val[keep], y_val[keep]
            if has_monitor:
                X_mon, y_mon = X_mon[keep], y_mon[keep]

    if has_val:
        _assign_member_tensors(net, best_state)
    write_back(net)
    return results


def _best_of_each_group(groups: np.ndarray, acc: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Mask of the best member of each group by (validation accuracy, then lower loss)."""
    best = np.zeros(len(groups), dtype=bool)
    for g in np.unique(groups):
        index = np.flatnonzero(groups == g)
        best[max(index, key=lambda j: (acc[j], -loss[j]))] = True
    return best


def _keep_members(net: nn.Module, opt: FlatOptimizer, keep: Tensor, cfg: TrainConfig) -> FlatOptimizer:
    """Drop every member not in ``keep`` (positions in the stack) from the weights and optimizer
    state; returns the optimizer over the new, smaller parameters. (Dropout masks of the members
    left are then drawn for fewer rows: they change, as they would with a different K.)"""
    states = [
        {name: v[keep] if is_per_element(v, p) else v for name, v in state.items()}
        for p, state in zip(opt.params, opt.param_states())
    ]
    for m in net.modules():
        if isinstance(m, MemberLayer):
            m.assign([t[keep] for t in m.member_tensors()])
    new_opt = FlatOptimizer(net.parameters(), cfg)
    if any(states):
        new_opt.load_param_states(states)
    return new_opt


def _assign_member_tensors(net: nn.Module, tensors: list[Tensor]) -> None:
    """Put the full stack's state (all K members, e.g. each one's best weights) back into ``net``."""
    layers = [m for m in net.modules() if isinstance(m, MemberLayer)]
    for m in layers:
        count = len(m.member_tensors())
        m.assign([t.clone() for t in tensors[:count]])
        tensors = tensors[count:]


# --- K members of one architecture as one batched module -------------------------------------


class MemberLayer(nn.Module, ABC):
    """A layer holding K members; ``member_tensors`` are views with a leading K dimension."""

    @abstractmethod
    def member_tensors(self) -> list[Tensor]:
        """Learned state, each tensor with a leading member dimension."""

    @abstractmethod
    def assign(self, tensors: list[Tensor]) -> None:
        """Replace the learned state (same order as ``member_tensors``; any leading size)."""

    def write_back(self) -> None:
        """Copy each member's slice back into its original module."""


class EnsembleLinear(MemberLayer):
    """K ``nn.Linear`` layers as one batched matmul: (K, B, in) -> (K, B, out)."""

    def __init__(self, layers: list[nn.Linear]) -> None:
        super().__init__()
        self._layers = layers
        self.weight = nn.Parameter(torch.stack([m.weight.detach().t() for m in layers]).contiguous())
        has_bias = layers[0].bias is not None
        self.bias = nn.Parameter(torch.stack([m.bias.detach()[None] for m in layers])) if has_bias else None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 3:  # (K, B, in): no reshapes, fewer autograd nodes per step
            return torch.bmm(x, self.weight) if self.bias is None else torch.baddbmm(self.bias, x, self.weight)
        shape = x.shape
        x = x.reshape(shape[0], -1, shape[-1])
        y = torch.bmm(x, self.weight) if self.bias is None else torch.baddbmm(self.bias, x, self.weight)
        return y.reshape(*shape[:-1], y.shape[-1])

    def member_tensors(self) -> list[Tensor]:
        return [self.weight.data] + ([] if self.bias is None else [self.bias.data])

    def assign(self, tensors: list[Tensor]) -> None:
        self.weight = _like(self.weight, tensors[0])
        if self.bias is not None:
            self.bias = _like(self.bias, tensors[1])

    @torch.no_grad()
    def write_back(self) -> None:
        for k, m in enumerate(self._layers):
            m.weight.copy_(self.weight[k].t())
            if m.bias is not None:
                m.bias.copy_(self.bias[k, 0])


class VmapLayer(MemberLayer):
    """K copies of any module, stacked with ``torch.func`` and run under ``vmap``."""

    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self._layers = layers
        params, buffers = stack_module_state(layers)
        self._names = list(params)
        self._buffer_names = list(buffers)
        self.stacked = nn.ParameterList([nn.Parameter(params[n].detach().clone()) for n in self._names])
        for name, p in zip(self._names, self.stacked):  # keep per-parameter hints such as lr_scale
            p.__dict__.update(layers[0].get_parameter(name).__dict__)
        for i, name in enumerate(self._buffer_names):
            self.register_buffer(f"buffer_{i}", buffers[name].clone())
        self._base = [copy.deepcopy(layers[0]).to("meta")]  # a list, so it is not a submodule

    def _buffers_list(self) -> list[Tensor]:
        return [getattr(self, f"buffer_{i}") for i in range(len(self._buffer_names))]

    def forward(self, x: Tensor) -> Tensor:
        base = self._base[0]
        base.train(self.training)

        def call(params, buffers, xk):
            state = dict(zip(self._names, params)) | dict(zip(self._buffer_names, buffers))
            return functional_call(base, state, (xk,))

        return vmap(call, randomness="different")(list(self.stacked), self._buffers_list(), x)

    def member_tensors(self) -> list[Tensor]:
        return [p.data for p in self.stacked] + self._buffers_list()

    def assign(self, tensors: list[Tensor]) -> None:
        self.stacked = nn.ParameterList([_like(p, t) for p, t in zip(self.stacked, tensors)])
        for i, t in enumerate(tensors[len(self.stacked) :]):
            setattr(self, f"buffer_{i}", t)

    @torch.no_grad()
    def write_back(self) -> None:
        for k, m in enumerate(self._layers):
            state = {n: p[k] for n, p in zip(self._names, self.stacked)}
            state |= {n: b[k] for n, b in zip(self._buffer_names, self._buffers_list())}
            m.load_state_dict(state, strict=False)


class SingleMember(MemberLayer):
    """One member (K = 1) run directly: no stacking, so any module works (TabM, say)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        return self.module(x[0]).unsqueeze(0)

    def member_tensors(self) -> list[Tensor]:
        return [t.data.unsqueeze(0) for t in list(self.module.parameters()) + list(self.module.buffers())]

    def assign(self, tensors: list[Tensor]) -> None:
        with torch.no_grad():  # views of the module's own tensors: copy into them
            for t, new in zip(self.member_tensors(), tensors):
                t.copy_(new)


def _like(p: nn.Parameter, data: Tensor) -> nn.Parameter:
    """A new parameter holding ``data`` with ``p``'s hints (lr_scale); autograd caches shapes, so a
    parameter whose member count changes must be a new object."""
    new = nn.Parameter(data.contiguous(), requires_grad=p.requires_grad)
    new.__dict__.update(p.__dict__)
    return new


def _is_parameter_free(m: nn.Module) -> bool:
    return next(m.parameters(), None) is None and next(m.buffers(), None) is None


def stack(modules: list[nn.Module]) -> nn.Module:
    """One module over K members of identical structure: input (K, B, ...) -> (K, B, ...)."""
    first = modules[0]
    if len(modules) == 1 and not manual_backward.is_plain(first):
        return nn.Sequential(SingleMember(first))  # one member: run it as it is
    if not isinstance(first, nn.Sequential):
        return nn.Sequential(VmapLayer(modules))
    layers: list[nn.Module] = []
    for i, layer in enumerate(first):
        column = [m[i] for m in modules]
        if type(layer) is nn.Linear:
            layers.append(EnsembleLinear(column))  # also for K = 1 (a plain MLP: hand-written gradients)
        elif _is_parameter_free(layer):
            layers.append(layer)  # elementwise or reshaping: works on the extra K dimension
        else:
            layers.append(SingleMember(layer) if len(modules) == 1 else VmapLayer(column))
    return nn.Sequential(*layers)


def member_tensors(net: nn.Module) -> list[Tensor]:
    """All learned state of a stacked module, each tensor with a leading member dimension."""
    return [t for m in net.modules() if isinstance(m, MemberLayer) for t in m.member_tensors()]


def write_back(net: nn.Module) -> None:
    """Copy the trained members' weights into the original per-member modules."""
    for m in net.modules():
        if isinstance(m, MemberLayer):
            m.write_back()
