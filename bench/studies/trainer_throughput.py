"""Trainer throughput, measured side by side in one process: ``python -m bench.studies.trainer_throughput``.

1. One 2 -> 256 -> 256 -> 3 MLP trained by: the seed's loop (DataLoader, batch size 1, per-row
   tensors), skorch's NeuralNetClassifier, and our trainer (tensors on the device, randperm slices).
2. Five seeds trained as one batched model vs five sequential fits, for three sizes of net and TabM.
3. The seed's own 2 -> 2 -> 3 net (softmax output, batch size 1, SGD lr 1e-3 momentum 0.9, rows in
   order): the seed's loop, a bare Python loop over tensor rows with the same optimizer, and our
   trainer (one net; five seeds as one batched model).
Speed is reported as samples/s and as ratios of numbers measured in this same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

import datasets
from bench import ROOT
from bench.records import machine, output
from bench.run.timing import choose_threads, pin_threads, timed
from models.engine.trainer import Member, TrainConfig, train_members
from models.mlp import mlp_layers

COMMAND = "python -m bench.studies.trainer_throughput"
N_ROWS = 1600  # the seed's 2000 rows less 20% held out


def _net(hidden: list[int]) -> nn.Sequential:
    return mlp_layers(2, 3, len(hidden), hidden[0], nn.ReLU, 0.0, nn.Dropout) if hidden else nn.Linear(2, 3)


def _clock(fn, device: str, repeats: int = 2) -> float:
    """Best of ``repeats`` runs: the first one also pays one-off costs (allocations, lazy init)."""
    best = float("inf")
    for _ in range(repeats):
        with timed(device) as t:
            fn()
        best = min(best, t["seconds"])
    return best


def seed_loop(X: np.ndarray, y: np.ndarray, module: nn.Module, epochs: int, device: str = "cpu") -> None:
    """The seed's ``fitit``: DataLoader over a numpy Dataset, default batch size 1; on ``device``
    (each batch moved there, as a user of that loop on a GPU would), so both sides share a device."""
    import torch.utils.data as utils

    class RandomModuloDataset(utils.Dataset):
        def __len__(self):
            return len(X)

        def __getitem__(self, idx):
            return X[idx, :], y[idx]

    loader = utils.DataLoader(RandomModuloDataset())
    module = module.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.001, momentum=0.9)
    for _ in range(epochs):
        for inputs, labels in loader:
            optimizer.zero_grad()
            loss = criterion(module(inputs.float().to(device)), labels.to(device))
            loss.backward()
            optimizer.step()


def bare_loop(X: np.ndarray, y: np.ndarray, module: nn.Module, epochs: int, device: str = "cpu") -> None:
    """The seed's loop without its DataLoader: rows sliced from tensors on ``device``, same optimizer."""
    Xt = torch.as_tensor(X, dtype=torch.float32, device=device)
    yt = torch.as_tensor(y, device=device)
    module = module.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.001, momentum=0.9)
    for _ in range(epochs):
        for i in range(len(Xt)):
            optimizer.zero_grad()
            loss = criterion(module(Xt[i : i + 1]), yt[i : i + 1])
            loss.backward()
            optimizer.step()


def _seed_net() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3), nn.Softmax(dim=-1))


def _tabm(X: np.ndarray, y: np.ndarray) -> nn.Module:
    import models

    return models.create("tabm", seed=0, device="cpu")._build(2, 3, X, y, {"sigma": 10.0})


def ours(X, y, modules: list[nn.Module], cfg: TrainConfig, device: str) -> None:
    members = [
        Member(
            m.to(device),
            torch.as_tensor(X, dtype=torch.float32, device=device),
            torch.as_tensor(y, device=device),
            seed=i,
        )
        for i, m in enumerate(modules)
    ]
    train_members(members, cfg)


def skorch_fit(X, y, module: nn.Module, epochs: int, batch: int, device: str) -> None:
    from skorch import NeuralNetClassifier

    net = NeuralNetClassifier(
        module,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=epochs,
        batch_size=batch,
        train_split=None,
        iterator_train__shuffle=True,
        device=device,
        verbose=0,
    )
    net.fit(X.astype(np.float32), y)


def run(device: str = "cpu", quick: bool = False) -> list[dict]:
    """Every measurement as a row: what, samples, seconds, samples/s."""
    X, y = datasets.generate("sum_mod", n=N_ROWS, seed=0)
    rows: list[dict] = []

    def row(group, what, samples, seconds, **extra):
        rows.append(
            {"group": group, "what": what, "samples": samples, "seconds": seconds, "samples_per_s": samples / seconds}
            | extra
        )

    scale = 0.25 if quick else 1.0
    big = [256, 256]
    n_seed = max(200, int(N_ROWS * scale))
    torch.manual_seed(0)
    row(
        "A: one 2-256-256-3 MLP",
        "seed loop (DataLoader, batch 1, SGD)",
        n_seed,
        _clock(lambda: seed_loop(X[:n_seed], y[:n_seed], _net(big), 1, device), device),
    )
    epochs = max(2, int(20 * scale))
    for batch in (1, 256):
        ep = 1 if batch == 1 else epochs
        n = n_seed if batch == 1 else N_ROWS
        cfg = TrainConfig(batch_size=batch, max_epochs=ep, patience=None)
        row(
            "A: one 2-256-256-3 MLP",
            f"our trainer (batch {batch}, AdamW)",
            n * ep,
            _clock(lambda cfg=cfg, n=n: ours(X[:n], y[:n], [_net(big)], cfg, device), device),
        )
    row(
        "A: one 2-256-256-3 MLP",
        "skorch NeuralNetClassifier (batch 256, AdamW)",
        N_ROWS * epochs,
        _clock(lambda: skorch_fit(X, y, _net(big), epochs, 256, device), device),
    )

    seed_cfg = TrainConfig(
        optimizer="sgd", lr=1e-3, weight_decay=0.0, batch_size=1, max_epochs=1, patience=None, shuffle=False
    )
    for label, hidden, cfg, n in (
        ("2-2-3 (the seed's net, batch 1)", [2], seed_cfg, n_seed),
        ("2-64-64-3 (batch 256)", [64, 64], TrainConfig(batch_size=256, max_epochs=epochs, patience=None), N_ROWS),
        (
            "2-256-256-256-3 (batch 256)",
            [256, 256, 256],
            TrainConfig(batch_size=256, max_epochs=epochs, patience=None),
            N_ROWS,
        ),
    ):
        samples = 5 * n * cfg.max_epochs
        seq = _clock(lambda h=hidden, c=cfg, n=n: [ours(X[:n], y[:n], [_net(h)], c, device) for _ in range(5)], device)
        bat = _clock(lambda h=hidden, c=cfg, n=n: ours(X[:n], y[:n], [_net(h) for _ in range(5)], c, device), device)
        row(f"B: 5 seeds, {label}", "5 sequential fits", samples, seq)
        row(f"B: 5 seeds, {label}", "5 seeds as one batched model", samples, bat)
    # TabM as bench all trains it (its defaults: batch 64, lr 2e-3, no weight decay).
    tabm_cfg = TrainConfig(lr=2e-3, weight_decay=0.0, batch_size=64, max_epochs=max(1, epochs // 4), patience=None)
    samples = 5 * N_ROWS * tabm_cfg.max_epochs
    label = "B: 5 seeds, TabM (bench's defaults, batch 64)"
    seq = _clock(lambda: [ours(X, y, [_tabm(X, y)], tabm_cfg, device) for _ in range(5)], device)
    bat = _clock(lambda: ours(X, y, [_tabm(X, y) for _ in range(5)], tabm_cfg, device), device)
    row(label, "5 sequential fits", samples, seq)
    row(label, "5 seeds as one batched model", samples, bat)

    # The seed's net, as the seed trains it: steps (= rows, batch 1) per second.
    c = "C: the seed's 2-2-3 net, batch 1, SGD"
    loop_cfg = dataclasses.replace(seed_cfg, outputs_probabilities=True)
    row(
        c,
        "seed loop (DataLoader)",
        n_seed,
        _clock(lambda: seed_loop(X[:n_seed], y[:n_seed], _seed_net(), 1, device), device),
    )
    row(
        c,
        "bare loop (tensor rows)",
        n_seed,
        _clock(lambda: bare_loop(X[:n_seed], y[:n_seed], _seed_net(), 1, device), device),
    )
    row(
        c,
        "our trainer, one net",
        n_seed,
        _clock(lambda: ours(X[:n_seed], y[:n_seed], [_seed_net()], loop_cfg, device), device),
    )
    row(
        c,
        "our trainer, 5 seeds as one batched model",
        5 * n_seed,
        _clock(lambda: ours(X[:n_seed], y[:n_seed], [_seed_net() for _ in range(5)], loop_cfg, device), device),
    )
    for r in rows:
        r |= {"device": device, "threads": torch.get_num_threads()}
    return rows


def _ratio(rows, group, num, den) -> float:
    get = {r["what"]: r["samples_per_s"] for r in rows if r["group"] == group}
    return get[num] / get[den]


def write(rows: list[dict], out: Path) -> Path:
    import pandas as pd

    df = pd.DataFrame(rows)
    a = "A: one 2-256-256-3 MLP"
    ratios = [
        (
            "our trainer (batch 256) vs the seed loop (batch 1)",
            _ratio(rows, a, "our trainer (batch 256, AdamW)", "seed loop (DataLoader, batch 1, SGD)"),
        ),
        (
            "our trainer vs the seed loop, both batch 1",
            _ratio(rows, a, "our trainer (batch 1, AdamW)", "seed loop (DataLoader, batch 1, SGD)"),
        ),
        (
            "our trainer vs skorch, both batch 256",
            _ratio(rows, a, "our trainer (batch 256, AdamW)", "skorch NeuralNetClassifier (batch 256, AdamW)"),
        ),
    ]
    for g in sorted({r["group"] for r in rows if r["group"].startswith("B")}):
        ratios.append(
            (f"{g[3:]}: batched vs sequential", _ratio(rows, g, "5 seeds as one batched model", "5 sequential fits"))
        )
    c = "C: the seed's 2-2-3 net, batch 1, SGD"
    for what in (
        ("our trainer, one net", "our trainer, 5 seeds as one batched model")
        if any(r["group"] == c for r in rows)
        else ()
    ):
        for base in ("seed loop (DataLoader)", "bare loop (tensor rows)"):
            ratios.append((f"seed's net, steps/s: {what} vs {base}", _ratio(rows, c, what, base)))
    m = machine.machine(rows[0]["threads"])
    text = [
        f"<!-- made by `{COMMAND}`; do not edit -->",
        "# Trainer throughput",
        "",
        f"`python -m bench throughput --device {rows[0]['device']}` on {m['cpu']}, {m['cores']} cores, "
        f"{m['threads']} threads, GPU {m['gpu']}; torch {machine.versions()['torch']}; commit {machine.git_commit()}; "
        f"{machine.utc_now()}. All numbers from one run; compare ratios, not absolute speeds across machines.",
        "",
        pd.DataFrame(ratios, columns=["comparison", "samples/s ratio"]).to_markdown(index=False, floatfmt=".2f"),
        "",
        df[["group", "what", "samples", "seconds", "samples_per_s"]].to_markdown(index=False, floatfmt=",.3g"),
        "",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(text))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog=COMMAND, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="default: free cores")
    ap.add_argument("--quick", action="store_true", help="a quarter of the work (for smoke tests)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "studies" / "trainer_throughput.md")
    args = ap.parse_args(argv)
    try:
        output.check_new_file(args.out, inputs=[], what="--out")
        if args.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA device here (torch.cuda.is_available() is False)")
        pin_threads(choose_threads(args.threads))
    except ValueError as exc:
        print(f"{COMMAND}: error: {output.one_line(exc)}", file=sys.stderr)
        return 2
    print(write(run(device=args.device, quick=args.quick), args.out).read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
