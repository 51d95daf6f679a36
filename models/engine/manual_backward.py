"""Hand-written backward pass for stacked plain MLPs (batched Linear, ReLU, optional Softmax).

At batch size 1 a 2 -> 2 -> 3 net is pure overhead: autograd records and replays a dozen nodes per
step for a few hundred FLOPs. For stacks made only of ``EnsembleLinear``, ``nn.ReLU`` and a final
``nn.Softmax`` the gradients of the cross-entropy are a few batched matmuls, computed here directly
into the parameters' ``.grad`` (the same math autograd does; tests compare the two). Anything
else (dropout, other activations, embeddings) goes through autograd.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def is_plain(module: nn.Module) -> bool:
    """Whether an (unstacked) module is only Linear layers, ReLUs and a final Softmax."""
    return applies(module, nn.Linear)


def applies(net: nn.Module, linear_type: type) -> bool:
    """Whether ``net`` (a stacked module) is only batched Linear layers, ReLUs and a final Softmax."""
    layers = list(net) if isinstance(net, nn.Sequential) else []
    if not layers or not isinstance(layers[0], linear_type):
        return False
    body, last = layers[:-1], layers[-1]
    ok_body = all(isinstance(m, linear_type) or type(m) is nn.ReLU for m in body)
    ok_last = isinstance(last, linear_type) or (type(last) is nn.Softmax and last.dim in (-1, 2))
    return ok_body and ok_last


@torch.no_grad()
def losses_and_grads(net: nn.Sequential, x: Tensor, y: Tensor) -> Tensor:
    """Per-member mean cross-entropy of log_softmax(net(x)) against y, x: (K, B, d), y: (K, B);
    each parameter's ``.grad`` is overwritten with the gradient of the members' summed losses."""
    layers = list(net)
    acts = [x]
    for layer in layers:
        h = acts[-1]
        if type(layer) is nn.ReLU:
            acts.append(h.clamp_min(0))
        elif type(layer) is nn.Softmax:
            acts.append(h.softmax(-1))
        else:
            w, b = layer.weight, layer.bias
            acts.append(torch.bmm(h, w) if b is None else torch.baddbmm(b, h, w))
    logp = acts[-1].log_softmax(-1)
    target = y.unsqueeze(-1)
    losses = -logp.gather(-1, target).squeeze(-1).mean(1)
    # d(mean CE)/d(out) = (softmax(out) - onehot(y)) / B
    g = logp.exp_().scatter_add_(-1, target, torch.full_like(target, -1, dtype=logp.dtype)).div_(y.shape[1])
    for i in range(len(layers) - 1, -1, -1):
        layer, inp, out = layers[i], acts[i], acts[i + 1]
        if type(layer) is nn.ReLU:
            g = g * (out > 0)
        elif type(layer) is nn.Softmax:
            g = out * (g - (g * out).sum(-1, keepdim=True))
        else:
            torch.bmm(inp.transpose(1, 2), g, out=layer.weight.grad)
            if layer.bias is not None:
                torch.sum(g, 1, keepdim=True, out=layer.bias.grad)
            if i:
                g = torch.bmm(g, layer.weight.transpose(1, 2))
    return losses
