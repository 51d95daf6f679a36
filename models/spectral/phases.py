"""The phase coordinates both spectral families use: linear in the features, or a polynomial of them.

The linear search (models/spectral/search.py) finds w with label = f(frac(w.x)). When the best
such phase explains less than ``EXPLAINED`` of the label's entropy, a second stage looks for a
phase that is linear in a fixed dictionary of derived columns instead, the monomials of degree
<= 2 of the raw features:

    x_i (d columns), x_i^2 (d), x_i x_j for i < j (d (d - 1) / 2)

each min-max scaled on the training rows. The raw features are lifted, not the standardised
ones: centring turns a sparse phase such as (x0 + x1)^2 into five terms. The same periodogram then
scans every pair of dictionary columns (one noise floor over all of them: a larger dictionary
raises the bar, so irrelevant columns make no false peaks), then, if no pair shows a peak, every
triple of the columns built from one pair of raw features. If the best pair's peak involves two
raw features and explains less than ``EXPLAINED`` (part of a three-term phase: x0^2 + x1^2 +
x0 x1 seen through (x0^2, x1^2)), the 10 triples of that raw pair are searched too, and their
strongest peak replaces it if it explains more. The stage's phase is kept if it explains more of the label than
the linear one.

Before any of that, the linear phase gets two checks (:func:`offset_phase`): a sub-harmonic (w/2,
w/3: a peak at a harmonic of the label's period sees only part of it) and a phase offset per
binary column (a one-hot category that shifts the stripes: w_j moves by delta / (the column's
step) for a shift delta of a cycle), fitted on half of the rows and kept only if it explains
``GROW_GAIN`` more of H(y) on the other half.

When the lifted phase still explains less than ``warps.WARP_BELOW`` of H(y) and uses one or two raw
features, :func:`quadratic_phase` fits the whole quadratic of a pair of them at once from the
stripes' local frequencies (models/spectral/quadratic.py): a ring around a point off the origin
has four terms, and the scans see three at most while growth only adds terms, never refits them.
It replaces the phase only if it explains more of H(y) on training rows it was not fitted on.

Last, when the phase kept explains less than ``warps.WARP_BELOW`` of H(y), each feature may get
a warp psi_j (piecewise linear, learned from the labels: models/spectral/warps.py) added to it,
kept only if it explains ``warps.WARP_GAIN`` more on held-out training rows: stripes along g(x0) +
x1 with g outside the dictionary (x0^3, log, exp, a wiggle), or a ring whose linear terms the
scans missed. The warp is one more column, last, with frequency 1.

Without a warp, it cannot find phases of three or more terms over three or more raw features
(x0^2 + x1 + x2), terms outside the dictionary (cubes, x0 x1 x2, sin x, ...), or any polynomial
phase when d > ``MAX_LIFTED_FEATURES`` (the dictionary would have ~d^2/2 columns and ~d^4/8
pairs): then only the linear search runs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from models.spectral import quadratic, warps
from models.spectral.search import explained_shares, find_frequencies
from models.spectral.warps import Warp, WarpColumn

EXPLAINED = 0.5  # the lifted stage runs when the linear phase explains less than this share of H(y)
MAX_LIFTED_FEATURES = 6  # d above this: no lifted stage (27 dictionary columns, 351 pairs at d = 6)
MAX_LIFTED_PAIRS = 400  # pairs of dictionary columns scanned at most (a random subset beyond)


@dataclass
class Phases:
    """Frequencies over the columns of :meth:`columns`: X itself, or X's lifted dictionary."""

    omegas: np.ndarray  # (n_peaks, m)
    monomials: tuple[tuple[int, ...], ...] | None = None  # None: linear, the columns are X
    mean: np.ndarray | None = None  # the standardisation undone before lifting
    scale: np.ndarray | None = None
    lo: np.ndarray | None = None  # min-max scaling of each dictionary column (training rows)
    span: np.ndarray | None = None
    explained: float = 0.0  # share of H(y) the first phase accounts for on the training rows (0: none kept)
    warp: Warp | None = None  # per-feature warps of the first phase: one more column, sum_j psi_j(z_j)

    @property
    def n_base(self) -> int:
        """Columns before the warp's: the rows Z (linear) or the dictionary (lifted)."""
        return self.omegas.shape[1] - (self.warp is not None)

    @property
    def lifted(self) -> bool:
        return self.monomials is not None

    def columns(self, Z: np.ndarray) -> np.ndarray:
        """Standardised rows Z -> the columns the frequencies apply to (the warp's last)."""
        C = Z if not self.lifted else (lift(Z * self.scale + self.mean, self.monomials) - self.lo) / self.span
        return C if self.warp is None else np.hstack([C, self.warp(Z)[:, None]])

    def describe(self) -> list[str] | None:
        """The dictionary's column names (x0, x0^2, x0*x1, ...), None when linear."""
        if not self.lifted:
            return None if self.warp is None else [f"x{i}" for i in range(self.n_base)] + ["psi"]
        return [
            f"x{m[0]}^2" if len(m) == 2 and m[0] == m[1] else "*".join(f"x{i}" for i in m) for m in self.monomials
        ] + (["psi"] if self.warp is not None else [])

    def summary(self, max_terms: int = 4) -> dict:
        """What the search kept, for the records: how many phases, the first one's largest terms
        (frequencies over standardised columns, or over the dictionary's scaled columns) and its share of H(y)."""
        kept = int(np.count_nonzero(np.any(self.omegas != 0, axis=1)))
        if not kept:
            return {"phases_kept": 0, "phase": None, "phase_explained": 0.0, "phase_warp": None}
        names = self.describe() or [f"x{i}" for i in range(self.omegas.shape[1])]
        first = self.omegas[0]
        top = [i for i in np.argsort(-np.abs(first))[:max_terms] if first[i] != 0]
        terms = " + ".join(f"{first[i]:.3g}*{names[i]}" for i in top).replace("+ -", "- ")
        more = f" (+{np.count_nonzero(first) - len(top)} terms)" if np.count_nonzero(first) > len(top) else ""
        warp = {"phase_warp": self.warp.describe() if self.warp is not None else None}
        return {"phases_kept": kept, "phase": terms + more, "phase_explained": round(self.explained, 4)} | warp


def dictionary(d: int) -> tuple[tuple[int, ...], ...]:
    """The monomials of degree <= 2 of d features: (i,), (i, i), (i, j) for i < j."""
    return tuple([(i,) for i in range(d)] + [(i, i) for i in range(d)] + list(itertools.combinations(range(d), 2)))


def lift(X: np.ndarray, monomials) -> np.ndarray:
    """The dictionary's columns of raw rows X."""
    return np.stack([np.prod(X[:, list(m)], axis=1) for m in monomials], 1)


def raw_features(monomials, omega: np.ndarray) -> list[int]:
    """The raw features (sorted) of the dictionary columns a lifted phase ``omega`` uses."""
    return sorted({i for k in np.flatnonzero(omega) for i in monomials[k]})


def explained(Z: np.ndarray, y: np.ndarray, n_classes: int, omega: np.ndarray) -> float:
    """Share of the label's entropy that the phase frac(omega . z) (with one cut) accounts for."""
    if not np.any(omega):
        return 0.0
    return float(explained_shares(Z @ omega[:, None], y, n_classes)[0])


def find_phases(
    Z: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    mean: np.ndarray,
    scale: np.ndarray,
    *,
    n_peaks: int = 4,
    max_rows: int = 20000,
    max_pairs: int = 200,
    harmonics: bool = True,
    lifted: bool = True,
    rng: np.random.Generator | None = None,
) -> Phases:
    """The linear phases of standardised rows Z (= (X - mean) / scale); polynomial ones when those
    explain too little of y and ``lifted`` (see the module doc)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    search = {"n_peaks": n_peaks, "max_rows": max_rows, "harmonics": harmonics}
    linear = Phases(find_frequencies(Z, y, n_classes, max_pairs=max_pairs, rng=rng, **search))
    linear.omegas[0] = offset_phase(Z, y, n_classes, linear.omegas[0])
    d = Z.shape[1]
    # The entropy scores on at most max_rows rows, drawn from their own generator: the caller's
    # rng stays as the linear search left it when the lifted stage does not run.
    sample = np.random.default_rng(len(y)).choice(len(y), max_rows, replace=False) if len(y) > max_rows else slice(None)
    base = linear.explained = explained(Z[sample], y[sample], n_classes, linear.omegas[0])
    if not lifted or d > MAX_LIFTED_FEATURES or base >= EXPLAINED:
        return warped(Z, y, n_classes, linear, harmonics)
    monomials = dictionary(d)
    raw = lift(Z * scale + mean, monomials)
    lo, hi = raw.min(0), raw.max(0)
    span = _spans(lo, hi, np.abs(Z * scale + mean).max(0), monomials)
    poly = Phases(np.zeros((n_peaks, len(monomials))), monomials, mean, scale, lo, span)
    D = (raw - lo) / span  # = poly.columns(Z), without lifting a second time
    triples = _raw_pair_triples(monomials, d)
    poly.omegas = find_frequencies(D, y, n_classes, max_pairs=MAX_LIFTED_PAIRS, triples=triples, rng=rng, **search)
    D_sample, y_sample = D[sample], y[sample]
    score = explained(D_sample, y_sample, n_classes, poly.omegas[0])
    # A peak over two raw features that explains too little may be part of a three-term phase:
    # then search the triples of that raw pair, and keep their strongest peak if it explains more.
    features = raw_features(monomials, poly.omegas[0])
    if score < EXPLAINED and len(features) == 2:
        extend = _raw_pair_triples(monomials, d, [tuple(features)])
        three = find_frequencies(D, y, n_classes, triples=extend, pairs=False, max_refined=1, rng=rng, **search)
        if (better := explained(D_sample, y_sample, n_classes, three[0])) > score:
            poly.omegas, score = three, better
    # Still less than EXPLAINED: the phase may have more terms than the pairs and triples reach
    # (rings around a point off the origin: x0^2 + x1^2 + a x0 + b x1). Grow it (see grow_phase).
    if score < EXPLAINED and np.any(poly.omegas[0]):
        grown = grow_phase(D, y, n_classes, poly.omegas[0])
        if grown is not None:
            poly.omegas = np.vstack([grown, poly.omegas[:-1]])
            score = explained(D_sample, y_sample, n_classes, grown)
    # Still short of WARP_BELOW: the phase may be a quadratic of one pair of features with more
    # terms, or other coefficients, than the scans and growth found (see quadratic_phase).
    if score < warps.WARP_BELOW and np.any(poly.omegas[0]):
        quad = quadratic_phase(D, y, n_classes, poly)
        if quad is not None:
            poly.omegas = np.vstack([quad, poly.omegas[:-1]])
            score = explained(D_sample, y_sample, n_classes, quad)
    poly.explained = score
    return warped(Z, y, n_classes, poly if score > base else linear, harmonics)


QUADRATIC_ROWS = 4000  # rows the quadratic stage fits (three quarters) and checks (one) on, at most


def quadratic_phase(D: np.ndarray, y: np.ndarray, n_classes: int, poly: Phases, *, seed: int = 0) -> np.ndarray | None:
    """The quadratic phase of a pair of the features ``poly``'s first phase uses (the pair, or the
    one feature with each other), read off the local stripe frequencies (models/spectral/quadratic.py)
    on three quarters of the rows; returned if it explains more than ``EXPLAINED`` of H(y) on the
    other quarter and more than the first phase there (by more than ``GROW_GAIN`` unless that one
    already explains ``EXPLAINED``); else None."""
    omega = poly.omegas[0]
    features = raw_features(poly.monomials, omega)
    if len(features) == 2:
        pairs = [tuple(features)]
    elif len(features) == 1:
        pairs = [tuple(sorted((features[0], j))) for j in range(len(poly.mean)) if j != features[0]]
    else:
        return None
    order = np.random.default_rng(seed).permutation(len(y))[:QUADRATIC_ROWS]
    fit_rows, held = order[: len(order) * 3 // 4], order[len(order) * 3 // 4 :]
    current = explained(D[held], y[held], n_classes, omega)
    bar = max(current + (0.0 if current >= EXPLAINED else GROW_GAIN), EXPLAINED)
    best = None
    for pair in pairs:
        cand = quadratic.fit_pair(D[fit_rows], y[fit_rows], n_classes, pair, poly.monomials, poly.lo, poly.span)
        if cand is not None and (score := explained(D[held], y[held], n_classes, cand)) > bar:
            best, bar = cand, score
    return best


def warped(Z: np.ndarray, y: np.ndarray, n_classes: int, phases: Phases, harmonics: bool = True) -> Phases:
    """``phases`` with per-feature warps of its first phase (models/spectral/warps.py) when they
    explain ``WARP_GAIN`` more of H(y) on held-out training rows; else ``phases`` unchanged.

    Two starts: the phase as found, and (lifted) the phase without its cross terms x_i x_j, which
    warps cannot correct (a ring's square terms found with a spurious cross term instead of its
    linear ones). The warp becomes one more column with frequency 1 in the first phase (h in its
    h-th harmonic); the other peaks are dropped (their frequencies were found without it).
    """
    omega = phases.omegas[0]
    if not np.any(omega):
        return phases
    C = phases.columns(Z)
    starts = [omega]
    if phases.lifted:
        cross = np.array([len(set(m)) == 2 for m in phases.monomials])
        if np.any(omega[cross] != 0) and np.any(omega[~cross] != 0):
            starts.append(np.where(cross, 0.0, omega))
    _, held = warps.split(len(y))
    floor = warps.score(C[held] @ omega, y[held], n_classes)  # the phase as found, on fit_warp's held-out rows
    if floor >= warps.WARP_BELOW:
        return phases
    best: tuple[Warp | None, np.ndarray] = (None, omega)
    for start in starts:
        warp = warps.fit_warp(Z, C @ start, y, n_classes, _warp_candidates(phases, start, Z.shape[1]))
        if (
            warp is not None
            and warp.explained >= floor + warps.WARP_GAIN
            and (best[0] is None or warp.explained > best[0].explained)
        ):
            best = (warp, start)
    warp, start = best
    if warp is None:
        return phases
    first = np.append(start, 1.0)
    rows = [first * (h if harmonics else h == 1) for h in range(1, len(phases.omegas) + 1)]
    return Phases(
        np.array(rows), phases.monomials, phases.mean, phases.scale, phases.lo, phases.span, warp.explained, warp
    )


def _warp_candidates(phases: Phases, omega: np.ndarray, d: int) -> list[int]:
    """Features to warp: those the phase uses first, then the others."""
    raw = raw_features(phases.monomials, omega) if phases.lifted else np.flatnonzero(omega).tolist()
    return raw + [j for j in range(d) if j not in raw]


OFFSET_GRID = 32  # offsets tried per binary column, in shares of a cycle
OFFSET_ROWS = 4000  # rows the offsets are fitted and checked on (half each), at most
MAX_BINARY = 16  # binary columns given an offset, at most (the first ones)


def offset_phase(Z: np.ndarray, y: np.ndarray, n_classes: int, omega: np.ndarray) -> np.ndarray:
    """``omega``, or omega / 2 or omega / 3, each with a phase offset per binary column of Z, fitted
    on half of (at most OFFSET_ROWS) rows; a candidate replaces omega only if it explains
    ``GROW_GAIN`` more of H(y) on the other half (so noise and threshold labels keep omega)."""
    if not np.any(omega):
        return omega
    order = np.random.default_rng(len(y) + 1).permutation(len(y))[:OFFSET_ROWS]
    fit_rows, held = order[::2], order[1::2]
    binary = [j for j in range(Z.shape[1]) if len(np.unique(Z[fit_rows, j])) == 2][:MAX_BINARY]
    base = explained(Z[held], y[held], n_classes, omega)
    best, best_score = omega, base + GROW_GAIN
    for divisor in (1, 2, 3):
        cand = omega / divisor
        if binary:
            cand = _fit_offsets(Z[fit_rows], y[fit_rows], n_classes, cand, binary)
        score = explained(Z[held], y[held], n_classes, cand)
        if score >= best_score:
            best, best_score = cand, score
    return best


def _fit_offsets(Z: np.ndarray, y: np.ndarray, n_classes: int, omega: np.ndarray, binary: list[int]) -> np.ndarray:
    """Coordinate ascent (two sweeps) over the binary columns: the shift of each column's upper
    value, on a grid of OFFSET_GRID shares of a cycle, that best explains y (the first best, the
    shift as it stands unless another explains more). The grid is scored in one call, each
    candidate's phase computed as :func:`explained` computes it."""
    omega = omega.copy()
    grid = np.arange(OFFSET_GRID) / OFFSET_GRID
    for _sweep in range(2):
        for j in binary:
            lo, hi = np.unique(Z[:, j])
            cands = np.repeat(omega[None], OFFSET_GRID, 0)
            cands[1:, j] = omega[j] + grid[1:] / (hi - lo)  # row 0: the shift as it stands
            t = np.hstack([Z @ c[:, None] for c in cands])
            omega[j] = cands[np.argmax(explained_shares(t, y, n_classes)), j]
    return omega


GROW_GRID = 256  # cells per axis of the demodulated pair transforms
GROW_STEPS = 3  # terms (pairs of columns) added at most
GROW_GAIN = 0.05  # share of H(y) a growth step must add on the held-out rows to be kept


def grow_phase(C: np.ndarray, y: np.ndarray, n_classes: int, omega: np.ndarray, *, seed: int = 0) -> np.ndarray | None:
    """Forward selection over dictionary columns C: add the pair of columns whose frequency best
    explains what the phase ``omega`` leaves, while the held-out share of H(y) grows.

    The labels are demodulated by the current phase t (Y_c exp(-2 pi i t)): what t leaves is then a
    plain periodogram peak over the columns it does not use yet, found on the same binned grid
    (every pair of unused columns, one complex FFT each). The candidate is refined by the
    conditional entropy of the labels given its phase on a quarter of the rows held out inside
    the training set (never the test split), and kept only if it explains ``GROW_GAIN`` more of
    H(y) on the other three quarters; None when no step is kept. Cost: at most GROW_STEPS x
    C(m, 2) FFTs of GROW_GRID^2 (m <= 27 columns at d = 6).
    """
    from models.spectral.search import _centred_onehot, _refine_by_phase

    order = np.random.default_rng(seed).permutation(len(y))
    fit_rows, held = order[: len(y) * 3 // 4], order[len(y) * 3 // 4 :]
    Yc = _centred_onehot(y[fit_rows], n_classes)
    U = C[fit_rows]
    score = explained(C[held], y[held], n_classes, omega)
    kept = None
    for _ in range(GROW_STEPS):
        t = U @ omega
        W = Yc * np.exp(-2j * np.pi * t)[:, None]
        unused = [j for j in range(C.shape[1]) if omega[j] == 0]
        best = (0.0, None)
        cells = np.minimum((U * GROW_GRID).astype(np.int64), GROW_GRID - 1)
        for a, b in itertools.combinations(unused, 2):
            flat = cells[:, a] * GROW_GRID + cells[:, b]
            power = 0.0
            for c in range(n_classes):
                h = np.bincount(flat, weights=W[:, c].real, minlength=GROW_GRID**2) + 1j * np.bincount(
                    flat, weights=W[:, c].imag, minlength=GROW_GRID**2
                )
                power = power + np.abs(np.fft.fft2(h.reshape(GROW_GRID, GROW_GRID))) ** 2
            power[0, 0] = 0.0
            i, k = np.unravel_index(np.argmax(power), power.shape)
            if power[i, k] > best[0]:
                f = np.fft.fftfreq(GROW_GRID, 1 / GROW_GRID)
                best = (power[i, k], (a, b, f[i], f[k]))
        if best[1] is None:
            break
        a, b, fa, fb = best[1]
        cand = omega.copy()
        cand[a], cand[b] = fa, fb
        dims = list(np.flatnonzero(cand))
        cand = _refine_by_phase(U, y[fit_rows], n_classes, cand, [a, b], np.full(2, 1.0), rounds=4)
        for _sweep in range(2):  # then every coefficient in turn (a joint grid over 4+ terms is too large)
            for j in dims:
                cand = _refine_by_phase(U, y[fit_rows], n_classes, cand, [j], np.full(1, 0.5), rounds=4)
        new = explained(C[held], y[held], n_classes, cand)
        if new < score + GROW_GAIN:
            break
        omega, score, kept = cand, new, cand
    return kept


def _spans(lo: np.ndarray, hi: np.ndarray, magnitude: np.ndarray, monomials) -> np.ndarray:
    """Min-max spans of the dictionary's columns; 1 where a column is constant up to round-off.

    The raw features are rebuilt from standardised rows (z * scale + mean), so a product that is
    exactly 0 (two one-hot columns of one categorical) comes back as +-3e-17. Dividing by such a
    span turned float32 round-off at predict time into values of 1e9: the network's loss started
    at 6e6 and one seed of a one-hot dataset fell to chance. A span below 1e-9 of the column's
    scale (the product of its features' largest |x|) is round-off, not variation.
    """
    scale = np.array([np.prod(magnitude[list(m)]) for m in monomials])
    return np.where(hi - lo > 1e-9 * np.maximum(scale, np.finfo(float).tiny), hi - lo, 1.0)


def _raw_pair_triples(monomials, d: int, raw_pairs: list[tuple[int, int]] | None = None) -> list[tuple[int, ...]]:
    """Triples of dictionary columns that involve one pair of raw features only (5 columns each),
    for each of ``raw_pairs`` (default: every pair)."""
    out = []
    for i, j in raw_pairs if raw_pairs is not None else itertools.combinations(range(d), 2):
        own = [k for k, m in enumerate(monomials) if set(m) <= {i, j}]
        out += list(itertools.combinations(own, 3))
    return out


class Lift(nn.Module):
    """Standardised rows -> the dictionary's min-max scaled columns (:class:`Phases`, lifted)."""

    def __init__(self, phases: Phases) -> None:
        super().__init__()
        self.monomials = phases.monomials
        for name in ("mean", "scale", "lo", "span"):
            self.register_buffer(name, torch.as_tensor(getattr(phases, name), dtype=torch.float32))

    def forward(self, z: Tensor) -> Tensor:
        x = z * self.scale + self.mean
        cols = [x[..., m[0]] if len(m) == 1 else x[..., m[0]] * x[..., m[1]] for m in self.monomials]
        return (torch.stack(cols, -1) - self.lo) / self.span


class PhaseColumns(nn.Module):
    """Standardised rows -> :meth:`Phases.columns` (lifted and/or with the warp's column), in torch."""

    def __init__(self, phases: Phases) -> None:
        super().__init__()
        self.lift = Lift(phases) if phases.lifted else None
        self.warp = WarpColumn(phases.warp) if phases.warp is not None else None

    def forward(self, z: Tensor) -> Tensor:
        c = self.lift(z) if self.lift is not None else z
        return c if self.warp is None else torch.cat([c, self.warp(z).unsqueeze(-1)], -1)
