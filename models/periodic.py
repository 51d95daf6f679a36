"""MLPs on periodic (sin/cos) input features: rtdl's PLR embeddings and Gaussian Fourier features."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from models.mlp import MLP, mlp_layers

SIGMA_GRID = (1.0, 3.0, 10.0)  # frequency scales tried, per unit of standardised input


class SigmaCandidates:
    """For families that try frequency scales: one candidate per sigma, ``SIGMA_GRID`` when
    ``self.sigma`` is None, else the value(s) given (the best on validation is kept)."""

    def _candidates(self) -> list[dict]:
        sigma = self.sigma
        sigmas = SIGMA_GRID if sigma is None else sigma if isinstance(sigma, (tuple, list)) else (sigma,)
        return [{"sigma": float(s)} for s in sigmas]


class FourierFeatures(nn.Module):
    """[x, cos(2 pi x B^T), sin(2 pi x B^T)] with a trainable frequency matrix B (m, d).

    Rows of B mix features (Tancik et al. 2020), unlike per-feature periodic embeddings.
    """

    def __init__(self, frequencies: Tensor, include_input: bool = True, lr_scale: float = 1.0) -> None:
        super().__init__()
        self.frequencies = nn.Parameter(frequencies.float().clone())
        self.frequencies.lr_scale = lr_scale  # read by the trainer's optimizer
        self.include_input = include_input

    @property
    def d_out(self) -> int:
        m, d = self.frequencies.shape
        return 2 * m + (d if self.include_input else 0)

    def forward(self, x: Tensor) -> Tensor:
        z = 2 * math.pi * x @ self.frequencies.t()
        parts = [x, torch.cos(z), torch.sin(z)] if self.include_input else [torch.cos(z), torch.sin(z)]
        return torch.cat(parts, -1)


class PeriodicMLP(SigmaCandidates, MLP):
    """rtdl_num_embeddings.PeriodicEmbeddings (PLR, lite=False) + ReLU MLP.

    ``sigma`` (PLR's frequency_init_scale) is chosen on validation from ``SIGMA_GRID`` unless given;
    all grid points and seeds train as one batched model. The frequencies learn
    ``frequency_lr_scale`` times faster than the other weights: a label that repeats along x0 + x1
    needs the same frequency in both features' banks, and random draws seldom start close enough
    for AdamW's usual step size to get there. Small batches give the frequencies more steps per
    epoch. After ``select_after`` epochs each seed keeps only its best sigma so far (on
    validation) and the others stop training. (Measured effects of each choice: docs/findings.md,
    "Headline numbers"; of ``select_after``: results/studies/bench_all_speed.md.)
    """

    # PLR embeddings hold columns x frequencies x embedding parameters for each sigma candidate and
    # seed: at 3,000 columns that passed 2 GB (tests/models/test_memory.py); at 500, ~0.6 GB.
    max_features = 500

    def __init__(
        self,
        *,
        seed=0,
        device="auto",
        n_threads=None,
        sigma=None,
        d_embedding=24,
        n_frequencies=96,
        frequency_lr_scale=30.0,
        n_layers=2,
        width=256,
        dropout=0.0,
        lr=1e-3,
        weight_decay=1e-4,
        batch_size=32,
        max_epochs=300,
        patience=60,
        val_fraction=0.2,
        select_after=20,
    ):
        super().__init__(
            seed=seed,
            device=device,
            n_threads=n_threads,
            n_layers=n_layers,
            width=width,
            dropout=dropout,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_epochs=max_epochs,
            patience=patience,
            val_fraction=val_fraction,
        )
        self.select_after = select_after
        self.sigma = sigma
        self.d_embedding = d_embedding
        self.n_frequencies = n_frequencies
        self.frequency_lr_scale = frequency_lr_scale

    def _build(self, d, n_classes, X, y, candidate) -> nn.Module:
        embed = plr_embeddings(d, self.d_embedding, self.n_frequencies, candidate["sigma"], self.frequency_lr_scale)
        head = mlp_layers(d * self.d_embedding, n_classes, self.n_layers, self.width, nn.ReLU, self.dropout, nn.Dropout)
        return nn.Sequential(embed, nn.Flatten(-2), *head)


def plr_embeddings(d: int, d_embedding: int, n_frequencies: int, sigma: float, frequency_lr_scale: float) -> nn.Module:
    """rtdl's PeriodicEmbeddings (PLR, lite=False) whose frequencies step ``frequency_lr_scale`` x faster."""
    from rtdl_num_embeddings import PeriodicEmbeddings

    embed = PeriodicEmbeddings(d, d_embedding, n_frequencies=n_frequencies, frequency_init_scale=sigma, lite=False)
    embed.periodic.weight.lr_scale = frequency_lr_scale  # read by the trainer's optimizer
    return embed


class FourierMLP(SigmaCandidates, MLP):
    """Gaussian Fourier features, B ~ N(0, sigma^2) trainable (m = ``n_frequencies`` rows), + MLP.

    Each sigma of ``SIGMA_GRID`` is a candidate; after ``select_after`` epochs each seed keeps only
    its best one so far (on validation).
    """

    def __init__(
        self,
        *,
        seed=0,
        device="auto",
        n_threads=None,
        sigma=None,
        n_frequencies=128,
        n_layers=2,
        width=256,
        dropout=0.0,
        lr=1e-3,
        weight_decay=1e-4,
        batch_size=256,
        max_epochs=300,
        patience=60,
        val_fraction=0.2,
        select_after=20,
    ):
        super().__init__(
            seed=seed,
            device=device,
            n_threads=n_threads,
            n_layers=n_layers,
            width=width,
            dropout=dropout,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_epochs=max_epochs,
            patience=patience,
            val_fraction=val_fraction,
        )
        self.select_after = select_after
        self.sigma = sigma
        self.n_frequencies = n_frequencies

    def _build(self, d, n_classes, X, y, candidate) -> nn.Module:
        features = FourierFeatures(torch.randn(self.n_frequencies, d) * candidate["sigma"])
        head = mlp_layers(features.d_out, n_classes, self.n_layers, self.width, nn.ReLU, self.dropout, nn.Dropout)
        return nn.Sequential(features, *head)
