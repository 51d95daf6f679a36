"""AdamW / SGD over a module's parameters held as views into one flat tensor per step size.

A tiny net at a small batch spends much of each step in per-tensor optimizer work (zeroing every
gradient, a step over every weight and bias). Here every parameter's data and gradient are views
into one flat buffer per learning-rate scale, so a step zeroes and updates a few tensors. The
update is the same elementwise math as over the separate tensors (AdamW's and SGD's updates are
per element; weight decay applies to every parameter in both cases).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn


class FlatOptimizer:
    """``cfg.optimizer`` ("adamw" | "sgd") over ``params``, which become views into flat buffers.

    A parameter may carry ``lr_scale`` (e.g. frequencies found by a search need their own step
    size): parameters are grouped into one flat buffer per scale.

    >>> opt = FlatOptimizer(net.parameters(), TrainConfig(lr=1e-3))
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params: Iterable[nn.Parameter], cfg) -> None:
        self.params = list(params)
        self.cfg = cfg
        by_scale: dict[float, list[int]] = {}
        for i, p in enumerate(self.params):
            by_scale.setdefault(float(getattr(p, "lr_scale", 1.0)), []).append(i)
        self.flats: list[nn.Parameter] = []
        self.members: list[list[int]] = list(by_scale.values())  # parameter indices of each flat buffer
        for index in self.members:
            with torch.no_grad():
                flat = nn.Parameter(torch.cat([self.params[i].detach().reshape(-1) for i in index]))
            flat.grad = torch.zeros_like(flat)
            for i, data, grad in zip(
                index, _split(flat.data, self.params, index), _split(flat.grad, self.params, index)
            ):
                self.params[i].data = data  # same storage: the optimizer's in-place update is seen here
                self.params[i].grad = grad  # autograd accumulates into an existing gradient in place
            self.flats.append(flat)
        groups = [{"params": [f], "lr": cfg.lr * s} for f, s in zip(self.flats, by_scale)]
        if cfg.optimizer == "adamw":
            self.optimizer = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
        elif cfg.optimizer == "sgd":
            self.optimizer = torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        else:
            raise ValueError(f"optimizer must be 'adamw' or 'sgd', got {cfg.optimizer!r}")

    @property
    def param_groups(self) -> list[dict]:
        return self.optimizer.param_groups

    def zero_grad(self) -> None:
        for f in self.flats:
            f.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        if self.cfg.optimizer != "sgd":
            self.optimizer.step()
            return
        # torch.optim.SGD's update (momentum, no dampening or Nesterov) on the flat buffers, without
        # its per-call Python overhead, which at batch size 1 is a tenth of a step; the same state.
        for group in self.optimizer.param_groups:
            flat = group["params"][0]
            grad = flat.grad if not group["weight_decay"] else flat.grad.add(flat, alpha=group["weight_decay"])
            if group["momentum"]:
                state = self.optimizer.state[flat]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = grad.clone()
                else:
                    buf.mul_(group["momentum"]).add_(grad)
                grad = buf
            flat.add_(grad, alpha=-group["lr"])

    def param_states(self) -> list[dict]:
        """Each parameter's optimizer state (moments, momentum) as views shaped like it."""
        states: list[dict] = [{} for _ in self.params]
        for flat, index in zip(self.flats, self.members):
            for name, value in self.optimizer.state.get(flat, {}).items():
                per_param = _split(value, self.params, index) if is_per_element(value, flat) else [value] * len(index)
                for i, v in zip(index, per_param):
                    states[i][name] = v
        return states

    def load_param_states(self, states: list[dict]) -> None:
        """Set the optimizer state from per-parameter states (as ``param_states`` gives them)."""
        for flat, index in zip(self.flats, self.members):
            first = states[index[0]]
            self.optimizer.state[flat] = {
                name: torch.cat([states[i][name].reshape(-1) for i in index])
                if is_per_element(value, self.params[index[0]])
                else value
                for name, value in first.items()
            }


def is_per_element(value, like: Tensor) -> bool:
    """Whether an optimizer state entry holds one value per element of ``like`` (not a step count)."""
    return torch.is_tensor(value) and value.shape == like.shape


def _split(flat: Tensor, params: list[Tensor], index: list[int]) -> list[Tensor]:
    sizes = [params[i].numel() for i in index]
    return [v.view(params[i].shape) for i, v in zip(index, flat.split(sizes))]
