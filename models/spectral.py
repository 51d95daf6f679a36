"""``spectral_mlp``: sin/cos features started at the label's strongest frequencies, then an MLP.

Local learners (trees, ReLU MLPs) cannot resolve a stripe pattern narrower than the spacing of
the training points; a model that finds the pattern's global direction and frequency can. This
family looks for them in the training data only:

1. centre the one-hot labels, Y_c = 1[y = c] - mean; their periodogram
   P(w) = sum_c |sum_i Y_ic exp(-2 pi i w.x_i)|^2 / n peaks where the labels repeat;
2. for each pair of (standardised) features, bin the rows on a G x G grid and FFT (d = 1: a 1-D
   grid); keep the strongest peaks over all pairs;
3. refine each peak with the exact non-uniform transform on a local grid (sub-bin precision),
   then by the conditional entropy of the labels given the phase, allowing one cut along w.x
   where the phase may jump (a generator truncating toward zero shifts the stripes at 0);
4. the peaks, plus a few random low frequencies, start the trainable frequency matrix of
   [x, cos 2 pi xW^T, sin 2 pi xW^T] features, and an MLP on them trains with early stopping.

Cost: O(r P K) binning and O(P K G^2 log G) FFTs with r = min(n, max_rows) rows, P pairs
(at most ``max_pairs``, a random subset beyond) and K classes, plus O(r K peaks) refinement;
then the usual O(n epochs) training. At d = 20 (190 pairs, G = 256) the search takes seconds.
It won't help when the label is not periodic along some direction, or when that direction needs
three or more features at once at high frequency (a pair's marginal then averages the stripes
away).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from models.mlp import MLP, mlp_layers
from models.periodic import FourierFeatures


def _centred_onehot(y: np.ndarray, n_classes: int) -> np.ndarray:
    Y = np.eye(n_classes)[y]
    return Y - Y.mean(0)


def periodogram(X: np.ndarray, Yc: np.ndarray, omegas: np.ndarray) -> np.ndarray:
    """Exact label power at each frequency row of ``omegas`` (cycles per unit of X)."""
    out = np.empty(len(omegas))
    for i in range(0, len(omegas), 256):  # chunks bound the (n, m) phase matrix
        phase = 2 * np.pi * X @ omegas[i : i + 256].T
        out[i : i + 256] = ((Yc.T @ np.cos(phase)) ** 2 + (Yc.T @ np.sin(phase)) ** 2).sum(0)
    return out / len(X)


def _grid_peaks(U: np.ndarray, Yc: np.ndarray, grid: int, n_peaks: int) -> list[tuple[float, np.ndarray]]:
    """Strongest (power, integer frequency) peaks of the binned 1-D or 2-D periodogram of U in [0,1]^p."""
    p = U.shape[1]
    cells = np.minimum((U * grid).astype(np.int64), grid - 1)
    flat = cells[:, 0] if p == 1 else cells[:, 0] * grid + cells[:, 1]
    power = 0.0
    for c in range(Yc.shape[1]):
        h = np.bincount(flat, weights=Yc[:, c], minlength=grid**p).reshape((grid,) * p)
        power = power + np.abs(np.fft.rfftn(h)) ** 2
    power = power / len(U)
    freqs = [np.fft.fftfreq(grid, 1 / grid)] * (p - 1) + [np.arange(power.shape[-1])]
    power.flat[0] = 0.0  # the mean, not a frequency
    peaks = []
    for _ in range(n_peaks):
        idx = np.unravel_index(np.argmax(power), power.shape)
        if power[idx] <= 0:
            break
        peaks.append((float(power[idx]), np.array([f[i] for f, i in zip(freqs, idx)], dtype=float)))
        box = tuple(slice(max(i - 2, 0), i + 3) for i in idx)  # suppress the peak's neighbourhood
        power[box] = 0.0
        if p == 2:  # and its mirror image across k1 = 0 (rfft keeps both signs of k0 there)
            power[(-idx[0]) % grid, max(idx[1] - 2, 0) : idx[1] + 3] = 0.0
    return peaks


def find_frequencies(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    n_peaks: int = 4,
    max_rows: int = 20000,
    max_pairs: int = 200,
    min_relative_power: float = 0.05,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Frequency vectors (n_peaks, d), cycles per unit of X, where the labels' energy peaks."""
    rng = rng if rng is not None else np.random.default_rng(0)
    n, d = X.shape
    if n > max_rows:
        keep = rng.choice(n, max_rows, replace=False)
        X, y = X[keep], y[keep]
    Yc = _centred_onehot(y, n_classes)
    lo, hi = X.min(0), X.max(0)
    span = np.where(hi > lo, hi - lo, 1.0) * (1 + 1e-9)
    U = (X - lo) / span
    if d == 1:
        groups, grid = [(0,)], 4096
    else:
        groups = [(i, j) for i in range(d) for j in range(i + 1, d)]
        if len(groups) > max_pairs:
            groups = [groups[i] for i in sorted(rng.choice(len(groups), max_pairs, replace=False))]
        grid = 512 if len(groups) <= 20 else 256
    found = []
    for g in groups:
        for power, k in _grid_peaks(U[:, g], Yc, grid, n_peaks):
            omega = np.zeros(d)
            omega[list(g)] = k / span[list(g)]
            found.append((power, omega, g))
    found.sort(key=lambda t: -t[0])
    peaks: list[np.ndarray] = []
    for power, omega, g in found:
        # Weak peaks are noise (e.g. in pairs of irrelevant features): keep those near the top.
        if len(peaks) == n_peaks or power < min_relative_power * found[0][0]:
            break
        if any(_distance(omega, q) <= 2.0 / span.min() for q in peaks):
            continue  # the same peak seen from another pair: refining would only rediscover it
        omega = _refine(X, Yc, omega, list(g), 1.0 / span[list(g)])
        omega = _refine_by_phase(X, y, n_classes, omega, list(g), 0.5 / span[list(g)], rounds=5)
        if all(_distance(omega, q) > 0.5 / span.min() for q in peaks):
            peaks.append(omega)
    while len(peaks) < n_peaks:  # fewer strong peaks than asked: zero rows (constant features)
        peaks.append(np.zeros(d))
    return np.array(peaks)


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    """Max-norm distance between two frequencies, up to sign (w and -w are the same pattern)."""
    return float(min(np.abs(a - b).max(), np.abs(a + b).max()))


def _refine(X, Yc, omega, dims, bin_width, rounds: int = 6, steps: int = 9, max_harmonics: int = 8) -> np.ndarray:
    """Hill-climb the exact periodogram around ``omega`` on shrinking local grids.

    The objective sums the power at the first H multiples of the candidate: a non-sinusoidal
    pattern (stripes) has energy there too, and a harmonic's phase is h times more sensitive to a
    frequency error. H grows as the grid gets finer, so that no harmonic peak (h times narrower
    than the fundamental's) falls between grid points.
    """
    width = np.asarray(bin_width, dtype=float)
    step = 2.0 / (steps - 1)  # grid step in units of the current width
    scale = 1.0  # current width in bins
    for _ in range(rounds):
        harmonics = int(np.clip(0.5 / (step * scale), 1, max_harmonics))
        offsets = np.linspace(-1, 1, steps)
        mesh = np.stack(np.meshgrid(*[offsets] * len(dims), indexing="ij"), -1).reshape(-1, len(dims))
        cand = np.repeat(omega[None], len(mesh), 0)
        cand[:, dims] += mesh * width
        power = sum(periodogram(X, Yc, h * cand) for h in range(1, harmonics + 1))
        omega = cand[np.argmax(power)]
        width = width * step
        scale *= step
    return omega


SEGMENTS = 8  # slabs along w.x where the one cut may fall
MIN_CYCLES = 2.0  # periods each side of a cut must span


def phase_entropy(
    X: np.ndarray, y: np.ndarray, n_classes: int, omegas: np.ndarray, bins: int, segments: int = 1
) -> np.ndarray:
    """Conditional entropy of the labels given the binned phase frac(w.x), per row of ``omegas``.

    Phase dispersion minimisation for classes: at the right frequency every phase bin is pure.
    Averaged over four bin offsets so the score does not jump with where bin edges fall. With
    ``segments`` > 1 the rows are also cut into that many slabs along w.x and the labels may be
    conditioned on one cut into two sides (the best cut, or none): a pattern whose phase jumps
    once (e.g. int() truncating toward zero where w.x changes sign) is then pure on both sides.
    """
    t = X @ omegas.T  # (n, m): unwrapped phase
    phase = np.mod(t, 1.0)
    m = len(omegas)
    lo, hi = t.min(0), t.max(0)
    seg = np.minimum(((t - lo) / np.maximum(hi - lo, 1e-12) * segments).astype(np.int64), segments - 1)
    # Cut after slab k (k = segments - 1: no cut); only where both sides span >= MIN_CYCLES periods,
    # so that a slow, non-repeating pattern (a threshold) is not mistaken for a jump.
    k = np.arange(segments)[None, :]
    cycles = (hi - lo)[:, None] / segments
    allowed = ((k + 1) * cycles >= MIN_CYCLES) & ((segments - 1 - k) * cycles >= MIN_CYCLES) | (k == segments - 1)
    total = np.zeros(m)
    for offset in (0.0, 0.25, 0.5, 0.75):
        b = seg * bins + np.floor(phase * bins + offset).astype(np.int64) % bins
        flat = ((np.arange(m)[None, :] * segments * bins + b) * n_classes + y[:, None]).ravel()
        counts = np.bincount(flat, minlength=m * segments * bins * n_classes).reshape(m, segments, bins, n_classes)
        left = np.cumsum(counts, 1)  # left[:, k]: slabs 0..k
        right = left[:, -1:] - left  # slabs k+1..end
        total += np.where(allowed, _entropy_sum(left) + _entropy_sum(right), np.inf).min(1)
    return total / (4 * len(X))


def _entropy_sum(counts: np.ndarray) -> np.ndarray:
    """n * H(class | bin) summed over bins; counts (..., bins, classes) -> (...)."""
    per_bin = counts.sum(-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(counts > 0, counts / per_bin, 1.0)
    return -(counts * np.log(p)).sum((-2, -1))


def _refine_by_phase(X, y, n_classes, omega, dims, width, rounds: int = 4, steps: int = 9) -> np.ndarray:
    """Sharpen ``omega`` by minimising :func:`phase_entropy` on shrinking local grids."""
    bins = int(np.clip(len(X) // 20, 4 * n_classes, 256))
    width = np.asarray(width, dtype=float)
    for _ in range(rounds):
        offsets = np.linspace(-1, 1, steps)
        mesh = np.stack(np.meshgrid(*[offsets] * len(dims), indexing="ij"), -1).reshape(-1, len(dims))
        cand = np.repeat(omega[None], len(mesh), 0)
        cand[:, dims] += mesh * width
        omega = cand[np.argmin(phase_entropy(X, y, n_classes, cand, bins, SEGMENTS))]
        width = width * 2 / (steps - 1)
    return omega


class SpectralMLP(MLP):
    """Periodic features at frequencies found in (X, y), trainable, + a ReLU MLP (see module doc)."""

    def __init__(
        self,
        *,
        seed=0,
        device="auto",
        n_threads=None,
        n_peaks=4,
        n_random=0,
        sigma_random=0.5,
        max_rows=20000,
        max_pairs=200,
        frequency_lr_scale=0.01,
        n_layers=2,
        width=128,
        dropout=0.0,
        lr=1e-3,
        weight_decay=1e-4,
        batch_size=256,
        max_epochs=200,
        patience=20,
        val_fraction=0.2,
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
        self.n_peaks = n_peaks
        self.n_random = n_random
        self.sigma_random = sigma_random
        self.max_rows = max_rows
        self.max_pairs = max_pairs
        self.frequency_lr_scale = frequency_lr_scale

    def _build(self, d, n_classes, X, y, candidate) -> nn.Module:
        rng = candidate["rng"]
        peaks = find_frequencies(
            X, y, n_classes, n_peaks=self.n_peaks, max_rows=self.max_rows, max_pairs=self.max_pairs, rng=rng
        )
        self.frequencies_found_ = peaks
        random_rows = torch.randn(self.n_random, d) * self.sigma_random
        features = FourierFeatures(
            torch.cat([torch.as_tensor(peaks, dtype=torch.float32), random_rows]), lr_scale=self.frequency_lr_scale
        )
        head = mlp_layers(features.d_out, n_classes, self.n_layers, self.width, nn.ReLU, self.dropout, nn.Dropout)
        return nn.Sequential(features, *head)
