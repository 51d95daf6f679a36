"""``spectral_mlp``: sin/cos features started at the label's strongest frequencies, then an MLP.

Local learners (trees, ReLU MLPs) cannot resolve a stripe pattern narrower than the spacing of
the training points; a model that finds the pattern's global direction and frequency can. This
family looks for them in the training data only (models/spectral/search.py):

1. centre the one-hot labels, Y_c = 1[y = c] - mean; their periodogram
   P(w) = sum_c |sum_i Y_ic exp(-2 pi i w.x_i)|^2 / n peaks where the labels repeat;
2. for each pair of (standardised) features, bin the rows on a G x G grid and FFT (d = 1: a 1-D
   grid); if the strongest peak is below the power that labels independent of X would reach, or
   an alias (a pattern finer than G / 2 cycles per feature range folds onto a lower frequency,
   where the exact transform finds nothing), again on a 4G grid; if still no pair shows a peak,
   triples on a 128^3 grid (a pattern along x0 + x1 + x2 averages away in every pair);
3. keep the strongest peaks above that noise floor; refine each with the exact non-uniform
   transform on a local grid (sub-bin precision), then by the conditional entropy of the labels
   given the phase, allowing one cut along w.x where the phase may jump (a generator truncating
   toward zero shifts the stripes where w.x changes sign); rows left over go to harmonics of the
   strongest peak (a stripe pattern has energy at every multiple);
   If the strongest peak's phase explains less than half the label's entropy (and d <= 6), the
   search runs again on a dictionary of monomials of degree <= 2 of the raw features (x_i, x_i^2,
   x_i x_j; models/spectral/phases.py): a phase that is a polynomial of x is linear in those
   columns; it is kept if it explains more, and the network then starts with that lifting;
4. find that cut exactly along the strongest peak's w.x, kept only if a likelihood-ratio test
   says the phase pattern differs on its two sides;
5. the peaks, plus ``n_random`` random low frequencies, start the trainable frequency matrix W of
   [x, cos z, sin z, s, s cos z, s sin z] features, z = 2 pi x W^T, s = 1[w.x > cut] (0 without
   a cut): the first layer weighs the harmonics per side instead of learning a sharp step from x.
   An MLP on them trains with early stopping;
6. on a real table (``fallback``), mlp's own model (its network and quantile-normal inputs)
   trains beside it on the same validation rows, and the periodic network is kept only where it
   beats mlp's there by more than one standard error (models/spectral/choice.py).

Cost: O(r P K) binning and O(P K G^2 log G) FFTs with r = min(n, max_rows) rows, P pairs (at
most ``max_pairs``, a random subset beyond) and K classes; triples, when searched, O(T K G^3 log G)
with T <= ``max_triples``; plus O(r K) per candidate in the refinement and O(r) per cut position;
then the usual O(n epochs) training. It won't help when the label is not periodic along some
direction, when the direction needs four or more features at once at high frequency, or at more
than 64 cycles per feature range along a triple (the 128^3 grid's limit).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from torch import Tensor, nn

from models.base import FitTask
from models.engine.trainer import Member, right_answers
from models.mlp import MLP, mlp_layers
from models.periodic import FourierFeatures
from models.preprocessing import find_numeric_phases, fit_quantile_normal
from models.spectral import choice
from models.spectral.phases import PhaseColumns
from models.spectral.search import find_cut


class SteppedFourierFeatures(FourierFeatures):
    """:class:`FourierFeatures` [x, cos z, sin z] plus s and s [cos z, sin z], s = 1[x.u > cut].

    ``u`` and ``cut`` are fixed buffers; ``cut = inf`` (no cut found) makes s and its products 0,
    so every member has the same width and members with and without a cut stack.
    """

    def __init__(self, frequencies: Tensor, cut_direction: Tensor, cut: float, lr_scale: float = 1.0) -> None:
        super().__init__(frequencies, include_input=True, lr_scale=lr_scale)
        self.register_buffer("cut_direction", cut_direction.float().clone())
        self.register_buffer("cut", torch.tensor(float(cut)))

    @property
    def d_out(self) -> int:
        return super().d_out + 1 + 2 * self.frequencies.shape[0]

    def forward(self, x: Tensor) -> Tensor:
        features = super().forward(x)
        waves = features[..., x.shape[-1] :]
        side = (x @ self.cut_direction > self.cut).to(x.dtype).unsqueeze(-1)
        return torch.cat([features, side, side * waves], -1)


class SpectralMLP(MLP):
    """Periodic features at frequencies found in (X, y), trainable, + a ReLU MLP (see module doc)."""

    preprocessing = "spectral"  # no rank transform; the search reads numeric columns only

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
        lifted=True,
        fallback=True,
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
        self.lifted = lifted
        self.fallback = fallback

    def fit_info(self) -> dict:
        return super().fit_info() | self.phases_.summary()

    def _members(self, task: FitTask) -> tuple[list[Member], list[dict]]:
        """The periodic network; on a real table with ``fallback`` also mlp's model (module doc, 6)."""
        self.fallback_ = None
        members, candidates = super()._members(task)
        if self.fallback and task.real and self._validates(task):  # no validation rows: nothing to choose on
            self.fallback_ = _MLPFallback(self, task)
            plain, _ = self.fallback_.model._members(self.fallback_.task(task))
            members += plain
            candidates = [c | {"network": "periodic"} for c in candidates] + [{"network": "mlp"}]
        return members, candidates

    def _choose(self, members, candidates, results) -> int:
        """With mlp's model beside it: the periodic network only where the validation rows prefer it
        beyond their noise (models/spectral/choice.py); else the best on validation, as every family."""
        if self.fallback_ is None:
            return super()._choose(members, candidates, results)
        periodic, plain = members  # one candidate each (the fallback's is last)
        outputs_probabilities = self._train_config().outputs_probabilities
        right = [right_answers(m.module, m.X_val, m.y_val, outputs_probabilities) for m in (periodic, plain)]
        self.choice_ = choice.choose(*right)
        return 0 if self.choice_["keeps_spectral"] else 1

    def _adopt(self, members, candidates, results, group_size) -> None:
        super()._adopt(members, candidates, results, group_size)
        if self.fallback_ is not None:
            self.candidate_ |= {k: v for k, v in self.choice_.items() if k != "keeps_spectral"}
        if self.candidate_.get("network") != "mlp":
            self.fallback_ = None  # predict with the periodic network's inputs

    def _to_tensor(self, X: np.ndarray) -> Tensor:
        if getattr(self, "fallback_", None) is not None:
            return self.fallback_.model._to_tensor(self.fallback_.inputs(X))
        return super()._to_tensor(X)

    def _build(self, d, n_classes, X, y, candidate) -> nn.Module:
        rng = candidate["rng"]
        phases = find_numeric_phases(
            self,
            X,
            y,
            n_classes,
            n_peaks=self.n_peaks,
            max_rows=self.max_rows,
            max_pairs=self.max_pairs,
            lifted=self.lifted,
            rng=rng,
        )
        peaks = phases.omegas
        self.phases_ = phases
        self.frequencies_found_ = peaks
        self.phase_columns_ = phases.describe()  # None: the phases are linear in x
        C = phases.columns(X)
        self.cut_found_ = find_cut(C, y, n_classes, peaks[0], max_rows=self.max_rows, rng=rng)
        random_rows = torch.randn(self.n_random, C.shape[1]) * self.sigma_random
        features = SteppedFourierFeatures(
            torch.cat([torch.as_tensor(peaks, dtype=torch.float32), random_rows]),
            cut_direction=torch.as_tensor(peaks[0]),
            cut=self.cut_found_,
            lr_scale=self.frequency_lr_scale,
        )
        head = mlp_layers(features.d_out, n_classes, self.n_layers, self.width, nn.ReLU, self.dropout, nn.Dropout)
        return nn.Sequential(*([PhaseColumns(phases)] if phases.lifted or phases.warp else []), features, *head)


class _MLPFallback:
    """The ``mlp`` family's model inside a spectral_mlp fit: its estimator (mlp's network; this
    fit's seed, device, threads and training settings, mlp's defaults unless changed, so that
    both candidates see the same validation rows) and its inputs, the numeric columns mapped
    quantile-to-normal exactly as mlp's rule maps them (the spectral rule's rows are the quantile
    rule's before that map: same imputation, indicators and one-hot columns)."""

    NETWORK = ("n_layers", "width", "dropout")  # mlp's own network, not the periodic network's head

    def __init__(self, owner: SpectralMLP, task: FitTask) -> None:
        shared = set(MLP().get_params()) - set(self.NETWORK)  # seed, device, threads, every training setting
        self.model = MLP(**{k: v for k, v in owner.get_params().items() if k in shared})
        self.model.classes_ = owner.classes_
        self.k = owner.prep_.n_numeric
        self.quantiles = fit_quantile_normal(task.X[:, : self.k], owner.seed) if self.k else None

    def task(self, task: FitTask) -> FitTask:
        """``task`` with its rows (training, validation, monitor) as mlp's rule gives them."""
        rows = {k: getattr(task, k) for k in ("X", "X_val", "X_monitor") if getattr(task, k) is not None}
        return replace(task, **{k: self.inputs(X) for k, X in rows.items()})

    def inputs(self, X: np.ndarray) -> np.ndarray:
        """Rows of the spectral rule as mlp's rule gives them."""
        if self.quantiles is None:
            return X
        return np.hstack([self.quantiles.transform(X[:, : self.k]), X[:, self.k :]])
