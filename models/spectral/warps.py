"""Per-feature warps of a found phase: t(x) = omega . c(x) + sum_j psi_j(x_j).

A phase found by the linear or lifted search can be right along some features and wrong along
others: stripes along g(x0) + x1 with g outside any dictionary (x0^3, log, a wiggle), or a ring
x0^2 + x1^2 + a x0 + b x1 whose linear terms the pair and triple scans missed. Each psi_j is a
piecewise-linear function of one standardised feature, learned from the labels alone:

1. the rows are cut into quantile bins of x_j; the labels' profile along the current phase,
   P(class | frac(t)), is counted on the fitting rows;
2. in each bin, the offset delta (one of ``WARP_OFFSETS`` shares of a cycle) and the local slope
   (cycles per unit of x_j, on a grid) that make its labels most likely under that profile are
   found by grid search;
3. the offsets are unwrapped from bin to bin (the integer number of cycles between neighbouring
   bins is the one the slopes predict), centred, and added to psi_j at the bins' centres;
   between centres psi_j is linear, beyond the outer ones constant.

Features are visited in turn (backfitting), up to ``WARP_SWEEPS`` times (a sweep after the first
that changes nothing ends it: the next would repeat it). Fitted on three quarters of the
training rows; a feature's warp is kept only if it explains ``WARP_GAIN`` more of H(y) on the other
quarter, and only if the warped phase then explains ``WARP_MIN`` of it there (on real tables a
warp of a weak phase through an integer-coded column is a lookup table, not a stripe pattern) and it
moves less than ``MAX_STEP`` of a cycle between neighbouring knots (smooth), so noise and threshold
labels keep none. Only runs when the phase explains less than
``WARP_BELOW`` of H(y). Cost: O(n Q S G) per feature and sweep (Q bins, S slopes, G offsets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from models.spectral.search import _centred_onehot, _phase_bins, explained_shares

WARP_BELOW = 0.9  # warps are tried when the phase explains less than this share of H(y)
WARP_GAIN = 0.05  # share of H(y) a feature's warp must add on the held-out rows to be kept
WARP_MIN = 0.5  # and the warped phase must explain at least this share there: stripes, not a lookup
MAX_STEP = 1.0  # cycles a warp may move between neighbouring knots (more: a lookup table, not a smooth warp)
WARP_OFFSETS = 32  # offsets tried per bin, in shares of a cycle
WARP_SLOPES = 9  # local slopes tried per bin
WARP_SWEEPS = 3  # backfitting passes over the features
MAX_WARPED = 8  # features tried at most: those the phase uses first
MIN_LEVELS = 16  # a feature with fewer distinct values is not warped (binary and coded columns)
MIN_KNOTS = 8  # distinct bin centres a feature needs (a column of mostly one value has few)
ROWS_PER_BIN = 30  # quantile bins of a feature: about this many fitting rows each, 8 to 64
MAX_ROWS = 8000  # rows the warps are fitted and checked on, at most


@dataclass
class Warp:
    """psi_j for each feature j of ``features``: linear between ``knots`` (standardised x_j)."""

    features: tuple[int, ...]
    knots: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]
    explained: float = 0.0  # share of H(y) the warped phase accounts for on the held-out rows
    start: float = 0.0  # and the phase without warps

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        """sum_j psi_j(z_j) per row, in cycles of the phase."""
        out = np.zeros(len(Z))
        for j, k, v in zip(self.features, self.knots, self.values):
            out += np.interp(Z[:, j], k, v)
        return out

    def describe(self) -> str:
        """e.g. 'psi(x0) over 50 knots, 6.1 cycles'."""
        return ", ".join(
            f"psi(x{j}) over {len(k)} knots, {np.ptp(v):.3g} cycles"
            for j, k, v in zip(self.features, self.knots, self.values)
        )


def fit_warp(
    Z: np.ndarray, t: np.ndarray, y: np.ndarray, n_classes: int, candidates: list[int], *, seed: int = 0
) -> Warp | None:
    """Warps of ``candidates`` (feature indices of standardised rows Z) added to the phase t
    (cycles, one per row) that best explain y; None when none is kept (see the module doc)."""
    fit_rows, held = split(len(y), seed)
    Zf, yf = Z[fit_rows], y[fit_rows]
    features = [j for j in candidates if len(np.unique(Zf[:, j])) >= MIN_LEVELS][:MAX_WARPED]
    knots = {j: _knots(Zf[:, j]) for j in features}
    features = [j for j in features if len(knots[j]) >= MIN_KNOTS]
    start = score(t[held], y[held], n_classes)
    if not features or start >= WARP_BELOW:
        return None
    values = {j: np.zeros(len(knots[j])) for j in features}
    ends = {j: (Zf[:, j].min(), Zf[:, j].max()) for j in features}
    kept: set[int] = set()

    def phase(rows: np.ndarray, use: set[int]) -> np.ndarray:
        return t[rows] + sum(
            (np.interp(Z[rows, j], *_extended(knots[j], values[j], *ends[j])) for j in use), np.zeros(len(rows))
        )

    best = start
    for sweep in range(WARP_SWEEPS):
        changed = False
        for j in features:
            previous = values[j].copy()
            if sweep == 0:  # a warm start that needs no profile (the phase may not show one yet)
                values[j] = values[j] + _phasor_offsets(phase(fit_rows, kept | {j}), Zf[:, j], yf, n_classes, knots[j])
            values[j] = values[j] + _correction(phase(fit_rows, kept | {j}), Zf[:, j], yf, n_classes, knots[j])
            new = score(phase(held, kept | {j}), y[held], n_classes)
            if new >= best + (0.0 if j in kept else WARP_GAIN):
                best, changed = new, True
                kept.add(j)
            else:
                values[j] = previous
        if sweep > 0 and not changed:  # the next sweep would start from the same values: same result
            break
    if not kept or best < WARP_MIN or max(np.abs(np.diff(values[j])).max() for j in kept) > MAX_STEP:
        return None
    use = sorted(kept)
    curves = [_extended(knots[j], values[j] - values[j].mean(), *ends[j]) for j in use]
    return Warp(tuple(use), tuple(k for k, _ in curves), tuple(v for _, v in curves), best, start)


def _extended(knots: np.ndarray, values: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The curve through (knots, values) with its end segments extended to the training range
    [lo, hi] (beyond it psi is constant): a steep warp stays steep up to the last training row."""
    if len(knots) < 2:
        return knots, values
    k, v = knots, values
    if lo < k[0]:
        v = np.concatenate([[v[0] - (v[1] - v[0]) / (k[1] - k[0]) * (k[0] - lo)], v])
        k = np.concatenate([[lo], k])
    if hi > k[-1]:
        v = np.concatenate([v, [v[-1] + (v[-1] - v[-2]) / (k[-1] - k[-2]) * (hi - k[-1])]])
        k = np.concatenate([k, [hi]])
    return k, v


def split(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(fitting rows, held-out rows) of at most MAX_ROWS training rows: three quarters, one quarter."""
    order = np.random.default_rng(seed).permutation(n)[:MAX_ROWS]
    return order[: len(order) * 3 // 4], order[len(order) * 3 // 4 :]


def score(t: np.ndarray, y: np.ndarray, n_classes: int) -> float:
    """Share of H(y) that the phase frac(t) accounts for (:func:`models.spectral.search.explained_shares`)."""
    return float(explained_shares(t[:, None], y, n_classes)[0])


def _knots(z: np.ndarray) -> np.ndarray:
    """Bin centres: the medians of ~ROWS_PER_BIN-row quantile bins of z, strictly increasing."""
    q = int(np.clip(len(z) // ROWS_PER_BIN, 8, 64))
    return np.unique(np.quantile(z, (np.arange(q) + 0.5) / q))


def _nearest(z: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Each row's nearest knot (index)."""
    return np.clip(np.searchsorted((knots[1:] + knots[:-1]) / 2, z), 0, len(knots) - 1)


def _phasor_offsets(t: np.ndarray, z: np.ndarray, y: np.ndarray, n_classes: int, knots: np.ndarray) -> np.ndarray:
    """Per knot, the offset (cycles, unwrapped) by which the labels' first harmonic along t is
    shifted among the rows nearest it, relative to a reference built from all knots.

    Each knot's class phasors A_qc = sum_i (1[y_i = c] - p_c) exp(2 pi i t_i) turn by its offset;
    the reference R_c = sum_q A_qc exp(-2 pi i delta_q) and the offsets are refined in turn,
    starting from the knot with the strongest phasors.
    """
    Yc = _centred_onehot(y, n_classes)
    nearest = _nearest(z, knots)
    wave = np.exp(2j * np.pi * t)
    A = np.stack(
        [np.bincount(nearest, weights=(Yc[:, c] * wave).real, minlength=len(knots)) for c in range(n_classes)], 1
    )
    A = A + 1j * np.stack(
        [np.bincount(nearest, weights=(Yc[:, c] * wave).imag, minlength=len(knots)) for c in range(n_classes)], 1
    )
    reference = A[np.argmax(np.abs(A).sum(1))]
    for _ in range(3):
        delta = np.angle(A @ reference.conj()) / (2 * np.pi)
        reference = (A * np.exp(-2j * np.pi * delta)[:, None]).sum(0)
    out = -np.unwrap(2 * np.pi * delta) / (2 * np.pi)
    return out - out.mean()


def _correction(t: np.ndarray, z: np.ndarray, y: np.ndarray, n_classes: int, knots: np.ndarray) -> np.ndarray:
    """Per knot, the unwrapped offset (cycles) that best aligns the labels of the rows nearest it
    with the labels' profile along t."""
    bins = min(_phase_bins(len(y), n_classes), 8 * n_classes)
    counts = np.ones((n_classes, bins))  # one pseudo-count per cell
    np.add.at(counts, (y, (np.mod(t, 1.0) * bins).astype(np.int64) % bins), 1.0)
    log_profile = np.log(counts / counts.sum(0))
    # Rows to their nearest knot; each knot's half-width sets its slope grid (up to 1 cycle across it).
    nearest = _nearest(z, knots)
    gaps = np.diff(knots)
    width = np.maximum(np.concatenate([gaps[:1], gaps]) + np.concatenate([gaps, gaps[-1:]]), 1e-12) / 2
    slopes = np.linspace(-1.0, 1.0, WARP_SLOPES)[None, :] / width[:, None]  # (knots, slopes), cycles per unit
    local = z - knots[nearest]
    offsets = np.arange(WARP_OFFSETS) / WARP_OFFSETS
    # Each row's cell (knot, offset, class), less its phase bin: a candidate's log-likelihood is the
    # counts of its cells times the log profile (one bincount per slope instead of a gather per row).
    cell = ((nearest[:, None] * WARP_OFFSETS + np.arange(WARP_OFFSETS)) * n_classes + y[:, None]) * bins
    size = len(knots) * WARP_OFFSETS * n_classes * bins
    total = np.zeros((len(knots), WARP_SLOPES, WARP_OFFSETS))
    for s in range(WARP_SLOPES):
        shifted = (t + slopes[nearest, s] * local)[:, None] + offsets  # (n, offsets)
        shifted -= np.floor(shifted)  # frac(), as np.mod(shifted, 1.0) to the bit, at a quarter of its cost
        b = (shifted * bins).astype(np.int64)
        b[b == bins] = 0  # a fraction that rounds up to a whole cycle
        counts = np.bincount((cell + b).ravel(), minlength=size).reshape(len(knots), WARP_OFFSETS, -1)
        total[:, s, :] = counts @ log_profile.ravel()
    flat = total.reshape(len(knots), -1).argmax(1)
    slope = slopes[np.arange(len(knots)), flat // WARP_OFFSETS]
    delta = offsets[flat % WARP_OFFSETS]
    delta = np.where(delta >= 0.5, delta - 1.0, delta)
    # Unwrap: between neighbouring knots the offset moves by about the mean of their slopes times the gap.
    out = delta.copy()
    for q in range(1, len(knots)):
        expected = out[q - 1] + (slope[q - 1] + slope[q]) / 2 * gaps[q - 1]
        out[q] = delta[q] + np.round(expected - delta[q])
    empty = np.bincount(nearest, minlength=len(knots)) == 0
    out[empty] = np.interp(knots[empty], knots[~empty], out[~empty]) if (~empty).any() else 0.0
    return out - out.mean()


class WarpColumn(nn.Module):
    """Standardised rows -> sum_j psi_j(z_j), as :meth:`Warp.__call__` (for the networks)."""

    def __init__(self, warp: Warp) -> None:
        super().__init__()
        self.features = list(warp.features)
        for i, (k, v) in enumerate(zip(warp.knots, warp.values)):
            self.register_buffer(f"knots{i}", torch.as_tensor(k, dtype=torch.float32))
            self.register_buffer(f"values{i}", torch.as_tensor(v, dtype=torch.float32))

    def forward(self, z: Tensor) -> Tensor:
        out = torch.zeros(z.shape[:-1], dtype=z.dtype, device=z.device)
        for i, j in enumerate(self.features):
            k, v = getattr(self, f"knots{i}"), getattr(self, f"values{i}")
            x = z[..., j].contiguous()
            hi = torch.searchsorted(k, x).clamp(1, len(k) - 1)
            k0, k1, v0, v1 = k[hi - 1], k[hi], v[hi - 1], v[hi]
            w = ((x - k0) / (k1 - k0)).clamp(0.0, 1.0)
            out = out + v0 + w * (v1 - v0)
        return out
