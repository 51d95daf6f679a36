"""Where the labels repeat: frequency vectors, and the cut where the pattern's phase jumps.

Used by ``spectral_mlp`` and ``spectral_xgboost`` (see models/spectral/mlp.py for the method and
its cost). Everything here sees only (X, y): no constant of the generator.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.fft

# Grids (cells per feature range) of the binned periodogram; a grid of G resolves G / 2 cycles.
LINE_GRID = 4096  # d = 1
PAIR_GRID = 512  # few pairs (<= FINE_PAIRS): the finer grid, and a FINER x rescan if needed
COARSE_PAIR_GRID = 256  # many pairs: bounded cost
FINE_PAIRS = 20
FINER = 4
SCREEN_PAIRS = 5000  # pairs ranked by one batched grid transform each (every pair up to d = 100): ~1.9 ms a pair
SCREEN_CHUNK = 16  # pairs per batched transform: bounds the (chunk, G, G) histograms (~4 MB each)
TRIPLE_GRID = 128  # cells per axis for triples: resolves up to 64 cycles per feature range
ALIAS_POWER = 0.25  # a real peak keeps ~40% of its grid power in the exact transform; an alias far less
SAME_PEAK_BINS = 2.0  # peaks closer than this many grid bins are one peak seen from two groups
DISTINCT_BINS = 0.5  # refined peaks closer than this are duplicates
CHUNK = 256  # frequencies per exact-transform block: bounds the (n, m) phase matrix
BIN_OFFSETS = (0.0, 0.25, 0.5, 0.75)  # phase-bin offsets averaged so scores don't jump with bin edges
SEGMENTS = 8  # slabs along w.x where the one cut may fall
MIN_CYCLES = 2.0  # periods each side of a cut must span
CUT_GRID = 256  # first pass: evenly spaced cut positions along w.x
CUT_Z = 8.0  # standard deviations above chance a cut's likelihood gain must reach
CUT_CHUNK = 64  # cut positions per block: bounds the (cuts, n) index arrays


def label_entropy(y: np.ndarray, n_classes: int) -> float:
    """H(y) in nats per row."""
    p = np.bincount(y, minlength=n_classes) / len(y)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _centred_onehot(y: np.ndarray, n_classes: int) -> np.ndarray:
    Y = np.eye(n_classes)[y]
    return Y - Y.mean(0)


def periodogram(X: np.ndarray, Yc: np.ndarray, omegas: np.ndarray, harmonics: int = 1) -> np.ndarray:
    """Exact label power at each frequency row of ``omegas`` (cycles per unit of X), summed over
    its first ``harmonics`` multiples (cos and sin of h t by angle addition: one cos, one sin)."""
    out = np.zeros(len(omegas))
    for i in range(0, len(omegas), CHUNK):
        phase = 2 * np.pi * X @ omegas[i : i + CHUNK].T
        cos1, sin1 = np.cos(phase), np.sin(phase)
        cos, sin = cos1, sin1
        for h in range(harmonics):
            if h:
                cos, sin = cos * cos1 - sin * sin1, sin * cos1 + cos * sin1
            out[i : i + CHUNK] += ((Yc.T @ cos) ** 2 + (Yc.T @ sin) ** 2).sum(0)
    return out / len(X)


def _grid_peaks(U: np.ndarray, Yc: np.ndarray, grid: int, n_peaks: int) -> list[tuple[float, np.ndarray]]:
    """Strongest (power, integer frequency) peaks of the binned p-D periodogram of U in [0,1]^p."""
    p = U.shape[1]
    cells = np.minimum((U * grid).astype(np.int64), grid - 1)
    flat = np.ravel_multi_index(tuple(cells.T), (grid,) * p)
    # Centred one-hot columns sum to zero, so the last class's transform is minus the others' sum.
    last = Yc.shape[1] - 1 if Yc.shape[1] > 1 and np.allclose(Yc.sum(1), 0.0) else Yc.shape[1]
    power, rest = 0.0, 0.0
    for c in range(last):
        h = np.bincount(flat, weights=Yc[:, c], minlength=grid**p).reshape((grid,) * p)
        f = scipy.fft.rfftn(h)
        power, rest = power + f.real**2 + f.imag**2, rest + f
    if last < Yc.shape[1]:
        power = power + rest.real**2 + rest.imag**2
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
        if p > 1:  # and its mirror image near the last axis' 0 (rfft keeps both signs there)
            mirror = tuple(int(-i) % grid for i in idx[:-1])
            power[mirror + (slice(max(idx[-1] - 2, 0), idx[-1] + 3),)] = 0.0
    return peaks


def find_frequencies(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    n_peaks: int = 4,
    max_rows: int = 20000,
    max_pairs: int = 200,
    screen_pairs: int = SCREEN_PAIRS,
    max_triples: int = 60,
    min_relative_power: float = 0.05,
    harmonics: bool = True,
    triples: list[tuple[int, ...]] | None = None,
    pairs: bool = True,
    max_refined: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Frequency vectors (n_peaks, d), cycles per unit of X, where the labels' energy peaks.

    Feature pairs first (more than ``max_pairs``: up to ``screen_pairs`` screened by their strongest
    grid power, a random subset beyond, and the top ``max_pairs`` scanned); if no pair shows a peak above the noise floor and d >= 3, triples
    (a pattern along x0 + x1 + x2 averages away in every pair's marginal): ``triples`` when given,
    else a random ``max_triples`` of all; without ``pairs``, triples only. At most ``max_refined``
    peaks (default ``n_peaks``) are refined and kept; with ``harmonics``, rows left over go to
    multiples of the strongest peak, else they stay zero.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    X, y = _subsample(X, y, max_rows, rng)
    d = X.shape[1]
    Yc = _centred_onehot(y, n_classes)
    lo, hi = X.min(0), X.max(0)
    span = np.where(hi > lo, hi - lo, 1.0) * (1 + 1e-9)
    U = (X - lo) / span
    found, floor = [], np.inf
    if d == 1:
        found, floor = _scan(U, Yc, span, [(0,)], LINE_GRID, n_peaks)
    elif pairs:
        if math.comb(d, 2) > max_pairs and screen_pairs > max_pairs:
            # Many pairs: rank up to screen_pairs of them by their strongest grid power, scan the
            # top max_pairs, with the noise floor of every pair screened (a sparse phase among 50
            # features is one pair of 1,225: a random 200 would miss it 84% of the time).
            screened = sample_groups(d, 2, screen_pairs, rng)
            strongest = _screen(U, Yc, screened, COARSE_PAIR_GRID)
            groups = [screened[i] for i in sorted(np.argsort(-strongest, kind="stable")[:max_pairs])]
            found, floor = _scan(U, Yc, span, groups, COARSE_PAIR_GRID, n_peaks, n_groups=len(screened))
            few = False
        else:
            groups = sample_groups(d, 2, max_pairs, rng)
            few = len(groups) <= FINE_PAIRS
            grid = PAIR_GRID if few else COARSE_PAIR_GRID
            found, floor = _scan(U, Yc, span, groups, grid, n_peaks)
        if few and (not _has_peak(found, floor) or _aliased(X, Yc, found[0])):
            found, floor = _scan(U, Yc, span, groups, FINER * PAIR_GRID, n_peaks)  # a pattern finer than the grid?
    if d >= 3 and not _has_peak(found, floor):
        groups = _subset(triples, max_triples, rng) if triples is not None else sample_groups(d, 3, max_triples, rng)
        found, floor = _scan(U, Yc, span, groups, TRIPLE_GRID, n_peaks)
    # Weak peaks are noise (pairs of irrelevant features, label noise): keep those near the top
    # and above what labels independent of X would reach somewhere on the grid.
    peaks: list[np.ndarray] = []
    for power, omega, g in found:
        if len(peaks) == min(n_peaks, max_refined or n_peaks) or power < max(min_relative_power * found[0][0], floor):
            break
        if any(_distance(omega, q) <= SAME_PEAK_BINS / span.min() for q in peaks):
            continue  # the same peak seen from another pair: refining would only rediscover it
        omega = _refine(X, Yc, omega, list(g), 1.0 / span[list(g)])
        omega = _refine_by_phase(X, y, n_classes, omega, list(g), 0.5 / span[list(g)], rounds=5)
        if all(_distance(omega, q) > DISTINCT_BINS / span.min() for q in peaks):
            peaks.append(omega)
    # Fewer strong peaks than asked: harmonics of the strongest (a stripe pattern has energy at
    # every multiple, and the grid may not reach them), then zero rows (constant features).
    for h in range(2, 2 + n_peaks) if harmonics else ():
        if (
            peaks
            and len(peaks) < n_peaks
            and all(_distance(h * peaks[0], q) > DISTINCT_BINS / span.min() for q in peaks)
        ):
            peaks.append(h * peaks[0])
    while len(peaks) < n_peaks:
        peaks.append(np.zeros(d))
    return np.array(peaks)


def _subsample(X: np.ndarray, y: np.ndarray, max_rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_rows`` rows, drawn without replacement (bounded cost at large n)."""
    if len(X) <= max_rows:
        return X, y
    keep = rng.choice(len(X), max_rows, replace=False)
    return X[keep], y[keep]


def _has_peak(found: list, floor: float) -> bool:
    """Whether the strongest scanned peak stands above the noise floor."""
    return bool(found) and found[0][0] >= floor


def _subset(groups: list[tuple], cap: int, rng: np.random.Generator) -> list[tuple]:
    """All groups, or a random ``cap`` of them (bounded cost at large d)."""
    if len(groups) <= cap:
        return groups
    return [groups[i] for i in sorted(rng.choice(len(groups), cap, replace=False))]


def sample_groups(d: int, size: int, cap: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Every ``size``-subset of range(d) in itertools.combinations order, or a random ``cap`` of them.

    Memory and time O(cap * size * log d), never O(C(d, size)): a random ``cap`` of the ranks
    0..C(d, size) - 1 is drawn (numpy draws few of many by rejection, without a permutation of
    all), then each rank is unranked into its combination. The draw is the one ``_subset`` made on
    the full list, so the groups are identical to enumerating and subsetting (tested).
    """
    total = math.comb(d, size)
    if total <= cap:
        return list(itertools.combinations(range(d), size))
    ranks = sorted(int(r) for r in rng.choice(total, cap, replace=False))
    return [_unrank(r, d, size) for r in ranks]


def _unrank(rank: int, d: int, size: int) -> tuple[int, ...]:
    """The ``rank``-th (0-based) ``size``-subset of range(d) in lexicographic order."""
    out, start = [], 0
    for k in range(size, 0, -1):
        # Subsets (of range(start, d), k elements) whose first element is below c: C(d - start, k) - C(d - c, k).
        # The first element is the smallest c with rank < C(d - start, k) - C(d - c - 1, k).
        lo, hi, whole = start, d - k, math.comb(d - start, k)
        while lo < hi:
            mid = (lo + hi) // 2
            if rank < whole - math.comb(d - mid - 1, k):
                hi = mid
            else:
                lo = mid + 1
        rank -= whole - math.comb(d - lo, k)
        out.append(lo)
        start = lo + 1
    return tuple(out)


def _screen(U: np.ndarray, Yc: np.ndarray, groups: list[tuple[int, int]], grid: int) -> np.ndarray:
    """Each pair's strongest binned-periodogram power (as :func:`_grid_peaks`, in float32, batched).

    O(P (r K + K G^2 log G)) time for P pairs, O(SCREEN_CHUNK K G^2) memory.
    """
    cells = np.minimum((U * grid).astype(np.int64), grid - 1)
    last = Yc.shape[1] - 1 if Yc.shape[1] > 1 and np.allclose(Yc.sum(1), 0.0) else Yc.shape[1]
    out = np.empty(len(groups))
    for start in range(0, len(groups), SCREEN_CHUNK):
        pairs = np.array(groups[start : start + SCREEN_CHUNK])
        p = len(pairs)
        flat = (np.arange(p)[:, None] * grid * grid + cells[:, pairs[:, 0]].T * grid + cells[:, pairs[:, 1]].T).ravel()
        power, rest = 0.0, 0.0
        for c in range(last):
            h = np.bincount(flat, weights=np.tile(Yc[:, c], p), minlength=p * grid * grid)
            f = scipy.fft.rfftn(h.astype(np.float32).reshape(p, grid, grid), axes=(1, 2))
            power, rest = power + f.real**2 + f.imag**2, rest + f
        if last < Yc.shape[1]:
            power = power + rest.real**2 + rest.imag**2
        power[:, 0, 0] = 0.0
        out[start : start + p] = power.reshape(p, -1).max(1) / len(U)
    return out


def _scan(U, Yc, span, groups, grid, n_peaks, n_groups: int | None = None) -> tuple[list, float]:
    """Peaks of every group's binned periodogram, strongest first, and the noise floor for them."""
    d = U.shape[1]
    found = []
    for g in groups:
        for power, k in _grid_peaks(U[:, g], Yc, grid, n_peaks):
            omega = np.zeros(d)
            omega[list(g)] = k / span[list(g)]
            found.append((power, omega, g))
    found.sort(key=lambda t: -t[0])
    return found, noise_floor(Yc, (n_groups or len(groups)) * grid ** len(groups[0]) / 2)


def _aliased(X: np.ndarray, Yc: np.ndarray, peak: tuple) -> bool:
    """True if a grid peak is an alias: the exact transform at its frequency holds little power.

    Binning into G cells folds a frequency above G/2 cycles per feature range onto a lower one
    (attenuated, but often still the strongest); evaluated exactly, that lower frequency is noise.
    A real peak keeps at least ~40% of its grid power (it is within half a bin of the truth).
    """
    power, omega, _ = peak
    return float(periodogram(X, Yc, omega[None])[0]) < ALIAS_POWER * power


def noise_floor(Yc: np.ndarray, n_frequencies: float, false_alarm: float = 0.01, margin: float = 1.5) -> float:
    """Grid power a peak must beat to be told apart from labels that do not depend on X.

    For such labels each class's transform is close to complex Gaussian, so the power summed
    over classes is about Gamma(K - 1, total variance / (K - 1)). The floor is ``margin`` times
    the quantile the largest of ``n_frequencies`` grid powers exceeds with probability
    ``false_alarm``; the margin keeps label noise's spurious peaks below it (tested in
    tests/models/test_spectral.py::test_labels_independent_of_x_give_no_peaks).
    """
    from scipy.stats import gamma

    k = Yc.shape[1]
    variance = float((Yc**2).mean(0).sum())
    if k < 2 or variance <= 0:
        return np.inf
    return margin * float(gamma.isf(false_alarm / n_frequencies, a=k - 1, scale=variance / (k - 1)))


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
        power = periodogram(X, Yc, cand, harmonics)
        omega = cand[np.argmax(power)]
        width = width * step
        scale *= step
    return omega


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
    return entropy_given_phases(X @ omegas.T, y, n_classes, bins, segments)


def explained_shares(t: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Share of H(y) that each phase frac(t[:, j]) accounts for, with one cut (zeros when H(y) = 0).

    The one score of a phase: the search's acceptance, the warps and the offsets all use it."""
    h = label_entropy(y, n_classes)
    if h <= 0:
        return np.zeros(t.shape[1])
    return 1.0 - entropy_given_phases(t, y, n_classes, _phase_bins(len(y), n_classes), SEGMENTS) / h


def entropy_given_phases(t: np.ndarray, y: np.ndarray, n_classes: int, bins: int, segments: int = 1) -> np.ndarray:
    """:func:`phase_entropy` of given unwrapped phases t (n, m), one per column."""
    m = t.shape[1]
    lo, hi = t.min(0), t.max(0)
    seg = np.minimum(((t - lo) / np.maximum(hi - lo, 1e-12) * segments).astype(np.int64), segments - 1)
    # Cut after slab k (k = segments - 1: no cut); only where both sides span >= MIN_CYCLES periods,
    # so that a slow, non-repeating pattern (a threshold) is not mistaken for a jump.
    k = np.arange(segments)[None, :]
    cycles = (hi - lo)[:, None] / segments
    allowed = ((k + 1) * cycles >= MIN_CYCLES) & ((segments - 1 - k) * cycles >= MIN_CYCLES) | (k == segments - 1)
    at_m, at_k = np.nonzero(allowed)  # the (frequency, cut) pairs scored; the rest stay inf
    scored = np.full((m, segments), np.inf)
    total, xlogx = np.zeros(m), _xlogx(len(t))
    # Counts laid out (slab, frequency, class, bin): the sums run over contiguous memory.
    cell = ((seg * m + np.arange(m)[None, :]) * n_classes + y[:, None]) * bins  # each row's cell, less its bin
    scaled = t - np.floor(t)  # frac(t), as np.mod(t, 1.0) to the bit, at a quarter of its cost
    scaled *= bins
    for offset in BIN_OFFSETS:
        counts = np.bincount(
            (cell + _phase_bin(scaled, offset, bins)).ravel(), minlength=segments * m * n_classes * bins
        )
        left = counts.reshape(segments, m, n_classes, bins)
        for j in range(1, segments):  # left[j]: slabs 0..j
            left[j] += left[j - 1]
        sides = left[at_k, at_m]  # (pairs, classes, bins); slabs j+1..end are the whole less these
        scored[at_m, at_k] = _entropy_sum(sides, xlogx) + _entropy_sum(left[-1][at_m] - sides, xlogx)
        total += scored.min(1)
    return total / (len(BIN_OFFSETS) * len(t))


def _phase_bins(n: int, n_classes: int) -> int:
    """Phase bins for the entropy scores: ~20 rows a bin, 4 per class at least, 256 at most."""
    return int(np.clip(n // 20, 4 * n_classes, 256))


def _phase_bin(scaled: np.ndarray, offset: float, bins: int) -> np.ndarray:
    """Bin of each phase, ``scaled`` = frac(t) * bins, with the bin edges shifted by ``offset``."""
    b = np.floor(scaled + offset).astype(np.int64)
    b[b >= bins] -= bins  # scaled + offset < bins + 1: wraps like % bins, at less cost
    return b


def _xlogx(n: int) -> np.ndarray:
    """k log k for k = 0..n (0 log 0 = 0): the entropy sums' terms, looked up instead of computed."""
    k = np.arange(n + 1, dtype=float)
    return k * np.log(np.maximum(k, 1.0))


def _entropy_sum(counts: np.ndarray, xlogx: np.ndarray) -> np.ndarray:
    """n * H(class | bin) summed over bins; integer counts (..., classes, bins) -> (...).

    n H = sum over bins of (n_b log n_b - sum over classes of n_bc log n_bc), from :func:`_xlogx`.
    """
    return xlogx.take(counts.sum(-2)).sum(-1) - xlogx.take(counts).sum((-2, -1))


def _refine_by_phase(X, y, n_classes, omega, dims, width, rounds: int = 4, steps: int = 9) -> np.ndarray:
    """Sharpen ``omega`` by minimising :func:`phase_entropy` on shrinking local grids."""
    bins = _phase_bins(len(X), n_classes)
    width = np.asarray(width, dtype=float)
    for _ in range(rounds):
        offsets = np.linspace(-1, 1, steps)
        mesh = np.stack(np.meshgrid(*[offsets] * len(dims), indexing="ij"), -1).reshape(-1, len(dims))
        cand = np.repeat(omega[None], len(mesh), 0)
        cand[:, dims] += mesh * width
        omega = cand[np.argmin(phase_entropy(X, y, n_classes, cand, bins, SEGMENTS))]
        width = width * 2 / (steps - 1)
    return omega


def find_cut(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    omega: np.ndarray,
    *,
    max_rows: int = 20000,
    rng: np.random.Generator | None = None,
) -> float:
    """Where along t = X @ omega the labels' phase pattern jumps, in cycles; ``inf`` if it does not.

    The cut minimises the conditional entropy of the labels given (phase bin, side of the cut):
    first on an even grid, then between neighbouring rows around the best grid point. It is kept
    if the likelihood-ratio statistic 2 n (entropy drop) beats its no-jump distribution, about
    chi-squared with df = bins (K - 1), by ``CUT_Z`` standard deviations (chosen between the
    z that patterns without a jump reach and that of real jumps; tested in
    tests/models/test_spectral.py).
    """
    omega = np.asarray(omega, dtype=float)
    X, y = _subsample(X, y, max_rows, rng if rng is not None else np.random.default_rng(0))
    t = X @ omega
    lo, hi = float(t.min()), float(t.max())
    if not np.any(omega) or hi - lo < 2 * MIN_CYCLES:
        return np.inf
    bins = _phase_bins(len(t), n_classes)
    grid = np.linspace(lo + MIN_CYCLES, hi - MIN_CYCLES, CUT_GRID + 1)
    coarse = split_entropy(t, y, n_classes, bins, np.append(grid, np.inf))
    best = int(np.argmin(coarse[:-1]))
    rows = np.sort(t[(t >= grid[max(best - 1, 0)]) & (t <= grid[min(best + 1, CUT_GRID)])])
    cuts = np.append((rows[1:] + rows[:-1]) / 2, grid[best])  # midpoints between neighbouring rows
    fine = split_entropy(t, y, n_classes, bins, cuts)
    statistic, df = 2 * (coarse[-1] - fine.min()), bins * (n_classes - 1)
    return float(cuts[np.argmin(fine)]) if statistic > df + CUT_Z * np.sqrt(2 * df) else np.inf


def split_entropy(t: np.ndarray, y: np.ndarray, n_classes: int, bins: int, cuts: np.ndarray) -> np.ndarray:
    """n * H(label | phase bin of t, t > cut) per cut (``inf``: no cut), averaged over 4 bin offsets."""
    if len(cuts) > CUT_CHUNK:
        blocks = [cuts[i : i + CUT_CHUNK] for i in range(0, len(cuts), CUT_CHUNK)]
        return np.concatenate([split_entropy(t, y, n_classes, bins, c) for c in blocks])
    scaled = np.mod(t, 1.0) * bins
    side = (t[None, :] > cuts[:, None]).astype(np.int64)  # (cuts, n)
    total, xlogx = np.zeros(len(cuts)), _xlogx(len(t))
    for offset in BIN_OFFSETS:
        b = _phase_bin(scaled, offset, bins)
        flat = ((np.arange(len(cuts))[:, None] * 2 + side) * n_classes + y[None, :]) * bins + b[None, :]
        counts = np.bincount(flat.ravel(), minlength=len(cuts) * 2 * n_classes * bins)
        total += _entropy_sum(counts.reshape(len(cuts), 2, n_classes, bins), xlogx).sum(1)
    return total / len(BIN_OFFSETS)
