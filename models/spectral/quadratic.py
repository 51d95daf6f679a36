"""Quadratic phases of one pair of features, read off the stripes' local frequencies.

A phase t that is a quadratic polynomial of two features u = (u0, u1) has a gradient linear in u:
grad t = A u + g (A symmetric). Where the labels repeat along t, their local frequency at a point
is that gradient. So, on the rows given:

1. on a ``GRID`` x ``GRID`` grid of overlapping patches, the frequency of the labels' periodogram
   peak (one half-plane: a real signal's spectrum is symmetric, so each patch's frequency is known
   up to its sign), weighted by how far the peak stands above the patch's mean power;
2. the signs made consistent (neighbour by neighbour from each of the strongest patches, then by
   the fitted field) and A, g fitted by weighted least squares: all five coefficients of t at once,
   where the pair and triple scans see at most three terms and forward selection adds them a pair
   at a time (a ring around (a, b) is x0^2 + x1^2 - 2a x0 - 2b x1: four terms);
3. the coefficients refined by the labels' conditional entropy given the phase, one at a time, in
   the centred basis (u - 1/2, (u - 1/2)^2, (u0 - 1/2)(u1 - 1/2)): its columns are nearly
   uncorrelated on the unit square, where u and u^2 are 0.97 correlated and one-at-a-time search
   stalls.

Nothing here knows the labels' generator: any quadratic phase of two features is found the same
way (rings, ellipses, saddles, tilted parabolas). Cost at n = 1,600 rows: about 1 s per pair.
"""

from __future__ import annotations

import numpy as np

from models.spectral.search import MIN_CYCLES, _centred_onehot, _refine_by_phase, explained_shares

GRID = 4  # patches per axis
HALF_WIDTH = 0.18  # of a patch, in units of the features' (min-max scaled) range: patches overlap
MAX_FREQUENCY = 40.0  # cycles per range scanned in a patch; beyond it ~100 rows cannot resolve stripes
N_FREQUENCIES = 81  # per axis of the patch periodogram's coarse grid (then refined)
MIN_ROWS = 30  # rows a patch needs to be used
SIGN_STARTS = 6  # strongest patches the sign propagation starts from
NEGLIGIBLE = 0.1  # cycles: a term that moves the phase less than this across its range is dropped


def local_peaks(U: np.ndarray, Yc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Patch centres (p, 2), peak frequencies (p, 2; sign unknown) and weights (p,) of rows U (n, 2)
    in [0, 1]^2 with centred one-hot labels Yc."""
    fx, fy = (
        np.linspace(-MAX_FREQUENCY, MAX_FREQUENCY, N_FREQUENCIES),
        np.linspace(0, MAX_FREQUENCY, N_FREQUENCIES // 2 + 1),
    )
    half = np.stack([a.ravel() for a in np.meshgrid(fx, fy, indexing="ij")], 1)
    lowest = 1.0 / (2 * HALF_WIDTH)  # under one cycle across the patch: its mean, not stripes
    centres, freqs, weights = [], [], []
    for cx in (np.arange(GRID) + 0.5) / GRID:
        for cy in (np.arange(GRID) + 0.5) / GRID:
            inside = np.all(np.abs(U - [cx, cy]) <= HALF_WIDTH, axis=1)
            if inside.sum() < MIN_ROWS:
                continue
            u, Y = U[inside] - [cx, cy], Yc[inside] - Yc[inside].mean(0)
            power = _power(u, Y, half)
            power[np.hypot(half[:, 0], half[:, 1]) < lowest] = 0.0
            best = int(np.argmax(power))
            f, step = half[best], 2 * MAX_FREQUENCY / (N_FREQUENCIES - 1)
            for _ in range(3):  # zoom in around the peak
                g = np.linspace(-step, step, 9)
                local = np.stack([a.ravel() for a in np.meshgrid(f[0] + g, f[1] + g, indexing="ij")], 1)
                f, step = local[np.argmax(_power(u, Y, local))], step / 4
            centres.append((cx, cy))
            freqs.append(f)
            weights.append(power[best] / max(power.mean(), 1e-300))
    return np.array(centres).reshape(-1, 2), np.array(freqs).reshape(-1, 2), np.array(weights)


def _power(u: np.ndarray, Y: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Periodogram of the labels Y (rows, classes) at rows u, summed over classes, per frequency."""
    return (np.abs(Y.T @ np.exp(-2j * np.pi * (u @ freqs.T))) ** 2).sum(0)


def gradient_field(centres: np.ndarray, freqs: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
    """Centred-basis coefficients (see :func:`centred_basis`) of the quadratic phase whose gradient
    best matches the patches' frequencies, their signs resolved; None with fewer than 3 patches."""
    if len(centres) < 3:
        return None
    x0, x1 = centres.T
    zero, one = np.zeros_like(x0), np.ones_like(x0)
    # grad t = (a00 u0 + a01 u1 + g0, a01 u0 + a11 u1 + g1); unknowns (a00, a11, a01, g0, g1)
    design = np.stack([np.stack([x0, zero, x1, one, zero], 1), np.stack([zero, x1, x0, zero, one], 1)], 1).reshape(
        -1, 5
    )
    root = np.sqrt(np.repeat(weights, 2))
    near = np.hypot(*(centres[:, None] - centres[None]).transpose(2, 0, 1)) < 1.5 / GRID
    best = (np.inf, None)
    for start in np.argsort(-weights)[:SIGN_STARTS]:
        sign = _propagate_signs(freqs, near, int(start))
        for _ in range(6):
            theta = np.linalg.lstsq(design * root[:, None], (freqs * sign[:, None]).ravel() * root, rcond=None)[0]
            fitted = (design @ theta).reshape(-1, 2)
            sign = np.where(((freqs - fitted) ** 2).sum(1) <= ((freqs + fitted) ** 2).sum(1), 1.0, -1.0)
        residual = float((weights * ((freqs * sign[:, None] - fitted) ** 2).sum(1)).sum())
        if residual < best[0]:
            best = (residual, theta)
    a00, a11, a01, g0, g1 = best[1]
    q0, q1 = a00 / 2, a11 / 2  # t = q0 u0^2 + q1 u1^2 + a01 u0 u1 + g0 u0 + g1 u1
    return np.array([g0 + q0 + a01 / 2, g1 + q1 + a01 / 2, q0, q1, a01])


def _propagate_signs(freqs: np.ndarray, near: np.ndarray, start: int) -> np.ndarray:
    """Signs that make each patch's frequency agree with a neighbour's (breadth first from start)."""
    sign = np.zeros(len(freqs))
    sign[start], queue = 1.0, [start]
    while queue:
        a = queue.pop(0)
        for b in np.flatnonzero(near[a] & (sign == 0)):
            sign[b] = 1.0 if freqs[b] @ (sign[a] * freqs[a]) >= 0 else -1.0
            queue.append(b)
    sign[sign == 0] = 1.0
    return sign


def centred_basis(U: np.ndarray) -> np.ndarray:
    """(u0 - 1/2, u1 - 1/2, (u0 - 1/2)^2, (u1 - 1/2)^2, (u0 - 1/2)(u1 - 1/2)) of rows U (n, 2)."""
    a, b = U[:, 0] - 0.5, U[:, 1] - 0.5
    return np.stack([a, b, a * a, b * b, a * b], 1)


def refine(B: np.ndarray, y: np.ndarray, n_classes: int, coef: np.ndarray, sweeps: int = 3) -> np.ndarray:
    """Centred-basis coefficients sharpened by the labels' entropy given the phase: first the
    phase's overall scale (a patch's frequency is read from a few cycles), then one at a time;
    terms left moving the phase less than ``NEGLIGIBLE`` cycles across their range are dropped."""
    for share in (0.1, 0.03, 0.01):
        cands = coef[None] * (1 + share * np.linspace(-1, 1, 9))[:, None]
        coef = cands[np.argmax(explained_shares(B @ cands.T, y, n_classes))]
    spread = np.maximum(B.max(0) - B.min(0), 1e-12)
    for _ in range(sweeps):
        for j in range(B.shape[1]):
            coef = _refine_by_phase(B, y, n_classes, coef, [j], np.full(1, 0.5 / spread[j]), rounds=4)
    return np.where(np.abs(coef) * spread < NEGLIGIBLE, 0.0, coef)


def to_dictionary(coef: np.ndarray, pair: tuple[int, int], monomials, lo: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Centred-basis coefficients over the dictionary's linear columns of ``pair`` (u = (x - lo) /
    span) -> frequencies over the min-max scaled dictionary columns (the constant dropped)."""
    i, j = pair
    l0, l1, q0, q1, c = coef
    g0, g1 = l0 - q0 - c / 2, l1 - q1 - c / 2  # t in u: q0 u0^2 + q1 u1^2 + c u0 u1 + g0 u0 + g1 u1
    at = {m: k for k, m in enumerate(monomials)}
    a0, s0, a1, s1 = lo[at[(i,)]], span[at[(i,)]], lo[at[(j,)]], span[at[(j,)]]
    raw = {  # the same polynomial in the raw features x, u = (x - a) / s
        (i, i): q0 / s0**2,
        (j, j): q1 / s1**2,
        (i, j): c / (s0 * s1),
        (i,): g0 / s0 - 2 * a0 * q0 / s0**2 - a1 * c / (s0 * s1),
        (j,): g1 / s1 - 2 * a1 * q1 / s1**2 - a0 * c / (s0 * s1),
    }
    omega = np.zeros(len(monomials))
    for m, v in raw.items():
        omega[at[m]] = v * span[at[m]]
    return omega


def fit_pair(
    D: np.ndarray, y: np.ndarray, n_classes: int, pair: tuple[int, int], monomials, lo, span
) -> np.ndarray | None:
    """The quadratic phase of raw features ``pair`` over the dictionary columns D, fitted on the
    rows given (see the module doc); None when too few patches show stripes, or when the phase
    spans fewer than 2 x ``MIN_CYCLES`` cycles over the rows (a slow phase that sorts the rows by a
    threshold is not a stripe pattern: the same rule as the search's cuts)."""
    at = {m: k for k, m in enumerate(monomials)}
    U = D[:, [at[(pair[0],)], at[(pair[1],)]]]
    coef = gradient_field(*local_peaks(U, _centred_onehot(y, n_classes)))
    if coef is None:
        return None
    B = centred_basis(U)
    coef = refine(B, y, n_classes, coef)
    if np.ptp(B @ coef) < 2 * MIN_CYCLES:
        return None
    return to_dictionary(coef, pair, monomials, lo, span)
