"""Train K copies of one architecture (seeds x hyperparameter candidates) as a single batched model.

Each member is an ordinary ``nn.Module`` built under its own seed, mapping (B, d) -> (B, [H,] C).
:func:`stack` turns K of them into one module mapping (K, B, d) -> (K, B, [H,] C):
``nn.Linear`` layers become one ``baddbmm`` (fastest on CPU), parameter-free layers are shared,
and any other layer (rtdl's PeriodicEmbeddings, ...) is run with ``torch.func.vmap``.
Since each member's loss is summed and AdamW/SGD are elementwise, each member learns what a
separate fit would (dropout masks aside), at a fraction of the per-step overhead.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap


class MemberLayer(nn.Module, ABC):
    """A layer holding K members; ``member_tensors`` are views with a leading K dimension."""

    @abstractmethod
    def member_tensors(self) -> list[Tensor]:
        """Learned state, each tensor with a leading member dimension."""

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
        shape = x.shape
        x = x.reshape(shape[0], -1, shape[-1])
        y = torch.bmm(x, self.weight) if self.bias is None else torch.baddbmm(self.bias, x, self.weight)
        return y.reshape(*shape[:-1], y.shape[-1])

    def member_tensors(self) -> list[Tensor]:
        return [self.weight.data] + ([] if self.bias is None else [self.bias.data])

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


def _is_parameter_free(m: nn.Module) -> bool:
    return next(m.parameters(), None) is None and next(m.buffers(), None) is None


def stack(modules: list[nn.Module]) -> nn.Module:
    """One module over K members of identical structure: input (K, B, ...) -> (K, B, ...)."""
    if len(modules) == 1:
        return nn.Sequential(SingleMember(modules[0]))
    first = modules[0]
    if not isinstance(first, nn.Sequential):
        return nn.Sequential(VmapLayer(modules))
    layers: list[nn.Module] = []
    for i, layer in enumerate(first):
        column = [m[i] for m in modules]
        if type(layer) is nn.Linear:
            layers.append(EnsembleLinear(column))
        elif _is_parameter_free(layer):
            layers.append(layer)  # elementwise or reshaping: works on the extra K dimension
        else:
            layers.append(VmapLayer(column))
    return nn.Sequential(*layers)


def member_tensors(net: nn.Module) -> list[Tensor]:
    """All learned state of a stacked module, each tensor with a leading member dimension."""
    return [t for m in net.modules() if isinstance(m, MemberLayer) for t in m.member_tensors()]


def write_back(net: nn.Module) -> None:
    """Copy the trained members' weights into the original per-member modules."""
    for m in net.modules():
        if isinstance(m, MemberLayer):
            m.write_back()
